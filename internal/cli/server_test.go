package cli_test

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/server"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

// newServerTest runs the CLI against a whole bulut server started in the
// test, reached by its api.localhost name as users reach it.
func newServerTest(t *testing.T) (*cliTest, *testenv.Env) {
	t.Helper()
	srv := testenv.New(t)
	ct := &cliTest{
		t:   t,
		env: map[string]string{"BULUT_API_URL": "http://api.localhost:" + srv.Port(), "HOME": t.TempDir()},
		dir: t.TempDir(),
	}
	return ct, srv
}

// newAPITest runs the CLI against the Platform API alone, configured by
// cfg (its URLs are the test server's), served in the test.
func newAPITest(t *testing.T, cfg api.Config) (*cliTest, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg.URLs = bulut.URLs{Scheme: "http", Domain: "localhost", Port: ts.Listener.Addr().(*net.TCPAddr).Port}
	ts.Config.Handler = api.New(cfg)
	ts.Start()
	t.Cleanup(ts.Close)
	ct := &cliTest{t: t, env: map[string]string{"BULUT_API_URL": cfg.URLs.APIURL(), "HOME": t.TempDir()}, dir: t.TempDir()}
	return ct, ts
}

// openStore opens the server's store, its data in the test's temporary
// directory, for newAPITest's services.
func openStore(t *testing.T) *server.Store {
	t.Helper()
	cfg := config.DefaultServer(t.TempDir())
	cfg.DataDir = t.TempDir()
	store := server.NewStore(cfg)
	if err := store.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// signup signs up, and so logs in, as email.
func (ct *cliTest) signup(email, password string) {
	ct.t.Helper()
	if r := ct.run(password+"\n", "signup", "--email", email); r.code != 0 {
		ct.t.Fatalf("signup: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestAgainstServer_Auth(t *testing.T) {
	ct, srv := newServerTest(t)
	const email, password = "ayse@example.com", "correct-horse"

	if r := ct.run(email+"\n"+password+"\n", "signup"); r.code != 0 || r.stdout != "Signed up and logged in as "+email+"\n" {
		t.Fatalf("signup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	token := strings.TrimSpace(ct.mustRun("auth:token").stdout)
	if got, want := ct.netrc(), netrcEntries(email, token, "api.localhost", "git.localhost"); got != want {
		t.Fatalf("netrc:\n%s\nwant:\n%s", got, want)
	}

	ct.mustRun("logout")
	if got := ct.netrc(); got != "" {
		t.Fatalf("netrc after logout: %q", got)
	}
	ct.env["BULUT_API_KEY"] = token
	ct.run("", "auth:whoami").wantError(t, 100, "")
	delete(ct.env, "BULUT_API_KEY")

	if r := ct.run(email+"\n"+password+"\n", "login", "-i"); r.code != 0 || r.stdout != "Logged in as "+email+"\n" {
		t.Fatalf("login -i: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	ct.mustRun("logout")

	// The browser login, approved as the dashboard would once the user
	// logged in there.
	ct.onOpen = func(url string) error {
		ctx := context.Background()
		account, err := srv.Store.Accounts.Authenticate(ctx, email, password)
		if err != nil {
			return err
		}
		return srv.Store.Authorizations.ApproveLoginSession(ctx, url[strings.LastIndex(url, "/")+1:], account.ID)
	}
	if r := ct.run("\n", "login"); r.code != 0 || r.stdout != "Logged in as "+email+"\n" {
		t.Fatalf("login: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := ct.mustRun("auth:whoami").stdout; got != email+"\n" {
		t.Fatalf("whoami = %q", got)
	}
}

func TestAgainstServer_Apps(t *testing.T) {
	ct, srv := newServerTest(t)
	ct.signup("ayse@example.com", "correct-horse")
	ct.gitInit()
	gitURL := func(app string) string { return "http://git.localhost:" + srv.Port() + "/" + app + ".git" }

	ct.mustRun("apps:create", "demo")
	if got := ct.remotes(); got != "bulut "+gitURL("demo") {
		t.Fatalf("remotes = %q", got)
	}
	if got := ct.mustRun("apps").stdout; got != "=== ayse@example.com Apps\n\ndemo\n" {
		t.Fatalf("apps = %q", got)
	}
	if got := ct.mustRun("apps:info").stdout; !strings.HasPrefix(got, "=== ⬢ demo\n") {
		t.Fatalf("apps:info resolved from the remote: %q", got)
	}
	ct.mustRun("apps:rename", "demo2")
	if got := ct.remotes(); got != "bulut "+gitURL("demo2") {
		t.Fatalf("remotes after rename = %q", got)
	}
	ct.run("demo\n", "apps:destroy").wantError(t, 1, "Confirmation did not match demo2. Aborted.")
	ct.mustRun("apps:info", "-a", "demo2")
	if r := ct.run("demo2\n", "apps:destroy"); r.code != 0 {
		t.Fatalf("destroy: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := ct.remotes(); got != "" {
		t.Fatalf("remotes after destroy = %q", got)
	}
	ct.run("", "apps:info", "-a", "demo2").wantError(t, 1, "Couldn't find that app.")
}
