package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/dashboard"
)

func TestDashboard_Signup(t *testing.T) {
	signup := func(b *browser, email, password, confirm string) *response {
		return b.Post("/signup", url.Values{"email": {email}, "password": {password}, "confirm": {confirm}})
	}

	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		b := e.newBrowser()
		r := b.Get("/signup")
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "Create your account", `name="confirm"`)

		b.Signup("Ada@Example.com", "correct horse")
		r = b.Get("/")
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "ada@example.com", "Log out", "You don't have any apps yet", "bulut apps:create", `href="/new"`)
		if _, err := e.Accounts.Authenticate(context.Background(), "ada@example.com", "correct horse"); err != nil {
			t.Fatalf("account not created: %v", err)
		}
	})

	t.Run("Next", func(t *testing.T) {
		e := newEnv(t)
		b := e.newBrowser()
		r := b.Post("/signup", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"},
			"confirm": {"correct horse"}, "next": {"/new"}})
		assertRedirect(t, r, "/new")
	})

	t.Run("ErrEmailTaken", func(t *testing.T) {
		e := newEnv(t)
		e.MustCreateAccount("ada@example.com", "correct horse")
		b := e.newBrowser()
		r := signup(b, "ada@example.com", "another horse", "another horse")
		assertStatus(t, r, http.StatusConflict)
		assertContains(t, r, "An account with the e-mail ada@example.com already exists.", `value="ada@example.com"`)
		if b.SessionCookie() != "" {
			t.Fatal("a failed signup set a session cookie")
		}
	})

	t.Run("ErrInvalidEmail", func(t *testing.T) {
		b := newEnv(t).newBrowser()
		r := signup(b, "not-an-email", "correct horse", "correct horse")
		assertStatus(t, r, http.StatusUnprocessableEntity)
		assertContains(t, r, `"not-an-email" is not a valid e-mail address.`, `value="not-an-email"`)
	})

	t.Run("ErrShortPassword", func(t *testing.T) {
		b := newEnv(t).newBrowser()
		r := signup(b, "ada@example.com", "short", "short")
		assertStatus(t, r, http.StatusUnprocessableEntity)
		assertContains(t, r, "Password must be at least 8 characters long.", `value="ada@example.com"`)
		assertNotContains(t, r, `value="short"`)
	})

	t.Run("ErrPasswordMismatch", func(t *testing.T) {
		e := newEnv(t)
		r := signup(e.newBrowser(), "ada@example.com", "correct horse", "correct hose")
		assertStatus(t, r, http.StatusUnprocessableEntity)
		assertContains(t, r, "The passwords do not match.")
		if _, err := e.Accounts.Authenticate(context.Background(), "ada@example.com", "correct horse"); err == nil {
			t.Fatal("account created despite the mismatch")
		}
	})

	t.Run("ErrSignupClosed", func(t *testing.T) {
		e := newEnv(t, func(c *dashboard.Config) { c.SignupOpen = false })
		b := e.newBrowser()
		r := b.Get("/signup")
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "Sign-up is closed")
		assertNotContains(t, r, `action="/signup"`)
		assertNotContains(t, b.Get("/login"), `href="/signup"`)

		r = signup(b, "ada@example.com", "correct horse", "correct horse")
		assertStatus(t, r, http.StatusForbidden)
		assertContains(t, r, "Sign-up is closed")
		if _, err := e.Accounts.Authenticate(context.Background(), "ada@example.com", "correct horse"); bulut.ErrorCode(err) != bulut.EUNAUTHORIZED {
			t.Fatalf("account created while sign-up is closed: %v", err)
		}
	})
}

