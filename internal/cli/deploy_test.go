package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

// newDeployTest runs the CLI against a real server, logged in as
// ayse@example.com, in a git repository whose bulut remote is app demo.
func newDeployTest(t *testing.T) (*cliTest, *testenv.Env, context.Context) {
	t.Helper()
	ct, srv := newServerTest(t)
	const email, password = "ayse@example.com", "correct-horse"
	ct.signup(email, password)
	ct.gitInit()
	ct.mustRun("apps:create", "demo")
	ctx := context.Background()
	acct, err := srv.Store.Accounts.Authenticate(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	return ct, srv, bulut.NewContextWithAccount(ctx, acct)
}

// deploy releases a slug of app demo as a push would (the push itself is
// tested with git elsewhere).
func deploy(t *testing.T, srv *testenv.Env, ctx context.Context, commit string) *bulut.Release {
	t.Helper()
	slug := &bulut.Slug{ProcessTypes: map[string]string{"web": "./web"}, Commit: commit, Stack: bulut.DefaultStack}
	return release(t, srv.Store.Services(), ctx, slug, "Deploy "+commit[:8])
}

// release stores slug, of app demo, and releases it with description.
func release(t *testing.T, s bulut.Services, ctx context.Context, slug *bulut.Slug, description string) *bulut.Release {
	t.Helper()
	if err := s.Slugs.CreateSlug(ctx, "demo", slug); err != nil {
		t.Fatal(err)
	}
	r, err := s.Releases.CreateRelease(ctx, "demo", slug.ID, description)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// agoPattern matches a time as formatAgo writes it, a few seconds old.
const agoPattern = `\d{4}/\d\d/\d\d \d\d:\d\d:\d\d [+-]\d{4} \(~ \d+s ago\)`

func wantLines(t *testing.T, got string, patterns ...string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(patterns) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(patterns), got)
	}
	for i, p := range patterns {
		if !regexp.MustCompile(`^` + p + `$`).MatchString(lines[i]) {
			t.Fatalf("line %d = %q, want /%s/\nwhole output:\n%s", i+1, lines[i], p, got)
		}
	}
}

func TestAgainstServer_Config(t *testing.T) {
	ct, _, _ := newDeployTest(t)
	if got := ct.mustRun("config").stdout; got != "⬢ demo has no config vars.\n" {
		t.Fatalf("config = %q", got)
	}
	if got := ct.mustRun("config", "--json").stdout; got != "{}\n" {
		t.Fatalf("config --json = %q", got)
	}

	r := ct.mustRun("config:set", "A=1", "DATABASE_URL=postgres://u:p@h/db?x=1", "A=2")
	if r.stderr != "Setting A, DATABASE_URL and restarting ⬢ demo... done, v2\n" {
		t.Fatalf("config:set stderr = %q", r.stderr)
	}
	if r.stdout != "A:            2\nDATABASE_URL: postgres://u:p@h/db?x=1\n" {
		t.Fatalf("config:set stdout = %q", r.stdout)
	}
	ct.mustRun("config", "set", "EMPTY=", "Q=it's")
	if got := ct.mustRun("config").stdout; got != "=== ⬢ demo Config Vars\n\nA:            2\nDATABASE_URL: postgres://u:p@h/db?x=1\nEMPTY:        \nQ:            it's\n" {
		t.Fatalf("config = %q", got)
	}
	if got := ct.mustRun("config", "-s").stdout; got != "A=2\nDATABASE_URL='postgres://u:p@h/db?x=1'\nEMPTY=''\nQ='it'\\''s'\n" {
		t.Fatalf("config -s = %q", got)
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(ct.mustRun("config", "--json").stdout), &vars); err != nil || len(vars) != 4 || vars["Q"] != "it's" {
		t.Fatalf("config --json = %v, %v", vars, err)
	}
	if got := ct.mustRun("config:get", "DATABASE_URL").stdout; got != "postgres://u:p@h/db?x=1\n" {
		t.Fatalf("config:get = %q", got)
	}
	if got := ct.mustRun("config:get", "NOPE", "A").stdout; got != "\n2\n" {
		t.Fatalf("config:get unset = %q", got)
	}
	if got := ct.mustRun("config:get", "-s", "A").stdout; got != "A=2\n" {
		t.Fatalf("config:get -s = %q", got)
	}

	ct.run("", "config:set", "NOEQUALS").wantError(t, 2, "NOEQUALS is invalid. Must be in the format FOO=bar.")
	ct.run("", "config:set").wantError(t, 2, "Must specify KEY and VALUE to set.")
	ct.run("", "config:unset").wantError(t, 2, "Must specify KEY to unset.")
	ct.run("", "config:set", "BAD-KEY=1").wantError(t, 1, `Invalid config var name "BAD-KEY"`)
	ct.run("", "config:get").wantError(t, 2, "")

	r = ct.mustRun("config:unset", "A", "Q")
	if r.stderr != "Unsetting A, Q and restarting ⬢ demo... done, v4\n" || r.stdout != "" {
		t.Fatalf("config:unset = %q, %q", r.stderr, r.stdout)
	}
	if got := ct.mustRun("config", "-a", "demo").stdout; got != "=== ⬢ demo Config Vars\n\nDATABASE_URL: postgres://u:p@h/db?x=1\nEMPTY:        \n" {
		t.Fatalf("config after unset = %q", got)
	}
	ct.run("", "config", "-a", "nope").wantError(t, 1, "Couldn't find that app.")
}

