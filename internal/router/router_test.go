package router_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

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
	rt := router.New(router.Config{Apps: apps, URLs: bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}})
	get := func(host string) (int, string) {
		t.Helper()
		req := httptest.NewRequest("GET", "http://"+host+"/hello", nil)
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		return w.Code, w.Body.String()
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
	rt.SetRoute(bulut.Route{AppID: app.ID, Backends: backends})
	for range 50 {
		code, body := get("routed.localhost:5000")
		if code != 200 || !strings.Contains(body, " routed.localhost:5000 /hello 192.0.2.1") {
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
}
