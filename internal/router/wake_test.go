package router_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/router"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// fakeWaker wakes an app by routing it to a dyno.
type fakeWaker struct {
	rt      *router.Router
	backend string
	touches atomic.Int64
	wakes   atomic.Int64
}

func (f *fakeWaker) Touch(appID string) { f.touches.Add(1) }

func (f *fakeWaker) Wake(ctx context.Context, appID string) error {
	if f.wakes.Add(1) == 1 {
		f.rt.SetRoute(bulut.Route{AppID: appID, Backends: []string{f.backend}, Dynos: []string{"web.1"}})
	}
	return nil
}

func TestRouterWakesSleepingApps(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	acct, err := sqlite.NewAccountService(db).CreateAccount(ctx, "w@example.com", "router-pass")
	if err != nil {
		t.Fatal(err)
	}
	apps := sqlite.NewAppService(db)
	app, err := apps.CreateApp(bulut.NewContextWithAccount(ctx, acct), "sleepy")
	if err != nil {
		t.Fatal(err)
	}
	dyno := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			for range 15 {
				io.WriteString(w, ".")
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond)
			}
			return
		}
		io.WriteString(w, "awake")
	}))
	defer dyno.Close()
	logs := &memoryLogs{}
	waker := &fakeWaker{backend: strings.TrimPrefix(dyno.URL, "http://")}
	rt := router.New(router.Config{Apps: apps, URLs: bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}, Logs: logs, Waker: waker})
	waker.rt = rt
	addr := serveFront(t, rt)
	get := func() (int, string) { return getHost(t, addr, "sleepy.localhost:5000", "/") }

	// Asleep: 20 concurrent requests wake it and all get the answer.
	rt.SetRoute(bulut.Route{AppID: app.ID, Asleep: true})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := get(); code != 200 || body != "awake" {
				t.Errorf("request to a sleeping app: %d %.100s", code, body)
			}
		}()
	}
	wg.Wait()
	if n := waker.touches.Load(); n < 20 {
		t.Errorf("%d touches, want one at least per request", n)
	}

	// A long response keeps telling the Waker its app is busy, so that
	// the app doesn't fall asleep under it.
	before := waker.touches.Load()
	if code, body := getHost(t, addr, "sleepy.localhost:5000", "/stream"); code != 200 || body != strings.Repeat(".", 15) {
		t.Fatalf("stream: %d %q", code, body)
	}
	for deadline := time.Now().Add(2 * time.Second); waker.touches.Load()-before < 3 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond) // the last touch comes once the response is sent
	}
	if n := waker.touches.Load() - before; n < 3 {
		t.Errorf("%d touches for a 1.5 s response, want its start, end and one during it", n)
	}

	// Free dyno hours used up: H82.
	rt.SetRoute(bulut.Route{AppID: app.ID, Asleep: true, QuotaExceeded: true})
	if code, body := get(); code != 503 || !strings.Contains(body, "Application Error") {
		t.Fatalf("over quota: %d %.100s", code, body)
	}
	found := false
	for deadline := time.Now().Add(2 * time.Second); !found && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, l := range logs.lines(app.ID) {
			found = found || strings.Contains(l.Text, `code=H82 desc="Free dyno quota exhausted"`)
		}
	}
	if !found {
		t.Errorf("no H82 line: %+v", logs.lines(app.ID))
	}
}
