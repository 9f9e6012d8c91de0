package builder_test

import (
	"github.com/bulut-bulut/bulut/internal/testwheels"

	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/builder"
	"github.com/bulut-bulut/bulut/internal/sandbox"
	"github.com/bulut-bulut/bulut/internal/store/fsblob"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// env is a builder on a real SQLite store and blob directory, with one
// account and one app.
type env struct {
	t     *testing.T
	dir   string
	svc   bulut.Services
	blobs *fsblob.Store
	b     *builder.Builder
	ctx   context.Context
	app   *bulut.App
}

// buildEnv is what buildpacks get: the test's PATH (go, node, npm) and
// HOME, and Go's caches where the test runner keeps them.
func buildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "LANG", "GOPROXY", "GOFLAGS":
			env = append(env, kv)
		}
	}
	return append(env, "GOPROXY=off")
}

func newEnv(t *testing.T, configure ...func(*builder.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	db := sqlite.NewDB(filepath.Join(dir, "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := bulut.Services{
		Accounts:   sqlite.NewAccountService(db),
		Apps:       sqlite.NewAppService(db),
		Releases:   sqlite.NewReleaseService(db),
		ConfigVars: sqlite.NewConfigVarService(db),
		Slugs:      sqlite.NewSlugService(db),
		Builds:     sqlite.NewBuildService(db),
		Formations: sqlite.NewFormationService(db),
		Buildpacks: sqlite.NewBuildpackService(db),
	}
	acct, err := svc.Accounts.CreateAccount(context.Background(), "dev@example.com", "password123")
	if err != nil {
		t.Fatal(err)
	}
	ctx := bulut.NewContextWithAccount(context.Background(), acct)
	app, err := svc.Apps.CreateApp(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	blobs := fsblob.New(filepath.Join(dir, "blobs"))
	cfg := builder.Config{
		Services: svc,
		Blobs:    blobs,
		URLs:     bulut.URLs{Scheme: "http", Domain: "localhost", Port: 5000},
		DataDir:  filepath.Join(dir, "data"),
		Env:      buildEnv(),
	}
	for _, f := range configure {
		f(&cfg)
	}
	b := builder.New(cfg)
	t.Cleanup(func() { b.Close() })
	return &env{t: t, dir: dir, svc: svc, blobs: blobs, b: b, ctx: ctx, app: app}
}

// files is an app's tree: path -> contents; a path ending in "*" is an
// executable file (the star is dropped).
type files map[string]string

// source returns a Deploy.Source writing files as a tar, with a .git
// directory as a careless archive would have.
func (fs files) source() func(context.Context, io.Writer) error {
	return func(ctx context.Context, w io.Writer) error {
		tw := tar.NewWriter(w)
		names := make([]string, 0, len(fs))
		for name := range fs {
			names = append(names, name)
		}
		sort.Strings(names)
		all := append([]string{".git/HEAD"}, names...)
		for _, name := range all {
			body, mode := fs[name], int64(0o644)
			if name == ".git/HEAD" {
				body = "ref: refs/heads/main\n"
			}
			if n, ok := strings.CutSuffix(name, "*"); ok {
				name, mode = n, 0o755
			}
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body))}); err != nil {
				return err
			}
			if _, err := io.WriteString(tw, body); err != nil {
				return err
			}
		}
		return tw.Close()
	}
}

// gitSource commits files to a new repository with the real git and
// returns a Source streaming `git archive` of it, and the commit.
func gitSource(t *testing.T, fs files) (func(context.Context, io.Writer) error, string) {
	t.Helper()
	repo := t.TempDir()
	for name, body := range fs {
		mode := os.FileMode(0o644)
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name, mode = n, 0o755
		}
		p := filepath.Join(repo, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %s: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "first")
	commit := git("rev-parse", "HEAD")
	return func(ctx context.Context, w io.Writer) error {
		cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", commit)
		cmd.Dir, cmd.Stdout = repo, w
		return cmd.Run()
	}, commit
}

// deploy runs a build of fs and returns the release, the output and the
// error.
func (e *env) deploy(fs files) (*bulut.Release, string, error) {
	e.t.Helper()
	return e.deploySource(fs.source(), "1234567890abcdef1234567890abcdef12345678")
}

