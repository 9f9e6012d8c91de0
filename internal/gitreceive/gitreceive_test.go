package gitreceive_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/gitreceive"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// The test binary doubles as `bulut hook pre-receive` when git runs it
// with BULUT_TEST_HOOK=1 (see hookCommand).
func TestMain(m *testing.M) {
	if os.Getenv("BULUT_TEST_HOOK") == "1" {
		os.Exit(gitreceive.RunPreReceiveHook(context.Background(), os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}

// recordingDeployer stands in for the builder (tested on its own): it
// records what it was asked to deploy, reading the source archive, and
// succeeds or fails as told.
type recordingDeployer struct {
	mu      sync.Mutex
	deploys []deployCall
	fail    bool
	block   chan struct{} // if set, Deploy waits on it
	started chan struct{}
}

type deployCall struct {
	app, email, commit, subject string
	files                       map[string]string
}

func (d *recordingDeployer) Deploy(ctx context.Context, dep bulut.Deploy, out io.Writer) (*bulut.Release, error) {
	if d.started != nil {
		d.started <- struct{}{}
	}
	if d.block != nil {
		<-d.block
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(dep.Source(ctx, pw)) }()
	files := map[string]string{}
	tr := tar.NewReader(pr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	d.mu.Lock()
	d.deploys = append(d.deploys, deployCall{dep.App.Name, dep.Account.Email, dep.Commit, dep.CommitDescription, files})
	d.mu.Unlock()
	fmt.Fprintln(out, "-----> Building on the heroku-24 stack")
	if d.fail {
		fmt.Fprintln(out, " !     Push rejected, failed to compile app.")
		return nil, errors.New("compile failed")
	}
	fmt.Fprintln(out, "       Released v2")
	return &bulut.Release{Version: 2}, nil
}

func (d *recordingDeployer) calls() []deployCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]deployCall(nil), d.deploys...)
}

type env struct {
	t        *testing.T
	url      string
	deployer *recordingDeployer
	accounts *sqlite.AccountService
	auths    *sqlite.AuthorizationService
	apps     *sqlite.AppService
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, deployer: &recordingDeployer{}, accounts: sqlite.NewAccountService(db),
		auths: sqlite.NewAuthorizationService(db), apps: sqlite.NewAppService(db)}
	socket := filepath.Join(dir, "hook.sock")
	srv := gitreceive.New(gitreceive.Config{
		Apps: e.apps, Authorizations: e.auths, Deployer: e.deployer,
		URLs:        bulut.URLs{Scheme: "http", Domain: "localhost"},
		ReposDir:    filepath.Join(dir, "repos"),
		HooksDir:    filepath.Join(dir, "hooks"),
		HookCommand: []string{"env", "BULUT_TEST_HOOK=1", exe},
		SocketPath:  socket,
	})
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	private := &http.Server{Handler: srv.PrivateHandler()}
	go private.Serve(l)
	t.Cleanup(func() { private.Close() })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

// account signs up and returns a token and a context acting for it.
func (e *env) account(email string) (string, context.Context) {
	e.t.Helper()
	ctx := context.Background()
	acct, err := e.accounts.CreateAccount(ctx, email, "password-123")
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.auths.CreateAuthorization(ctx, acct.ID, "test", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.Token, bulut.NewContextWithAccount(ctx, acct)
}

// repo makes a git work tree with one commit.
func (e *env) repo(files map[string]string) string {
	e.t.Helper()
	dir := e.t.TempDir()
	e.git(dir, "init", "-q", "-b", "main")
	e.commit(dir, "first commit", files)
	return dir
}

func (e *env) commit(dir, msg string, files map[string]string) {
	e.t.Helper()
	for name, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	e.git(dir, "add", "-A")
	e.git(dir, "commit", "-q", "-m", msg)
}

// git runs git in dir and returns its combined output; it fails the test
// if git fails.
func (e *env) git(dir string, args ...string) string {
	e.t.Helper()
	out, err := e.tryGit(dir, args...)
	if err != nil {
		e.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (e *env) tryGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+e.t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// remote is the app's git URL with a token in it.
func (e *env) remote(app, token string) string {
	return strings.Replace(e.url, "http://", "http://git:"+token+"@", 1) + "/" + app + ".git"
}

func TestPush_DeploysMain(t *testing.T) {
	e := newEnv(t)
	token, ctx := e.account("pusher@example.com")
	if _, err := e.apps.CreateApp(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
	dir := e.repo(map[string]string{"Procfile": "web: ./run\n", "src/app.txt": "hello"})
	out := e.git(dir, "push", e.remote("demo", token), "main")
	for _, want := range []string{"remote: -----> Building on the heroku-24 stack", "remote:        Released v2", "remote: Verifying deploy... done.", "* [new branch]      main -> main"} {
		if !strings.Contains(out, want) {
			t.Errorf("push output lacks %q:\n%s", want, out)
		}
	}
	calls := e.deployer.calls()
	head := strings.TrimSpace(e.git(dir, "rev-parse", "HEAD"))
	if len(calls) != 1 || calls[0].commit != head || calls[0].app != "demo" || calls[0].email != "pusher@example.com" ||
		calls[0].subject != "first commit" || calls[0].files["Procfile"] != "web: ./run\n" || calls[0].files["src/app.txt"] != "hello" {
		t.Fatalf("deploys = %+v", calls)
	}

	// A clone gets the pushed code back.
	clone := filepath.Join(t.TempDir(), "clone")
	e.git(t.TempDir(), "clone", "-q", e.remote("demo", token), clone)
	if b, _ := os.ReadFile(filepath.Join(clone, "src/app.txt")); string(b) != "hello" {
		t.Fatalf("clone has %q", b)
	}

	// A second commit and a forced push deploy too.
	e.commit(dir, "second", map[string]string{"b.txt": "b"})
	e.git(dir, "push", "-f", e.remote("demo", token), "main")
	if n := len(e.deployer.calls()); n != 2 {
		t.Fatalf("%d deploys after the second push", n)
	}
}

func TestPush_FailedBuildRejects(t *testing.T) {
	e := newEnv(t)
	token, ctx := e.account("fail@example.com")
	e.apps.CreateApp(ctx, "broken")
	e.deployer.fail = true
	dir := e.repo(map[string]string{"Procfile": "web: x"})
	out, err := e.tryGit(dir, "push", e.remote("broken", token), "main")
	if err == nil {
		t.Fatalf("push succeeded:\n%s", out)
	}
	for _, want := range []string{"Push rejected to broken.", "! [remote rejected] main -> main (pre-receive hook declined)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if refs := e.git(dir, "ls-remote", e.remote("broken", token)); strings.Contains(refs, "refs/heads/main") {
		t.Fatalf("rejected push stored main: %s", refs)
	}
}

func TestPush_OtherBranchesAndTags(t *testing.T) {
	e := newEnv(t)
	token, ctx := e.account("branch@example.com")
	e.apps.CreateApp(ctx, "branchy")
	dir := e.repo(map[string]string{"a": "a"})
	e.git(dir, "tag", "v1")
	out := e.git(dir, "push", e.remote("branchy", token), "main:feature", "v1")
	if !strings.Contains(out, "remote: Pushed to non-master branch, skipping build.") {
		t.Errorf("output:\n%s", out)
	}
	if n := len(e.deployer.calls()); n != 0 {
		t.Fatalf("%d deploys for a branch and a tag", n)
	}
	refs := e.git(dir, "ls-remote", e.remote("branchy", token))
	if !strings.Contains(refs, "refs/heads/feature") || !strings.Contains(refs, "refs/tags/v1") {
		t.Fatalf("refs not stored: %s", refs)
	}
	// master deploys like main.
	e.git(dir, "push", e.remote("branchy", token), "main:master")
	if n := len(e.deployer.calls()); n != 1 {
		t.Fatalf("%d deploys for master", n)
	}
}

func TestPush_Auth(t *testing.T) {
	e := newEnv(t)
	token, ctx := e.account("owner@example.com")
	other, _ := e.account("other@example.com")
	e.apps.CreateApp(ctx, "guarded")
	dir := e.repo(map[string]string{"a": "a"})
	noAuth := e.url + "/guarded.git"
	for name, c := range map[string]struct{ url, want string }{
		"NoToken":    {noAuth, "could not read Username"},
		"WrongToken": {e.remote("guarded", "bulut_wrong"), "Authentication failed"},
		"OtherOwner": {e.remote("guarded", other), "not found"},
		"NoSuchApp":  {e.remote("nothing-here", token), "not found"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := e.tryGit(dir, "push", c.url, "main")
			if err == nil || !strings.Contains(out, c.want) {
				t.Fatalf("push: %v\n%s", err, out)
			}
		})
	}
	if n := len(e.deployer.calls()); n != 0 {
		t.Fatalf("%d deploys without the right token", n)
	}
	resp, err := http.Get(e.url + "/../etc/passwd.git/info/refs?service=git-upload-pack")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("traversal path: %d", resp.StatusCode)
		}
	}
}

func TestPush_ConcurrentPushesNeverBuildAtOnce(t *testing.T) {
	e := newEnv(t)
	token, ctx := e.account("busy@example.com")
	e.apps.CreateApp(ctx, "busy")
	e.deployer.block = make(chan struct{})
	e.deployer.started = make(chan struct{}, 2)
	first := e.repo(map[string]string{"a": "1"})
	second := e.repo(map[string]string{"a": "2"})
	done := make(chan string)
	go func() {
		out, _ := e.tryGit(first, "push", e.remote("busy", token), "main")
		done <- out
	}()
	select {
	case <-e.deployer.started:
	case <-time.After(30 * time.Second):
		t.Fatal("first push never started building")
	}
	out, err := e.tryGit(second, "push", e.remote("busy", token), "main")
	if err == nil || !strings.Contains(out, "Another push to busy is building right now.") {
		t.Fatalf("second push: %v\n%s", err, out)
	}
	close(e.deployer.block)
	if out := <-done; !strings.Contains(out, "Verifying deploy... done.") {
		t.Fatalf("first push:\n%s", out)
	}
}
