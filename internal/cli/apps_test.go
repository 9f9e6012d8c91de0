package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestApps(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	if got := ct.mustRun("apps").stdout; got != "You have no apps.\n" {
		t.Fatalf("no apps: %q", got)
	}
	if got := ct.mustRun("apps", "--json").stdout; got != "[]\n" {
		t.Fatalf("no apps, json: %q", got)
	}
	ct.api.addApp("bravo", "a@example.com")
	ct.api.addApp("alpha", "a@example.com")
	ct.api.addApp("theirs", "b@example.com")
	if got, want := ct.mustRun("apps").stdout, "=== a@example.com Apps\n\nalpha\nbravo\n"; got != want {
		t.Fatalf("apps = %q, want %q", got, want)
	}
	var apps []struct{ Name, GitURL string }
	if err := json.Unmarshal([]byte(ct.mustRun("apps", "--json").stdout), &apps); err != nil || len(apps) != 2 || apps[0].Name != "alpha" {
		t.Fatalf("json: %+v, %v", apps, err)
	}
}

func TestAppsCreate(t *testing.T) {
	t.Run("NamedInGitRepo", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		ct.gitInit()
		r := ct.mustRun("apps:create", "demo")
		if r.stderr != "Creating ⬢ demo... done\n" {
			t.Errorf("stderr = %q", r.stderr)
		}
		if want := ct.api.webURL("demo") + " | " + ct.api.gitURL("demo") + "\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		if got, want := ct.remotes(), "bulut "+ct.api.gitURL("demo"); got != want {
			t.Fatalf("remotes = %q, want %q", got, want)
		}
	})
	t.Run("UnnamedOutsideGitRepo", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		r := ct.mustRun("create")
		if !strings.HasPrefix(r.stderr, "Creating app... done, ⬢ serene-caverns-") {
			t.Errorf("stderr = %q", r.stderr)
		}
		ct.gitInit() // after the fact: the directory had no repository
		if got := ct.remotes(); got != "" {
			t.Fatalf("remotes = %q", got)
		}
	})
	t.Run("ExistingRemoteKept", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		ct.gitInit()
		ct.git("remote", "add", "bulut", "https://example.com/mine.git")
		ct.mustRun("apps:create", "demo")
		ct.mustRun("apps:create", "other", "--remote", "staging")
		ct.mustRun("apps:create", "third", "--no-remote")
		want := "bulut https://example.com/mine.git\nstaging " + ct.api.gitURL("other")
		if got := ct.remotes(); got != want {
			t.Fatalf("remotes = %q, want %q", got, want)
		}
	})
	t.Run("ServerMessageShownAsIs", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		ct.api.addApp("demo", "b@example.com")
		r := ct.run("", "apps:create", "demo")
		r.wantError(t, 1, "Creating ⬢ demo... !\n ›   Error: Name demo is already taken.\n")
	})
}

func TestAppsInfo(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ct.api.addApp("demo", "a@example.com")
	want := "=== ⬢ demo\n\n" +
		"Git URL: " + ct.api.gitURL("demo") + "\n" +
		"Owner:   a@example.com\n" +
		"Region:  local\n" +
		"Stack:   heroku-24\n" +
		"Web URL: " + ct.api.webURL("demo") + "\n"
	if got := ct.mustRun("apps:info", "-a", "demo").stdout; got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	var info struct{ App struct{ Name string } }
	if err := json.Unmarshal([]byte(ct.mustRun("apps:info", "-a", "demo", "--json").stdout), &info); err != nil || info.App.Name != "demo" {
		t.Fatalf("json: %+v, %v", info, err)
	}
	ct.run("", "apps:info", "-a", "theirs").wantError(t, 1, " ›   Error: Couldn't find that app.")
}