func (e *env) deploySource(src func(context.Context, io.Writer) error, commit string) (*bulut.Release, string, error) {
	e.t.Helper()
	var out bytes.Buffer
	start := time.Now()
	rel, err := e.b.Deploy(e.ctx, bulut.Deploy{App: e.app, Commit: commit, Source: src, CommitDescription: "first"}, &out)
	e.t.Logf("deploy took %v", time.Since(start))
	return rel, out.String(), err
}

func (e *env) mustDeploy(fs files) (*bulut.Release, string) {
	e.t.Helper()
	rel, out, err := e.deploy(fs)
	if err != nil {
		e.t.Fatalf("Deploy: %v\n%s", err, out)
	}
	return rel, out
}

// releases returns how many releases the app has.
func (e *env) releases() int {
	e.t.Helper()
	rels, _, err := e.svc.Releases.FindReleases(e.ctx, e.app.ID, bulut.ListRange{Max: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(rels)
}

// lastBuild returns the app's newest build.
func (e *env) lastBuild() *bulut.Build {
	e.t.Helper()
	builds, _, err := e.svc.Builds.FindBuilds(e.ctx, e.app.ID, bulut.ListRange{Max: 1000})
	if err != nil || len(builds) == 0 {
		e.t.Fatalf("FindBuilds: %v (%d)", err, len(builds))
	}
	slices.SortFunc(builds, func(a, b *bulut.Build) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return builds[len(builds)-1]
}

// unpackSlug extracts a release's slug into a new directory.
func (e *env) unpackSlug(rel *bulut.Release) (string, *bulut.Slug) {
	e.t.Helper()
	slug, err := e.svc.Slugs.FindSlug(e.ctx, e.app.ID, rel.SlugID)
	if err != nil {
		e.t.Fatal(err)
	}
	r, err := e.blobs.OpenBlob(e.ctx, bulut.SlugBlobKey(slug.ID))
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Close()
	data, _ := io.ReadAll(r)
	sum := sha256.Sum256(data)
	if got := "SHA256:" + hex.EncodeToString(sum[:]); got != slug.Checksum || int64(len(data)) != slug.Size {
		e.t.Errorf("slug checksum %s size %d; blob has %s, %d", slug.Checksum, slug.Size, got, len(data))
	}
	dir := e.t.TempDir()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.Command("tar", "-x", "-C", dir)
	cmd.Stdin = zr
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("tar: %v %s", err, out)
	}
	return dir, slug
}

// runAtApp runs a command in a sandbox with dir at /app, after the
// .profile.d scripts, as a dyno would.
func runAtApp(t *testing.T, dir, command string) string {
	t.Helper()
	script := "for f in /app/.profile.d/*.sh; do [ -f \"$f\" ] && . \"$f\"; done\n" + command
	var out bytes.Buffer
	err := sandbox.Run(context.Background(), sandbox.Spec{
		AppDir: dir, TmpDir: t.TempDir(), Env: append(buildEnv(), "PORT=5000", "HOME=/app"), Args: []string{"bash", "-c", script},
	}, &out, &out)
	if err != nil {
		t.Fatalf("run %q: %v\n%s", command, err, out.String())
	}
	return out.String()
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	rest := out
	for _, l := range lines {
		i := strings.Index(rest, l)
		if i < 0 {
			t.Errorf("output lacks %q (in order):\n%s", l, out)
			return
		}
		rest = rest[i+len(l):]
	}
}

func TestDeploy_ProcfileOnly(t *testing.T) {
	e := newEnv(t)
	app := files{
		"Procfile":    "web: ./bin/web # the web process\nworker: sleep 1000\n",
		"bin/web*":    "#!/bin/sh\necho \"web at $(pwd) from $0\"\n",
		".slugignore": "*.psd\n/docs\n",
		"design.psd":  "big",
		"docs/a.md":   "doc",
		"README.md":   "hi",
	}
	rel, out := e.mustDeploy(app)
	wantLines(t, out,
		"-----> Building on the heroku-24 stack\n",
		"-----> Determining which buildpack to use for this app\n",
		"-----> Procfile app detected\n",
		"-----> Discovering process types\n",
		"       Procfile declares types -> web, worker\n",
		"-----> Compressing...\n",
		"       Done: ",
		"-----> Launching...\n",
		"       Released v2\n",
		"       http://"+e.app.Name+".localhost:5000/ deployed to bulut\n",
	)
	if rel.Version != 2 || rel.Description != "Deploy 12345678" || !rel.Current {
		t.Errorf("release v%d %q current=%v", rel.Version, rel.Description, rel.Current)
	}
	dir, slug := e.unpackSlug(rel)
	if slug.ProcessTypes["web"] != "./bin/web" || slug.ProcessTypes["worker"] != "sleep 1000" || len(slug.ProcessTypes) != 2 {
		t.Errorf("process types %q", slug.ProcessTypes)
	}
	if slug.Commit != "1234567890abcdef1234567890abcdef12345678" || slug.BuildpackDescription != "Procfile" || slug.Stack != "heroku-24" {
		t.Errorf("slug %+v", slug)
	}
	for _, gone := range []string{".git", "design.psd", "docs"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s is in the slug", gone)
		}
	}
	if got := runAtApp(t, dir, slug.ProcessTypes["web"]); got != "web at /app from ./bin/web\n" {
		t.Errorf("web command printed %q", got)
	}
	b := e.lastBuild()
	if b.Status != bulut.BuildSucceeded || b.SlugID != slug.ID || b.ReleaseID != rel.ID || !slices.Equal(b.Buildpacks, []string{"heroku/procfile"}) {
		t.Errorf("build %+v", b)
	}
	if b.UserEmail != "dev@example.com" || b.SourceVersion != slug.Commit {
		t.Errorf("build by %q of %q", b.UserEmail, b.SourceVersion)
	}
	// The log replays the output.
	r, err := e.b.OpenBuildOutput(e.ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	logged, _ := io.ReadAll(r)
	r.Close()
	if string(logged) != out {
		t.Errorf("build log:\n%s\nwant:\n%s", logged, out)
	}
	if _, err := e.b.OpenBuildOutput(e.ctx, bulut.NewID()); bulut.ErrorCode(err) != bulut.ENOTFOUND {
		t.Errorf("OpenBuildOutput of an unknown build: %v", err)
	}
	if _, err := e.b.OpenBuildOutput(e.ctx, "../../etc/passwd"); bulut.ErrorCode(err) != bulut.ENOTFOUND {
		t.Errorf("OpenBuildOutput of a path: %v", err)
	}
	// The formation got the slug's types, web at 1.
	form, err := e.svc.Formations.FindFormation(e.ctx, e.app.ID)
	if err != nil || len(form) != 2 || form[0].Type != "web" || form[0].Quantity != 1 {
		t.Errorf("formation %v %v", form, err)
	}

	// A second push, from a git archive, takes well under a second.
	src, commit := gitSource(t, app)
	start := time.Now()
	rel, out, err = e.deploySource(src, commit)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("Procfile-only build: %v", took)
	if rel.Version != 3 || rel.Description != "Deploy "+commit[:8] {
		t.Errorf("release v%d %q", rel.Version, rel.Description)
	}
	if took > 500*time.Millisecond {
		t.Errorf("Procfile-only build took %v", took)
	}
	e.b.Close()
	if ents, _ := os.ReadDir(filepath.Join(e.dir, "data", "builds")); len(ents) != 0 {
		t.Errorf("%d build dirs left", len(ents))
	}
}

func TestDeploy_MalformedProcfile(t *testing.T) {
	e := newEnv(t)
	_, out, err := e.deploy(files{"Procfile": "web: ./serve\n\nworker python worker.py\n"})
	if err == nil || bulut.ErrorCode(err) != bulut.EINVALID {
		t.Fatalf("Deploy = %v", err)
	}
	wantLines(t, out,
		"-----> Procfile app detected\n",
		"-----> Discovering process types\n",
		` !     Procfile line 3: expected "type: command", got "worker python worker.py"`+"\n",
		" !     Push rejected, failed to compile Procfile app.\n",
	)
	if strings.Contains(out, "Released") {
		t.Errorf("released:\n%s", out)
	}
	if n := e.releases(); n != 1 {
		t.Errorf("%d releases, want 1", n)
	}
	if b := e.lastBuild(); b.Status != bulut.BuildFailed || b.SlugID != "" || b.ReleaseID != "" {
		t.Errorf("build %+v", b)
	}
}

func TestDeploy_NoBuildpackDetected(t *testing.T) {
	e := newEnv(t)
	_, out, err := e.deploy(files{"README.md": "nothing to run"})
	if err == nil {
		t.Fatal("Deploy succeeded")
	}
	wantLines(t, out,
		"-----> Determining which buildpack to use for this app\n",
		" !     No default language could be detected for this app.\n",
		"\t\t\tHINT:",
		" !     Push failed\n",
	)
	if e.releases() != 1 || e.lastBuild().Status != bulut.BuildFailed {
		t.Error("a release was made or the build is not failed")
	}
}

// writeBuildpack writes a buildpack whose scripts are given (bash bodies).
func writeBuildpack(t *testing.T, dir string, scripts map[string]string) string {
	t.Helper()
	for name, body := range scripts {
		p := filepath.Join(dir, "bin", name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("#!/usr/bin/env bash\nset -e\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDeploy_CustomBuildpacks(t *testing.T) {
	e := newEnv(t)
	first := writeBuildpack(t, filepath.Join(t.TempDir(), "first"), map[string]string{
		"detect": `echo First`,
		"compile": `BP_DIR=$(cd "$(dirname "$0")/.." && pwd)
echo "       build=$1 cache=$2 env=$3 pwd=$PWD"
echo "       STACK=$STACK SOURCE_VERSION=$SOURCE_VERSION"
echo "       GREETING=$(cat "$3/GREETING") exported=${GREETING:-no}"
echo "export FROM_FIRST='hello from first'" > "$BP_DIR/export"
if [ -f "$2/seen" ]; then echo "       cache hit"; else echo "       cache miss"; fi
date > "$2/seen"
echo written-by-first > "$1/first.txt"
touch /usr/bulut-test 2>/dev/null && echo "       USR WRITABLE" || true
`,
	})
	second := writeBuildpack(t, filepath.Join(t.TempDir(), "second"), map[string]string{
		"detect":  `[ -f "$1/first.txt" ] || [ -f "$1/app.txt" ]; echo Second`,
		"compile": `echo "       FROM_FIRST=$FROM_FIRST"; echo "$FROM_FIRST" > "$1/second.txt"`,
		"release": "cat <<'EOF'\n---\ndefault_process_types:\n  web: cat second.txt\n  worker: cat first.txt\nEOF\n",
	})
	if err := e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{first, second}); err != nil {
		t.Fatal(err)
	}
	greeting := "hi\nthere"
	if _, _, err := e.svc.ConfigVars.UpdateConfigVars(e.ctx, e.app.ID, map[string]*string{"GREETING": &greeting}); err != nil {
		t.Fatal(err)
	}
	app := files{"app.txt": "x", "Procfile": "worker: echo from the Procfile\n"}
	rel, out := e.mustDeploy(app)
	wantLines(t, out,
		"-----> Using buildpacks:\n",
		"       1. "+first+"\n",
		"       2. "+second+"\n",
		"-----> First app detected\n",
		"       build=/app cache=/tmp/cache env=/tmp/env pwd=/app\n",
		"       STACK=heroku-24 SOURCE_VERSION=1234567890abcdef1234567890abcdef12345678\n",
		"       GREETING=hi\nthere exported=no\n",
		"       cache miss\n",
		"-----> Second app detected\n",
		"       FROM_FIRST=hello from first\n",
		"       Procfile declares types -> worker\n",
		"       Default types for buildpack -> web, worker\n",
		"       Released v3\n",
	)
	if strings.Contains(out, "USR WRITABLE") {
		t.Error("the host's /usr was writable during compile")
	}
	dir, slug := e.unpackSlug(rel)
	if slug.ProcessTypes["web"] != "cat second.txt" || slug.ProcessTypes["worker"] != "echo from the Procfile" {
		t.Errorf("process types %q", slug.ProcessTypes)
	}
	if slug.BuildpackDescription != "First, Second" {
		t.Errorf("buildpack description %q", slug.BuildpackDescription)
	}
	if got := runAtApp(t, dir, slug.ProcessTypes["web"]); got != "hello from first\n" {
		t.Errorf("web printed %q", got)
	}
	if b := e.lastBuild(); !slices.Equal(b.Buildpacks, []string{first, second}) {
		t.Errorf("build buildpacks %q", b.Buildpacks)
	}
	// The buildpacks' own directories were not written to.
	if _, err := os.Stat(filepath.Join(first, "export")); err == nil {
		t.Error("export written into the buildpack's source directory")
	}

	// The second build finds the cache.
	_, out = e.mustDeploy(app)
	wantLines(t, out, "       cache hit\n", "       Released v4\n")

	// A purged cache is empty again.
	if err := e.b.PurgeBuildCache(context.Background(), e.app.ID); err != nil {
		t.Fatal(err)
	}
	_, out = e.mustDeploy(app)
	wantLines(t, out, "       cache miss\n", "       Released v5\n")
}

func TestDeploy_GitBuildpack(t *testing.T) {
	e := newEnv(t)
	repo := writeBuildpack(t, t.TempDir(), map[string]string{
		"detect":  `echo Gitpack`,
		"compile": `echo "       compiled by the git buildpack $(cat "$(dirname "$0")/../VERSION")"`,
		"release": `echo "--- {}"`,
	})
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v %s", args, err, out)
		}
	}
	os.WriteFile(filepath.Join(repo, "VERSION"), []byte("v1"), 0o644)
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1")
	os.WriteFile(filepath.Join(repo, "VERSION"), []byte("v2"), 0o644)
	git("commit", "-q", "-am", "v2")

	url := "file://" + repo
	for _, tc := range []struct{ url, want string }{{url, "v2"}, {url + "#v1", "v1"}} {
		if err := e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{tc.url}); err != nil {
			t.Fatal(err)
		}
		_, out := e.mustDeploy(files{"Procfile": "web: true\n"})
		wantLines(t, out, "-----> Using buildpack: "+tc.url+"\n", "-----> Gitpack app detected\n",
			"       compiled by the git buildpack "+tc.want+"\n", "Released")
	}

	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{"file:///nonexistent/repo"})
	_, out, err := e.deploy(files{"Procfile": "web: true\n"})
	if err == nil {
		t.Fatal("a missing git buildpack worked")
	}
	wantLines(t, out, " !     Failed to fetch the buildpack file:///nonexistent/repo:\n", " !     Push failed\n")

	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{"heroku/ruby"})
	_, out, err = e.deploy(files{"Procfile": "web: true\n"})
	if err == nil {
		t.Fatal("heroku/ruby worked")
	}
	wantLines(t, out, " !     Buildpack heroku/ruby is not available here.\n")

	// A set buildpack whose detect fails.
	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{"heroku/nodejs"})
	_, out, err = e.deploy(files{"Procfile": "web: true\n"})
	if err == nil {
		t.Fatal("heroku/nodejs built an app without package.json")
	}
	wantLines(t, out, "-----> Using buildpack: heroku/nodejs\n", "-----> App not compatible with buildpack: heroku/nodejs\n",
		" !     Push failed\n")
}

