// Package builder turns a pushed commit into a slug and a release through
// the classic buildpack API: the commit's tree is unpacked into a build
// dir, `.slugignore` applied, buildpacks detected (or taken from the app's
// list) and run (bin/detect, bin/compile BUILD CACHE ENV, bin/release)
// inside a sandbox where the build dir is /app, the process types read
// from the Procfile and the buildpack's defaults, and the tree compressed
// into a slug that a new release runs.
package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/buildpacks"
	"github.com/bulut-bulut/bulut/internal/promtext"
	"github.com/bulut-bulut/bulut/internal/sandbox"
)

// Defaults of Config's limits.
const (
	DefaultCompileTimeout = 15 * time.Minute
	DefaultMaxSlugSize    = 500 << 20
	softSlugSize          = 300 << 20
)

// Paths of a build as buildpacks see them (inside the sandbox).
const (
	buildDirInside = "/app"
	cacheDirInside = "/tmp/cache"
	envDirInside   = "/tmp/env"
	bpDirInside    = "/tmp/buildpacks"
)

// Config configures a Builder.
type Config struct {
	Services bulut.Services // Slugs, Releases, Builds, ConfigVars and Buildpacks are used
	Blobs    bulut.BlobStore
	URLs     bulut.URLs
	// DataDir holds builds' scratch dirs, the apps' build caches, build
	// logs and extracted or fetched buildpacks.
	DataDir string
	// Env is the environment buildpacks run with (PATH, HOME, LANG, pip,
	// Go and npm settings of the server); STACK and SOURCE_VERSION are
	// added.
	Env            []string
	CompileTimeout time.Duration // default 15 minutes, for all buildpacks together
	MaxSlugSize    int64         // default 500 MB (compressed)
	Logger         *slog.Logger
}

// Builder builds and releases pushed commits. It implements
// bulut.Deployer and bulut.BuildOutput.
type Builder struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	appLocks map[string]*sync.Mutex
	running  map[string]*buildLog

	fetchMu sync.Mutex // fetching custom buildpacks
	bg      sync.WaitGroup
	stats   stats
}

var (
	_ bulut.Deployer    = (*Builder)(nil)
	_ bulut.BuildOutput = (*Builder)(nil)
)

// New returns a Builder.
func New(cfg Config) *Builder {
	if cfg.CompileTimeout <= 0 {
		cfg.CompileTimeout = DefaultCompileTimeout
	}
	if cfg.MaxSlugSize <= 0 {
		cfg.MaxSlugSize = DefaultMaxSlugSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Builder{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "builder"),
		appLocks: map[string]*sync.Mutex{},
		running:  map[string]*buildLog{},
		stats:    stats{durations: promtext.NewHistogram(durationBuckets...)},
	}
	if sandbox.Mode() == sandbox.ModeNone {
		b.log.Warn("builds run without a sandbox (no mount or user namespaces here): buildpacks see the build dir at its own path, not /app, and may write anywhere")
	}
	return b
}

// Close waits for the clean-up of finished builds.
func (b *Builder) Close() error {
	b.bg.Wait()
	return nil
}

