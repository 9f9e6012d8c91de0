package logplex

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// fakeDrains is a LogDrainService in memory.
type fakeDrains struct {
	t     *testing.T
	mu    sync.Mutex
	next  int
	apps  map[string][]*bulut.LogDrain
	finds int
	fail  error
}

func newFakeDrains(t *testing.T) *fakeDrains {
	return &fakeDrains{t: t, apps: map[string][]*bulut.LogDrain{}}
}

func (f *fakeDrains) FindLogDrains(ctx context.Context, app string) ([]*bulut.LogDrain, error) {
	if !bulut.IsSystemContext(ctx) {
		f.t.Error("FindLogDrains without a system context")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finds++
	if f.fail != nil {
		return nil, f.fail
	}
	var out []*bulut.LogDrain
	for _, d := range f.apps[app] {
		c := *d
		out = append(out, &c)
	}
	return out, nil
}

func (f *fakeDrains) CreateLogDrain(ctx context.Context, app, url string) (*bulut.LogDrain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	d := &bulut.LogDrain{
		ID:    fmt.Sprintf("drain-%d", f.next),
		AppID: app,
		URL:   url,
		Token: fmt.Sprintf("d.00000000-0000-4000-8000-%012d", f.next),
	}
	f.apps[app] = append(f.apps[app], d)
	c := *d
	return &c, nil
}

func (f *fakeDrains) DeleteLogDrain(ctx context.Context, app, id string) (*bulut.LogDrain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, d := range f.apps[app] {
		if d.ID == id || d.URL == id || d.Token == id {
			f.apps[app] = append(f.apps[app][:i:i], f.apps[app][i+1:]...)
			return d, nil
		}
	}
	return nil, bulut.NotFound("log drain")
}

func (f *fakeDrains) add(t *testing.T, app, url string) *bulut.LogDrain {
	d, err := f.CreateLogDrain(context.Background(), app, url)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// syslogServer receives octet-counted frames over TCP (or TLS).
type syslogServer struct {
	ln     net.Listener
	frames chan string
	mu     sync.Mutex
	conns  []net.Conn
}

// close stops the receiver, its connections included.
func (s *syslogServer) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

func newSyslogServer(t *testing.T, cfg *tls.Config) *syslogServer {
	return listenSyslog(t, "127.0.0.1:0", cfg)
}

func listenSyslog(t *testing.T, addr string, cfg *tls.Config) *syslogServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	s := &syslogServer{ln: ln, frames: make(chan string, 100000)}
	t.Cleanup(s.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go s.read(t, c)
		}
	}()
	return s
}

func (s *syslogServer) read(t *testing.T, c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		n, err := r.ReadString(' ')
		if err != nil {
			return
		}
		size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
		if err != nil || size <= 0 {
			t.Errorf("bad frame length %q", n)
			return
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Errorf("short frame: %v", err)
			return
		}
		s.frames <- string(b)
	}
}

func (s *syslogServer) url(scheme string) string { return scheme + "://" + s.ln.Addr().String() }

func (s *syslogServer) next(t *testing.T) string {
	t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no frame within 5s")
		return ""
	}
}

func (s *syslogServer) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case f := <-s.frames:
		t.Errorf("unexpected frame %q", f)
	case <-time.After(d):
	}
}

// rfc5424 matches Logplex's messages: PRI, version, timestamp with
// microseconds, host (the drain token), app name, procid, "- -", text.
var rfc5424 = regexp.MustCompile(`^<(\d+)>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00) (\S+) (\S+) (\S+) - - (.*)\n$`)

func checkFrame(t *testing.T, frame string, pri int, ts time.Time, token, source, proc, text string) {
	t.Helper()
	m := rfc5424.FindStringSubmatch(frame)
	if m == nil {
		t.Fatalf("frame %q is not RFC 5424 as Logplex writes it", frame)
	}
	want := []string{strconv.Itoa(pri), ts.UTC().Format(bulut.LogTimeFormat), token, source, proc, text}
	for i, w := range want {
		if m[i+1] != w {
			t.Errorf("frame %q: field %d = %q, want %q", frame, i+1, m[i+1], w)
		}
	}
}

