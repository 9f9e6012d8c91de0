package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
)

// loggedIn returns a browser logged in as a new account.
func (e *env) loggedIn(email string) (*browser, *bulut.Account) {
	e.t.Helper()
	acct := e.MustCreateAccount(email, "correct horse")
	b := e.newBrowser()
	b.Login(email, "correct horse")
	return b, acct
}

func TestDashboard_CreateApp(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		b, acct := e.loggedIn("ada@example.com")
		r := b.Get("/new")
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "Create new app", `name="name"`)

		r = b.Submit("/new", "/new", url.Values{"name": {"my-app"}})
		assertRedirect(t, r, "/apps/my-app")
		if got := e.AppNames(acct); !slices.Equal(got, []string{"my-app"}) {
			t.Fatalf("apps %v", got)
		}

		r = b.Get("/")
		assertContains(t, r, "⬢ my-app", `href="/apps/my-app"`, "http://my-app.localhost:5000/",
			"http://git.localhost:5000/my-app.git", "Create new app")
		assertNotContains(t, r, "You don't have any apps yet")

		r = b.Get("/apps/my-app")
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "⬢ my-app", `href="http://my-app.localhost:5000/"`,
			"git remote add bulut http://git.localhost:5000/my-app.git", "git push bulut main",
			"Delete app", `action="/apps/my-app/delete"`)
	})

	t.Run("GeneratedName", func(t *testing.T) {
		e := newEnv(t)
		b, acct := e.loggedIn("ada@example.com")
		r := b.Submit("/new", "/new", url.Values{"name": {""}})
		names := e.AppNames(acct)
		if len(names) != 1 || bulut.ValidateAppName(names[0]) != nil {
			t.Fatalf("apps %v", names)
		}
		assertRedirect(t, r, "/apps/"+names[0])
	})

	for _, tt := range []struct {
		test, name, message string
	}{
		{"ErrNameTaken", "taken-app", "Name taken-app is already taken."},
		{"ErrNameInvalid", "Bad_Name", "Name must start with a letter"},
		{"ErrNameReserved", "dashboard", "Name dashboard is reserved."},
	} {
		t.Run(tt.test, func(t *testing.T) {
			e := newEnv(t)
			other := e.MustCreateAccount("bob@example.com", "correct horse")
			if _, err := e.Apps.CreateApp(bulut.NewContextWithAccount(context.Background(), other), "taken-app"); err != nil {
				t.Fatal(err)
			}
			b, acct := e.loggedIn("ada@example.com")
			r := b.Submit("/new", "/new", url.Values{"name": {tt.name}})
			assertStatus(t, r, http.StatusUnprocessableEntity)
			assertContains(t, r, tt.message, `value="`+tt.name+`"`, `aria-invalid="true"`)
			if got := e.AppNames(acct); len(got) != 0 {
				t.Fatalf("apps created: %v", got)
			}
		})
	}
}

func TestDashboard_DeleteApp(t *testing.T) {
	setup := func(t *testing.T) (*env, *browser, *bulut.Account) {
		e := newEnv(t)
		b, acct := e.loggedIn("ada@example.com")
		assertRedirect(t, b.Submit("/new", "/new", url.Values{"name": {"my-app"}}), "/apps/my-app")
		return e, b, acct
	}

	t.Run("ErrConfirmMismatch", func(t *testing.T) {
		e, b, acct := setup(t)
		for _, confirm := range []string{"", "my-ap", "other-app"} {
			r := b.Submit("/apps/my-app", "/apps/my-app/delete", url.Values{"confirm": {confirm}})
			assertStatus(t, r, http.StatusUnprocessableEntity)
			assertContains(t, r, "does not match ⬢ my-app. Nothing was deleted.")
		}
		if got := e.AppNames(acct); !slices.Equal(got, []string{"my-app"}) {
			t.Fatalf("apps %v", got)
		}
	})

	t.Run("OK", func(t *testing.T) {
		e, b, acct := setup(t)
		r := b.Submit("/apps/my-app", "/apps/my-app/delete", url.Values{"confirm": {"my-app"}})
		assertRedirect(t, r, "/?deleted=my-app")
		if got := e.AppNames(acct); len(got) != 0 {
			t.Fatalf("apps %v", got)
		}
		r = b.Get(r.Location)
		assertContains(t, r, "Deleted ⬢ my-app", "You don't have any apps yet")
		assertStatus(t, b.Get("/apps/my-app"), http.StatusNotFound)
	})

	t.Run("NoticeOnlyForAppNames", func(t *testing.T) {
		_, b, _ := setup(t)
		assertNotContains(t, b.Get("/?deleted=Your+account+was+hacked"), "Deleted")
	})
}