func (b *Builder) lockApp(appID string) func() {
	b.mu.Lock()
	l := b.appLocks[appID]
	if l == nil {
		l = &sync.Mutex{}
		b.appLocks[appID] = l
	}
	b.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (b *Builder) logPath(buildID string) string {
	return filepath.Join(b.cfg.DataDir, "build-logs", buildID+".log")
}

// CacheDir is an app's build cache directory.
func (b *Builder) CacheDir(appID string) string {
	return filepath.Join(b.cfg.DataDir, "caches", appID)
}

var (
	_ bulut.Deployer    = (*Builder)(nil)
	_ bulut.BuildOutput = (*Builder)(nil)
	_ bulut.BuildCache  = (*Builder)(nil)
)

// PurgeBuildCache implements bulut.BuildCache.
func (b *Builder) PurgeBuildCache(ctx context.Context, appID string) error {
	if !bulut.IsID(appID) {
		return bulut.NotFound("app")
	}
	unlock := b.lockApp(appID)
	defer unlock()
	return removeAll(b.CacheDir(appID))
}

// OpenBuildOutput implements bulut.BuildOutput.
func (b *Builder) OpenBuildOutput(ctx context.Context, buildID string) (io.ReadCloser, error) {
	if !bulut.IsID(buildID) {
		return nil, bulut.NotFound("build")
	}
	buildID = strings.ToLower(buildID)
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := os.Open(b.logPath(buildID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, bulut.NotFound("build")
	} else if err != nil {
		return nil, err
	}
	if l := b.running[buildID]; l != nil {
		return &follower{ctx: ctx, log: l, f: f, closed: make(chan struct{})}, nil
	}
	return f, nil
}

func (b *Builder) startLog(buildID string) (*buildLog, error) {
	if err := os.MkdirAll(filepath.Join(b.cfg.DataDir, "build-logs"), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(b.logPath(buildID), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	l := &buildLog{f: f, notify: make(chan struct{})}
	b.mu.Lock()
	b.running[buildID] = l
	b.mu.Unlock()
	return l, nil
}

func (b *Builder) endLog(buildID string, l *buildLog) {
	b.mu.Lock()
	delete(b.running, buildID)
	b.mu.Unlock()
	l.finish()
}

// tmpBinds makes directories of the host's /tmp that the server's
// environment points buildpacks at (PIP_FIND_LINKS) visible, read-only, in
// the sandbox's private /tmp.
func (b *Builder) tmpBinds() []sandbox.Bind {
	var binds []sandbox.Bind
	for _, kv := range b.cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		if k != "PIP_FIND_LINKS" {
			continue
		}
		for _, p := range strings.Fields(v) {
			p = strings.TrimPrefix(p, "file://")
			if c := filepath.Clean(p); strings.HasPrefix(c, "/tmp/") && !strings.HasPrefix(c, filepath.Clean(b.cfg.DataDir)+"/") {
				if fi, err := os.Stat(c); err == nil && fi.IsDir() {
					binds = append(binds, sandbox.Bind{Source: c, Target: c, ReadOnly: true})
				}
			}
		}
	}
	return binds
}

// hostEnv is the environment for commands the builder runs itself.
func (b *Builder) hostEnv() []string {
	env := slices.Clone(b.cfg.Env)
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "PATH=") }) {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	return env
}

// Deploy implements bulut.Deployer: it records a build, runs it with its
// output going to out and the build's log, and on success stores the slug
// and creates a release "Deploy <sha8>". A failed build creates no release
// and returns an error.
func (b *Builder) Deploy(ctx context.Context, d bulut.Deploy, out io.Writer) (*bulut.Release, error) {
	if d.App == nil || d.Source == nil {
		return nil, errors.New("builder: deploy without an app or a source")
	}
	start := time.Now()
	unlock := b.lockApp(d.App.ID)
	defer unlock()

	rec := &bulut.Build{SourceVersion: d.Commit}
	if err := b.cfg.Services.Builds.CreateBuild(ctx, d.App.ID, rec); err != nil {
		return nil, fmt.Errorf("builder: create build: %w", err)
	}
	log := b.log.With("app", d.App.Name, "build", rec.ID)
	began, succeeded := b.stats.started(), false
	defer func() { b.stats.finished(began, succeeded) }()
	bl, err := b.startLog(rec.ID)
	if err != nil {
		b.setFailed(ctx, log, rec.ID)
		return nil, fmt.Errorf("builder: %w", err)
	}
	r := &run{b: b, ctx: ctx, d: d, rec: rec, log: log, out: &output{out: out, log: bl}}
	log.Info("build started", "commit", d.Commit)
	rel, err := r.run()
	if err != nil {
		var ue *userError
		if errors.As(err, &ue) {
			for _, line := range ue.lines {
				r.out.warn("%s", line)
			}
			for _, line := range ue.hint {
				fmt.Fprintln(r.out, line)
			}
			log.Info("build failed", "reason", ue.Error(), "took", time.Since(start))
		} else if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			log.Info("build canceled", "err", err, "took", time.Since(start))
			r.out.warn("The build was canceled.")
		} else {
			log.Error("build failed", "err", err, "took", time.Since(start))
			r.out.warn("Internal error while building (the server's log has the details).")
		}
		if r.lang != "" {
			r.out.warn("Push rejected, failed to compile %s app.", r.lang)
		} else {
			r.out.warn("Push failed")
		}
		b.setFailed(ctx, log, rec.ID)
		b.endLog(rec.ID, bl)
		if ue != nil {
			return nil, &bulut.Error{Code: bulut.EINVALID, Resource: "build", Message: "The build failed: " + ue.Error()}
		}
		return nil, fmt.Errorf("builder: build %s: %w", rec.ID, err)
	}
	status := bulut.BuildSucceeded
	if _, err := b.cfg.Services.Builds.UpdateBuild(context.WithoutCancel(ctx), rec.ID, bulut.BuildUpdate{
		Status: &status, SlugID: &rel.SlugID, ReleaseID: &rel.ID,
	}); err != nil {
		log.Error("record build", "err", err)
	}
	b.endLog(rec.ID, bl)
	succeeded = true
	log.Info("build succeeded", "release", rel.Version, "took", time.Since(start))
	return rel, nil
}

