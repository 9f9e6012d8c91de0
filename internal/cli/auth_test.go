package cli_test

import (
	"os"
	"strings"
	"testing"
)

const otherNetrcEntry = "machine example.com\n  login bob\n  password hunter2\n"

func TestLogin_Interactive(t *testing.T) {
	ct := newCLITest(t)
	ct.api.addAccount("a@example.com", "password1")
	ct.writeNetrc(otherNetrcEntry)

	r := ct.run("a@example.com\npassword1\n", "login", "-i")
	if r.code != 0 || r.stdout != "Logged in as a@example.com\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "Email: ") || !strings.Contains(r.stderr, "Password: ") {
		t.Errorf("stderr %q lacks the prompts", r.stderr)
	}
	if ct.api.lastLogin != "bulut CLI login from testhost" {
		t.Errorf("token description = %q", ct.api.lastLogin)
	}
	token := ct.mustRun("auth:token").stdout
	want := otherNetrcEntry + netrcEntries("a@example.com", strings.TrimSpace(token), "127.0.0.1", "git.localhost")
	if got := ct.netrc(); got != want {
		t.Fatalf("netrc:\n%s\nwant:\n%s", got, want)
	}
	fi, err := os.Stat(ct.netrcPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("netrc mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if got := ct.mustRun("auth:whoami").stdout; got != "a@example.com\n" {
		t.Fatalf("whoami = %q", got)
	}
}

func TestLogin_InteractiveWrongPassword(t *testing.T) {
	ct := newCLITest(t)
	ct.api.addAccount("a@example.com", "password1")
	ct.writeNetrc(otherNetrcEntry)
	ct.run("a@example.com\nwrong\n", "login", "-i").wantError(t, 1, " ›   Error: Invalid credentials provided.")
	if got := ct.netrc(); got != otherNetrcEntry {
		t.Fatalf("netrc changed:\n%s", got)
	}
}

func TestLogin_Browser(t *testing.T) {
	ct := newCLITest(t)
	ct.api.addAccount("a@example.com", "password1")
	ct.onOpen = func(url string) error { return ct.api.approve(url, "a@example.com") }

	r := ct.run("\n", "login")
	if r.code != 0 || r.stdout != "Logged in as a@example.com\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if len(ct.opened) != 1 || !strings.HasPrefix(ct.opened[0], "http://dashboard.localhost:"+ct.api.port+"/cli-login/") {
		t.Fatalf("opened %q", ct.opened)
	}
	for _, want := range []string{
		"Press any key to open up the browser to login or q to exit: ",
		"Opening browser to " + ct.opened[0] + "\n",
		"If browser does not open, visit:\n" + ct.opened[0] + "\n",
		"Waiting for login... done\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if ct.api.lastLogin != "bulut CLI login from testhost" {
		t.Errorf("session description = %q", ct.api.lastLogin)
	}
	token := strings.TrimSpace(ct.mustRun("auth:token").stdout)
	if !ct.api.tokenValid(token) || ct.netrc() != netrcEntries("a@example.com", token, "127.0.0.1", "git.localhost") {
		t.Fatalf("token %q, netrc:\n%s", token, ct.netrc())
	}
}

func TestLogin_BrowserCancelled(t *testing.T) {
	ct := newCLITest(t)
	ct.run("q\n", "login").wantError(t, 1, "Login cancelled by user")
	if len(ct.opened) != 0 || len(ct.api.sessions) != 0 {
		t.Fatalf("opened %q, sessions %v", ct.opened, ct.api.sessions)
	}
}

func TestLogin_RefusedWithAPIKey(t *testing.T) {
	ct := newCLITest(t)
	ct.env["BULUT_API_KEY"] = "some-token"
	ct.run("", "login", "-i").wantError(t, 1, "Cannot log in with BULUT_API_KEY set.")
}

func TestSignup(t *testing.T) {
	ct := newCLITest(t)
	r := ct.run("new@example.com\npassword1\n", "signup")
	if r.code != 0 || r.stdout != "Signed up and logged in as new@example.com\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := ct.mustRun("auth:whoami").stdout; got != "new@example.com\n" {
		t.Fatalf("whoami = %q", got)
	}

	r = ct.run("password1\n", "signup", "--email", "new@example.com")
	r.wantError(t, 1, " ›   Error: That e-mail address is already registered.")
	ct.run("short\n", "signup", "--email", "other@example.com").wantError(t, 1, "at least 8 characters")
}

func TestLogout(t *testing.T) {
	ct := newCLITest(t)
	token := ct.logIn("a@example.com")
	ct.writeNetrc(otherNetrcEntry + ct.netrc())

	r := ct.mustRun("logout")
	if r.stderr != "Logging out... done\n" {
		t.Fatalf("stderr = %q", r.stderr)
	}
	if ct.api.tokenValid(token) {
		t.Error("token not revoked")
	}
	if got := ct.netrc(); got != otherNetrcEntry {
		t.Fatalf("netrc:\n%s\nwant only the other entry", got)
	}
	ct.run("", "auth:whoami").wantError(t, 100, "Not logged in.")
}

func TestLogout_RevokedTokenStillRemoved(t *testing.T) {
	ct := newCLITest(t)
	ct.writeNetrc(netrcEntries("a@example.com", "revoked", "127.0.0.1", "git.localhost"))
	if r := ct.mustRun("logout"); r.stderr != "Logging out... done\n" {
		t.Fatalf("stderr = %q", r.stderr)
	}
	if got := ct.netrc(); got != "" {
		t.Fatalf("netrc = %q", got)
	}
}

func TestNotLoggedIn(t *testing.T) {
	ct := newCLITest(t)
	ct.run("", "apps").wantError(t, 1, " ›   Error: Not logged in.\n ›   Run bulut login.\n")
	ct.run("", "auth:token").wantError(t, 1, "Not logged in.")
	ct.run("", "auth:whoami").wantError(t, 100, "Not logged in.")
}

func TestRejectedToken(t *testing.T) {
	ct := newCLITest(t)
	ct.writeNetrc(netrcEntries("a@example.com", "revoked", "127.0.0.1"))
	ct.run("", "apps").wantError(t, 1, "Your stored credentials were rejected. Run bulut login.")
	ct.run("", "auth:whoami").wantError(t, 100, "Invalid credentials provided.")

	ct.env["BULUT_API_KEY"] = "bad"
	ct.run("", "apps").wantError(t, 1, "The token in BULUT_API_KEY was rejected.")
}

func TestAPIKeyBeatsNetrc(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ct.env["BULUT_API_KEY"] = ct.api.addAccount("b@example.com", "password2")
	if got := ct.mustRun("auth:whoami").stdout; got != "b@example.com\n" {
		t.Fatalf("whoami = %q", got)
	}
}

func TestServerUnreachable(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ct.api.Close()
	ct.run("", "apps").wantError(t, 1, "Is `bulut server` running?")
}
