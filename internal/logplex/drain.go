package logplex

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// userAgent is sent to HTTPS drains, as Logplex sends Logplex/vNN.
const userAgent = "Logplex/bulut"

// drainWorker delivers an app's lines to one drain. Its queue and loss
// count are guarded by the app's mu; the rest belongs to its goroutine.
type drainWorker struct {
	l     *Logplex
	a     *appLog
	d     bulut.LogDrain
	https bool
	addr  string      // syslog host:port
	tls   *tls.Config // syslog+tls

	q       lineQueue
	dropped int
	since   time.Time

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	conn  net.Conn
	buf   []byte
	frame []byte
}

func (l *Logplex) newDrainWorker(a *appLog, d bulut.LogDrain) (*drainWorker, error) {
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, err
	}
	w := &drainWorker{l: l, a: a, d: d, q: newLineQueue(l.cfg.DrainBuffer), wake: make(chan struct{}, 1)}
	port := ""
	switch u.Scheme {
	case "https", "http":
		w.https = true
	case "syslog":
		port = "514"
	case "syslog+tls":
		port = "6514"
		w.tls = &tls.Config{}
		if l.cfg.TLSConfig != nil {
			w.tls = l.cfg.TLSConfig.Clone()
		}
		if w.tls.ServerName == "" {
			w.tls.ServerName = u.Hostname()
		}
	default:
		return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if !w.https {
		if u.Hostname() == "" {
			return nil, errors.New("no host")
		}
		if u.Port() != "" {
			port = u.Port()
		}
		w.addr = net.JoinHostPort(u.Hostname(), port)
	}
	w.ctx, w.cancel = context.WithCancel(l.ctx)
	return w, nil
}

// offer queues a line, dropping the oldest one when full (app's mu held).
func (w *drainWorker) offer(line bulut.LogLine) {
	if w.q.push(line) {
		if w.dropped == 0 {
			w.since = w.l.cfg.Now()
		}
		w.dropped++
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *drainWorker) stop() { w.cancel() }

// take moves the next batch onto dst: first an L10 line if lines were
// dropped (it also goes to the app's stream), then queued lines.
func (w *drainWorker) take(dst []bulut.LogLine) []bulut.LogLine {
	cfg := &w.l.cfg
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	if w.dropped > 0 {
		l10 := bulut.LogLine{
			Time:    cfg.Now(),
			Source:  bulut.SourcePlatform,
			Process: "logplex",
			Text: "Error L10 (output buffer overflow): " + strconv.Itoa(w.dropped) +
				" messages dropped since " + w.since.UTC().Format(sinceFormat) + ".",
		}
		w.dropped = 0
		if !w.a.forgotten {
			w.l.add(w.a, l10, false)
		}
		dst = append(dst, l10)
	}
	return w.q.pop(dst, cfg.DrainBatch-len(dst), cfg.DrainBatchBytes)
}

func (w *drainWorker) queued() int {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	return w.q.n
}

// run delivers batches until the drain is removed or the Logplex closes
// (then it delivers what it holds, without retrying).
func (w *drainWorker) run() {
	defer w.l.workers.Done()
	defer w.closeConn()
	cfg := &w.l.cfg
	var batch []bulut.LogLine
	var frameID string
	backoff := time.Duration(0)
	closing := false
	for {
		if len(batch) == 0 {
			if batch = w.take(batch); len(batch) == 0 {
				if closing {
					return
				}
				select {
				case <-w.wake:
				case <-w.l.closing:
					closing = true
					continue
				case <-w.ctx.Done():
					return
				}
				if w.https && w.queued() < cfg.DrainBatch {
					// Gather a batch.
					t := time.NewTimer(cfg.DrainBatchWait)
					select {
					case <-t.C:
					case <-w.l.closing:
						closing = true
					case <-w.ctx.Done():
						t.Stop()
						return
					}
					t.Stop()
				}
				continue
			}
			frameID = newFrameID()
		}
		err := w.send(batch, frameID)
		if err == nil {
			clear(batch)
			batch, backoff = batch[:0], 0
			continue
		}
		if w.ctx.Err() != nil {
			return
		}
		backoff = min(max(2*backoff, cfg.RetryMin), cfg.RetryMax)
		w.l.log.Warn("log drain", "app", w.a.id, "drain", w.d.ID, "error", err, "retry_in", backoff)
		if closing {
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-w.l.closing:
			t.Stop()
			return
		case <-w.ctx.Done():
			t.Stop()
			return
		}
	}
}

func (w *drainWorker) send(batch []bulut.LogLine, frameID string) error {
	w.buf = w.buf[:0]
	for _, line := range batch {
		w.buf = w.appendFrame(w.buf, line)
	}
	if w.https {
		return w.post(len(batch), frameID)
	}
	return w.write()
}

func (w *drainWorker) write() error {
	cfg := &w.l.cfg
	if w.conn == nil {
		d := &net.Dialer{Timeout: cfg.DialTimeout}
		var c net.Conn
		var err error
		if w.tls != nil {
			c, err = (&tls.Dialer{NetDialer: d, Config: w.tls}).DialContext(w.ctx, "tcp", w.addr)
		} else {
			c, err = d.DialContext(w.ctx, "tcp", w.addr)
		}
		if err != nil {
			return err
		}
		w.conn = c
		// Close ends a stuck write when the drain stops.
		stop := context.AfterFunc(w.ctx, func() { c.Close() })
		// Receivers send nothing: a read ending means the connection is
		// gone, and closing it makes the next write fail and reconnect.
		go func() {
			io.Copy(io.Discard, c)
			stop()
			c.Close()
		}()
	}
	w.conn.SetWriteDeadline(time.Now().Add(cfg.SendTimeout))
	if _, err := w.conn.Write(w.buf); err != nil {
		w.closeConn()
		return err
	}
	return nil
}

func (w *drainWorker) closeConn() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

func (w *drainWorker) post(n int, frameID string) error {
	ctx, cancel := context.WithTimeout(w.ctx, w.l.cfg.SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", w.d.URL, bytes.NewReader(w.buf))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/logplex-1")
	req.Header.Set("Logplex-Msg-Count", strconv.Itoa(n))
	req.Header.Set("Logplex-Frame-Id", frameID)
	req.Header.Set("Logplex-Drain-Token", w.d.Token)
	req.Header.Set("User-Agent", userAgent)
	resp, err := w.l.http.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("drain answered %s", resp.Status)
	}
	return nil
}