func (b *Builder) setFailed(ctx context.Context, log *slog.Logger, id string) {
	failed := bulut.BuildFailed
	if _, err := b.cfg.Services.Builds.UpdateBuild(context.WithoutCancel(ctx), id, bulut.BuildUpdate{Status: &failed}); err != nil {
		log.Error("record build", "err", err)
	}
}

// run is one build.
type run struct {
	b   *Builder
	ctx context.Context
	d   bulut.Deploy
	rec *bulut.Build
	log *slog.Logger
	out *output

	scratch, appDir, tmpDir, cacheDir string
	cacheBound                        bool // the cache is bound at /tmp/cache, not moved there
	env                               []string
	bps                               []*buildpack
	lang                              string // the buildpack at work, for "failed to compile X app"
	last                              time.Time
}

// phase logs (at debug level) how long the phase that just ended took.
func (r *run) phase(name string) {
	now := time.Now()
	if !r.last.IsZero() {
		r.log.Debug("build phase", "phase", name, "took", now.Sub(r.last))
	}
	r.last = now
}

func (r *run) run() (*bulut.Release, error) {
	b, app := r.b, r.d.App
	stack := app.Stack
	if stack == "" {
		stack = bulut.DefaultStack
	}
	r.phase("")
	r.out.step("Building on the %s stack", stack)
	r.env = append(r.b.hostEnv(), "STACK="+stack, "SOURCE_VERSION="+r.d.Commit)

	r.scratch = filepath.Join(b.cfg.DataDir, "builds", r.rec.ID)
	r.appDir = filepath.Join(r.scratch, "root", "app")
	r.tmpDir = filepath.Join(r.scratch, "root", "tmp")
	r.cacheDir = b.CacheDir(app.ID)
	for _, dir := range []string{r.appDir, filepath.Join(r.tmpDir, "env"), filepath.Join(r.tmpDir, "buildpacks"), r.cacheDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	defer func() {
		b.bg.Add(1)
		go func() {
			defer b.bg.Done()
			if err := removeAll(r.scratch); err != nil {
				r.log.Warn("remove build dir", "err", err)
			}
		}()
	}()

	if err := r.unpackSource(); err != nil {
		return nil, err
	}
	r.phase("unpack")
	if err := removeAll(filepath.Join(r.appDir, ".git")); err != nil {
		return nil, err
	}
	if _, err := applySlugignore(r.appDir); err != nil {
		return nil, fmt.Errorf("apply .slugignore: %w", err)
	}
	r.phase("slugignore")
	if err := r.chooseBuildpacks(); err != nil {
		return nil, err
	}
	r.phase("buildpacks")
	if err := r.writeEnvDir(); err != nil {
		return nil, err
	}
	restoreCache := r.borrowCache()
	defaults, err := r.compile()
	restoreCache()
	if err != nil {
		return nil, err
	}
	r.phase("compile")
	types, err := r.processTypes(defaults)
	if err != nil {
		return nil, err
	}
	r.lang = "" // from here on a failure is not the app's compile
	slug, err := r.makeSlug(stack, types)
	if err != nil {
		return nil, err
	}
	r.phase("slug")
	r.out.step("Launching...")
	commit := r.d.Commit
	if len(commit) > 8 {
		commit = commit[:8]
	}
	rel, err := b.cfg.Services.Releases.CreateRelease(r.ctx, app.ID, slug.ID, "Deploy "+commit)
	if err != nil {
		return nil, fmt.Errorf("create release: %w", err)
	}
	r.phase("release")
	r.out.info("Released v%d", rel.Version)
	r.out.info("%s deployed to bulut", b.cfg.URLs.WebURL(app.Name))
	return rel, nil
}

// unpackSource writes the commit's tree into the build dir.
func (r *run) unpackSource() error {
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := r.d.Source(r.ctx, pw)
		pw.CloseWithError(err)
		errc <- err
	}()
	err := unpack(pr, r.appDir)
	if err == nil {
		_, err = io.Copy(io.Discard, pr) // padding after the archive's end
	}
	pr.CloseWithError(errors.Join(err, io.ErrClosedPipe))
	if srcErr := <-errc; srcErr != nil && err == nil {
		err = srcErr
	}
	if err != nil {
		return fmt.Errorf("unpack source: %w", err)
	}
	return nil
}

