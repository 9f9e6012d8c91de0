package dashboard_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestDashboard_CSRF(t *testing.T) {
	t.Run("ErrMissingToken", func(t *testing.T) {
		e := newEnv(t)
		b, acct := e.loggedIn("ada@example.com")
		r := b.Post("/new", url.Values{"name": {"my-app"}})
		assertStatus(t, r, http.StatusForbidden)
		if got := e.AppNames(acct); len(got) != 0 {
			t.Fatalf("app created without a csrf token: %v", got)
		}
	})

	t.Run("ErrOtherSessionsToken", func(t *testing.T) {
		e := newEnv(t)
		ada, acct := e.loggedIn("ada@example.com")
		assertRedirect(t, ada.Submit("/new", "/new", url.Values{"name": {"my-app"}}), "/apps/my-app")
		// A second session of the same account has its own token.
		other := e.newBrowser()
		other.Login("ada@example.com", "correct horse")
		token := csrfField.FindStringSubmatch(other.Get("/").Body)[1]

		r := ada.Post("/apps/my-app/delete", url.Values{"confirm": {"my-app"}, "csrf": {token}})
		assertStatus(t, r, http.StatusForbidden)
		if got := e.AppNames(acct); len(got) != 1 {
			t.Fatalf("apps %v", got)
		}
	})

	t.Run("ErrCrossOrigin", func(t *testing.T) {
		e := newEnv(t)
		b, acct := e.loggedIn("ada@example.com")
		b.Origin = "http://evil.example"
		r := b.Submit("/new", "/new", url.Values{"name": {"my-app"}})
		assertStatus(t, r, http.StatusForbidden)
		if got := e.AppNames(acct); len(got) != 0 {
			t.Fatalf("app created cross-origin: %v", got)
		}
	})

	t.Run("ErrCrossOriginLogin", func(t *testing.T) {
		e := newEnv(t)
		e.MustCreateAccount("ada@example.com", "correct horse")
		for _, origin := range []string{"http://evil.example", "null"} {
			b := e.newBrowser()
			b.Origin = origin
			r := b.Post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}})
			assertStatus(t, r, http.StatusForbidden)
			if b.SessionCookie() != "" {
				t.Fatal("cross-origin login set a session")
			}
			assertStatus(t, b.Post("/signup", url.Values{"email": {"eve@example.com"},
				"password": {"correct horse"}, "confirm": {"correct horse"}}), http.StatusForbidden)
		}
	})

	t.Run("NoOriginHeader", func(t *testing.T) {
		e := newEnv(t)
		b, acct := e.loggedIn("ada@example.com")
		b.Origin = ""
		assertRedirect(t, b.Submit("/new", "/new", url.Values{"name": {"my-app"}}), "/apps/my-app")
		if got := e.AppNames(acct); len(got) != 1 {
			t.Fatalf("apps %v", got)
		}
	})
}
