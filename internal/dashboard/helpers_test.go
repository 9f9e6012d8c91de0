package dashboard_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/dashboard"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// env is a dashboard on a real SQLite file, served by httptest.
type env struct {
	t        *testing.T
	DB       *sqlite.DB
	Accounts *sqlite.AccountService
	Auths    *sqlite.AuthorizationService
	Apps     *sqlite.AppService
	Server   *httptest.Server
	Log      *bytes.Buffer // the dashboard's log, as JSON lines
}

var testURLs = bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000}

// newEnv starts a dashboard with sign-up open; opts may change its config.
func newEnv(t *testing.T, opts ...func(*dashboard.Config)) *env {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, DB: db, Accounts: sqlite.NewAccountService(db), Auths: sqlite.NewAuthorizationService(db),
		Apps: sqlite.NewAppService(db), Log: &bytes.Buffer{}}
	cfg := dashboard.Config{
		Services:   bulut.Services{Accounts: e.Accounts, Authorizations: e.Auths, LoginSessions: e.Auths, Apps: e.Apps},
		URLs:       testURLs,
		SignupOpen: true,
		Logger:     slog.New(slog.NewJSONHandler(e.Log, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.Server = httptest.NewServer(dashboard.New(cfg))
	t.Cleanup(e.Server.Close)
	return e
}

// MustCreateAccount signs an account up directly through the store.
func (e *env) MustCreateAccount(email, password string) *bulut.Account {
	e.t.Helper()
	a, err := e.Accounts.CreateAccount(context.Background(), email, password)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// AppNames lists the names of an account's apps, straight from the store.
func (e *env) AppNames(acct *bulut.Account) []string {
	e.t.Helper()
	apps, _, err := e.Apps.FindApps(bulut.NewContextWithAccount(context.Background(), acct), bulut.AppFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.Name
	}
	return names
}

// browser is an HTTP client with a cookie jar that doesn't follow redirects,
// sending the Origin header a browser sends with form posts.
type browser struct {
	t      *testing.T
	env    *env
	client *http.Client
	Origin string
}

func (e *env) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, env: e, Origin: e.Server.URL, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is a fully read response.
type response struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &response{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Header: resp.Header, Body: string(body)}
}

// Get fetches a path of the dashboard.
func (b *browser) Get(path string) *response {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.env.Server.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// Post sends a form to a path of the dashboard, as is.
func (b *browser) Post(path string, form url.Values) *response {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.env.Server.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.Origin != "" {
		req.Header.Set("Origin", b.Origin)
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// Submit loads page like a user would, then posts form to action with the
// page's csrf field added.
func (b *browser) Submit(page, action string, form url.Values) *response {
	b.t.Helper()
	r := b.Get(page)
	m := csrfField.FindStringSubmatch(r.Body)
	if m == nil {
		b.t.Fatalf("GET %s: no csrf field in page (status %d):\n%s", page, r.Status, r.Body)
	}
	form.Set("csrf", m[1])
	return b.Post(action, form)
}

// Signup signs up through the form and checks that it logged in.
func (b *browser) Signup(email, password string) {
	b.t.Helper()
	r := b.Post("/signup", url.Values{"email": {email}, "password": {password}, "confirm": {password}})
	if r.Status != http.StatusSeeOther || r.Location != "/" {
		b.t.Fatalf("signup: status %d location %q:\n%s", r.Status, r.Location, r.Body)
	}
}

// Login logs in through the form and checks that it worked.
func (b *browser) Login(email, password string) {
	b.t.Helper()
	r := b.Post("/login", url.Values{"email": {email}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("login: status %d:\n%s", r.Status, r.Body)
	}
}

// SessionCookie returns the browser's session cookie value.
func (b *browser) SessionCookie() string {
	u, _ := url.Parse(b.env.Server.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "bulut_session" {
			return c.Value
		}
	}
	return ""
}

func assertStatus(t *testing.T, r *response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body:\n%s", r.Status, want, r.Body)
	}
}

var tag = regexp.MustCompile(`<[^>]*>`)

// has reports whether the page has s in its markup or in its text (tags
// removed), once HTML entities are decoded.
func (r *response) has(s string) bool {
	return strings.Contains(html.UnescapeString(r.Body), s) ||
		strings.Contains(html.UnescapeString(tag.ReplaceAllString(r.Body, "")), s)
}

func assertContains(t *testing.T, r *response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !r.has(s) {
			t.Errorf("body lacks %q:\n%s", s, r.Body)
		}
	}
}

func assertNotContains(t *testing.T, r *response, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if r.has(s) {
			t.Errorf("body has %q:\n%s", s, r.Body)
		}
	}
}

func assertRedirect(t *testing.T, r *response, location string) {
	t.Helper()
	if r.Status != http.StatusSeeOther || r.Location != location {
		t.Fatalf("got status %d location %q, want 303 to %q; body:\n%s", r.Status, r.Location, location, r.Body)
	}
}
