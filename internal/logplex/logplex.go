// Package logplex is bulut's log router, after Heroku's Logplex: it keeps
// the last lines of each app in memory (and on disk, so they survive a
// restart), serves tails and feeds log drains (syslog over TCP or TLS, and
// HTTPS in Logplex's application/logplex-1 batches).
//
// Producers never wait: Log appends to memory and makes non-blocking
// channel sends; disk writes happen in a background flusher and network
// writes in one goroutine per drain. A tail that falls behind loses lines
// and gets an L11 line; a drain that falls behind drops its oldest lines and
// gets an L10 line.
package logplex

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bulut-bulut/bulut"
)

// Config holds what a Logplex needs. Zero values take the defaults.
type Config struct {
	// Dir keeps each app's last lines (one file per app). Empty keeps them
	// in memory only.
	Dir string

	// Lines is how many lines are kept per app (default 1500).
	Lines int

	// Drains lists apps' drains (read with a system context). Nil means no
	// drains.
	Drains bulut.LogDrainService

	Logger *slog.Logger
	Now    func() time.Time

	// FlushInterval is how often new lines are written to Dir (default
	// 200ms): a crash loses at most that much.
	FlushInterval time.Duration

	// TailBuffer is how many lines a tail may fall behind before it loses
	// lines (default 1000; then L11).
	TailBuffer int

	// DrainBuffer is how many undelivered lines a drain keeps before it
	// drops its oldest (default 10000; then L10).
	DrainBuffer int

	// DrainBatch is the most lines sent in one HTTPS request or syslog
	// write (default 1000), and DrainBatchBytes the most text (default
	// 1 MiB).
	DrainBatch      int
	DrainBatchBytes int

	// DrainBatchWait is how long an HTTPS drain waits for more lines
	// before posting a batch that is not full (default 100ms).
	DrainBatchWait time.Duration

	// RetryMin and RetryMax bound the backoff between attempts to deliver
	// to a failing drain (default 1s and 30s).
	RetryMin, RetryMax time.Duration

	// DialTimeout bounds connecting to a syslog drain (default 10s) and
	// SendTimeout one write or HTTPS request (default 30s).
	DialTimeout, SendTimeout time.Duration

	// CloseTimeout is how long Close lets drains deliver what they hold
	// (default 2s).
	CloseTimeout time.Duration

	// TLSConfig is the base TLS configuration for syslog+tls:// and
	// https:// drains (tests set a CA here). Nil uses the system roots.
	TLSConfig *tls.Config
}

func (c *Config) setDefaults() {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	defd := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.Lines, 1500)
	def(&c.TailBuffer, 1000)
	def(&c.DrainBuffer, 10000)
	def(&c.DrainBatch, 1000)
	def(&c.DrainBatchBytes, 1<<20)
	defd(&c.FlushInterval, 200*time.Millisecond)
	defd(&c.DrainBatchWait, 100*time.Millisecond)
	defd(&c.RetryMin, time.Second)
	defd(&c.RetryMax, 30*time.Second)
	defd(&c.DialTimeout, 10*time.Second)
	defd(&c.SendTimeout, 30*time.Second)
	defd(&c.CloseTimeout, 2*time.Second)
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Logplex is the log router. It implements bulut.LogService.
type Logplex struct {
	cfg  Config
	log  *slog.Logger
	http *http.Client

	mu     sync.RWMutex // guards apps, and closed against starting workers
	apps   map[string]*appLog
	closed atomic.Bool

	ctx       context.Context // ended when Close gives up on drains
	cancel    context.CancelFunc
	closing   chan struct{} // closed when Close starts
	stopFlush chan struct{} // closed when the flusher must do its last flush
	flushed   chan struct{} // closed when it is done
	flushErr  error         // of the last flush
	flushing  bool          // the flusher runs (Open succeeded)
	workers   sync.WaitGroup

	fileMu   sync.Mutex // serializes file writes (flusher, Forget, Close)
	openOnce sync.Once
}

var _ bulut.LogService = (*Logplex)(nil)

