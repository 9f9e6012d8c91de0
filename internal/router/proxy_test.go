package router_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/router"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// proxyFixture is a router serving one app "routed", on a real listener.
type proxyFixture struct {
	t    *testing.T
	db   *sqlite.DB
	apps bulut.AppService
	app  *bulut.App
	logs *memoryLogs
	rt   *router.Router
	url  string // the router's, served by a router.Front
}

func newProxyFixture(t *testing.T, cfg router.Config) *proxyFixture {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	acct, err := sqlite.NewAccountService(db).CreateAccount(ctx, "p@example.com", "proxy-pass")
	if err != nil {
		t.Fatal(err)
	}
	apps := sqlite.NewAppService(db)
	app, err := apps.CreateApp(bulut.NewContextWithAccount(ctx, acct), "routed")
	if err != nil {
		t.Fatal(err)
	}
	f := &proxyFixture{t: t, db: db, apps: apps, app: app, logs: &memoryLogs{}}
	cfg.Apps, cfg.Logs = apps, f.logs
	cfg.URLs = bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}
	f.rt = router.New(cfg)
	f.url = "http://" + serveFront(t, f.rt)
	return f
}

// serveFront serves rt on a new listener through a router.Front whose
// platform server answers "platform HOST" (and gives app hosts back to
// rt), and returns its address.
func serveFront(t *testing.T, rt *router.Router) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	urls := bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}
	front := &router.Front{Router: rt, Platform: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if part, _ := urls.Classify(r.Host); part == bulut.PartApp {
			rt.ServeHTTP(w, r) // as the server's platform handler does
			return
		}
		io.WriteString(w, "platform "+r.Host)
	})}}
	go front.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		front.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// dyno starts an upstream and routes the app to it.
func (f *proxyFixture) dyno(h http.HandlerFunc) string {
	up := httptest.NewServer(h)
	f.t.Cleanup(up.Close)
	addr := strings.TrimPrefix(up.URL, "http://")
	f.route(addr)
	return addr
}

// route routes the app to one dyno, web.1 at addr.
func (f *proxyFixture) route(addr string) {
	f.rt.SetRoute(bulut.Route{AppID: f.app.ID, Backends: []string{addr}, Dynos: []string{"web.1"}})
}

func (f *proxyFixture) do(req *http.Request) (*http.Response, string) {
	f.t.Helper()
	req.Host = "routed.localhost:5000"
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (f *proxyFixture) get(path string) (*http.Response, string) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.url+path, nil)
	return f.do(req)
}

// waitLine waits for a router line of the app starting with prefix, and
// returns it (lines are written once their response is sent, so those of
// requests on different connections may come in any order).
func (f *proxyFixture) waitLine(prefix string) string {
	f.t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, l := range f.logs.lines(f.app.ID) {
			if strings.HasPrefix(l.Text, prefix) {
				return l.Text
			}
		}
	}
	for _, l := range f.logs.lines(f.app.ID) {
		f.t.Log(l.Text)
	}
	f.t.Fatalf("no router line %s...", prefix)
	return ""
}

// lastLine waits for the app's newest router line.
func (f *proxyFixture) lastLine(n int) string {
	f.t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if lines := f.logs.lines(f.app.ID); len(lines) >= n {
			return lines[n-1].Text
		}
	}
	for _, l := range f.logs.lines(f.app.ID) {
		f.t.Log(l.Text)
	}
	f.t.Fatalf("no router line %d", n)
	return ""
}

