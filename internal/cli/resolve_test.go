package cli_test

import (
	"strings"
	"testing"
)

// TestAppResolution checks which app apps:info acts on: -a, else -r, else
// BULUT_APP, else the git remotes of the working directory.
func TestAppResolution(t *testing.T) {
	appOf := func(t *testing.T, ct *cliTest, args ...string) string {
		t.Helper()
		out := ct.mustRun(append([]string{"apps:info"}, args...)...).stdout
		header, _, _ := strings.Cut(out, "\n")
		return strings.TrimPrefix(header, "=== ⬢ ")
	}
	setup := func(t *testing.T) *cliTest {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		for _, app := range []string{"prod", "staging", "envapp", "flagapp"} {
			ct.api.addApp(app, "a@example.com")
		}
		ct.gitInit()
		ct.git("remote", "add", "origin", "https://example.com/src.git")
		return ct
	}

	t.Run("FlagBeatsEverything", func(t *testing.T) {
		ct := setup(t)
		ct.env["BULUT_APP"] = "envapp"
		ct.git("remote", "add", "bulut", ct.api.gitURL("prod"))
		if got := appOf(t, ct, "-a", "flagapp"); got != "flagapp" {
			t.Fatalf("app = %q", got)
		}
		if got := appOf(t, ct, "--app", "flagapp"); got != "flagapp" {
			t.Fatalf("app = %q", got)
		}
	})
	t.Run("Remote", func(t *testing.T) {
		ct := setup(t)
		ct.env["BULUT_APP"] = "envapp"
		ct.git("remote", "add", "bulut", ct.api.gitURL("prod"))
		ct.git("remote", "add", "stage", ct.api.gitURL("staging"))
		if got := appOf(t, ct, "-r", "stage"); got != "staging" {
			t.Fatalf("app = %q", got)
		}
		ct.run("", "apps:info", "-r", "nope").wantError(t, 1, " ›   Error: remote nope not found in git remotes")
		ct.run("", "apps:info", "-r", "origin").wantError(t, 1, "remote origin not found in git remotes")
	})
	t.Run("EnvBeatsGitRemotes", func(t *testing.T) {
		ct := setup(t)
		ct.env["BULUT_APP"] = "envapp"
		ct.git("remote", "add", "bulut", ct.api.gitURL("prod"))
		if got := appOf(t, ct); got != "envapp" {
			t.Fatalf("app = %q", got)
		}
	})
	t.Run("RemoteNamedBulutFirst", func(t *testing.T) {
		ct := setup(t)
		ct.git("remote", "add", "a-stage", ct.api.gitURL("staging"))
		ct.git("remote", "add", "bulut", ct.api.gitURL("prod"))
		if got := appOf(t, ct); got != "prod" {
			t.Fatalf("app = %q", got)
		}
	})
	t.Run("OneAppInOtherRemotes", func(t *testing.T) {
		ct := setup(t)
		ct.git("remote", "add", "production", ct.api.gitURL("prod"))
		ct.git("remote", "add", "mirror", ct.api.gitURL("prod"))
		if got := appOf(t, ct); got != "prod" {
			t.Fatalf("app = %q", got)
		}
	})
	t.Run("MultipleApps", func(t *testing.T) {
		ct := setup(t)
		ct.git("remote", "add", "production", ct.api.gitURL("prod"))
		ct.git("remote", "add", "stage", ct.api.gitURL("staging"))
		r := ct.run("", "apps:info")
		r.wantError(t, 1, " ›   Error: Multiple apps in git remotes\n ›     Usage: --remote production\n ›        or: --app prod\n")
		if !strings.Contains(r.stderr, "staging (stage)") {
			t.Fatalf("stderr lacks the remotes:\n%s", r.stderr)
		}
	})
	t.Run("NoApp", func(t *testing.T) {
		ct := setup(t)
		ct.run("", "apps:info").wantError(t, 1,
			" ›   Error: No app specified.\n ›   Use -a APP, or run this command inside an app's git repository.\n")
	})
	t.Run("NoApp/OutsideGitRepo", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		ct.run("", "open").wantError(t, 1, "No app specified.")
	})
}