func fastDrains(cfg Config) Config {
	cfg.RetryMin = 20 * time.Millisecond
	cfg.RetryMax = 100 * time.Millisecond
	cfg.DrainBatchWait = 10 * time.Millisecond
	return cfg
}

func TestAppendFrame(t *testing.T) {
	w := &drainWorker{d: bulut.LogDrain{Token: "d.73ea7440-270a-435a-a0ea-adf50b4e5f5a"}}
	ts := time.Date(2012, 11, 30, 6, 45, 29, 123456000, time.FixedZone("x", 3600))
	got := string(w.appendFrame(nil, bulut.LogLine{Time: ts, Source: "bulut", Process: "web.3", Text: "State changed from starting to up"}))
	want := "<134>1 2012-11-30T05:45:29.123456+00:00 d.73ea7440-270a-435a-a0ea-adf50b4e5f5a bulut web.3 - - State changed from starting to up\n"
	if got != strconv.Itoa(len(want))+" "+want {
		t.Errorf("frame\n%q, want\n%q", got, strconv.Itoa(len(want))+" "+want)
	}
	for _, c := range []struct {
		line bulut.LogLine
		pri  int
	}{
		{bulut.LogLine{Source: "app", Process: "web.1"}, 190},
		{bulut.LogLine{Source: "app", Process: "api"}, 190},
		{bulut.LogLine{Source: "bulut", Process: "router"}, 158},
		{bulut.LogLine{Source: "bulut", Process: "logplex"}, 172},
		{bulut.LogLine{Source: "bulut", Process: "web.1"}, 134},
	} {
		if p := priority(c.line); p != c.pri {
			t.Errorf("priority(%s[%s]) = %d, want %d", c.line.Source, c.line.Process, p, c.pri)
		}
	}
	// Empty and odd header fields stay valid; multi-line text is counted whole.
	got = string(w.appendFrame(nil, bulut.LogLine{Time: ts, Source: "", Process: "a b", Text: "x\ny"}))
	if !strings.HasSuffix(got, " - a_b - - x\ny\n") {
		t.Errorf("frame %q", got)
	}
}

func TestSyslogDrain(t *testing.T) {
	srv := newSyslogServer(t, nil)
	drains := newFakeDrains(t)
	d := drains.add(t, app, srv.url("syslog"))
	l := newLogplex(t, fastDrains(Config{Drains: drains}))
	ts := time.Date(2026, 12, 1, 13, 22, 0, 123456000, time.UTC)
	lines := []bulut.LogLine{
		{Time: ts, Source: "app", Process: "web.1", Text: "hello from web.1"},
		{Time: ts, Source: "bulut", Process: "router", Text: `at=info method=GET path="/" host=x.example.com status=200`},
		{Time: ts, Source: "bulut", Process: "web.1", Text: "State changed from starting to up"},
		{Time: ts, Source: "app", Process: "api", Text: "Release v3 created by user x@example.com"},
	}
	for _, line := range lines {
		l.Log(app, line)
	}
	l.Log("another-app", appLine("web.1", "not for this drain"))
	for _, line := range lines {
		checkFrame(t, srv.next(t), priority(line), ts, d.Token, line.Source, line.Process, line.Text)
	}
	// Many lines arrive in order.
	for i := range 5000 {
		l.Log(app, appLine("worker.1", strconv.Itoa(i)))
	}
	for i := range 5000 {
		m := rfc5424.FindStringSubmatch(srv.next(t))
		if m == nil || m[6] != strconv.Itoa(i) || m[5] != "worker.1" {
			t.Fatalf("frame %d: %v", i, m)
		}
	}
	srv.none(t, 50*time.Millisecond)
}

func testTLS(t *testing.T) (server, client *tls.Config) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(ts.Close)
	pool := ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	return &tls.Config{Certificates: ts.TLS.Certificates}, &tls.Config{RootCAs: pool}
}

