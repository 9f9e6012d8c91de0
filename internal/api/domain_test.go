package api_test

import (
	"context"
	"net"
	"net/http/httptest"
	"path/filepath"
	"testing"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

func TestAPI_Domains(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	authz := sqlite.NewAuthorizationService(db)
	services := bulut.Services{Accounts: sqlite.NewAccountService(db), Authorizations: authz, LoginSessions: authz,
		Apps: sqlite.NewAppService(db), Domains: sqlite.NewDomainService(db)}
	ts := httptest.NewUnstartedServer(nil)
	urls := bulut.URLs{Scheme: "http", Domain: "localhost", Port: ts.Listener.Addr().(*net.TCPAddr).Port}
	ts.Config.Handler = api.New(api.Config{Services: services, URLs: urls, SignupOpen: true, SigningKey: []byte("test key")})
	ts.Start()
	defer ts.Close()
	env := &testenv.Env{URL: ts.URL, Client: testenv.LoopbackClient()}
	ctx := context.Background()
	h := herokuClient(env, env.Signup(t, "d@example.com", "domains-pass"))
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("demo")})
	if err != nil {
		t.Fatal(err)
	}

	ds, err := h.DomainList(ctx, "demo", nil)
	if err != nil || len(ds) != 1 || ds[0].Kind != "heroku" || ds[0].Hostname != "demo.localhost" || ds[0].App.ID != app.ID {
		t.Fatalf("DomainList = %+v, %v", ds, err)
	}
	d, err := h.DomainCreate(ctx, "demo", heroku.DomainCreateOpts{Hostname: "WWW.Example.com"})
	if err != nil || d.Kind != "custom" || d.Hostname != "www.example.com" || d.CName == nil || *d.CName != "demo.localhost" ||
		d.App.Name != "demo" || !bulut.IsID(d.ID) || d.Status != "succeeded" {
		t.Fatalf("DomainCreate = %+v, %v", d, err)
	}
	_, err = h.DomainCreate(ctx, "demo", heroku.DomainCreateOpts{Hostname: "www.example.com"})
	wantHerokuError(t, err, 409, "conflict")
	_, err = h.DomainCreate(ctx, "demo", heroku.DomainCreateOpts{Hostname: "not a host"})
	wantHerokuError(t, err, 422, "invalid_params")
	if got, err := h.DomainInfo(ctx, app.ID, "www.example.com"); err != nil || got.ID != d.ID {
		t.Fatalf("DomainInfo = %+v, %v", got, err)
	}
	if ds, err := h.DomainList(ctx, app.ID, nil); err != nil || len(ds) != 2 || ds[1].ID != d.ID {
		t.Fatalf("DomainList = %+v, %v", ds, err)
	}
	if got, err := h.DomainDelete(ctx, "demo", d.ID); err != nil || got.Hostname != "www.example.com" {
		t.Fatalf("DomainDelete = %+v, %v", got, err)
	}
	_, err = h.DomainInfo(ctx, "demo", "www.example.com")
	wantHerokuError(t, err, 404, "not_found")
	_, err = h.DomainList(ctx, "other", nil)
	wantHerokuError(t, err, 404, "not_found")
}