func TestHeaders(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{"Host": r.Host}
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Request-Start", "X-Request-Id", "Via", "Connection", "Keep-Alive", "X-Custom", "Expect"} {
			h[k] = r.Header.Get(k)
		}
		json.NewEncoder(w).Encode(h)
	})
	before := time.Now().UnixMilli()
	req, _ := http.NewRequest("GET", f.url+"/echo", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("Connection", "Keep-Alive, X-Custom")
	req.Header.Set("X-Custom", "hop")
	req.Header.Set("Keep-Alive", "timeout=5")
	res, body := f.do(req)
	var h map[string]string
	if err := json.Unmarshal([]byte(body), &h); err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if h["X-Forwarded-For"] != "203.0.113.9, 127.0.0.1" || h["X-Forwarded-Proto"] != "http" || h["X-Forwarded-Port"] != "5000" ||
		h["Via"] != "1.1 bulut" || h["Host"] != "routed.localhost:5000" || h["Connection"] != "" || h["Keep-Alive"] != "" || h["X-Custom"] != "" {
		t.Fatalf("headers %v", h)
	}
	if !regexp.MustCompile(`^\d{13}$`).MatchString(h["X-Request-Start"]) || h["X-Request-Start"] < fmt.Sprint(before) {
		t.Fatalf("X-Request-Start %q", h["X-Request-Start"])
	}
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(h["X-Request-Id"]) {
		t.Fatalf("X-Request-Id %q", h["X-Request-Id"])
	}
	if res.Header.Get("Via") != "1.1 bulut" {
		t.Fatalf("response Via %q", res.Header.Get("Via"))
	}

	// A valid incoming request ID is kept; Via is appended to.
	req, _ = http.NewRequest("GET", f.url+"/echo", nil)
	req.Header.Set("X-Request-Id", "client-request-id-0123456789")
	req.Header.Set("Via", "1.1 cdn")
	_, body = f.do(req)
	json.Unmarshal([]byte(body), &h)
	if h["X-Request-Id"] != "client-request-id-0123456789" || h["Via"] != "1.1 cdn, 1.1 bulut" {
		t.Fatalf("kept headers %v", h)
	}

	// Size limits: a header line over 8192 bytes, or over 1000 headers, is a 400.
	req, _ = http.NewRequest("GET", f.url+"/echo", nil)
	req.Header.Set("Cookie", strings.Repeat("a", 8200))
	if res, _ := f.do(req); res.StatusCode != 400 {
		t.Fatalf("long header: %d", res.StatusCode)
	}
	if l := f.lastLine(3); !strings.HasPrefix(l, `at=error code=H26 desc="Request Error" cause="bad header"`) || !strings.Contains(l, "status=400") {
		t.Fatalf("H26 line %q", l)
	}
	req, _ = http.NewRequest("GET", f.url+"/echo", nil)
	for i := range 1001 {
		req.Header.Set(fmt.Sprintf("X-H%d", i), "v")
	}
	if res, _ := f.do(req); res.StatusCode != 400 {
		t.Fatalf("1001 headers: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("GET", f.url+"/echo?q="+strings.Repeat("q", 8200), nil)
	if res, _ := f.do(req); res.StatusCode != 400 {
		t.Fatalf("long request line: %d", res.StatusCode)
	}
	req, _ = http.NewRequest("GET", f.url+"/echo", nil)
	req.Header.Set("Expect", "something")
	if res, _ := f.do(req); res.StatusCode != 417 {
		t.Fatalf("Expect: something: %d", res.StatusCode)
	}
	if l := f.waitLine(`at=error code=H26 desc="Request Error" cause="unsupported expect header value"`); !strings.Contains(l, "status=417") {
		t.Fatalf("H26 417 line %q", l)
	}

	// Expect: 100-continue passes: the body arrives.
	f.dyno(func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })
	req, _ = http.NewRequest("POST", f.url+"/", strings.NewReader("posted body"))
	req.Header.Set("Expect", "100-continue")
	if res, body := f.do(req); res.StatusCode != 200 || body != "posted body" {
		t.Fatalf("100-continue: %d %q", res.StatusCode, body)
	}

	// A Set-Cookie over 8192 bytes is Heroku's 502 H25.
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "c="+strings.Repeat("x", 8200))
	})
	if res, _ := f.get("/"); res.StatusCode != 502 {
		t.Fatalf("big cookie: %d", res.StatusCode)
	}
	if l := f.waitLine(`at=error code=H25 desc="HTTP Restriction"`); !strings.Contains(l, "status=502") {
		t.Fatalf("H25 line %q", l)
	}
}

