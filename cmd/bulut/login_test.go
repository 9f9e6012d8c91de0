package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut/internal/cli"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

// browser plays a user's browser against the dashboard: a cookie jar and
// the loopback dialer *.localhost names get in real browsers.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	c := testenv.LoopbackClient()
	c.Jar, _ = cookiejar.New(nil)
	return &browser{t: t, client: c}
}

func (b *browser) do(req *http.Request) (string, string, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("%s %s: status %d: %.300s", req.Method, req.URL, resp.StatusCode, body)
	}
	return resp.Request.URL.String(), string(body), nil
}

func (b *browser) get(u string) (string, string, error) {
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

// post submits a form the way a browser does, with its Origin header.
func (b *browser) post(u string, form url.Values) (string, string, error) {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p, _ := url.Parse(u)
	req.Header.Set("Origin", p.Scheme+"://"+p.Host)
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// approveCLILogin opens the CLI's login URL, logs in when asked to and
// approves the login, as a person at the browser would.
func (b *browser) approveCLILogin(loginURL, email, password string) error {
	landed, page, err := b.get(loginURL)
	if err != nil {
		return err
	}
	if !strings.Contains(page, "Log in to your account") {
		return fmt.Errorf("not logged in yet, expected the login form at %s, got %.300s", landed, page)
	}
	u, _ := url.Parse(landed)
	approvalPath := u.Query().Get("next")
	dashboard := u.Scheme + "://" + u.Host
	landed, page, err = b.post(dashboard+"/login", url.Values{"email": {email}, "password": {password}, "next": {approvalPath}})
	if err != nil {
		return err
	}
	if !strings.Contains(page, "Log in to the bulut CLI?") || !strings.Contains(page, "bulut CLI login from test-host") {
		return fmt.Errorf("expected the approval page at %s, got %.300s", landed, page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("no csrf field on the approval page")
	}
	_, page, err = b.post(landed, url.Values{"csrf": {m[1]}, "action": {"approve"}})
	if err != nil {
		return err
	}
	if !strings.Contains(page, "return to your terminal") {
		return fmt.Errorf("expected the approved page, got %.300s", page)
	}
	return nil
}

// TestBrowserLogin runs `bulut login` against a real server while a
// scripted browser logs in to the dashboard and approves the login.
func TestBrowserLogin(t *testing.T) {
	env := testenv.New(t)
	env.Signup(t, "tarayici@example.com", "browser-pass")
	home := t.TempDir()
	vars := map[string]string{"HOME": home, "BULUT_API_URL": "http://api.localhost:" + env.Port()}
	browserDone := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	cliEnv := cli.Env{
		Stdin:    strings.NewReader("\n"), // "press any key"
		Stdout:   &stdout,
		Stderr:   &stderr,
		Getenv:   func(k string) string { return vars[k] },
		Dir:      t.TempDir(),
		Hostname: "test-host",
		OpenBrowser: func(u string) error {
			go func() { browserDone <- newBrowser(t).approveCLILogin(u, "tarayici@example.com", "browser-pass") }()
			return nil
		},
	}
	if code := cli.Run(context.Background(), cliEnv, []string{"login"}); code != 0 {
		t.Fatalf("login exited %d\nstdout: %s\nstderr: %s", code, &stdout, &stderr)
	}
	if err := <-browserDone; err != nil {
		t.Fatal(err)
	}
	out := stdout.String() + stderr.String()
	for _, want := range []string{"Press any key to open up the browser to login or q to exit", "Waiting for login", "Logged in as tarayici@example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	netrc, err := os.ReadFile(filepath.Join(home, ".netrc"))
	if err != nil || !strings.Contains(string(netrc), "machine api.localhost") || !strings.Contains(string(netrc), "machine git.localhost") {
		t.Fatalf("netrc: %s %v", netrc, err)
	}
	stdout.Reset()
	if code := cli.Run(context.Background(), cliEnv, []string{"auth:whoami"}); code != 0 || strings.TrimSpace(stdout.String()) != "tarayici@example.com" {
		t.Fatalf("whoami after browser login: %d %q %s", code, &stdout, &stderr)
	}
}

// TestBrowserLoginCancelled: answering q at the prompt logs nobody in.
func TestBrowserLoginCancelled(t *testing.T) {
	env := testenv.New(t)
	home := t.TempDir()
	vars := map[string]string{"HOME": home, "BULUT_API_URL": env.URL}
	var out bytes.Buffer
	cliEnv := cli.Env{Stdin: strings.NewReader("q\n"), Stdout: &out, Stderr: &out,
		Getenv: func(k string) string { return vars[k] }, Dir: t.TempDir(), Hostname: "test-host",
		OpenBrowser: func(string) error { t.Error("browser opened after q"); return nil }}
	if code := cli.Run(context.Background(), cliEnv, []string{"login"}); code == 0 || !strings.Contains(out.String(), "Login cancelled by user") {
		t.Fatalf("exit %d: %s", code, &out)
	}
	if _, err := os.Stat(filepath.Join(home, ".netrc")); err == nil {
		t.Fatal("netrc written after a cancelled login")
	}
}