func TestSyslogTLSDrain(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	srv := newSyslogServer(t, serverTLS)
	drains := newFakeDrains(t)
	d := drains.add(t, app, srv.url("syslog+tls"))
	l := newLogplex(t, fastDrains(Config{Drains: drains, TLSConfig: clientTLS}))
	ts := time.Date(2026, 12, 1, 13, 22, 0, 5000, time.UTC)
	l.Log(app, bulut.LogLine{Time: ts, Source: "app", Process: "web.1", Text: "over TLS"})
	checkFrame(t, srv.next(t), 190, ts, d.Token, "app", "web.1", "over TLS")

	// A receiver whose certificate isn't trusted gets nothing.
	untrusted := newSyslogServer(t, serverTLS)
	drains.add(t, "app2", untrusted.url("syslog+tls"))
	l2 := newLogplex(t, fastDrains(Config{Drains: drains}))
	l2.Log("app2", appLine("web.1", "secret"))
	untrusted.none(t, 200*time.Millisecond)
}

type httpsBatch struct {
	header http.Header
	body   string
}

func TestHTTPSDrain(t *testing.T) {
	var mu sync.Mutex
	fail := 1 // the first request fails: the batch is retried with its frame ID
	batches := make(chan httpsBatch, 100)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.URL.Path != "/logs" || r.URL.Query().Get("k") != "v" {
			t.Errorf("%s %s", r.Method, r.URL)
		}
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "pass" {
			t.Errorf("basic auth from the URL: %q %q %v", u, p, ok)
		}
		batches <- httpsBatch{r.Header.Clone(), string(b)}
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			http.Error(w, "try later", 503)
		}
	}))
	defer ts.Close()
	pool := ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	drains := newFakeDrains(t)
	u := strings.Replace(ts.URL, "https://", "https://user:pass@", 1) + "/logs?k=v"
	d := drains.add(t, app, u)
	l := newLogplex(t, fastDrains(Config{Drains: drains, TLSConfig: &tls.Config{RootCAs: pool}, DrainBatchWait: 100 * time.Millisecond}))
	ts0 := time.Date(2026, 12, 1, 13, 22, 0, 0, time.UTC)
	for i := range 10 {
		l.Log(app, bulut.LogLine{Time: ts0, Source: "app", Process: "web.1", Text: "line " + strconv.Itoa(i)})
	}
	next := func() httpsBatch {
		select {
		case b := <-batches:
			return b
		case <-time.After(5 * time.Second):
			t.Fatal("no batch within 5s")
			return httpsBatch{}
		}
	}
	first, second := next(), next()
	for _, b := range []httpsBatch{first, second} {
		h := b.header
		if h.Get("Content-Type") != "application/logplex-1" || h.Get("Logplex-Msg-Count") != "10" ||
			h.Get("Logplex-Drain-Token") != d.Token || !regexp.MustCompile(`^[0-9A-F]{32}$`).MatchString(h.Get("Logplex-Frame-Id")) ||
			!strings.HasPrefix(h.Get("User-Agent"), "Logplex/") {
			t.Errorf("headers %v", h)
		}
	}
	if first.header.Get("Logplex-Frame-Id") != second.header.Get("Logplex-Frame-Id") || first.body != second.body {
		t.Error("a retried batch changed")
	}
	// The body: 10 octet-counted frames.
	r := bufio.NewReader(strings.NewReader(second.body))
	for i := range 10 {
		n, err := r.ReadString(' ')
		if err != nil {
			t.Fatal(err)
		}
		size, _ := strconv.Atoi(strings.TrimSpace(n))
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		checkFrame(t, string(b), 190, ts0, d.Token, "app", "web.1", "line "+strconv.Itoa(i))
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Error("bytes after the last frame")
	}
	// The next batch has a new frame ID.
	l.Log(app, appLine("web.1", "later"))
	if b := next(); b.header.Get("Logplex-Frame-Id") == first.header.Get("Logplex-Frame-Id") || b.header.Get("Logplex-Msg-Count") != "1" {
		t.Errorf("next batch: %v", b.header)
	}
}