func TestAgainstServer_ReleasesAndRollback(t *testing.T) {
	ct, srv, ctx := newDeployTest(t)
	ct.mustRun("config:set", "A=1")
	ct.mustRun("config:set", "B=2")
	ct.mustRun("config:unset", "A")

	const email = `ayse@example\.com`
	wantLines(t, ct.mustRun("releases").stdout,
		`=== ⬢ demo Releases - Current: v4`,
		``,
		`v4  Remove A config vars  `+email+`  `+agoPattern,
		`v3  Set B config vars     `+email+`  `+agoPattern,
		`v2  Set A config vars     `+email+`  `+agoPattern,
		`v1  Initial release       `+email+`  `+agoPattern,
	)
	wantLines(t, ct.mustRun("releases", "-n", "2").stdout,
		`=== ⬢ demo Releases - Current: v4`, ``,
		`v4  Remove A config vars  `+email+`  `+agoPattern,
		`v3  Set B config vars     `+email+`  `+agoPattern,
	)
	var list []struct {
		Version int
		Current bool
		User    struct{ Email string }
	}
	if err := json.Unmarshal([]byte(ct.mustRun("releases", "--json").stdout), &list); err != nil || len(list) != 4 ||
		list[0].Version != 4 || !list[0].Current || list[3].User.Email != "ayse@example.com" {
		t.Fatalf("releases --json = %+v, %v", list, err)
	}

	wantLines(t, ct.mustRun("releases:info").stdout,
		`=== Release v4`, ``,
		`Change: Remove A config vars`,
		`By:     `+email,
		`When:   \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`,
		``,
		`=== v4 Config vars`, ``,
		`B: 2`,
	)
	wantLines(t, ct.mustRun("releases:info", "v3").stdout,
		`=== Release v3`, ``, `Change: Set B config vars`, `By: .*`, `When: .*`, ``, `=== v3 Config vars`, ``,
		`A: 1`, `B: 2`)
	if got := ct.mustRun("releases:info", "2", "--shell").stdout; !strings.HasSuffix(got, "=== v2 Config vars\n\nA=1\n") {
		t.Fatalf("releases:info --shell = %q", got)
	}
	ct.run("", "releases:info", "v99").wantError(t, 1, "Couldn't find that release.")

	// Nothing to roll back to before a deploy.
	ct.run("", "rollback").wantError(t, 1, "No previous release of ⬢ demo with code to roll back to.")
	ct.run("", "rollback", "v2").wantError(t, 1, "")

	deploy(t, srv, ctx, "1111111122222222") // v5
	ct.mustRun("config:set", "C=3")         // v6
	r := ct.mustRun("rollback")
	if want := "Rolling back ⬢ demo to v5... done, v7\n" +
		" ▸    Rollback affects code and config vars; it doesn't add or remove addons.\n" +
		" ▸    To undo, run: bulut rollback v6\n"; r.stderr != want {
		t.Fatalf("rollback stderr = %q, want %q", r.stderr, want)
	}
	if got := ct.mustRun("config").stdout; got != "=== ⬢ demo Config Vars\n\nB: 2\n" {
		t.Fatalf("config after rollback = %q", got)
	}
	wantLines(t, ct.mustRun("releases", "-n", "3").stdout,
		`=== ⬢ demo Releases - Current: v7`, ``,
		`v7  Rollback to v5     `+email+`  `+agoPattern,
		`v6  Set C config vars  `+email+`  `+agoPattern,
		`v5  Deploy 11111111    `+email+`  `+agoPattern,
	)
	r = ct.mustRun("rollback", "v6")
	if !strings.HasPrefix(r.stderr, "Rolling back ⬢ demo to v6... done, v8\n") {
		t.Fatalf("rollback v6 = %q", r.stderr)
	}
	if got := ct.mustRun("config:get", "C").stdout; got != "3\n" {
		t.Fatalf("C after rolling back to v6 = %q", got)
	}
	ct.run("", "rollback", "v99").wantError(t, 1, "Couldn't find that release.")
}