func TestAppsRename(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ct.api.addApp("old", "a@example.com")
	ct.gitInit()
	ct.git("remote", "add", "bulut", ct.api.gitURL("old"))
	ct.git("remote", "add", "origin", "https://example.com/src.git")

	r := ct.mustRun("apps:rename", "new")
	if !strings.HasPrefix(r.stderr, "Renaming ⬢ old to ⬢ new... done\n") {
		t.Errorf("stderr = %q", r.stderr)
	}
	want := ct.api.webURL("new") + " | " + ct.api.gitURL("new") + "\nGit remote bulut updated\n"
	if r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	if got, want := ct.remotes(), "bulut "+ct.api.gitURL("new")+"\norigin https://example.com/src.git"; got != want {
		t.Fatalf("remotes = %q, want %q", got, want)
	}
	if ct.api.hasApp("old") || !ct.api.hasApp("new") {
		t.Fatal("app not renamed")
	}
}

func TestAppsDestroy(t *testing.T) {
	t.Run("ConfirmationMismatch", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		ct.api.addApp("demo", "a@example.com")
		r := ct.run("dmeo\n", "apps:destroy", "demo")
		r.wantError(t, 1, " ›   Error: Confirmation did not match demo. Aborted.")
		for _, want := range []string{
			" ▸    WARNING: This will delete ⬢ demo including all add-ons.\n",
			" ▸    To proceed, type demo or re-run this command with --confirm demo\n",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		ct.run("", "destroy", "demo").wantError(t, 1, "Confirmation did not match demo. Aborted.")
		ct.run("", "apps:destroy", "-a", "demo", "--confirm", "other").wantError(t, 1, "Confirmation other did not match demo. Aborted.")
		if !ct.api.hasApp("demo") {
			t.Fatal("app deleted despite the wrong confirmation")
		}
	})
	t.Run("Confirmed", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		ct.api.addApp("demo", "a@example.com")
		ct.gitInit()
		ct.git("remote", "add", "bulut", ct.api.gitURL("demo"))
		ct.git("remote", "add", "origin", "https://example.com/src.git")
		r := ct.run("demo\n", "apps:destroy")
		if r.code != 0 || !strings.HasSuffix(r.stderr, "Destroying ⬢ demo (including all add-ons)... done\n") {
			t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if ct.api.hasApp("demo") {
			t.Fatal("app not deleted")
		}
		if got := ct.remotes(); got != "origin https://example.com/src.git" {
			t.Fatalf("remotes = %q", got)
		}
	})
	t.Run("WithConfirmFlag", func(t *testing.T) {
		ct := newCLITest(t)
		ct.logIn("a@example.com")
		ct.api.addApp("demo", "a@example.com")
		if r := ct.mustRun("apps:destroy", "demo", "--confirm", "demo"); r.stderr != "Destroying ⬢ demo (including all add-ons)... done\n" {
			t.Fatalf("stderr = %q", r.stderr)
		}
	})
}

func TestOpen(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ct.api.addApp("demo", "a@example.com")
	r := ct.mustRun("open", "-a", "demo", "/admin?x=1")
	url := ct.api.webURL("demo") + "admin?x=1"
	if r.stderr != "Opening "+url+"... done\n" || len(ct.opened) != 1 || ct.opened[0] != url {
		t.Fatalf("stderr %q, opened %q", r.stderr, ct.opened)
	}
}

func TestGitRemote(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ct.api.addApp("demo", "a@example.com")
	ct.run("", "git:remote", "-a", "demo").wantError(t, 1, "Not a git repository")
	ct.gitInit()
	ct.git("remote", "add", "bulut", "https://example.com/old.git")

	if got, want := ct.mustRun("git:remote", "-a", "demo").stdout, "set git remote bulut to "+ct.api.gitURL("demo")+"\n"; got != want {
		t.Fatalf("stdout = %q, want %q", got, want)
	}
	ct.mustRun("git:remote", "-a", "demo", "-r", "staging")
	want := "bulut " + ct.api.gitURL("demo") + "\nstaging " + ct.api.gitURL("demo")
	if got := ct.remotes(); got != want {
		t.Fatalf("remotes = %q, want %q", got, want)
	}
	ct.run("", "git:remote").wantError(t, 1, "Specify an app with --app")
}