// A drain whose receiver is down keeps its lines and delivers them when
// the receiver comes up.
func TestDrainRetry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	drains := newFakeDrains(t)
	drains.add(t, app, "syslog://"+addr)
	l := newLogplex(t, fastDrains(Config{Drains: drains}))
	for i := range 100 {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
	}
	time.Sleep(300 * time.Millisecond) // several failed attempts
	srv := listenSyslog(t, addr, nil)
	for i := range 100 {
		if m := rfc5424.FindStringSubmatch(srv.next(t)); m == nil || m[6] != strconv.Itoa(i) {
			t.Fatalf("frame %d: %v", i, m)
		}
	}
	// The receiver restarts: lines go to the new one.
	srv.close()
	l.Log(app, appLine("web.1", "after restart"))
	time.Sleep(100 * time.Millisecond)
	srv2 := listenSyslog(t, addr, nil)
	deadline := time.After(5 * time.Second)
	for i := 1; ; i++ {
		l.Log(app, appLine("web.1", "probe"))
		select {
		case f := <-srv2.frames:
			if !strings.Contains(f, "after restart") && !strings.Contains(f, "probe") {
				t.Errorf("frame %q", f)
			}
			return
		case f := <-srv.frames:
			t.Logf("old receiver got %q", f)
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("nothing reached the restarted receiver")
		}
	}
}

// A drain that can't keep up drops its oldest lines, then sends an L10
// line, which also goes to the app's stream.
func TestDrainL10(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	drains := newFakeDrains(t)
	d := drains.add(t, app, "syslog://"+addr)
	now := time.Date(2026, 12, 1, 13, 22, 0, 0, time.UTC)
	l := newLogplex(t, fastDrains(Config{Drains: drains, DrainBuffer: 10, Now: func() time.Time { return now }}))
	ch := l.Tail(t.Context(), app, bulut.LogFilter{Source: "bulut"})
	const n = 500
	for i := range n {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
	}
	srv := listenSyslog(t, addr, nil)
	// The worker may have taken lines before the overflow, and the
	// overflow may span several takes: count every L10 line.
	var got, l10s []string
	dropped := 0
	l10re := regexp.MustCompile(`^Error L10 \(output buffer overflow\): (\d+) messages dropped since 2026-12-01T13:22:00\+00:00\.$`)
	for done := false; !done; {
		select {
		case f := <-srv.frames:
			m := rfc5424.FindStringSubmatch(f)
			if m == nil {
				t.Fatalf("bad frame %q", f)
			}
			if m[5] != "logplex" {
				got = append(got, m[6])
				continue
			}
			checkFrame(t, f, 172, now, d.Token, "bulut", "logplex", m[6])
			k := l10re.FindStringSubmatch(m[6])
			if k == nil {
				t.Fatalf("L10 line %q", m[6])
			}
			c, _ := strconv.Atoi(k[1])
			dropped += c
			l10s = append(l10s, m[6])
		case <-time.After(500 * time.Millisecond):
			done = true
		}
	}
	if len(got) < 10 || strings.Join(got[len(got)-10:], ",") != "490,491,492,493,494,495,496,497,498,499" {
		t.Errorf("delivered %v, want the last 10 lines last", got)
	}
	if len(l10s) == 0 || dropped+len(got) != n {
		t.Errorf("%d lines delivered and L10 lines %q: want %d in all", len(got), l10s, n)
	}
	// The L10 lines are in the app's stream too.
	for _, want := range l10s {
		select {
		case line := <-ch:
			if line.Text != want || line.Process != "logplex" {
				t.Errorf("app stream got %s, want %s", line, want)
			}
		case <-time.After(time.Second):
			t.Error("no L10 line in the app's stream")
		}
	}
	if r := l.Recent(app, 1, bulut.LogFilter{}); r[0].Text != l10s[len(l10s)-1] {
		t.Errorf("Recent = %v", r)
	}
}