func TestTimeoutsAndCodes(t *testing.T) {
	f := newProxyFixture(t, router.Config{RequestTimeout: 100 * time.Millisecond, IdleTimeout: 150 * time.Millisecond,
		Quarantine: time.Minute, BootTimeout: 300 * time.Millisecond})
	n := 0
	expect := func(path string, status int, pattern string) {
		t.Helper()
		res, body := f.get(path)
		n++
		if res.StatusCode != status {
			t.Fatalf("%s: status %d, want %d: %.200s", path, res.StatusCode, status, body)
		}
		if status >= 500 && !strings.Contains(body, "<html") {
			t.Fatalf("%s: no page: %q", path, body)
		}
		if l := f.lastLine(n); !regexp.MustCompile(pattern).MatchString(l) {
			t.Fatalf("%s: line %q does not match %s", path, l, pattern)
		}
	}

	// H12: no first byte within the request timeout.
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/idle":
			w.Write([]byte("first"))
			w.(http.Flusher).Flush()
			time.Sleep(400 * time.Millisecond)
		case "/close":
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
		case "/stream":
			for i := range 5 {
				fmt.Fprintf(w, "chunk %d\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(60 * time.Millisecond) // the idle window is restarted by each chunk
			}
		}
	})
	expect("/slow", 503, `^at=error code=H12 desc="Request timeout" method=GET path="/slow" .* dyno=web\.1 connect=\d+ms service=100ms status=503 `)
	// H15: the dyno goes quiet after the first byte (the client got a 200
	// and a cut response).
	req, _ := http.NewRequest("GET", f.url+"/idle", nil)
	req.Host = "routed.localhost:5000"
	if res, err := http.DefaultTransport.RoundTrip(req); err == nil {
		io.ReadAll(res.Body)
		res.Body.Close()
	}
	n++
	if l := f.lastLine(n); !strings.HasPrefix(l, `at=error code=H15 desc="Idle connection"`) || !strings.Contains(l, "status=503") {
		t.Fatalf("H15 line %q", l)
	}
	expect("/close", 503, `^at=error code=H13 desc="Connection closed without response" .* dyno=web\.1 `)
	// Streaming passes chunk by chunk, and a stream longer than the idle
	// window is fine as long as bytes flow.
	expect("/stream", 200, `^at=info method=GET path="/stream" .* status=200 bytes=40 `)

	// H21: a refused dyno is skipped and the request retried on another.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := ln.Addr().String()
	ln.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	good := strings.TrimPrefix(up.URL, "http://")
	f.rt.SetRoute(bulut.Route{AppID: f.app.ID, Backends: []string{refused, good}, Dynos: []string{"web.1", "web.2"}})
	for range 10 {
		expect("/", 200, `^at=info .* dyno=web\.2 `)
	}
	f.rt.SetRoute(bulut.Route{AppID: f.app.ID, Backends: []string{refused}, Dynos: []string{"web.1"}})
	// Quarantined, and the only dyno: H99 after the connect budget.
	expect("/", 503, `^at=error code=H99 desc="Platform error" `)
	other, _ := net.Listen("tcp", "127.0.0.1:0")
	refused2 := other.Addr().String()
	other.Close()
	f.rt.SetRoute(bulut.Route{AppID: f.app.ID, Backends: []string{refused2}, Dynos: []string{"web.3"}})
	expect("/", 503, `^at=error code=H21 desc="Backend connection refused" .* dyno=web\.3 `)

	// H20: a starting app holds its requests for its first dyno, up to the boot timeout.
	f.rt.SetRoute(bulut.Route{AppID: f.app.ID})
	var starting atomic.Bool
	starting.Store(true)
	f2 := newProxyFixture(t, router.Config{BootTimeout: 300 * time.Millisecond, Starting: func(string) bool { return starting.Load() }})
	go func() {
		time.Sleep(100 * time.Millisecond)
		f2.rt.SetRoute(bulut.Route{AppID: f2.app.ID, Backends: []string{good}, Dynos: []string{"web.1"}})
	}()
	if res, body := f2.get("/"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("held request: %d %q", res.StatusCode, body)
	}
	f2.rt.SetRoute(bulut.Route{AppID: f2.app.ID})
	start := time.Now()
	if res, _ := f2.get("/"); res.StatusCode != 503 || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("boot timeout: %d after %v", res.StatusCode, time.Since(start))
	}
	if l := f2.lastLine(2); !strings.HasPrefix(l, `at=error code=H20 desc="App boot timeout"`) {
		t.Fatalf("H20 line %q", l)
	}
	// A dyno that crashes while booting ends the wait: H10, not H20.
	go func() {
		time.Sleep(50 * time.Millisecond)
		f2.rt.SetRoute(bulut.Route{AppID: f2.app.ID, Crashed: true})
	}()
	if res, _ := f2.get("/"); res.StatusCode != 503 {
		t.Fatalf("crashed while booting: %d", res.StatusCode)
	}
	if l := f2.lastLine(3); !strings.HasPrefix(l, `at=error code=H10 desc="App crashed"`) {
		t.Fatalf("H10 line %q", l)
	}

	// H80: maintenance.
	on := true
	if _, err := f.apps.UpdateApp(bulut.NewSystemContext(context.Background()), f.app.ID, bulut.AppUpdate{Maintenance: &on}); err != nil {
		t.Fatal(err)
	}
	res, body := f.get("/")
	if res.StatusCode != 503 || !strings.Contains(body, "Maintenance") {
		t.Fatalf("maintenance: %d %.200s", res.StatusCode, body)
	}
	n++
	if l := f.lastLine(n); !strings.HasPrefix(l, `at=info code=H80 desc="Maintenance mode"`) {
		t.Fatalf("H80 line %q", l)
	}
}

