package router_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/router"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

func TestRouter(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	acct, err := sqlite.NewAccountService(db).CreateAccount(ctx, "r@example.com", "router-pass")
	if err != nil {
		t.Fatal(err)
	}
	apps := sqlite.NewAppService(db)
	app, err := apps.CreateApp(bulut.NewContextWithAccount(ctx, acct), "routed")
	if err != nil {
		t.Fatal(err)
	}
	logs := &memoryLogs{}
	rt := router.New(router.Config{Apps: apps, URLs: bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}, Logs: logs})
	addr := serveFront(t, rt)
	get := func(host string) (int, string) {
		t.Helper()
		return getHost(t, addr, host, "/hello")
	}

	if code, body := get("routed.localhost:5000"); code != 502 || !strings.Contains(body, "Welcome to your new app!") {
		t.Fatalf("never deployed: %d %.100s", code, body)
	}
	if code, body := get("other.localhost:5000"); code != 404 || !strings.Contains(body, "No such app") {
		t.Fatalf("unknown app: %d %.100s", code, body)
	}

	// Two dynos: requests reach both, with forwarding headers.
	seen := map[string]bool{}
	var backends []string
	for _, name := range []string{"web.1", "web.2"} {
		dyno := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.Host+" "+r.URL.Path+" "+r.Header.Get("X-Forwarded-For"))
		}))
		defer dyno.Close()
		backends = append(backends, strings.TrimPrefix(dyno.URL, "http://"))
	}
	rt.SetRoute(bulut.Route{AppID: app.ID, Backends: backends, Dynos: []string{"web.1", "web.2"}})
	for range 50 {
		code, body := get("routed.localhost:5000")
		if code != 200 || !strings.Contains(body, " routed.localhost:5000 /hello 127.0.0.1") {
			t.Fatalf("proxied: %d %q", code, body)
		}
		seen[strings.Fields(body)[0]] = true
	}
	if !seen["web.1"] || !seen["web.2"] {
		t.Fatalf("requests reached only %v", seen)
	}

	rt.SetRoute(bulut.Route{AppID: app.ID, Crashed: true})
	if code, body := get("routed.localhost:5000"); code != 503 || !strings.Contains(body, "Application Error") {
		t.Fatalf("crashed: %d %.100s", code, body)
	}

	// One router line per request to an app (none for unknown hosts), in
	// Heroku's format.
	lines := logs.lines(app.ID)
	for deadline := time.Now().Add(2 * time.Second); len(lines) < 52 && time.Now().Before(deadline); lines = logs.lines(app.ID) {
		time.Sleep(5 * time.Millisecond) // a line is written once its response is sent
	}
	if len(lines) != 52 {
		t.Fatalf("%d router lines for 52 requests to the app", len(lines))
	}
	info := regexp.MustCompile(`^at=info method=GET path="/hello" host=routed.localhost:5000 request_id=[0-9a-f-]{36} fwd="127.0.0.1" dyno=web\.[12] connect=\d+ms service=\d+ms status=200 bytes=\d+ protocol=http$`)
	for _, l := range lines[1:51] {
		if l.Source != "bulut" || l.Process != "router" || !info.MatchString(l.Text) {
			t.Fatalf("router line %+v", l)
		}
	}
	if !strings.HasPrefix(lines[0].Text, `at=info code=H81 desc="Blank app" method=GET`) || !strings.Contains(lines[0].Text, "status=502") {
		t.Fatalf("H81 line %q", lines[0].Text)
	}
	if !strings.HasPrefix(lines[51].Text, `at=error code=H10 desc="App crashed"`) || !strings.Contains(lines[51].Text, "status=503") {
		t.Fatalf("H10 line %q", lines[51].Text)
	}
}

// memoryLogs keeps log lines in memory (a test double of the log service).
type memoryLogs struct {
	mu sync.Mutex
	l  map[string][]bulut.LogLine
}

func (m *memoryLogs) Log(appID string, line bulut.LogLine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.l == nil {
		m.l = map[string][]bulut.LogLine{}
	}
	m.l[appID] = append(m.l[appID], line)
}

func (m *memoryLogs) lines(appID string) []bulut.LogLine {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]bulut.LogLine(nil), m.l[appID]...)
}

// getHost sends GET path with a Host header to the router at addr.
func getHost(t *testing.T, addr, host, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Host = host
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}