func TestDashboard_Login(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		e.MustCreateAccount("ada@example.com", "correct horse")
		b := e.newBrowser()
		assertRedirect(t, b.Get("/"), "/login")
		r := b.Get("/login")
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "Log in to your account", `href="/signup"`)

		r = b.Post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}})
		assertRedirect(t, r, "/")
		if c := r.Header.Get("Set-Cookie"); !containsAll(c, "bulut_session=", "HttpOnly", "SameSite=Lax", "Path=/") {
			t.Errorf("session cookie %q", c)
		}
		assertContains(t, b.Get("/"), "ada@example.com", "Log out")
		// The login page sends a logged-in user on.
		assertRedirect(t, b.Get("/login?next=/new"), "/new")

		// The session is an authorization of the account.
		acct, auth, err := e.Auths.AuthenticateToken(context.Background(), b.SessionCookie())
		if err != nil || acct.Email != "ada@example.com" || auth.Description != "Dashboard session" || auth.ExpiresAt == nil {
			t.Fatalf("session token: %v %+v %+v", err, acct, auth)
		}
	})

	t.Run("Next", func(t *testing.T) {
		e := newEnv(t)
		e.MustCreateAccount("ada@example.com", "correct horse")
		b := e.newBrowser()
		assertRedirect(t, b.Get("/new"), "/login?next=%2Fnew")
		r := b.Get("/login?next=%2Fnew")
		assertContains(t, r, `name="next" value="/new"`)
		r = b.Post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {"/new"}})
		assertRedirect(t, r, "/new")
	})

	t.Run("UnsafeNext", func(t *testing.T) {
		e := newEnv(t)
		e.MustCreateAccount("ada@example.com", "correct horse")
		for _, next := range []string{"//evil.example/", "/\\evil.example", "https://evil.example/", "evil", "/\x00x"} {
			b := e.newBrowser()
			r := b.Post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {next}})
			assertRedirect(t, r, "/")
		}
	})

	t.Run("ErrInvalidCredentials", func(t *testing.T) {
		e := newEnv(t)
		e.MustCreateAccount("ada@example.com", "correct horse")
		for _, email := range []string{"ada@example.com", "nobody@example.com"} {
			b := e.newBrowser()
			r := b.Post("/login", url.Values{"email": {email}, "password": {"wrong horse"}})
			assertStatus(t, r, http.StatusUnauthorized)
			assertContains(t, r, "Invalid credentials provided.", `value="`+email+`"`)
			if b.SessionCookie() != "" {
				t.Fatal("failed login set a session cookie")
			}
		}
	})
}

func TestDashboard_Logout(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		b := e.newBrowser()
		b.Signup("ada@example.com", "correct horse")
		token := b.SessionCookie()

		r := b.Submit("/", "/logout", url.Values{})
		assertRedirect(t, r, "/login")
		if b.SessionCookie() != "" {
			t.Error("cookie not cleared")
		}
		assertRedirect(t, b.Get("/"), "/login")

		// The old token is revoked: replaying the cookie is logged out.
		if _, _, err := e.Auths.AuthenticateToken(context.Background(), token); bulut.ErrorCode(err) != bulut.EUNAUTHORIZED {
			t.Fatalf("token still valid: %v", err)
		}
		old := e.newBrowser()
		u, _ := url.Parse(e.Server.URL)
		old.client.Jar.SetCookies(u, []*http.Cookie{{Name: "bulut_session", Value: token}})
		r = old.Get("/")
		assertRedirect(t, r, "/login")
		if c := r.Header.Get("Set-Cookie"); !containsAll(c, "bulut_session=;", "Max-Age=0") {
			t.Errorf("stale cookie not cleared: %q", c)
		}
	})

	t.Run("ErrNoCSRF", func(t *testing.T) {
		e := newEnv(t)
		b := e.newBrowser()
		b.Signup("ada@example.com", "correct horse")
		assertStatus(t, b.Post("/logout", url.Values{}), http.StatusForbidden)
		assertContains(t, b.Get("/"), "Log out")
	})

	t.Run("NewLoginRevokesOldSession", func(t *testing.T) {
		e := newEnv(t)
		b := e.newBrowser()
		b.Signup("ada@example.com", "correct horse")
		first := b.SessionCookie()
		b.Login("ada@example.com", "correct horse")
		if b.SessionCookie() == first {
			t.Fatal("login kept the old session token")
		}
		if _, _, err := e.Auths.AuthenticateToken(context.Background(), first); err == nil {
			t.Fatal("the replaced session token still works")
		}
	})
}