func TestDeploy_CompileFails(t *testing.T) {
	e := newEnv(t)
	bp := writeBuildpack(t, t.TempDir(), map[string]string{
		"detect":  `echo Failing`,
		"compile": `echo "-----> Doing things"; echo " !     Something broke" >&2; exit 3`,
	})
	e.mustDeploy(files{"Procfile": "web: true\n"}) // v2
	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{bp})
	before := e.releases()
	_, out, err := e.deploy(files{"Procfile": "web: true\n"})
	if err == nil {
		t.Fatal("Deploy succeeded")
	}
	wantLines(t, out, "-----> Failing app detected\n", "-----> Doing things\n", " !     Something broke\n",
		" !     Push rejected, failed to compile Failing app.\n")
	if strings.Contains(out, "Released") || strings.Contains(out, "Compressing") {
		t.Errorf("went on after the failure:\n%s", out)
	}
	if n := e.releases(); n != before {
		t.Errorf("%d releases, had %d", n, before)
	}
	cur, err := e.svc.Releases.FindRelease(e.ctx, e.app.ID, "v2")
	if err != nil || !cur.Current {
		t.Errorf("v2 is no longer current: %+v %v", cur, err)
	}
	if b := e.lastBuild(); b.Status != bulut.BuildFailed {
		t.Errorf("build %s", b.Status)
	}
}

