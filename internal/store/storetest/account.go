package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

func accountTests() []group {
	return []group{
		{"AccountService_Create", []test{
			{"OK", testCreateAccountOK},
			{"MinPasswordLength", testCreateAccountMinPasswordLength},
			{"ErrInvalidEmail", testCreateAccountErrInvalidEmail},
			{"ErrShortPassword", testCreateAccountErrShortPassword},
			{"ErrLongPassword", testCreateAccountErrLongPassword},
			{"ErrEmailTaken", testCreateAccountErrEmailTaken},
		}},
		{"AccountService_Authenticate", []test{
			{"OK", testAuthenticateOK},
			{"LastLogin", testAuthenticateLastLogin},
			{"ErrWrongPassword", testAuthenticateErrWrongPassword},
			{"ErrUnknownEmail", testAuthenticateErrUnknownEmail},
		}},
		{"AccountService_FindAccountByID", []test{
			{"OK", testFindAccountByIDOK},
			{"ErrNotFound", testFindAccountByIDErrNotFound},
		}},
	}
}

func testCreateAccountOK(t *testing.T, s Services) {
	ctx := context.Background()
	a, err := s.Accounts.CreateAccount(ctx, "  Alice@Example.COM ", Password)
	if err != nil {
		t.Fatal(err)
	}
	assertID(t, "ID", a.ID)
	if a.Email != "alice@example.com" {
		t.Errorf("Email = %q, want it normalised to alice@example.com", a.Email)
	}
	if a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() {
		t.Errorf("CreatedAt = %v, UpdatedAt = %v, want them set", a.CreatedAt, a.UpdatedAt)
	}
	if a.LastLogin != nil {
		t.Errorf("LastLogin = %v, want nil before the first login", *a.LastLogin)
	}

	got, err := s.Accounts.FindAccountByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Email != a.Email || got.LastLogin != nil {
		t.Errorf("FindAccountByID = %+v, want %+v", got, a)
	}
	assertTime(t, "CreatedAt", got.CreatedAt, a.CreatedAt)
	assertTime(t, "UpdatedAt", got.UpdatedAt, a.UpdatedAt)

	// A second account gets its own ID.
	b := mustCreateAccount(t, s, "bob@example.com")
	if b.ID == a.ID {
		t.Errorf("two accounts share the ID %s", a.ID)
	}
}

func testCreateAccountMinPasswordLength(t *testing.T, s Services) {
	pw := strings.Repeat("p", bulut.MinPasswordLength)
	if _, err := s.Accounts.CreateAccount(context.Background(), "alice@example.com", pw); err != nil {
		t.Fatalf("CreateAccount with a %d-character password: %v", len(pw), err)
	}
	if _, err := s.Accounts.Authenticate(context.Background(), "alice@example.com", pw); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
}

func testCreateAccountErrInvalidEmail(t *testing.T, s Services) {
	for _, email := range []string{"", "   ", "alice", "alice@", "@example.com", "alice example.com", "Alice <alice@example.com>"} {
		_, err := s.Accounts.CreateAccount(context.Background(), email, Password)
		if got := bulut.ErrorCode(err); got != bulut.EINVALID {
			t.Errorf("CreateAccount(%q): code %q, want %q (err: %v)", email, got, bulut.EINVALID, err)
		}
	}
}

func testCreateAccountErrShortPassword(t *testing.T, s Services) {
	for _, pw := range []string{"", "short", strings.Repeat("p", bulut.MinPasswordLength-1)} {
		_, err := s.Accounts.CreateAccount(context.Background(), "alice@example.com", pw)
		assertCode(t, err, bulut.EINVALID)
	}
	// Nothing was created: the e-mail is still free.
	mustCreateAccount(t, s, "alice@example.com")
}

func testCreateAccountErrLongPassword(t *testing.T, s Services) {
	_, err := s.Accounts.CreateAccount(context.Background(), "alice@example.com", strings.Repeat("p", 73))
	assertCode(t, err, bulut.EINVALID)
}

