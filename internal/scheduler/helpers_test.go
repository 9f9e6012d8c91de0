package scheduler_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
	"github.com/bulut-bulut/bulut/internal/scheduler"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// testTimings are small values for the tests; a test changes what it
// checks.
func testTimings() scheduler.Timings {
	return scheduler.Timings{
		BootTimeout:       10 * time.Second,
		StopGrace:         5 * time.Second,
		RestartDelays:     []time.Duration{0, time.Hour},
		MemoryInterval:    time.Hour,
		PortCheckInterval: 5 * time.Millisecond,
		AttachTimeout:     time.Minute,
		DrainDelay:        -1,
		SyncInterval:      time.Hour,
	}
}

// env is a scheduler on a real store (SQLite in a temporary directory)
// and a fake runtime.
type env struct {
	t      testing.TB
	db     *sqlite.DB
	svc    bulut.Services
	host   *fakeHost
	rt     *fakeRuntime
	routes *routeRecorder
	s      *scheduler.Scheduler
	timing scheduler.Timings
	// newRuntime makes the runtime of each server run; nil: the fake
	// host's.
	newRuntime func() runtime.Runtime
	// configure, if set, changes the scheduler's Config.
	configure func(*scheduler.Config)
}

func newEnv(t testing.TB, timings scheduler.Timings) *env {
	t.Helper()
	return newEnvWith(t, timings, nil)
}

// newEnvWith is newEnv with another runtime.
func newEnvWith(t testing.TB, timings scheduler.Timings, newRuntime func(e *env) runtime.Runtime) *env {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulut.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, svc: services(db), host: newFakeHost(), timing: timings}
	e.routes = &routeRecorder{host: e.host}
	if newRuntime != nil {
		e.newRuntime = func() runtime.Runtime { return newRuntime(e) }
	}
	e.start()
	return e
}

func services(db *sqlite.DB) bulut.Services {
	return bulut.Services{
		Accounts:   sqlite.NewAccountService(db),
		Apps:       sqlite.NewAppService(db),
		Releases:   sqlite.NewReleaseService(db),
		ConfigVars: sqlite.NewConfigVarService(db),
		Slugs:      sqlite.NewSlugService(db),
		Formations: sqlite.NewFormationService(db),
	}
}

