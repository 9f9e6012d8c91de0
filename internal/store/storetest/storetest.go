// Package storetest is a behaviour test suite for the stores that implement
// the services of package bulut. Every store (SQLite, PostgreSQL...) runs the
// very same tests from its own _test.go file:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Services { ... })
//	}
//
// The suite only goes through the bulut interfaces: checks that need to look
// inside a particular store (hashing at rest, journal mode...) belong to that
// store's own tests.
package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Services are the services of one store under test.
type Services struct {
	Accounts       bulut.AccountService
	Authorizations bulut.AuthorizationService
	LoginSessions  bulut.LoginSessionService
	Apps           bulut.AppService
	Releases       bulut.ReleaseService
	ConfigVars     bulut.ConfigVarService
	Slugs          bulut.SlugService
	Builds         bulut.BuildService
	Formations     bulut.FormationService
	Buildpacks     bulut.BuildpackService
	LogDrains      bulut.LogDrainService
	Domains        bulut.DomainService
	// SetNow replaces the store's clock (for expiry tests). Tests that need
	// it are skipped when it is nil.
	SetNow func(func() time.Time)
}

type test struct {
	name string
	fn   func(t *testing.T, s Services)
}

type group struct {
	name  string
	tests []test
}

func groups() []group {
	var all []group
	all = append(all, accountTests()...)
	all = append(all, authorizationTests()...)
	all = append(all, loginSessionTests()...)
	all = append(all, appTests()...)
	all = append(all, releaseTests()...)
	all = append(all, configVarTests()...)
	all = append(all, slugTests()...)
	all = append(all, buildTests()...)
	all = append(all, formationTests()...)
	all = append(all, buildpackTests()...)
	all = append(all, logDrainTests()...)
	all = append(all, domainTests()...)
	return all
}

// Run runs every behaviour test; open returns fresh, empty services for each
// test. Subtests are named SERVICE_METHOD/CASE, e.g.
// AccountService_Create/ErrEmailTaken, so that -run can pick them.
func Run(t *testing.T, open func(t *testing.T) Services) {
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.fn(t, open(t))
				})
			}
		})
	}
}

// Password is the password of the accounts the tests create.
const Password = "correct horse battery staple"

// mustCreateAccount signs up an account with Password.
func mustCreateAccount(t *testing.T, s Services, email string) *bulut.Account {
	t.Helper()
	a, err := s.Accounts.CreateAccount(context.Background(), email, Password)
	if err != nil {
		t.Fatalf("CreateAccount(%q): %v", email, err)
	}
	return a
}

// as returns a context acting for a.
func as(a *bulut.Account) context.Context {
	return bulut.NewContextWithAccount(context.Background(), a)
}

// system returns a system context.
func system() context.Context { return bulut.NewSystemContext(context.Background()) }

// mustCreateApp creates an app named name (generated if empty) for the
// account of ctx.
func mustCreateApp(t *testing.T, s Services, ctx context.Context, name string) *bulut.App {
	t.Helper()
	app, err := s.Apps.CreateApp(ctx, name)
	if err != nil {
		t.Fatalf("CreateApp(%q): %v", name, err)
	}
	return app
}

// mustFindApp finds an app that must exist.
func mustFindApp(t *testing.T, s Services, ctx context.Context, idOrName string) *bulut.App {
	t.Helper()
	app, err := s.Apps.FindApp(ctx, idOrName)
	if err != nil {
		t.Fatalf("FindApp(%q): %v", idOrName, err)
	}
	return app
}

// mustCreateAuthorization issues a token for an account.
func mustCreateAuthorization(t *testing.T, s Services, accountID string, expiresIn time.Duration) *bulut.Authorization {
	t.Helper()
	z, err := s.Authorizations.CreateAuthorization(context.Background(), accountID, "test token", expiresIn)
	if err != nil {
		t.Fatalf("CreateAuthorization: %v", err)
	}
	return z
}

// assertCode fails the test unless err has the given bulut error code.
func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bulut.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// assertMessageContains fails the test unless err's message contains s.
func assertMessageContains(t *testing.T, err error, s string) {
	t.Helper()
	if msg := bulut.ErrorMessage(err); !strings.Contains(msg, s) {
		t.Fatalf("error message = %q, want it to contain %q", msg, s)
	}
}

// assertID fails the test unless id has the shape of a bulut ID (a UUID).
func assertID(t *testing.T, what, id string) {
	t.Helper()
	if !bulut.IsID(id) {
		t.Fatalf("%s = %q, want a UUID", what, id)
	}
}

// assertTime fails the test unless got equals want.
func assertTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// Clock is a fake clock installed in a store with Services.SetNow.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Start is the time a fake clock starts at: whole seconds, so that every
// store keeps it exactly.
var Start = time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)

// useClock installs a fake clock at Start, or skips the test if the store
// has no SetNow.
func useClock(t *testing.T, s Services) *Clock {
	t.Helper()
	if s.SetNow == nil {
		t.Skip("store does not support SetNow")
	}
	c := &Clock{now: Start}
	s.SetNow(c.Now)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