// appLog is one app's stream.
type appLog struct {
	id string

	mu      sync.Mutex
	ring    lineQueue // the last Lines lines
	total   uint64    // lines ever added (the sequence of the next line)
	pending []bulut.LogLine
	spare   []bulut.LogLine
	compact bool // the file must be rewritten from the ring
	tails   []*tail
	drains  []*drainWorker
	// drain loading: the first Log starts it in the background; lines
	// logged since firstSeq are replayed to the drains it finds.
	firstSeq      uint64
	drainsLoaded  bool
	drainsLoading bool
	drainsRetryAt time.Time
	forgotten     bool

	reloadMu  sync.Mutex // serializes drain reloads
	fileLines int        // records in the file (flusher only)
}

// New returns a Logplex. Call Open before use and Close when done.
func New(cfg Config) *Logplex {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLSConfig != nil {
		tr.TLSClientConfig = cfg.TLSConfig.Clone()
	}
	tr.MaxIdleConnsPerHost = 4
	return &Logplex{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "logplex"),
		http:      &http.Client{Transport: tr},
		apps:      map[string]*appLog{},
		ctx:       ctx,
		cancel:    cancel,
		closing:   make(chan struct{}),
		stopFlush: make(chan struct{}),
		flushed:   make(chan struct{}),
	}
}

// Open loads each app's persisted lines and starts the flusher.
func (l *Logplex) Open() error {
	var err error
	l.openOnce.Do(func() {
		if l.cfg.Dir != "" {
			if err = l.load(); err != nil {
				return
			}
		}
		l.flushing = true
		go l.flusher()
	})
	return err
}

// Close stops taking lines, lets drains deliver what they hold for up to
// CloseTimeout, writes the last lines to disk and ends every tail.
func (l *Logplex) Close() error {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return nil
	}
	l.closed.Store(true)
	l.mu.Unlock()
	close(l.closing)

	done := make(chan struct{})
	go func() { l.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(l.cfg.CloseTimeout):
		l.cancel()
		<-done
	}
	l.cancel()

	l.openOnce.Do(func() {}) // Open does nothing from now on
	var err error
	if l.flushing {
		close(l.stopFlush)
		<-l.flushed
		err = l.flushErr
	} else if l.cfg.Dir != "" {
		err = l.flushAll()
	}

	l.mu.RLock()
	apps := make([]*appLog, 0, len(l.apps))
	for _, a := range l.apps {
		apps = append(apps, a)
	}
	l.mu.RUnlock()
	for _, a := range apps {
		a.mu.Lock()
		for _, t := range a.tails {
			close(t.ch)
		}
		a.tails = nil
		a.mu.Unlock()
	}
	return err
}

// app returns an app's stream, creating it.
func (l *Logplex) app(id string) *appLog {
	l.mu.RLock()
	a := l.apps[id]
	l.mu.RUnlock()
	if a != nil {
		return a
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if a = l.apps[id]; a == nil {
		a = &appLog{id: id, ring: newLineQueue(l.cfg.Lines)}
		l.apps[id] = a
	}
	return a
}

func (l *Logplex) lookup(id string) *appLog {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.apps[id]
}

// Log adds a line to an app's stream: it fills a zero Time, splits text
// longer than bulut.MaxLogLineSize, keeps the line and hands it to tails
// and drains. It never blocks on them.
func (l *Logplex) Log(appID string, line bulut.LogLine) {
	if appID == "" || l.closed.Load() {
		return
	}
	if line.Time.IsZero() {
		line.Time = l.cfg.Now()
	}
	a := l.app(appID)
	a.mu.Lock()
	if a.forgotten {
		a.mu.Unlock()
		return
	}
	if len(line.Text) <= bulut.MaxLogLineSize {
		l.add(a, line, true)
	} else {
		text := line.Text
		for len(text) > 0 {
			n := splitAt(text, bulut.MaxLogLineSize)
			line.Text = text[:n]
			text = text[n:]
			l.add(a, line, true)
		}
	}
	load := l.cfg.Drains != nil && !a.drainsLoaded && !a.drainsLoading &&
		(a.drainsRetryAt.IsZero() || !l.cfg.Now().Before(a.drainsRetryAt))
	if load {
		a.drainsLoading = true
	}
	a.mu.Unlock()
	if load {
		go l.reloadDrains(a, true)
	}
}

// splitAt returns where to cut text to keep at most max bytes, on a rune
// boundary when there is one near.
func splitAt(text string, max int) int {
	if len(text) <= max {
		return len(text)
	}
	for i := max; i > max-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(text[i]) {
			return i
		}
	}
	return max
}

