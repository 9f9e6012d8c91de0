package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

// herokuClient returns Heroku's official Go client pointed at env, acting
// with token.
func herokuClient(env *testenv.Env, token string) *heroku.Service {
	s := heroku.NewService(&http.Client{Transport: &heroku.Transport{BearerToken: token, Transport: env.Client.Transport}})
	s.URL = env.URL
	return s
}

// wantHerokuError checks that err is a heroku-go error with the status and id.
func wantHerokuError(t *testing.T, err error, status int, id string) {
	t.Helper()
	var he heroku.Error
	if !errors.As(err, &he) {
		t.Fatalf("error = %v (%T), want a heroku.Error %d %s", err, err, status, id)
	}
	if he.StatusCode != status || he.ID != id || he.Error() == "" {
		t.Fatalf("error = %d %s %q, want %d %s", he.StatusCode, he.ID, he.Error(), status, id)
	}
}

func ptr[T any](v T) *T { return &v }

func TestAPI_Apps(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	h := herokuClient(env, env.Signup(t, "ayse@example.com", "correct horse"))
	port := env.Port()

	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("demo")})
	if err != nil {
		t.Fatal(err)
	}
	if app.Name != "demo" || app.Owner.Email != "ayse@example.com" || app.ID == "" ||
		app.WebURL != "http://demo.localhost:"+port+"/" || app.GitURL != "http://git.localhost:"+port+"/demo.git" ||
		app.Stack.Name != "heroku-24" || app.BuildStack.Name != "heroku-24" || app.Region.Name == "" || app.CreatedAt.IsZero() {
		t.Fatalf("created app = %+v", app)
	}

	t.Run("GeneratedName", func(t *testing.T) {
		gen, err := h.AppCreate(ctx, heroku.AppCreateOpts{})
		if err != nil {
			t.Fatal(err)
		}
		if len(gen.Name) < 3 || strings.Count(gen.Name, "-") != 2 {
			t.Fatalf("generated name %q", gen.Name)
		}
		if _, err := h.AppDelete(ctx, gen.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("InfoByNameAndID", func(t *testing.T) {
		for _, key := range []string{"demo", app.ID} {
			got, err := h.AppInfo(ctx, key)
			if err != nil || got.ID != app.ID {
				t.Fatalf("AppInfo(%s) = %+v, %v", key, got, err)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		apps, err := h.AppList(ctx, nil)
		if err != nil || len(apps) != 1 || apps[0].Name != "demo" {
			t.Fatalf("AppList = %+v, %v", apps, err)
		}
	})

	t.Run("Rename", func(t *testing.T) {
		got, err := h.AppUpdate(ctx, "demo", heroku.AppUpdateOpts{Name: ptr("demo-two")})
		if err != nil || got.Name != "demo-two" || got.WebURL != "http://demo-two.localhost:"+port+"/" {
			t.Fatalf("AppUpdate = %+v, %v", got, err)
		}
		_, err = h.AppInfo(ctx, "demo")
		wantHerokuError(t, err, 404, "not_found")
		got, err = h.AppUpdate(ctx, app.ID, heroku.AppUpdateOpts{Maintenance: ptr(true)})
		if err != nil || !got.Maintenance || got.Name != "demo-two" {
			t.Fatalf("maintenance = %+v, %v", got, err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		got, err := h.AppDelete(ctx, "demo-two")
		if err != nil || got.ID != app.ID {
			t.Fatalf("AppDelete = %+v, %v", got, err)
		}
		_, err = h.AppInfo(ctx, app.ID)
		wantHerokuError(t, err, 404, "not_found")
		_, err = h.AppDelete(ctx, app.ID)
		wantHerokuError(t, err, 404, "not_found")
	})
}

func TestAPI_AppNames(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	a := herokuClient(env, env.Signup(t, "a@example.com", "password-a"))
	b := herokuClient(env, env.Signup(t, "b@example.com", "password-b"))
	if _, err := a.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("taken")}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "a", "ab", "Upper", "1abc", "abc-", "under_score", "dots.dots", strings.Repeat("a", 31),
		"api", "git", "dashboard", "www", "admin", "status", "logs", "taken"} {
		t.Run("Err"+name, func(t *testing.T) {
			_, err := b.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr(name)})
			wantHerokuError(t, err, 422, "invalid_params")
		})
	}
	if apps, _ := b.AppList(ctx, nil); len(apps) != 0 {
		t.Fatalf("invalid names created %d apps", len(apps))
	}
	if _, err := b.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr(strings.Repeat("a", 30))}); err != nil {
		t.Fatalf("30-character name: %v", err)
	}
	_, err := a.AppUpdate(ctx, "taken", heroku.AppUpdateOpts{Name: ptr(strings.Repeat("a", 30))})
	wantHerokuError(t, err, 422, "invalid_params")
	_, err = a.AppUpdate(ctx, "taken", heroku.AppUpdateOpts{Name: ptr("Bad Name")})
	wantHerokuError(t, err, 422, "invalid_params")
	if _, err := a.AppInfo(ctx, "taken"); err != nil {
		t.Fatalf("failed renames changed the app: %v", err)
	}
}