func TestAgainstServer_Buildpacks(t *testing.T) {
	ct, _, _ := newDeployTest(t)
	if got := ct.mustRun("buildpacks").stdout; got != "⬢ demo has no Buildpack URL set.\n" {
		t.Fatalf("buildpacks = %q", got)
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"buildpacks:set", "heroku/python"},
			"Buildpack set. Next release on ⬢ demo will use heroku/python.\nRun git push bulut main to create a new release using this buildpack.\n"},
		{[]string{"buildpacks"}, "=== ⬢ demo Buildpack URL\n\nheroku/python\n"},
		{[]string{"buildpacks:add", "https://example.com/bp.git"},
			"Buildpack added. Next release on ⬢ demo will use:\n  1. heroku/python\n  2. https://example.com/bp.git\nRun git push bulut main to create a new release using these buildpacks.\n"},
		{[]string{"buildpacks:add", "-i", "1", "heroku/nodejs"},
			"Buildpack added. Next release on ⬢ demo will use:\n  1. heroku/nodejs\n  2. heroku/python\n  3. https://example.com/bp.git\nRun git push bulut main to create a new release using these buildpacks.\n"},
		{[]string{"buildpacks:set", "-i", "2", "heroku/go"},
			"Buildpack set. Next release on ⬢ demo will use:\n  1. heroku/nodejs\n  2. heroku/go\n  3. https://example.com/bp.git\nRun git push bulut main to create a new release using these buildpacks.\n"},
		{[]string{"buildpacks"}, "=== ⬢ demo Buildpack URLs\n\n1. heroku/nodejs\n2. heroku/go\n3. https://example.com/bp.git\n"},
		{[]string{"buildpacks:remove", "-i", "1"},
			"Buildpack removed. Next release on ⬢ demo will use:\n  1. heroku/go\n  2. https://example.com/bp.git\nRun git push bulut main to create a new release using these buildpacks.\n"},
		{[]string{"buildpacks:remove", "https://example.com/bp.git", "-r", "bulut"},
			"Buildpack removed. Next release on ⬢ demo will use heroku/go.\nRun git push bulut main to create a new release using this buildpack.\n"},
		{[]string{"buildpacks:remove", "heroku/go"}, "Buildpack removed. Next release on ⬢ demo will detect buildpacks normally.\n"},
		{[]string{"buildpacks:add", "/srv/buildpacks/mine"},
			"Buildpack added. Next release on ⬢ demo will use /srv/buildpacks/mine.\nRun git push bulut main to create a new release using this buildpack.\n"},
		{[]string{"buildpacks:clear"}, "Buildpacks cleared. Next release on ⬢ demo will detect buildpacks normally.\n"},
		{[]string{"buildpacks"}, "⬢ demo has no Buildpack URL set.\n"},
		{[]string{"buildpacks", "--json"}, "[]\n"},
	}
	for _, s := range steps {
		if got := ct.mustRun(s.args...).stdout; got != s.want {
			t.Fatalf("bulut %s:\n%s\nwant:\n%s", strings.Join(s.args, " "), got, s.want)
		}
	}

	ct.run("", "buildpacks:remove", "-i", "1").wantError(t, 1, "No buildpacks were found.")
	ct.mustRun("buildpacks:set", "heroku/python")
	ct.run("", "buildpacks:add", "heroku/python").wantError(t, 1, "The buildpack heroku/python is already set on your app.")
	ct.run("", "buildpacks:remove", "-i", "2").wantError(t, 1, "Invalid index. Only valid value is 1.")
	ct.run("", "buildpacks:remove", "heroku/go").wantError(t, 1, "Buildpack not found. Nothing was removed.")
	ct.run("", "buildpacks:remove").wantError(t, 2, "Must specify a buildpack to remove")
	ct.run("", "buildpacks:remove", "-i", "1", "heroku/python").wantError(t, 2, "either index or Buildpack URL, but not both")
	ct.run("", "buildpacks:add", "-i", "0", "heroku/go").wantError(t, 2, "Invalid index. Must be greater than 0.")
	ct.run("", "buildpacks:set").wantError(t, 2, "")
}