// chooseBuildpacks takes the app's buildpacks, or detects one among the
// built-ins, and gives the build its own copy of each.
func (r *run) chooseBuildpacks() error {
	b := r.b
	urls, err := b.cfg.Services.Buildpacks.FindBuildpacks(r.ctx, r.d.App.ID)
	if err != nil {
		return fmt.Errorf("find buildpacks: %w", err)
	}
	if len(urls) == 0 {
		r.out.step("Determining which buildpack to use for this app")
		builtinRoot := filepath.Join(b.cfg.DataDir, "buildpacks", "builtin")
		// Built-in detect scripts only look at files: they run directly,
		// on the build dir's host path, all at once; the first in order
		// that says yes wins.
		builtins := buildpacks.Builtin()
		dirs := make([]string, len(builtins))
		for i, bp := range builtins {
			if dirs[i], err = buildpacks.Extract(bp.Name, builtinRoot); err != nil {
				return err
			}
		}
		ctx, cancel := context.WithCancel(r.ctx)
		results := make([]chan string, len(builtins))
		for i := range builtins {
			results[i] = make(chan string, 1)
			go func() { results[i] <- r.detectHost(ctx, dirs[i]) }()
		}
		for i, bp := range builtins {
			if name := <-results[i]; name != "" {
				r.bps = []*buildpack{{url: bp.Name, builtin: true, source: dirs[i], name: name}}
				r.out.step("%s app detected", name)
				break
			}
		}
		cancel()
		if len(r.bps) == 0 {
			return &userError{
				lines: []string{"No default language could be detected for this app."},
				hint: []string{
					"\t\t\tHINT: This occurs when bulut cannot detect the buildpack to use for this application automatically.",
					"\t\t\tAdd a Procfile, or set a buildpack with `bulut buildpacks:set`.",
				},
			}
		}
	} else {
		if len(urls) == 1 {
			r.out.step("Using buildpack: %s", urls[0])
		} else {
			r.out.step("Using buildpacks:")
			for i, u := range urls {
				r.out.info("%d. %s", i+1, u)
			}
		}
		for _, u := range urls {
			dir, builtin, err := b.resolveBuildpack(r.ctx, u)
			if err != nil {
				return err
			}
			r.bps = append(r.bps, &buildpack{url: u, builtin: builtin, source: dir})
		}
	}
	var names []string
	for i, bp := range r.bps {
		base := fmt.Sprintf("%d-%s", i, sanitize(filepath.Base(bp.source)))
		bp.dir = filepath.Join(r.tmpDir, "buildpacks", base)
		bp.inside = bpDirInside + "/" + base
		if err := copyTree(bp.source, bp.dir); err != nil {
			return fmt.Errorf("copy buildpack %s: %w", bp.url, err)
		}
		names = append(names, bp.url)
	}
	r.rec.Buildpacks = names
	if _, err := b.cfg.Services.Builds.UpdateBuild(r.ctx, r.rec.ID, bulut.BuildUpdate{Buildpacks: names}); err != nil {
		return fmt.Errorf("record buildpacks: %w", err)
	}
	return nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// detectHost runs a built-in buildpack's bin/detect on the build dir and
// returns the name it printed, "" if it does not apply.
func (r *run) detectHost(ctx context.Context, dir string) string {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "bin", "detect"), r.appDir)
	cmd.Env = r.env
	cmd.Dir = r.appDir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	if name := firstLine(string(out)); name != "" {
		return name
	}
	return filepath.Base(dir)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

