package cli_test

import (
	"net"
	"net/http/httptest"
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
	defer db.Close()
	authz := sqlite.NewAuthorizationService(db)
	services := bulut.Services{Accounts: sqlite.NewAccountService(db), Authorizations: authz, LoginSessions: authz,
		Apps: sqlite.NewAppService(db), Domains: sqlite.NewDomainService(db)}
	ts := httptest.NewUnstartedServer(nil)
	urls := bulut.URLs{Scheme: "http", Domain: "localhost", Port: ts.Listener.Addr().(*net.TCPAddr).Port}
	ts.Config.Handler = api.New(api.Config{Services: services, URLs: urls, SignupOpen: true})
	ts.Start()
	defer ts.Close()
	ct := &cliTest{t: t, env: map[string]string{"BULUT_API_URL": urls.APIURL(), "HOME": t.TempDir()}, dir: t.TempDir()}
	if r := ct.run("domains-pass\n", "signup", "--email", "d@example.com"); r.code != 0 {
		t.Fatalf("signup: exit %d, stderr %q", r.code, r.stderr)
	}
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