// add appends a line to the app's stream (a.mu held): the ring, the
// pending writes, tails and, if toDrains, drains.
func (l *Logplex) add(a *appLog, line bulut.LogLine, toDrains bool) {
	a.ring.push(line)
	a.total++
	if l.cfg.Dir != "" && !a.compact {
		if a.pending == nil && a.spare != nil {
			a.pending, a.spare = a.spare, nil
		}
		a.pending = append(a.pending, line)
		if len(a.pending) >= l.cfg.Lines {
			// More than the ring holds: write the ring instead.
			clear(a.pending)
			a.pending = a.pending[:0]
			a.compact = true
		}
	}
	for _, t := range a.tails {
		t.offer(line)
	}
	if toDrains {
		for _, d := range a.drains {
			d.offer(line)
		}
	}
}

// Recent returns up to n of an app's last lines that match f, oldest first.
func (l *Logplex) Recent(appID string, n int, f bulut.LogFilter) []bulut.LogLine {
	a := l.lookup(appID)
	if a == nil || n <= 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return recent(a, n, f)
}

func recent(a *appLog, n int, f bulut.LogFilter) []bulut.LogLine {
	var out []bulut.LogLine
	for i := a.ring.n - 1; i >= 0 && len(out) < n; i-- {
		if line := a.ring.at(i); f.Match(line) {
			if out == nil {
				out = make([]bulut.LogLine, 0, min(n, i+1))
			}
			out = append(out, line)
		}
	}
	slices.Reverse(out)
	return out
}

// Tail returns the lines of an app that match f as they arrive, until ctx
// ends or the Logplex closes (then the channel is closed).
func (l *Logplex) Tail(ctx context.Context, appID string, f bulut.LogFilter) <-chan bulut.LogLine {
	_, ch := l.RecentAndTail(ctx, appID, 0, f)
	return ch
}

// RecentAndTail is Recent and Tail at once: the tail starts right after
// the last of the recent lines, none missed and none repeated.
func (l *Logplex) RecentAndTail(ctx context.Context, appID string, n int, f bulut.LogFilter) ([]bulut.LogLine, <-chan bulut.LogLine) {
	t := &tail{
		f:    f,
		ch:   make(chan bulut.LogLine, l.cfg.TailBuffer),
		kick: make(chan struct{}, 1),
		now:  l.cfg.Now,
	}
	if l.closed.Load() || appID == "" {
		close(t.ch)
		return nil, t.ch
	}
	a := l.app(appID)
	a.mu.Lock()
	if a.forgotten || l.closed.Load() {
		a.mu.Unlock()
		close(t.ch)
		return nil, t.ch
	}
	var lines []bulut.LogLine
	if n > 0 {
		lines = recent(a, n, f)
	}
	a.tails = append(a.tails, t)
	a.mu.Unlock()
	go l.watchTail(ctx, a, t)
	return lines, t.ch
}

// Forget drops an app's lines (in memory and on disk), ends its tails and
// stops its drains: for an app that was deleted.
func (l *Logplex) Forget(appID string) {
	l.mu.Lock()
	a := l.apps[appID]
	delete(l.apps, appID)
	l.mu.Unlock()
	if a == nil {
		return
	}
	l.fileMu.Lock()
	a.mu.Lock()
	a.forgotten = true
	for _, t := range a.tails {
		close(t.ch)
	}
	a.tails = nil
	for _, d := range a.drains {
		d.stop()
	}
	a.drains = nil
	a.ring.reset()
	a.pending, a.spare = nil, nil
	a.mu.Unlock()
	if l.cfg.Dir != "" {
		l.removeFile(appID)
	}
	l.fileMu.Unlock()
}