func newFrameID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// appendFrame appends a line as an octet-counted RFC 5424 message, as
// Logplex writes them:
//
//	<len> <PRI>1 TIMESTAMP TOKEN SOURCE PROCESS - - TEXT\n
func (w *drainWorker) appendFrame(buf []byte, line bulut.LogLine) []byte {
	w.frame = appendMessage(w.frame[:0], w.d.Token, line)
	buf = strconv.AppendInt(buf, int64(len(w.frame)), 10)
	buf = append(buf, ' ')
	return append(buf, w.frame...)
}

// appendMessage appends the RFC 5424 message of a line, without framing.
func appendMessage(b []byte, token string, line bulut.LogLine) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(priority(line)), 10)
	b = append(b, ">1 "...)
	b = line.Time.UTC().AppendFormat(b, bulut.LogTimeFormat)
	b = append(b, ' ')
	b = appendField(b, token, 255)
	b = append(b, ' ')
	b = appendField(b, line.Source, 48)
	b = append(b, ' ')
	b = appendField(b, line.Process, 128)
	b = append(b, " - - "...)
	b = append(b, line.Text...)
	if !strings.HasSuffix(line.Text, "\n") {
		b = append(b, '\n')
	}
	return b
}

// priority is a line's syslog PRI (facility*8 + severity), as Heroku's:
// app output local7.info, router lines local3.info, other platform lines
// local0.info, Logplex's own errors local5.warning.
func priority(line bulut.LogLine) int {
	switch {
	case line.Source == bulut.SourceApp:
		return 23*8 + 6 // 190
	case line.Process == "router":
		return 19*8 + 6 // 158
	case line.Process == "logplex":
		return 21*8 + 4 // 172
	default:
		return 16*8 + 6 // 134
	}
}

// appendField appends an RFC 5424 header field: printable US-ASCII, no
// spaces, "-" when empty, at most max bytes.
func appendField(b []byte, s string, max int) []byte {
	if s == "" {
		return append(b, '-')
	}
	if len(s) > max {
		s = s[:max]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// DrainsChanged re-reads an app's drains: removed ones stop (dropping what
// they hold), new ones start with the next line. The server calls it after
// changing an app's drains.
func (l *Logplex) DrainsChanged(appID string) {
	if l.cfg.Drains == nil || appID == "" || l.closed.Load() {
		return
	}
	l.reloadDrains(l.app(appID), false)
}

// reloadDrains reads an app's drains and reconciles its workers. The first
// load (replay) gives new drains the lines logged since the app's stream
// started in this process.
func (l *Logplex) reloadDrains(a *appLog, replay bool) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	ctx, cancel := context.WithTimeout(bulut.NewSystemContext(l.ctx), 30*time.Second)
	drains, err := l.cfg.Drains.FindLogDrains(ctx, a.id)
	cancel()
	if err != nil && bulut.ErrorCode(err) != bulut.ENOTFOUND {
		l.log.Error("find log drains", "app", a.id, "error", err)
		a.mu.Lock()
		a.drainsLoading = false
		a.drainsRetryAt = l.cfg.Now().Add(5 * time.Second)
		a.mu.Unlock()
		return
	}

	// Hold l.mu so that Close does not start waiting for workers while
	// new ones are being added.
	l.mu.RLock()
	defer l.mu.RUnlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.drainsLoading = false
	if l.closed.Load() || a.forgotten {
		return
	}
	a.drainsLoaded = true
	old := map[string]*drainWorker{}
	for _, w := range a.drains {
		old[w.d.ID] = w
	}
	var next []*drainWorker
	for _, d := range drains {
		if w := old[d.ID]; w != nil && w.d.URL == d.URL && w.d.Token == d.Token {
			next = append(next, w)
			delete(old, d.ID)
			continue
		}
		w, err := l.newDrainWorker(a, *d)
		if err != nil {
			l.log.Warn("log drain", "app", a.id, "drain", d.ID, "url", d.URL, "error", err)
			continue
		}
		if replay {
			start := a.total - uint64(a.ring.n)
			for seq := max(a.firstSeq, start); seq < a.total; seq++ {
				w.offer(a.ring.at(int(seq - start)))
			}
		}
		next = append(next, w)
		l.workers.Add(1)
		go w.run()
	}
	for _, w := range old {
		w.stop()
	}
	a.drains = next
}