func TestAgainstServer_Builds(t *testing.T) {
	ct, srv, ctx := newDeployTest(t)
	if got := ct.mustRun("builds").stdout; got != "⬢ demo has no builds.\n" {
		t.Fatalf("builds = %q", got)
	}
	ct.run("", "builds:output").wantError(t, 1, "⬢ demo has no builds.")

	builds := srv.Store.Services().Builds
	var ids []string
	for _, sha := range []string{"aaaaaaaaaaaa", "bbbbbbbbbbbb"} {
		b := &bulut.Build{SourceVersion: sha, Buildpacks: []string{"heroku/python"}}
		if err := builds.CreateBuild(ctx, "demo", b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	failed := bulut.BuildFailed
	if _, err := builds.UpdateBuild(ctx, ids[0], bulut.BuildUpdate{Status: &failed}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, ct.mustRun("builds").stdout,
		`=== ⬢ demo Builds`, ``,
		ids[1]+`  `+agoPattern+`  ayse@example\.com  pending  bbbbbbbbbbbb`,
		ids[0]+`  `+agoPattern+`  ayse@example\.com  failed   aaaaaaaaaaaa`,
	)
	wantLines(t, ct.mustRun("builds", "-n", "1").stdout, `=== ⬢ demo Builds`, ``, ids[1]+`  .*`)
	var list []struct {
		ID              string
		OutputStreamURL string `json:"output_stream_url"`
	}
	if err := json.Unmarshal([]byte(ct.mustRun("builds", "--json").stdout), &list); err != nil || len(list) != 2 ||
		list[0].ID != ids[1] || !strings.Contains(list[0].OutputStreamURL, "/build-output/"+ids[1]+"?sig=") {
		t.Fatalf("builds --json = %+v, %v", list, err)
	}
	// Builds made without the builder have no output.
	ct.run("", "builds:output", ids[0]).wantError(t, 1, "Couldn't find that stream")
	ct.run("", "builds:output", bulut.NewID()).wantError(t, 1, "Couldn't find that build.")
}

// TestBuildsOutput streams a build's output from its output_stream_url,
// fetched without credentials.
func TestBuildsOutput(t *testing.T) {
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/apps/demo/builds":
			if r.Header.Get("Authorization") != "Bearer key" || !strings.Contains(r.Header.Get("Range"), "max=1, order=desc") {
				t.Errorf("list: Authorization %q, Range %q", r.Header.Get("Authorization"), r.Header.Get("Range"))
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode([]map[string]any{{"id": "b1", "output_stream_url": api.URL + "/out/b1?sig=x"}})
		case "/out/b1":
			if r.Header.Get("Authorization") != "" {
				t.Errorf("the stream was sent credentials")
			}
			w.Write([]byte("-----> Building on the Heroku-24 stack\n"))
			w.(http.Flusher).Flush()
			w.Write([]byte("       Done\n"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer api.Close()
	ct := &cliTest{t: t, env: map[string]string{"BULUT_API_URL": api.URL, "BULUT_API_KEY": "key", "BULUT_APP": "demo", "HOME": t.TempDir()}, dir: t.TempDir()}
	if got := ct.mustRun("builds:output").stdout; got != "-----> Building on the Heroku-24 stack\n       Done\n" {
		t.Fatalf("builds:output = %q", got)
	}
}

// TestGitClone clones the repository at the app's git URL (here a local
// bare repository) with the remote named bulut (or -r).
func TestGitClone(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ct.api.addApp("demo", "a@example.com")

	// A bare repository with one commit, where the app's git URL points.
	src := t.TempDir()
	bare := filepath.Join(t.TempDir(), "demo.git")
	gitIn := func(dir string, args ...string) {
		t.Helper()
		ct2 := &cliTest{t: t, dir: dir}
		ct2.git(args...)
	}
	gitIn(src, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(src, "Procfile"), []byte("web: ./web\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(src, "add", "Procfile")
	gitIn(src, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first")
	gitIn(src, "clone", "-q", "--bare", src, bare)
	ct.api.setGitURL("demo", bare)

	r := ct.mustRun("git:clone", "-a", "demo")
	if !strings.Contains(r.stderr, "Cloning into 'demo'...") {
		t.Fatalf("stderr = %q", r.stderr)
	}
	clone := &cliTest{t: t, dir: filepath.Join(ct.dir, "demo")}
	if got := clone.remotes(); got != "bulut "+bare {
		t.Fatalf("remotes = %q", got)
	}
	if _, err := os.Stat(filepath.Join(clone.dir, "Procfile")); err != nil {
		t.Fatal(err)
	}

	ct.mustRun("git:clone", "-a", "demo", "elsewhere", "-r", "prod")
	if got := (&cliTest{t: t, dir: filepath.Join(ct.dir, "elsewhere")}).remotes(); got != "prod "+bare {
		t.Fatalf("remotes = %q", got)
	}
	ct.run("", "git:clone", "-a", "demo", "elsewhere").wantError(t, 1, "git clone failed.")
	ct.run("", "git:clone").wantError(t, 2, "Missing required flag app")
	ct.run("", "git:clone", "-a", "nope").wantError(t, 1, "Couldn't find that app.")
}
