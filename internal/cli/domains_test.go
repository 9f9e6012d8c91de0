package cli_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

func TestDomains(t *testing.T) {
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	authz := sqlite.NewAuthorizationService(db)
	services := bulut.Services{Accounts: sqlite.NewAccountService(db), Authorizations: authz, LoginSessions: authz,
		Apps: sqlite.NewAppService(db), Domains: sqlite.NewDomainService(db)}
	ct, _ := newAPITest(t, api.Config{Services: services, SignupOpen: true})
	ct.signup("d@example.com", "domains-pass")
	ct.mustRun("apps:create", "demo", "--no-remote")

	if got, want := ct.mustRun("domains", "-a", "demo").stdout, "=== demo Heroku Domain\n\ndemo.localhost\n"; got != want {
		t.Fatalf("domains:\n%s\nwant:\n%s", got, want)
	}
	r := ct.mustRun("domains:add", "www.example.com", "-a", "demo")
	if !strings.HasPrefix(r.stderr, "Adding www.example.com to ⬢ demo... done") ||
		r.stdout != "Configure your app's DNS provider to point to the DNS Target demo.localhost.\n" {
		t.Fatalf("domains:add: %q %q", r.stdout, r.stderr)
	}
	ct.run("", "domains:add", "www.example.com", "-a", "demo").wantError(t, 1, "www.example.com has already been added")
	want := "=== demo Heroku Domain\n\ndemo.localhost\n\n=== demo Custom Domains\n\n" +
		" Domain Name     DNS Record Type DNS Target\n" +
		" ─────────────── ─────────────── ──────────────\n" +
		" www.example.com CNAME           demo.localhost\n"
	if got := ct.mustRun("domains", "-a", "demo").stdout; got != want {
		t.Fatalf("domains:\n%s\nwant:\n%s", got, want)
	}
	if r := ct.mustRun("domains:remove", "www.example.com", "-a", "demo"); !strings.HasPrefix(r.stderr, "Removing www.example.com from ⬢ demo... done") {
		t.Fatalf("domains:remove: %q", r.stderr)
	}
	ct.run("", "domains:remove", "www.example.com", "-a", "demo").wantError(t, 1, "Couldn't find that domain.")
}
