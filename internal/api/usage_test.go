package api_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

func TestAPI_Usage(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	authz := sqlite.NewAuthorizationService(db)
	services := bulut.Services{Accounts: sqlite.NewAccountService(db), Authorizations: authz, LoginSessions: authz,
		Apps: sqlite.NewAppService(db), Domains: sqlite.NewDomainService(db)}
	usage := sqlite.NewDynoUsageService(db)
	ts := httptest.NewUnstartedServer(nil)
	urls := bulut.URLs{Scheme: "http", Domain: "localhost", Port: ts.Listener.Addr().(*net.TCPAddr).Port}
	now := func() time.Time { return time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC) }
	ts.Config.Handler = api.New(api.Config{Services: services, URLs: urls, SignupOpen: true, SigningKey: []byte("test key"),
		DynoUsage: usage, FreeDynoHours: 750, Now: now})
	ts.Start()
	defer ts.Close()
	env := &testenv.Env{URL: ts.URL, Client: testenv.LoopbackClient()}
	ctx := context.Background()
	token := env.Signup(t, "u@example.com", "usage-pass")
	app, err := herokuClient(env, token).AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("hours")})
	if err != nil {
		t.Fatal(err)
	}
	if err := usage.AddDynoUsage(ctx, app.ID, "2026-12", 48*60); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/apps/hours/usage", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.heroku+json; version=3")
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	if resp.StatusCode != 200 || got["month"] != "2026-12" || got["used_seconds"] != float64(2880) ||
		got["quota_seconds"] != float64(2700000) || got["remaining_seconds"] != float64(2700000-2880) {
		t.Fatalf("usage: %d %v", resp.StatusCode, got)
	}
}