// borrowCache moves the app's cache dir to the build's /tmp/cache, on the
// same mount as /app in the sandbox, so that buildpacks can hard-link
// between them (a cached virtualenv restored in no time); the returned
// function moves it back. Where it can't be moved it is bound there.
func (r *run) borrowCache() func() {
	inside := filepath.Join(r.tmpDir, "cache")
	if fi, err := os.Lstat(r.cacheDir); err != nil || !fi.IsDir() {
		removeAll(r.cacheDir)
		if err := os.MkdirAll(r.cacheDir, 0o755); err != nil {
			r.log.Warn("make cache dir", "err", err)
		}
	}
	if err := os.Rename(r.cacheDir, inside); err != nil {
		r.log.Debug("cache bound, not moved", "err", err)
		r.cacheBound = true
		return func() {}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if fi, err := os.Lstat(inside); err != nil || !fi.IsDir() {
				// The build replaced it: start afresh.
				removeAll(inside)
				os.MkdirAll(r.cacheDir, 0o755)
				return
			}
			if err := os.Rename(inside, r.cacheDir); err != nil {
				r.log.Error("put the build cache back", "err", err)
			}
		})
	}
}

// writeEnvDir writes the app's config vars, one file each.
func (r *run) writeEnvDir() error {
	vars, err := r.b.cfg.Services.ConfigVars.FindConfigVars(r.ctx, r.d.App.ID)
	if err != nil {
		return fmt.Errorf("find config vars: %w", err)
	}
	dir := filepath.Join(r.tmpDir, "env")
	for k, v := range vars {
		if bulut.ValidateConfigVarKey(k) != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// spec returns the sandbox a buildpack command runs in. Paths in args are
// as the sandbox sees them.
func (r *run) spec(args ...string) sandbox.Spec {
	s := sandbox.Spec{
		RootDir: filepath.Dir(r.appDir),
		AppDir:  r.appDir,
		TmpDir:  r.tmpDir,
		Binds:   r.b.tmpBinds(),
		Env:     r.env,
		Dir:     buildDirInside,
	}
	if r.cacheBound {
		s.Binds = append(s.Binds, sandbox.Bind{Source: r.cacheDir, Target: cacheDirInside})
	}
	for _, a := range args {
		if strings.HasPrefix(a, "/") {
			a = s.Path(a)
		}
		s.Args = append(s.Args, a)
	}
	return s
}

// compile runs each buildpack's detect (for the app's own list) and
// compile, then the last one's release, and returns its default process
// types.
func (r *run) compile() (map[string]string, error) {
	ctx, cancel := context.WithTimeout(r.ctx, r.b.cfg.CompileTimeout)
	defer cancel()
	var exports []string
	for _, bp := range r.bps {
		if bp.name == "" {
			var stdout bytes.Buffer
			err := sandbox.Run(ctx, r.spec(bp.inside+"/bin/detect", buildDirInside), &stdout, io.Discard)
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				if r.ctx.Err() != nil {
					return nil, r.ctx.Err()
				}
				return nil, fmt.Errorf("run %s bin/detect: %w", bp.url, err)
			}
			if err != nil {
				r.out.step("App not compatible with buildpack: %s", bp.url)
				r.out.info("More info: https://devcenter.heroku.com/articles/buildpacks#detection-failure")
				return nil, &userError{}
			}
			if bp.name = firstLine(stdout.String()); bp.name == "" {
				bp.name = bp.url
			}
			r.out.step("%s app detected", bp.name)
		}
		r.lang = bp.name
		args := []string{bp.inside + "/bin/compile", buildDirInside, cacheDirInside, envDirInside}
		if len(exports) > 0 {
			// Earlier buildpacks' export files, sourced first.
			var script strings.Builder
			for _, e := range exports {
				fmt.Fprintf(&script, ". %s || exit 1\n", shellQuote(r.spec().Path(e)))
			}
			script.WriteString(`exec "$0" "$@"`)
			args = append([]string{"/bin/bash", "-c", script.String()}, args...)
		}
		err := sandbox.Run(ctx, r.spec(args...), r.out, r.out)
		if err != nil {
			if r.ctx.Err() != nil {
				return nil, r.ctx.Err()
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, failf("Timed out compiling %s app (%s)", bp.name, minutes(r.b.cfg.CompileTimeout))
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				return nil, fmt.Errorf("run %s bin/compile: %w", bp.url, err)
			}
			return nil, &userError{}
		}
		if _, err := os.Stat(filepath.Join(bp.dir, "export")); err == nil {
			exports = append(exports, bp.inside+"/export")
		}
	}
	last := r.bps[len(r.bps)-1]
	if _, err := os.Stat(filepath.Join(last.dir, "bin", "release")); err != nil {
		return nil, nil
	}
	var stdout bytes.Buffer
	rctx, rcancel := context.WithTimeout(r.ctx, 2*time.Minute)
	defer rcancel()
	if err := sandbox.Run(rctx, r.spec(last.inside+"/bin/release", buildDirInside), &stdout, r.out); err != nil {
		if r.ctx.Err() != nil {
			return nil, r.ctx.Err()
		}
		return nil, failf("%s's bin/release failed: %v", last.url, err)
	}
	defaults, err := parseReleaseYAML(stdout.String())
	if err != nil {
		r.out.warn("Ignoring %s's bin/release output: %v", last.url, err)
		return nil, nil
	}
	return defaults, nil
}

func minutes(d time.Duration) string {
	if d%time.Minute == 0 {
		if m := int(d / time.Minute); m != 1 {
			return fmt.Sprintf("%d minutes", m)
		}
		return "1 minute"
	}
	return d.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// processTypes reads the Procfile over the buildpack's default types.
func (r *run) processTypes(defaults map[string]string) (map[string]string, error) {
	r.out.step("Discovering process types")
	data, err := r.readAppFile("Procfile")
	types := map[string]string{}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.out.info("Procfile declares types -> (none)")
	case err != nil:
		return nil, failf("Can't read the Procfile: %v", err)
	default:
		if types, err = ParseProcfile(data); err != nil {
			return nil, failf("%v", err)
		}
		r.out.info("Procfile declares types -> %s", joinTypes(types))
	}
	if len(defaults) > 0 {
		r.out.info("Default types for buildpack -> %s", joinTypes(defaults))
		for k, v := range defaults {
			if _, ok := types[k]; !ok && processTypePattern.MatchString(k) && strings.TrimSpace(v) != "" {
				types[k] = v
			}
		}
	}
	return types, nil
}

func joinTypes(m map[string]string) string {
	if len(m) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// readAppFile reads a file of the build dir, following a symbolic link
// only within the build dir.
func (r *run) readAppFile(name string) ([]byte, error) {
	p := filepath.Join(r.appDir, name)
	for range 8 {
		fi, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file", name)
			}
			return os.ReadFile(p)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		if filepath.IsAbs(target) {
			target = filepath.Join(r.appDir, strings.TrimPrefix(filepath.Clean(target), buildDirInside))
		} else {
			target = filepath.Join(filepath.Dir(p), target)
		}
		if target != r.appDir && !strings.HasPrefix(target, r.appDir+"/") {
			return nil, fmt.Errorf("%s links outside the app", name)
		}
		p = target
	}
	return nil, fmt.Errorf("%s: too many symbolic links", name)
}

// makeSlug compresses the build dir and stores it as a slug.
func (r *run) makeSlug(stack string, types map[string]string) (*bulut.Slug, error) {
	b := r.b
	r.out.step("Compressing...")
	f, err := os.Create(filepath.Join(r.scratch, "slug.tgz"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, sum, err := packSlug(r.appDir, f, b.cfg.MaxSlugSize)
	if errors.Is(err, errSlugTooLarge) {
		return nil, failf("Compiled slug size: %s is too large (max is %s).", humanSize(size), humanSize(b.cfg.MaxSlugSize))
	} else if err != nil {
		return nil, fmt.Errorf("compress slug: %w", err)
	}
	r.out.info("Done: %s", humanSize(size))
	if size > softSlugSize && b.cfg.MaxSlugSize > softSlugSize {
		r.out.warn("Warning: Your slug size (%d MB) exceeds our soft limit (%d MB) which may affect boot time.", size>>20, softSlugSize>>20)
	}
	var bpNames []string
	for _, bp := range r.bps {
		bpNames = append(bpNames, bp.name)
	}
	slug := &bulut.Slug{
		ProcessTypes:         types,
		Commit:               r.d.Commit,
		CommitDescription:    r.d.CommitDescription,
		BuildpackDescription: strings.Join(bpNames, ", "),
		Stack:                stack,
		Checksum:             sum,
		Size:                 size,
	}
	if err := b.cfg.Services.Slugs.CreateSlug(r.ctx, r.d.App.ID, slug); err != nil {
		return nil, fmt.Errorf("create slug: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := b.cfg.Blobs.PutBlob(r.ctx, bulut.SlugBlobKey(slug.ID), f); err != nil {
		return nil, fmt.Errorf("store slug: %w", err)
	}
	return slug, nil
}

// humanSize formats a size as Heroku's build output does ("45.2M").
func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// removeAll removes a tree, making read-only directories (such as Go's
// module cache) writable as needed.
func removeAll(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o755)
		}
		return nil
	})
	return os.RemoveAll(p)
}