func TestDrainsChanged(t *testing.T) {
	srv := newSyslogServer(t, nil)
	drains := newFakeDrains(t)
	l := newLogplex(t, fastDrains(Config{Drains: drains}))
	l.Log(app, appLine("web.1", "no drain yet"))
	time.Sleep(50 * time.Millisecond)
	d := drains.add(t, app, srv.url("syslog"))
	l.DrainsChanged(app)
	l.Log(app, appLine("web.1", "drained"))
	if m := rfc5424.FindStringSubmatch(srv.next(t)); m == nil || m[6] != "drained" || m[3] != d.Token {
		t.Fatalf("frame %v", m)
	}
	// A second drain on the same receiver: each gets the line once.
	d2 := drains.add(t, app, srv.url("syslog")+"/") // another URL
	l.DrainsChanged(app)
	l.Log(app, appLine("web.1", "twice"))
	tokens := map[string]bool{}
	for range 2 {
		m := rfc5424.FindStringSubmatch(srv.next(t))
		if m == nil || m[6] != "twice" {
			t.Fatalf("frame %v", m)
		}
		tokens[m[3]] = true
	}
	if !tokens[d.Token] || !tokens[d2.Token] {
		t.Errorf("tokens %v", tokens)
	}
	drains.DeleteLogDrain(context.Background(), app, d.ID)
	drains.DeleteLogDrain(context.Background(), app, d2.ID)
	l.DrainsChanged(app)
	l.Log(app, appLine("web.1", "removed"))
	srv.none(t, 200*time.Millisecond)
}

// Drains configured before the app's first line get it: the first Log
// loads them in the background, and they get what was logged meanwhile.
func TestDrainsLoadedOnFirstLine(t *testing.T) {
	srv := newSyslogServer(t, nil)
	drains := newFakeDrains(t)
	drains.add(t, app, srv.url("syslog"))
	l := newLogplex(t, fastDrains(Config{Drains: drains}))
	for i := range 20 {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
	}
	for i := range 20 {
		if m := rfc5424.FindStringSubmatch(srv.next(t)); m == nil || m[6] != strconv.Itoa(i) {
			t.Fatalf("frame %d: %v", i, m)
		}
	}
	drains.mu.Lock()
	finds := drains.finds
	drains.mu.Unlock()
	if finds != 1 {
		t.Errorf("FindLogDrains called %d times", finds)
	}
}

// A store error is retried on a later line, not on every line.
func TestDrainsStoreError(t *testing.T) {
	srv := newSyslogServer(t, nil)
	drains := newFakeDrains(t)
	drains.add(t, app, srv.url("syslog"))
	drains.fail = errors.New("database is locked")
	now := time.Date(2026, 12, 1, 13, 22, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := newLogplex(t, fastDrains(Config{Drains: drains, Now: clock}))
	l.Log(app, appLine("web.1", "a"))
	time.Sleep(50 * time.Millisecond)
	for range 100 {
		l.Log(app, appLine("web.1", "b"))
	}
	time.Sleep(50 * time.Millisecond)
	drains.mu.Lock()
	if drains.finds != 1 {
		t.Errorf("FindLogDrains called %d times", drains.finds)
	}
	drains.fail = nil
	drains.mu.Unlock()
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	l.Log(app, appLine("web.1", "c"))
	// The lines since the stream started are replayed.
	want := append(append([]string{"a"}, strings.Split(strings.Repeat("b", 100), "")...), "c")
	for i, w := range want {
		if m := rfc5424.FindStringSubmatch(srv.next(t)); m == nil || m[6] != w {
			t.Fatalf("frame %d: %v", i, m)
		}
	}
}

// Close gives drains a moment to deliver what they hold.
func TestCloseDeliversDrains(t *testing.T) {
	srv := newSyslogServer(t, nil)
	drains := newFakeDrains(t)
	drains.add(t, app, srv.url("syslog"))
	l := New(fastDrains(Config{Drains: drains}))
	l.Open()
	l.DrainsChanged(app)
	for i := range 1000 {
		l.Log(app, appLine("web.1", strconv.Itoa(i)))
	}
	l.Close()
	for i := range 1000 {
		if m := rfc5424.FindStringSubmatch(srv.next(t)); m == nil || m[6] != strconv.Itoa(i) {
			t.Fatalf("frame %d: %v", i, m)
		}
	}
}

// Close does not wait long for a drain that can't deliver.
func TestCloseWithDeadDrain(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close() // accepts (in the backlog) but never reads
	drains := newFakeDrains(t)
	drains.add(t, app, "syslog://"+ln.Addr().String())
	l := New(fastDrains(Config{Drains: drains, CloseTimeout: 200 * time.Millisecond}))
	l.Open()
	l.DrainsChanged(app)
	big := strings.Repeat("x", 9000)
	for range 5000 {
		l.Log(app, appLine("web.1", big))
	}
	start := time.Now()
	l.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
}