func TestDashboard_AccountIsolation(t *testing.T) {
	e := newEnv(t)
	ada, _ := e.loggedIn("ada@example.com")
	assertRedirect(t, ada.Submit("/new", "/new", url.Values{"name": {"adas-app"}}), "/apps/adas-app")
	bob, bobAcct := e.loggedIn("bob@example.com")
	assertRedirect(t, bob.Submit("/new", "/new", url.Values{"name": {"bobs-app"}}), "/apps/bobs-app")

	t.Run("List", func(t *testing.T) {
		r := bob.Get("/")
		assertContains(t, r, "bobs-app")
		assertNotContains(t, r, "adas-app")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		r := bob.Get("/apps/adas-app")
		assertStatus(t, r, http.StatusNotFound)
		assertContains(t, r, "Couldn't find that app.")
		assertNotContains(t, r, "adas-app.localhost")
	})

	t.Run("ErrDeleteNotFound", func(t *testing.T) {
		r := bob.Submit("/apps/bobs-app", "/apps/adas-app/delete", url.Values{"confirm": {"adas-app"}})
		assertStatus(t, r, http.StatusNotFound)
		if _, err := e.Apps.FindApp(bulut.NewSystemContext(context.Background()), "adas-app"); err != nil {
			t.Fatalf("app deleted by another account: %v", err)
		}
		if got := e.AppNames(bobAcct); !slices.Equal(got, []string{"bobs-app"}) {
			t.Fatalf("bob's apps %v", got)
		}
	})
}

func TestDashboard_Pages(t *testing.T) {
	e := newEnv(t)
	b, _ := e.loggedIn("ada@example.com")

	t.Run("Headers", func(t *testing.T) {
		resp, err := b.client.Get(e.Server.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for k, want := range map[string]string{
			"Content-Type":    "text/html; charset=utf-8",
			"X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin",
			"Cache-Control":   "no-store",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, path := range []string{"/nope", "/apps/", "/apps/x/y", "/static/nope.css"} {
			r := b.Get(path)
			assertStatus(t, r, http.StatusNotFound)
			if !strings.HasPrefix(path, "/static/") {
				assertContains(t, r, "Page not found", "ada@example.com")
			}
		}
	})

	t.Run("Stylesheet", func(t *testing.T) {
		page := b.Get("/")
		m := regexp.MustCompile(`href="(/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page.Body)
		if m == nil {
			t.Fatalf("no stylesheet link:\n%s", page.Body)
		}
		r := b.Get(m[1])
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "#79589f")
		if ct, cc, etag := r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), r.Header.Get("ETag"); ct != "text/css; charset=utf-8" || !strings.Contains(cc, "max-age=") || etag == "" {
			t.Fatalf("headers %q %q %q", ct, cc, etag)
		}
		req, _ := http.NewRequest("GET", e.Server.URL+"/static/style.css", nil)
		req.Header.Set("If-None-Match", r.Header.Get("ETag"))
		if r := b.do(req); r.Status != http.StatusNotModified {
			t.Fatalf("conditional GET: %d", r.Status)
		}
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