func TestDeploy_Timeout(t *testing.T) {
	e := newEnv(t, func(c *builder.Config) { c.CompileTimeout = 300 * time.Millisecond })
	bp := writeBuildpack(t, t.TempDir(), map[string]string{
		"detect":  `echo Slow`,
		"compile": `echo "-----> Sleeping"; sleep 30 & sleep 31; wait`,
	})
	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{bp})
	start := time.Now()
	_, out, err := e.deploy(files{"Procfile": "web: true\n"})
	if err == nil {
		t.Fatal("Deploy succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	wantLines(t, out, "-----> Sleeping\n", " !     Timed out compiling Slow app (300ms)\n", " !     Push rejected, failed to compile Slow app.\n")
}

func TestDeploy_SlugTooLarge(t *testing.T) {
	e := newEnv(t, func(c *builder.Config) { c.MaxSlugSize = 2000 })
	random := make([]byte, 8000)
	for i := range random {
		random[i] = byte(i*7919%251) ^ byte(i>>3)
	}
	_, out, err := e.deploy(files{"Procfile": "web: true\n", "data.bin": string(random)})
	if err == nil {
		t.Fatal("Deploy succeeded")
	}
	wantLines(t, out, "-----> Compressing...\n", " !     Compiled slug size: ", "K is too large (max is 2.0K).\n", " !     Push failed\n")
	if e.releases() != 1 {
		t.Error("released")
	}
}

func TestDeploy_Canceled(t *testing.T) {
	e := newEnv(t)
	bp := writeBuildpack(t, t.TempDir(), map[string]string{
		"detect":  `echo Slow`,
		"compile": `echo started; sleep 30`,
	})
	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{bp})
	ctx, cancel := context.WithCancel(e.ctx)
	pr, pw := io.Pipe()
	go func() {
		buf := make([]byte, 4096)
		var seen string
		for !strings.Contains(seen, "started") {
			n, err := pr.Read(buf)
			if err != nil {
				return
			}
			seen += string(buf[:n])
		}
		cancel()
		io.Copy(io.Discard, pr)
	}()
	start := time.Now()
	_, err := e.b.Deploy(ctx, bulut.Deploy{App: e.app, Commit: "abc", Source: files{"Procfile": "web: true"}.source()}, pw)
	pw.Close()
	if err == nil {
		t.Fatal("Deploy succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if b := e.lastBuild(); b.Status != bulut.BuildFailed {
		t.Errorf("build %s", b.Status)
	}
}

// gatedBuild starts a build whose compile prints "before the gate", then
// waits for openGate (and runs after, if given), and returns once the
// build waits: its result comes on done.
func (e *env) gatedBuild(after string) (done chan string, out *syncBuffer) {
	e.t.Helper()
	compile := `echo "       before the gate"; while [ ! -f /tmp/gate/open ]; do sleep 0.01; done`
	if after != "" {
		compile += "; " + after
	}
	bp := writeBuildpack(e.t, e.t.TempDir(), map[string]string{"detect": `echo Gated`, "compile": compile})
	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{bp})
	done, out = make(chan string), &syncBuffer{}
	go func() {
		_, err := e.b.Deploy(e.ctx, bulut.Deploy{App: e.app, Commit: "abcdef0123", Source: files{"Procfile": "web: true"}.source()}, out)
		done <- fmt.Sprint(err)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "before the gate") {
		if time.Now().After(deadline) {
			e.t.Fatalf("no output: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return done, out
}

// openGate lets a gated build go on: its private /tmp is the build's
// scratch tmp dir.
func (e *env) openGate(buildID string) {
	e.t.Helper()
	tmp := filepath.Join(e.dir, "data", "builds", buildID, "root", "tmp")
	if err := os.MkdirAll(filepath.Join(tmp, "gate"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tmp, "gate", "open"), nil, 0o644)
}

func TestOpenBuildOutput_Follow(t *testing.T) {
	e := newEnv(t)
	done, out := e.gatedBuild(`echo "       after the gate"`)
	b := e.lastBuild()
	r, err := e.b.OpenBuildOutput(e.ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 64<<10)
	var got string
	for !strings.Contains(got, "before the gate") {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += string(buf[:n])
	}
	e.openGate(b.ID)
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	got += string(rest)
	if err := <-done; err != "<nil>" {
		t.Fatal(err)
	}
	if got != out.String() {
		t.Errorf("followed:\n%s\nwant:\n%s", got, out.String())
	}
	wantLines(t, got, "after the gate", "Released v2")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestDeploy_Nodejs(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed")
	}
	t.Parallel()
	e := newEnv(t)
	lock := `{
  "name": "hello",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "hello",
      "version": "1.0.0"
    }
  }
}
`
	app := files{
		"package.json":      `{"name": "hello", "version": "1.0.0", "scripts": {"start": "node index.js", "heroku-postbuild": "node build.js"}}`,
		"package-lock.json": lock,
		"build.js":          `require("fs").writeFileSync("built.txt", "built at " + process.cwd() + "\n")`,
		"index.js":          `console.log("node says " + require("fs").readFileSync("built.txt", "utf8").trim())`,
	}
	rel, out := e.mustDeploy(app)
	wantLines(t, out,
		"-----> Node.js app detected\n",
		"-----> Installing binaries\n",
		"-----> Installing dependencies\n",
		"       Installing node modules (package-lock.json)\n",
		"-----> Running heroku-postbuild\n",
		"-----> Build succeeded!\n",
		"       Procfile declares types -> (none)\n",
		"       Default types for buildpack -> web\n",
		"       Released v2\n",
	)
	dir, slug := e.unpackSlug(rel)
	if slug.ProcessTypes["web"] != "npm start" {
		t.Errorf("process types %q", slug.ProcessTypes)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "built.txt")); string(b) != "built at /app\n" {
		t.Errorf("built.txt = %q", b)
	}
	got := runAtApp(t, dir, "npm_config_cache=/tmp/npm npm_config_update_notifier=false npm start --silent")
	if got != "node says built at /app\n" {
		t.Errorf("npm start printed %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".profile.d", "nodejs.sh")); err != nil {
		t.Error(err)
	}
}

func TestDeploy_Go(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not installed")
	}
	t.Parallel()
	e := newEnv(t)
	app := files{
		"go.mod":   "module example.com/hello\n\ngo 1.22\n",
		"main.go":  "package main\n\nimport \"os\"\n\nfunc main() { wd, _ := os.Getwd(); os.Stdout.WriteString(\"go says hi from \" + wd + \"\\n\") }\n",
		"Procfile": "web: hello\n",
	}
	rel, out := e.mustDeploy(app)
	wantLines(t, out,
		"-----> Go app detected\n",
		"       Detected Go module: example.com/hello\n",
		"-----> Running: go build -tags heroku -o bin/ ./...\n",
		"-----> Installed the following binaries:\n",
		"       ./bin/hello\n",
		"       Procfile declares types -> web\n",
		"       Released v2\n",
	)
	dir, slug := e.unpackSlug(rel)
	if got := runAtApp(t, dir, slug.ProcessTypes["web"]); got != "go says hi from /app\n" {
		t.Errorf("web printed %q", got)
	}
	// The second build reuses the build cache.
	e.mustDeploy(app)
}

// TestDeploy_Flask builds the Heroku tutorial-shaped Flask app twice (cold,
// then with a warm cache) and serves / from the slug at /app.
func TestDeploy_Flask(t *testing.T) {
	wh := testwheels.Dir(t)
	e := newEnv(t, func(c *builder.Config) { c.Env = append(c.Env, "PIP_FIND_LINKS="+wh, "PIP_NO_INDEX=1") })
	app := files{
		"Pipfile":     "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n[packages]\nflask = \"*\"\ngunicorn = \"*\"\n\n[requires]\npython_version = \"3.9\"\n",
		"runtime.txt": "python-3.9.0\n",
		"Procfile":    "web: gunicorn app:app\n",
		"app.py":      "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef hello():\n    return 'Hello from Flask at ' + __file__\n",
	}
	start := time.Now()
	rel, out := e.mustDeploy(app)
	cold := time.Since(start)
	wantLines(t, out, "-----> Python app detected\n", "       Procfile declares types -> web\n", "       Released v2\n")
	start = time.Now()
	rel, out = e.mustDeploy(app)
	warm := time.Since(start)
	t.Logf("Flask app: cold build %v, warm build %v", cold, warm)
	wantLines(t, out, "       Released v3\n")

	dir, slug := e.unpackSlug(rel)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log syncBuffer
	c := sandbox.Command(ctx, sandbox.Spec{
		AppDir: dir, TmpDir: t.TempDir(), Env: append(buildEnv(), fmt.Sprintf("PORT=%d", port), "HOME=/app"),
		Args: []string{"bash", "-c", "for f in /app/.profile.d/*.sh; do . \"$f\"; done; exec " + slug.ProcessTypes["web"]},
	})
	c.Stdout, c.Stderr = &log, &log
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	defer cancel()
	body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port), &log)
	if body != "Hello from Flask at /app/app.py" {
		t.Errorf("GET / = %q", body)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func httpGet(t *testing.T, url string, log *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v\n%s", url, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