func testCreateAccountErrEmailTaken(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, email := range []string{"alice@example.com", "ALICE@example.com", " Alice@Example.Com "} {
		_, err := s.Accounts.CreateAccount(context.Background(), email, "another password")
		assertCode(t, err, bulut.ECONFLICT)
	}
	// The first account is untouched: its password still works.
	got, err := s.Accounts.Authenticate(context.Background(), "alice@example.com", Password)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID {
		t.Errorf("Authenticate returned account %s, want %s", got.ID, a.ID)
	}
}

func testAuthenticateOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mustCreateAccount(t, s, "bob@example.com")
	for _, email := range []string{"alice@example.com", "Alice@Example.com "} {
		got, err := s.Accounts.Authenticate(context.Background(), email, Password)
		if err != nil {
			t.Fatalf("Authenticate(%q): %v", email, err)
		}
		if got.ID != a.ID || got.Email != a.Email {
			t.Errorf("Authenticate(%q) = %s %s, want %s %s", email, got.ID, got.Email, a.ID, a.Email)
		}
	}
}

func testAuthenticateLastLogin(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	if a.LastLogin != nil {
		t.Fatalf("LastLogin = %v before any login", *a.LastLogin)
	}

	clock.Advance(time.Hour)
	got, err := s.Accounts.Authenticate(context.Background(), a.Email, Password)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastLogin == nil {
		t.Fatal("LastLogin = nil after Authenticate")
	}
	assertTime(t, "LastLogin", *got.LastLogin, clock.Now())

	found, err := s.Accounts.FindAccountByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if found.LastLogin == nil {
		t.Fatal("FindAccountByID: LastLogin = nil after Authenticate")
	}
	assertTime(t, "LastLogin", *found.LastLogin, clock.Now())

	// A failed login does not count.
	clock.Advance(time.Hour)
	if _, err := s.Accounts.Authenticate(context.Background(), a.Email, "wrong password"); err == nil {
		t.Fatal("Authenticate with a wrong password succeeded")
	}
	found, err = s.Accounts.FindAccountByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertTime(t, "LastLogin after a failed login", *found.LastLogin, clock.Now().Add(-time.Hour))
}

func testAuthenticateErrWrongPassword(t *testing.T, s Services) {
	mustCreateAccount(t, s, "alice@example.com")
	for _, pw := range []string{"", "wrong password", strings.ToUpper(Password), Password + " "} {
		a, err := s.Accounts.Authenticate(context.Background(), "alice@example.com", pw)
		assertCode(t, err, bulut.EUNAUTHORIZED)
		if a != nil {
			t.Errorf("Authenticate with password %q returned an account", pw)
		}
	}
}

func testAuthenticateErrUnknownEmail(t *testing.T, s Services) {
	mustCreateAccount(t, s, "alice@example.com")
	_, errUnknown := s.Accounts.Authenticate(context.Background(), "mallory@example.com", Password)
	assertCode(t, errUnknown, bulut.EUNAUTHORIZED)
	_, errWrong := s.Accounts.Authenticate(context.Background(), "alice@example.com", "wrong password")
	assertCode(t, errWrong, bulut.EUNAUTHORIZED)
	// The two must be indistinguishable, or the API tells which e-mails
	// have accounts.
	if mu, mw := bulut.ErrorMessage(errUnknown), bulut.ErrorMessage(errWrong); mu != mw {
		t.Errorf("unknown e-mail says %q but wrong password says %q; want the same message", mu, mw)
	}
	_, err := s.Accounts.Authenticate(context.Background(), "", "")
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindAccountByIDOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	for _, want := range []*bulut.Account{a, b} {
		got, err := s.Accounts.FindAccountByID(context.Background(), want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.Email != want.Email {
			t.Errorf("FindAccountByID(%s) = %s %s, want %s %s", want.ID, got.ID, got.Email, want.ID, want.Email)
		}
	}
}

func testFindAccountByIDErrNotFound(t *testing.T, s Services) {
	mustCreateAccount(t, s, "alice@example.com")
	// IDs may come from user input, so a malformed one is just not found.
	for _, id := range []string{bulut.NewID(), "", "not-an-id", "alice@example.com"} {
		_, err := s.Accounts.FindAccountByID(context.Background(), id)
		if got := bulut.ErrorCode(err); got != bulut.ENOTFOUND {
			t.Errorf("FindAccountByID(%q): code %q, want %q (err: %v)", id, got, bulut.ENOTFOUND, err)
		}
	}
}