// start opens a new scheduler (a new server run) on the env's store and
// host.
func (e *env) start() {
	e.t.Helper()
	var rt runtime.Runtime
	if e.newRuntime != nil {
		rt = e.newRuntime()
	} else {
		e.rt = e.host.runtime()
		rt = e.rt
	}
	cfg := scheduler.Config{Services: e.svc, Runtime: rt, Routes: e.routes, Timings: e.timing}
	if e.configure != nil {
		e.configure(&cfg)
	}
	e.s = scheduler.New(cfg)
	if err := e.s.Open(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	s := e.s
	e.t.Cleanup(func() {
		if err := s.Close(); err != nil {
			e.t.Error(err)
		}
	})
}

// account signs up an account and returns a context acting for it.
func (e *env) account(email string) context.Context {
	e.t.Helper()
	a, err := e.svc.Accounts.CreateAccount(context.Background(), email, "correct horse battery staple")
	if err != nil {
		e.t.Fatal(err)
	}
	return bulut.NewContextWithAccount(context.Background(), a)
}

// app creates an app.
func (e *env) app(ctx context.Context, name string) *bulut.App {
	e.t.Helper()
	app, err := e.svc.Apps.CreateApp(ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return app
}

// deploy releases a slug with the given process types and tells the
// scheduler, as the server does.
func (e *env) deploy(ctx context.Context, app *bulut.App, types map[string]string) *bulut.Release {
	e.t.Helper()
	slug := &bulut.Slug{ProcessTypes: types, Commit: "0123456789abcdef0123456789abcdef01234567"}
	if err := e.svc.Slugs.CreateSlug(ctx, app.ID, slug); err != nil {
		e.t.Fatal(err)
	}
	rel, err := e.svc.Releases.CreateRelease(ctx, app.ID, slug.ID, "Deploy 01234567")
	if err != nil {
		e.t.Fatal(err)
	}
	e.s.Reconcile(app.ID)
	return rel
}

// scale updates the formation ("web=3", "worker+1", "web:standard-2x")
// and tells the scheduler.
func (e *env) scale(ctx context.Context, app *bulut.App, args ...string) {
	e.t.Helper()
	var updates []bulut.FormationUpdate
	for _, arg := range args {
		var u bulut.FormationUpdate
		arg, size, hasSize := strings.Cut(arg, ":")
		if hasSize {
			u.Size = &size
		}
		if typ, n, ok := strings.Cut(arg, "="); ok {
			var q int
			fmt.Sscan(n, &q)
			u.Type, u.Quantity = typ, &q
		} else if i := strings.IndexAny(arg, "+-"); i > 0 {
			var d int
			fmt.Sscan(arg[i:], &d)
			u.Type, u.Delta = arg[:i], &d
		} else {
			u.Type = arg
		}
		updates = append(updates, u)
	}
	if _, err := e.svc.Formations.UpdateFormation(ctx, app.ID, updates); err != nil {
		e.t.Fatal(err)
	}
	e.s.Reconcile(app.ID)
}

// setConfig changes config vars (a release) and tells the scheduler.
func (e *env) setConfig(ctx context.Context, app *bulut.App, kv ...string) *bulut.Release {
	e.t.Helper()
	patch := map[string]*string{}
	for i := 0; i < len(kv); i += 2 {
		patch[kv[i]] = &kv[i+1]
	}
	_, rel, err := e.svc.ConfigVars.UpdateConfigVars(ctx, app.ID, patch)
	if err != nil {
		e.t.Fatal(err)
	}
	e.s.Reconcile(app.ID)
	return rel
}

// dynos lists an app's dynos.
func (e *env) dynos(ctx context.Context, app *bulut.App) []*bulut.Dyno {
	e.t.Helper()
	ds, err := e.s.FindDynos(ctx, app.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// ps describes an app's dynos as "name:state" entries in order.
func (e *env) ps(ctx context.Context, app *bulut.App) []string {
	e.t.Helper()
	var out []string
	for _, d := range e.dynos(ctx, app) {
		out = append(out, d.Name+":"+d.State)
	}
	return out
}

// waitPS waits until ps gives want.
func (e *env) waitPS(ctx context.Context, app *bulut.App, want ...string) []*bulut.Dyno {
	e.t.Helper()
	var got []string
	waitFor(e.t, fmt.Sprintf("%s dynos %q", app.Name, want), func() bool {
		got = e.ps(ctx, app)
		return slices.Equal(got, want)
	}, func() string { return fmt.Sprintf("dynos are %q", got) })
	return e.dynos(ctx, app)
}

// output returns a dyno's output.
func (e *env) output(app *bulut.App, dyno string) []string { return e.s.Output(app.ID, dyno) }

// waitOutput waits until a dyno's output has a line containing each of
// want, in order.
func (e *env) waitOutput(app *bulut.App, dyno string, want ...string) []string {
	e.t.Helper()
	var lines []string
	waitFor(e.t, fmt.Sprintf("%s output with %q", dyno, want), func() bool {
		lines = e.output(app, dyno)
		return containsInOrder(lines, want...)
	}, func() string { return "output:\n" + strings.Join(lines, "\n") })
	return lines
}

// containsInOrder reports whether lines have lines containing each of
// want, in that order.
func containsInOrder(lines []string, want ...string) bool {
	i := 0
	for _, l := range lines {
		if i < len(want) && strings.Contains(l, want[i]) {
			i++
		}
	}
	return i == len(want)
}

// count returns how many lines contain s.
func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// waitRoute waits until the app's route satisfies ok.
func (e *env) waitRoute(app *bulut.App, what string, ok func(bulut.Route) bool) bulut.Route {
	e.t.Helper()
	var rt bulut.Route
	waitFor(e.t, what, func() bool {
		var found bool
		rt, found = e.routes.route(app.ID)
		return found && ok(rt)
	}, func() string { return fmt.Sprintf("route is %+v", rt) })
	return rt
}

// waitFor polls cond until it holds, or fails the test after a while
// (a bound for broken code, not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if state != nil {
				msg = ": " + state()
			}
			t.Fatalf("timed out waiting for %s%s", what, msg)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// never checks that cond stays false for a while.
func never(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			t.Fatalf("%s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ids returns the IDs of dynos.
func ids(ds []*bulut.Dyno) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// assertCode fails unless err has the code.
func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bulut.ErrorCode(err); got != code {
		t.Fatalf("error code %q, want %q (err: %v)", got, code, err)
	}
}
