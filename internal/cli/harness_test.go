package cli_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut/internal/cli"
)

// cliTest runs the CLI against a fakeAPI with a temporary HOME and working
// directory.
type cliTest struct {
	t      *testing.T
	api    *fakeAPI
	env    map[string]string // what Getenv returns
	dir    string            // the CLI's working directory
	opened []string          // URLs given to OpenBrowser
	onOpen func(url string) error
}

func newCLITest(t *testing.T) *cliTest {
	t.Helper()
	api := newFakeAPI(t)
	return &cliTest{
		t:   t,
		api: api,
		env: map[string]string{"BULUT_API_URL": api.URL, "HOME": t.TempDir()},
		dir: t.TempDir(),
	}
}

// result is what a run of the CLI left.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI with stdin as its input.
func (ct *cliTest) run(stdin string, args ...string) result {
	ct.t.Helper()
	var stdout, stderr bytes.Buffer
	env := cli.Env{
		Stdin:       strings.NewReader(stdin),
		Stdout:      &stdout,
		Stderr:      &stderr,
		Getenv:      func(k string) string { return ct.env[k] },
		Dir:         ct.dir,
		OpenBrowser: ct.openBrowser,
		Hostname:    "testhost",
	}
	code := cli.Run(context.Background(), env, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (ct *cliTest) openBrowser(url string) error {
	ct.opened = append(ct.opened, url)
	if ct.onOpen != nil {
		return ct.onOpen(url)
	}
	return nil
}

// mustRun runs the CLI without input and fails the test unless it exits 0.
func (ct *cliTest) mustRun(args ...string) result {
	ct.t.Helper()
	r := ct.run("", args...)
	if r.code != 0 {
		ct.t.Fatalf("bulut %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// wantError fails the test unless r is a failure with exit code code whose
// stderr contains want.
func (r result) wantError(t *testing.T, code int, want string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", r.code, r.stderr, code, want)
	}
}

// netrcPath is the netrc file of the test's HOME.
func (ct *cliTest) netrcPath() string { return filepath.Join(ct.env["HOME"], ".netrc") }

func (ct *cliTest) netrc() string {
	b, err := os.ReadFile(ct.netrcPath())
	if err != nil && !os.IsNotExist(err) {
		ct.t.Fatal(err)
	}
	return string(b)
}

func (ct *cliTest) writeNetrc(text string) {
	if err := os.WriteFile(ct.netrcPath(), []byte(text), 0o600); err != nil {
		ct.t.Fatal(err)
	}
}

// logIn creates an account in the fake and stores a token for it as
// `bulut login` would. It returns the token.
func (ct *cliTest) logIn(email string) string {
	token := ct.api.addAccount(email, "password1")
	ct.writeNetrc(netrcEntries(email, token, "127.0.0.1", "git.localhost"))
	return token
}

// netrcEntries is the text login writes for hosts.
func netrcEntries(email, token string, hosts ...string) string {
	var b strings.Builder
	for _, h := range hosts {
		b.WriteString("machine " + h + "\n  login " + email + "\n  password " + token + "\n")
	}
	return b.String()
}

// gitInit makes the working directory a git repository.
func (ct *cliTest) gitInit() {
	ct.git("init", "-q")
}

// git runs git in the working directory.
func (ct *cliTest) git(args ...string) string {
	ct.t.Helper()
	out, err := exec.Command("git", append([]string{"-C", ct.dir}, args...)...).CombinedOutput()
	if err != nil {
		ct.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// remotes returns the git remotes of the working directory as
// "NAME URL" lines.
func (ct *cliTest) remotes() string {
	var lines []string
	for line := range strings.Lines(ct.git("remote", "-v")) {
		if f := strings.Fields(line); len(f) == 3 && f[2] == "(fetch)" {
			lines = append(lines, f[0]+" "+f[1])
		}
	}
	return strings.Join(lines, "\n")
}