func TestAPI_TwoAccounts(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	a := herokuClient(env, env.Signup(t, "a@example.com", "password-a"))
	b := herokuClient(env, env.Signup(t, "b@example.com", "password-b"))
	app, err := a.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("private-app")})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{app.Name, app.ID} {
		_, err = b.AppInfo(ctx, key)
		wantHerokuError(t, err, 404, "not_found")
		_, err = b.AppUpdate(ctx, key, heroku.AppUpdateOpts{Name: ptr("stolen")})
		wantHerokuError(t, err, 404, "not_found")
		_, err = b.AppDelete(ctx, key)
		wantHerokuError(t, err, 404, "not_found")
	}
	if apps, err := b.AppList(ctx, nil); err != nil || len(apps) != 0 {
		t.Fatalf("b sees %d apps (%v)", len(apps), err)
	}
	got, err := a.AppInfo(ctx, app.ID)
	if err != nil || got.Name != "private-app" {
		t.Fatalf("a's app changed: %+v, %v", got, err)
	}
}

func TestAPI_Range(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	token := env.Signup(t, "many@example.com", "many-apps")
	h := herokuClient(env, token)
	for i := range 25 {
		if _, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr(fmt.Sprintf("app-%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := h.AppList(ctx, &heroku.ListRange{Field: "name", Max: 10})
	if err != nil || len(page) != 10 || page[0].Name != "app-00" || page[9].Name != "app-09" {
		t.Fatalf("first page = %d apps, %v", len(page), err)
	}
	desc, err := h.AppList(ctx, &heroku.ListRange{Field: "name", Max: 3, Descending: true})
	if err != nil || len(desc) != 3 || desc[0].Name != "app-24" {
		t.Fatalf("descending page = %+v, %v", desc, err)
	}

	// Follow Next-Range as clients do, collecting every app once.
	var names []string
	rng := "name ..; max=10"
	for pages := 0; rng != ""; pages++ {
		req := env.Request(t, "GET", "/apps", token, nil)
		req.Header.Set("Range", rng)
		var apps []struct{ Name string }
		status := http.StatusPartialContent
		if pages == 2 {
			status = http.StatusOK
		}
		resp := env.Send(t, req, status, &apps)
		for _, a := range apps {
			names = append(names, a.Name)
		}
		rng = resp.Header.Get("Next-Range")
	}
	if len(names) != 25 || names[0] != "app-00" || names[24] != "app-24" {
		t.Fatalf("paged names = %v", names)
	}

	req := env.Request(t, "GET", "/apps", token, nil)
	req.Header.Set("Range", "color ..")
	env.Send(t, req, http.StatusRequestedRangeNotSatisfiable, nil)
	req = env.Request(t, "GET", "/apps", token, nil)
	req.Header.Set("Range", "name ..; max=5000")
	env.Send(t, req, http.StatusRequestedRangeNotSatisfiable, nil)
}

func TestAPI_Protocol(t *testing.T) {
	env := testenv.New(t)
	token := env.Signup(t, "proto@example.com", "protocol-1")

	t.Run("Headers", func(t *testing.T) {
		req := env.Request(t, "GET", "/apps", token, nil)
		req.Header.Set("Request-Id", "client-id-1")
		resp := env.Send(t, req, 200, nil)
		if id := resp.Header.Get("Request-Id"); !strings.HasSuffix(id, ",client-id-1") || len(id) < 36 {
			t.Errorf("Request-Id = %q", id)
		}
		if resp.Header.Get("RateLimit-Remaining") == "" {
			t.Error("no RateLimit-Remaining")
		}
	})

	t.Run("ErrNotAcceptable", func(t *testing.T) {
		for _, accept := range []string{"", "application/json", "application/vnd.heroku+json; version=2"} {
			req := env.Request(t, "GET", "/apps", token, nil)
			req.Header.Set("Accept", accept)
			var e struct{ ID, Message string }
			env.Send(t, req, http.StatusNotAcceptable, &e)
			if e.ID != "not_acceptable" || !strings.Contains(e.Message, "version=3") {
				t.Errorf("Accept %q: %+v", accept, e)
			}
		}
		req := env.Request(t, "GET", "/apps", token, nil)
		req.Header.Set("Accept", "application/vnd.heroku+json; version=3.sdk")
		env.Send(t, req, http.StatusOK, nil)
	})

	t.Run("ErrUnauthorized", func(t *testing.T) {
		for _, tok := range []string{"", "bulut_nope", "garbage token"} {
			var e struct{ ID, Message string }
			env.Do(t, "GET", "/apps", tok, nil, http.StatusUnauthorized, &e)
			if e.ID != "unauthorized" || e.Message == "" {
				t.Errorf("token %q: %+v", tok, e)
			}
		}
		_, err := herokuClient(env, "bulut_wrong").AppList(context.Background(), nil)
		wantHerokuError(t, err, 401, "unauthorized")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		var e struct{ ID, Message, Resource string }
		env.Do(t, "GET", "/apps/nope", token, nil, http.StatusNotFound, &e)
		if e.ID != "not_found" || e.Message != "Couldn't find that app." || e.Resource != "app" {
			t.Errorf("%+v", e)
		}
		env.Do(t, "GET", "/no/such/endpoint", token, nil, http.StatusNotFound, &e)
		env.Do(t, "PUT", "/apps", token, nil, http.StatusNotFound, &e)
	})

	t.Run("ErrBadBodies", func(t *testing.T) {
		for _, c := range []struct {
			body   string
			status int
			id     string
		}{
			{`{"name":`, 400, "bad_request"},
			{`[1,2]`, 400, "bad_request"},
			{`{"name": 42}`, 422, "invalid_params"},
			{`{"name":"ok-name"} trailing`, 400, "bad_request"},
			{`{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "request_entity_too_large"},
			{`{"name":"wrong-region","region":"mars"}`, 422, "invalid_params"},
		} {
			var e struct{ ID string }
			env.Do(t, "POST", "/apps", token, c.body, c.status, &e)
			if e.ID != c.id {
				t.Errorf("body %.40q: id %q, want %q", c.body, e.ID, c.id)
			}
		}
		req := env.Request(t, "POST", "/apps", token, `name=form`)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		env.Send(t, req, http.StatusUnsupportedMediaType, nil)
		var apps []any
		env.Do(t, "GET", "/apps", token, nil, 200, &apps)
		if len(apps) != 0 {
			t.Fatalf("bad requests created %d apps", len(apps))
		}
	})
}

func TestAPI_Account(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()

	var e struct{ ID string }
	env.Do(t, "POST", "/account", "", map[string]string{"email": "not-an-email", "password": "long-enough"}, 422, &e)
	env.Do(t, "POST", "/account", "", map[string]string{"email": "x@example.com", "password": "short"}, 422, &e)
	token := env.Signup(t, "Deniz@Example.com", "sekiz-karakter")
	env.Do(t, "POST", "/account", "", map[string]string{"email": "deniz@example.com", "password": "another-one"}, 409, &e)

	h := herokuClient(env, token)
	acct, err := h.AccountInfo(ctx)
	if err != nil || acct.Email != "deniz@example.com" || acct.ID == "" || acct.LastLogin == nil {
		t.Fatalf("AccountInfo = %+v, %v", acct, err)
	}

	// heroku login -i: Basic e-mail:password on POST /oauth/authorizations.
	basic := heroku.NewService(&http.Client{Transport: &heroku.Transport{Username: "deniz@example.com", Password: "sekiz-karakter", Transport: env.Client.Transport}})
	basic.URL = env.URL
	auth, err := basic.OAuthAuthorizationCreate(ctx, heroku.OAuthAuthorizationCreateOpts{Description: ptr("laptop"), Scope: []string{"global"}})
	if err != nil || auth.AccessToken == nil || auth.AccessToken.Token == "" || auth.User.Email != "deniz@example.com" {
		t.Fatalf("OAuthAuthorizationCreate = %+v, %v", auth, err)
	}
	second := herokuClient(env, auth.AccessToken.Token)
	if _, err := second.AccountInfo(ctx); err != nil {
		t.Fatal(err)
	}
	basic = heroku.NewService(&http.Client{Transport: &heroku.Transport{Username: "deniz@example.com", Password: "wrong password", Transport: env.Client.Transport}})
	basic.URL = env.URL
	_, err = basic.OAuthAuthorizationCreate(ctx, heroku.OAuthAuthorizationCreateOpts{})
	wantHerokuError(t, err, 401, "unauthorized")

	// Logout revokes only the token used.
	env.Do(t, "DELETE", "/oauth/sessions/~", auth.AccessToken.Token, nil, 200, nil)
	_, err = second.AccountInfo(ctx)
	wantHerokuError(t, err, 401, "unauthorized")
	if _, err := h.AccountInfo(ctx); err != nil {
		t.Fatalf("other token revoked too: %v", err)
	}
}

func TestAPI_SignupClosed(t *testing.T) {
	env := testenv.New(t, func(c *config.Server) { c.Signup = "closed" })
	var e struct{ ID string }
	env.Do(t, "POST", "/account", "", map[string]string{"email": "x@example.com", "password": "long-enough"}, 403, &e)
	if e.ID != "signup_closed" {
		t.Fatalf("id %q", e.ID)
	}
}

func TestAPI_BrowserLoginSession(t *testing.T) {
	env := testenv.New(t)
	env.Signup(t, "cli@example.com", "browser-login")
	var ls struct{ ID, BrowserURL, CLIURL, Token string }
	var raw map[string]string
	env.Do(t, "POST", "/auth/cli", "", map[string]string{"description": "bulut CLI login from test"}, 201, &raw)
	ls.ID, ls.BrowserURL, ls.CLIURL, ls.Token = raw["id"], raw["browser_url"], raw["cli_url"], raw["token"]
	if ls.BrowserURL != "http://dashboard.localhost:"+env.Port()+"/cli-login/"+ls.ID || ls.CLIURL != "/auth/cli/"+ls.ID || ls.Token == "" {
		t.Fatalf("login session = %+v", raw)
	}
	env.Do(t, "GET", ls.CLIURL, "wrong-secret", nil, 401, nil)

	acct, err := env.Store.Accounts.Authenticate(context.Background(), "cli@example.com", "browser-login")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Authorizations.ApproveLoginSession(context.Background(), ls.ID, acct.ID); err != nil {
		t.Fatal(err)
	}
	var got struct {
		AccessToken string `json:"access_token"`
		User        struct{ Email string }
	}
	env.Do(t, "GET", ls.CLIURL, ls.Token, nil, 200, &got)
	if got.AccessToken == "" || got.User.Email != "cli@example.com" {
		t.Fatalf("poll = %+v", got)
	}
	env.Do(t, "GET", "/account", got.AccessToken, nil, 200, nil)
	env.Do(t, "GET", ls.CLIURL, ls.Token, nil, 404, nil)
}

func TestHosts(t *testing.T) {
	env := testenv.New(t)
	token := env.Signup(t, "hosts@example.com", "hosts-test")
	env.Do(t, "POST", "/apps", token, map[string]string{"name": "fresh"}, 201, nil)
	get := func(url, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		c := *env.Client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	base := "localhost:" + env.Port()

	resp, body := get("http://fresh."+base+"/", "")
	if resp.StatusCode != 502 || !strings.Contains(body, "Welcome to your new app!") || !strings.Contains(body, "git.localhost") {
		t.Errorf("welcome page: %d %.200s", resp.StatusCode, body)
	}
	resp, body = get("http://nobody."+base+"/some/path", "")
	if resp.StatusCode != 404 || !strings.Contains(body, "No such app") {
		t.Errorf("unknown app: %d %.200s", resp.StatusCode, body)
	}
	resp, _ = get("http://"+base+"/", "text/html,application/xhtml+xml")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://dashboard."+base+"/" {
		t.Errorf("bare domain for a browser: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = get("http://"+base+"/apps", "application/vnd.heroku+json; version=3")
	if resp.StatusCode != 401 {
		t.Errorf("bare domain for the API: %d", resp.StatusCode)
	}
	resp, _ = get("http://api."+base+"/bulut/info", "")
	if resp.StatusCode != 200 {
		t.Errorf("api host: %d", resp.StatusCode)
	}
	resp, body = get("http://dashboard."+base+"/login", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<form") {
		t.Errorf("dashboard: %d %.200s", resp.StatusCode, body)
	}
}
