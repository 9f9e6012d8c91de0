package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

func TestDashboard_CLILogin(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		e.MustCreateAccount("ada@example.com", "correct horse")
		ls, err := e.Auths.CreateLoginSession(ctx, "bulut CLI login from myhost")
		if err != nil {
			t.Fatal(err)
		}
		page := "/cli-login/" + ls.ID

		// Logged out: log in first, then come back.
		b := e.newBrowser()
		r := b.Get(page)
		assertRedirect(t, r, "/login?next="+url.QueryEscape(page))
		r = b.Post("/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {page}})
		assertRedirect(t, r, page)

		r = b.Get(page)
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "Log in to the bulut CLI?", "bulut CLI login from myhost", "ada@example.com",
			`value="approve"`, `value="cancel"`)
		if _, err := e.Auths.RedeemLoginSession(ctx, ls.ID, ls.Secret); bulut.ErrorCode(err) != bulut.EPENDING {
			t.Fatalf("redeemed before approval: %v", err)
		}

		r = b.Submit(page, page, url.Values{"action": {"approve"}})
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "Logged in. You can close this window and return to your terminal.")

		auth, err := e.Auths.RedeemLoginSession(ctx, ls.ID, ls.Secret)
		if err != nil {
			t.Fatal(err)
		}
		acct, _, err := e.Auths.AuthenticateToken(ctx, auth.Token)
		if err != nil || acct.Email != "ada@example.com" {
			t.Fatalf("CLI token: %v %+v", err, acct)
		}
		// Redeemed: the page is gone.
		assertStatus(t, b.Get(page), http.StatusNotFound)
	})

	t.Run("Cancel", func(t *testing.T) {
		e := newEnv(t)
		b, _ := e.loggedIn("ada@example.com")
		ls, _ := e.Auths.CreateLoginSession(ctx, "bulut CLI login from myhost")
		page := "/cli-login/" + ls.ID
		r := b.Submit(page, page, url.Values{"action": {"cancel"}})
		assertStatus(t, r, http.StatusOK)
		assertContains(t, r, "Login cancelled")
		if _, err := e.Auths.RedeemLoginSession(ctx, ls.ID, ls.Secret); bulut.ErrorCode(err) != bulut.EPENDING {
			t.Fatalf("cancelled login was approved: %v", err)
		}
	})

	t.Run("ErrNoCSRF", func(t *testing.T) {
		e := newEnv(t)
		b, _ := e.loggedIn("ada@example.com")
		ls, _ := e.Auths.CreateLoginSession(ctx, "bulut CLI login from myhost")
		assertStatus(t, b.Post("/cli-login/"+ls.ID, url.Values{"action": {"approve"}}), http.StatusForbidden)
		if _, err := e.Auths.RedeemLoginSession(ctx, ls.ID, ls.Secret); bulut.ErrorCode(err) != bulut.EPENDING {
			t.Fatalf("approved without csrf: %v", err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		e := newEnv(t)
		b, _ := e.loggedIn("ada@example.com")
		for _, br := range []*browser{b, e.newBrowser()} {
			r := br.Get("/cli-login/" + bulut.NewID())
			assertStatus(t, r, http.StatusNotFound)
			assertContains(t, r, "This login request does not exist or was already used.")
		}
	})

	t.Run("ErrExpired", func(t *testing.T) {
		e := newEnv(t)
		b, _ := e.loggedIn("ada@example.com")
		ls, _ := e.Auths.CreateLoginSession(ctx, "bulut CLI login from myhost")
		page := "/cli-login/" + ls.ID
		token := csrfField.FindStringSubmatch(b.Get(page).Body)[1]

		later := time.Now().Add(bulut.LoginSessionTTL + time.Minute)
		e.DB.Now = func() time.Time { return later }
		r := b.Get(page)
		assertStatus(t, r, http.StatusGone)
		assertContains(t, r, "This login request has expired.")
		r = b.Post(page, url.Values{"action": {"approve"}, "csrf": {token}})
		assertStatus(t, r, http.StatusGone)
	})
}