func TestUpgrade(t *testing.T) {
	f := newProxyFixture(t, router.Config{IdleTimeout: 250 * time.Millisecond})
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "no upgrade", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		io.Copy(c, brw)
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: routed.localhost:5000\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", res, err)
	}
	// Traffic keeps the tunnel open past the idle window; silence for
	// the window closes it (Heroku's 55 s apply to WebSockets).
	for i := range 5 {
		time.Sleep(80 * time.Millisecond)
		msg := fmt.Sprintf("message %d\n", i)
		fmt.Fprint(c, msg)
		got, err := br.ReadString('\n')
		if err != nil || got != msg {
			t.Fatalf("echo %q %v", got, err)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := br.ReadString('\n'); err != io.EOF {
		t.Fatalf("idle tunnel still open: %q %v", got, err)
	}
	if l := f.lastLine(1); !strings.Contains(l, "status=101") {
		t.Fatalf("upgrade line %q", l)
	}
}

func TestMetrics(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	f.dyno(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	})
	for range 3 {
		f.get("/")
	}
	f.get("/missing")
	f.lastLine(4) // the last request is counted
	var b strings.Builder
	f.rt.WriteMetrics(&b)
	out := b.String()
	for _, want := range []string{
		"# TYPE bulut_router_requests_total counter\n",
		`bulut_router_requests_total{app="routed",status="200"} 3` + "\n",
		`bulut_router_requests_total{app="routed",status="404"} 1` + "\n",
		"# TYPE bulut_router_request_duration_seconds histogram\n",
		`bulut_router_request_duration_seconds_bucket{app="routed",status="200",le="+Inf"} 3` + "\n",
		`bulut_router_request_duration_seconds_count{app="routed",status="404"} 1` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("metrics lack %q:\n%s", want, out)
		}
	}
}

func TestAppCache(t *testing.T) {
	f := newProxyFixture(t, router.Config{})
	cache := router.CacheApps(f.apps)
	domains := cache.Domains(sqlite.NewDomainService(f.db))
	rt := router.New(router.Config{Apps: cache, Domains: domains, URLs: bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}})
	srv := httptest.NewServer(rt)
	defer srv.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up") }))
	defer up.Close()
	rt.SetRoute(bulut.Route{AppID: f.app.ID, Backends: []string{strings.TrimPrefix(up.URL, "http://")}, Dynos: []string{"web.1"}})
	get := func(host string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.Host = host
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	ctx := bulut.NewSystemContext(context.Background())
	for range 3 {
		if code := get("routed.localhost:5000"); code != 200 {
			t.Fatalf("cached: %d", code)
		}
	}

	// Custom domains route to their app, at once when added and no more
	// once removed.
	if code := get("www.example.com"); code != 404 {
		t.Fatalf("unknown custom domain: %d", code)
	}
	if _, err := domains.CreateDomain(ctx, f.app.ID, "www.example.com"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if code := get("WWW.example.com:80"); code != 200 {
			t.Fatalf("custom domain: %d", code)
		}
	}
	if _, err := domains.DeleteDomain(ctx, f.app.ID, "www.example.com"); err != nil {
		t.Fatal(err)
	}
	if code := get("www.example.com"); code != 404 {
		t.Fatalf("removed custom domain: %d", code)
	}
	on, off := true, false
	for _, step := range []struct {
		upd  bulut.AppUpdate
		host string
		code int
	}{
		{bulut.AppUpdate{Maintenance: &on}, "routed.localhost:5000", 503},
		{bulut.AppUpdate{Maintenance: &off}, "routed.localhost:5000", 200},
		{bulut.AppUpdate{Name: ptr("renamed")}, "routed.localhost:5000", 404},
	} {
		if _, err := cache.UpdateApp(ctx, f.app.ID, step.upd); err != nil {
			t.Fatal(err)
		}
		if code := get(step.host); code != step.code {
			t.Fatalf("after %+v: %d, want %d", step.upd, code, step.code)
		}
	}
	if code := get("renamed.localhost:5000"); code != 200 {
		t.Fatalf("new name: %d", code)
	}
	if _, err := cache.DeleteApp(ctx, f.app.ID); err != nil {
		t.Fatal(err)
	}
	if code := get("renamed.localhost:5000"); code != 404 {
		t.Fatalf("deleted: %d", code)
	}
}

func ptr[T any](v T) *T { return &v }
