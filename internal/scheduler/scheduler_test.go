package scheduler_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
	"github.com/bulut-bulut/bulut/internal/scheduler"
)

var webWorker = map[string]string{"web": "listen", "worker": "run"}

func TestScale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	// Never deployed: nothing runs.
	if ds := e.dynos(ctx, app); len(ds) != 0 {
		t.Fatalf("dynos of a new app: %v", ds)
	}
	e.deploy(ctx, app, webWorker)
	first := e.waitPS(ctx, app, "web.1:up")

	e.scale(ctx, app, "web=3", "worker=2")
	ds := e.waitPS(ctx, app, "web.1:up", "web.2:up", "web.3:up", "worker.1:up", "worker.2:up")
	if ds[0].ID != first[0].ID {
		t.Errorf("scaling up replaced web.1")
	}
	seen := map[string]bool{}
	for _, d := range ds {
		if !bulut.IsID(d.ID) || seen[d.ID] {
			t.Errorf("%s: ID %q is not a new UUID", d.Name, d.ID)
		}
		seen[d.ID] = true
		if d.AppID != app.ID || d.AppName != app.Name || d.Size != bulut.SizeFree || d.ReleaseVersion != 2 {
			t.Errorf("%s: %+v", d.Name, d)
		}
		if want := webWorker[d.Type]; d.Command != want {
			t.Errorf("%s: command %q, want %q", d.Name, d.Command, want)
		}
	}
	// Three web dynos, three ports, each answering as itself.
	rt := e.waitRoute(app, "three backends", func(r bulut.Route) bool { return len(r.Backends) == 3 })
	answers := map[string]bool{}
	for _, b := range rt.Backends {
		answers[get(t, b)] = true
	}
	if len(answers) != 3 {
		t.Fatalf("the backends answer %v, want three distinct dynos", answers)
	}

	// Down: the highest numbers go.
	e.scale(ctx, app, "web-2", "worker=0")
	ds = e.waitPS(ctx, app, "web.1:up")
	if ds[0].ID != first[0].ID {
		t.Errorf("scaling down replaced web.1")
	}
	e.waitRoute(app, "one backend", func(r bulut.Route) bool { return len(r.Backends) == 1 })
	waitFor(t, "stopped dynos to end", func() bool { return len(e.host.running()) == 1 }, nil)
	for _, name := range []string{"web.2", "web.3", "worker.1", "worker.2"} {
		lines := e.output(app, name)
		if !containsInOrder(lines, "Stopping all processes with SIGTERM", "Process exited with status 143", "State changed from up to down") {
			t.Errorf("%s output:\n%s", name, strings.Join(lines, "\n"))
		}
	}

	// web=0: nothing serves, and nothing crashed (H14, not H10).
	e.scale(ctx, app, "web=0")
	e.waitPS(ctx, app)
	rt = e.waitRoute(app, "no backends", func(r bulut.Route) bool { return len(r.Backends) == 0 })
	if rt.Crashed {
		t.Fatal("route says crashed with no dynos")
	}
}

// get fetches a backend's answer.
func get(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestEnvironment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.setConfig(ctx, app, "FOO", "bar", "PATH", "/app/bin:/usr/bin", "DYNO", "not-me")
	rel := e.deploy(ctx, app, map[string]string{"web": "env; listen", "worker": "env; exit 0"})
	e.scale(ctx, app, "worker=1:standard-2x")
	e.waitPS(ctx, app, "web.1:up", "worker.1:crashed") // worker.1 ends after env

	web := e.host.byName("web.1")[0]
	if web.spec.Port == 0 || web.env["PORT"] != strconv.Itoa(web.spec.Port) {
		t.Errorf("web PORT %q, spec port %d", web.env["PORT"], web.spec.Port)
	}
	for k, v := range map[string]string{"DYNO": "web.1", "HOME": "/app", "FOO": "bar", "PATH": "/app/bin:/usr/bin"} {
		if web.env[k] != v {
			t.Errorf("web.1: %s=%q, want %q", k, web.env[k], v)
		}
	}
	if web.spec.Name != "web.1" || web.spec.AppID != app.ID || web.spec.Release != rel.ID ||
		web.spec.SlugKey != bulut.SlugBlobKey(rel.SlugID) || web.spec.Memory != 512<<20 || web.spec.IO != nil {
		t.Errorf("web.1 spec: %+v", web.spec)
	}
	worker := e.host.byName("worker.1")[0]
	if _, ok := worker.env["PORT"]; ok || worker.spec.Port != 0 {
		t.Errorf("worker has a port: %q %d", worker.env["PORT"], worker.spec.Port)
	}
	if worker.env["DYNO"] != "worker.1" || worker.spec.Memory != 1024<<20 {
		t.Errorf("worker: DYNO %q, memory %d", worker.env["DYNO"], worker.spec.Memory)
	}
	// The environment is sorted, and is all the dyno gets.
	if !slices.IsSorted(web.spec.Env) || len(web.spec.Env) != 5 {
		t.Errorf("web env: %q", web.spec.Env)
	}
	e.waitOutput(app, "web.1", "Starting process with command `env; listen`", "app[web.1]: DYNO=web.1",
		"app[web.1]: FOO=bar", "app[web.1]: HOME=/app", "app[web.1]: PORT=", "State changed from starting to up")
	// The worker's env ends its script: it "crashed", and the env is in its output.
	e.waitOutput(app, "worker.1", "app[worker.1]: DYNO=worker.1", "Process exited with status 0", "State changed from up to crashed")
}

func TestStates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "sleep 300ms; listen"})
	// starting until the port answers.
	ds := e.waitPS(ctx, app, "web.1:starting")
	if rt, ok := e.routes.route(app.ID); ok && len(rt.Backends) > 0 {
		t.Fatalf("a starting dyno is routed: %+v", rt)
	}
	ds2 := e.waitPS(ctx, app, "web.1:up")
	if ds2[0].ID != ds[0].ID || !ds2[0].UpdatedAt.After(ds[0].UpdatedAt) && !ds2[0].UpdatedAt.Equal(ds[0].UpdatedAt) {
		t.Fatalf("up dyno %+v, was %+v", ds2[0], ds[0])
	}
	rt := e.waitRoute(app, "web.1 routed", func(r bulut.Route) bool { return len(r.Backends) == 1 })
	if got := get(t, rt.Backends[0]); !strings.HasPrefix(got, "web.1 ") {
		t.Fatalf("backend answers %q", got)
	}
	// It crashes: restarted at once (the first crash), as a new dyno.
	e.host.byName("web.1")[0].crash(1)
	waitFor(t, "a second web.1", func() bool { return len(e.host.byName("web.1")) == 2 }, nil)
	ds3 := e.waitPS(ctx, app, "web.1:up")
	if ds3[0].ID == ds[0].ID {
		t.Fatal("the restarted dyno kept its ID")
	}
	e.waitOutput(app, "web.1", "State changed from starting to up", "Process exited with status 1",
		"State changed from up to crashed", "State changed from crashed to starting", "Starting process with command",
		"State changed from starting to up")
	// It crashes again: the cool-off (an hour here) keeps it crashed,
	// and the route says so.
	e.host.byName("web.1")[1].crash(2)
	e.waitPS(ctx, app, "web.1:crashed")
	e.waitRoute(app, "crashed route", func(r bulut.Route) bool { return r.Crashed && len(r.Backends) == 0 })
	never(t, "web.1 restarted during its cool-off", 200*time.Millisecond, func() bool { return len(e.host.byName("web.1")) > 2 })
	// A new release starts over.
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.waitPS(ctx, app, "web.1:up")
	e.waitRoute(app, "routed again", func(r bulut.Route) bool { return !r.Crashed && len(r.Backends) == 1 })
}

func TestCrashCoolOffs(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.RestartDelays = []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"worker": "exit 1"})
	e.scale(ctx, app, "worker=1")
	waitFor(t, "five starts", func() bool { return len(e.host.byName("worker.1")) >= 5 }, nil)
	starts := e.host.byName("worker.1")
	// Between the n-th crash and the next start: 0, then at least 100
	// ms, then at least 200 ms, and 200 ms from there on.
	for n, want := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond} {
		gap := starts[n+1].started.Sub(starts[n].endedAt)
		if gap < want {
			t.Errorf("after crash %d the restart came after %v, want at least %v", n+1, gap, want)
		}
	}
	lines := e.output(app, "worker.1")
	if count(lines, "State changed from up to crashed") < 4 || count(lines, "State changed from crashed to starting") < 4 {
		t.Errorf("output:\n%s", strings.Join(lines, "\n"))
	}
}

func TestCrashBackoffResetsOnRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings()) // cool-offs: 0, then an hour
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"worker": "exit 1"})
	e.scale(ctx, app, "worker=1")
	e.waitPS(ctx, app, "worker.1:crashed")
	waitFor(t, "two starts", func() bool { return len(e.host.byName("worker.1")) == 2 }, nil)
	// A restart starts at once, with a fresh backoff: the next crash
	// restarts at once too.
	if err := e.s.RestartDynos(ctx, app.Name, "worker"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "four starts", func() bool { return len(e.host.byName("worker.1")) == 4 }, nil)
	e.waitPS(ctx, app, "worker.1:crashed")
	never(t, "a fifth start during the cool-off", 100*time.Millisecond, func() bool { return len(e.host.byName("worker.1")) > 4 })
	// So does scaling to 0 and back.
	e.scale(ctx, app, "worker=0")
	e.waitPS(ctx, app)
	e.scale(ctx, app, "worker=1")
	waitFor(t, "six starts", func() bool { return len(e.host.byName("worker.1")) == 6 }, nil)
}

func TestBootTimeout(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.BootTimeout = 100 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "python -m never_binds"})
	// R10, killed, crashed; restarted at once; R10 again and cooling off.
	e.waitPS(ctx, app, "web.1:crashed")
	waitFor(t, "two starts", func() bool { return len(e.host.byName("web.1")) == 2 }, nil)
	e.waitPS(ctx, app, "web.1:crashed")
	lines := e.waitOutput(app, "web.1",
		"Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 100ms of launch",
		"Stopping process with SIGKILL", "Process exited with status 137", "State changed from starting to crashed",
		"State changed from crashed to starting", "Error R10 (Boot timeout)", "State changed from starting to crashed")
	if count(lines, "R12") > 0 {
		t.Errorf("an R10 is no R12:\n%s", strings.Join(lines, "\n"))
	}
	for _, i := range e.host.byName("web.1") {
		if g := i.stopGraces(); !slices.Equal(g, []time.Duration{0}) {
			t.Errorf("stopped with graces %v, want a SIGKILL at once", g)
		}
	}
	rt := e.waitRoute(app, "crashed", func(r bulut.Route) bool { return r.Crashed })
	if len(rt.Backends) != 0 {
		t.Fatalf("route %+v", rt)
	}
}

func TestBootTimeoutSixtySeconds(t *testing.T) {
	t.Parallel()
	if got := scheduler.DefaultTimings.BootTimeout; got != time.Minute {
		t.Fatalf("default boot timeout %v", got)
	}
	if got := scheduler.DefaultTimings.StopGrace; got != 30*time.Second {
		t.Fatalf("default stop grace %v", got)
	}
	want := []time.Duration{0, 20 * time.Minute, 40 * time.Minute, time.Hour, 3 * time.Hour, 320 * time.Minute}
	if got := scheduler.DefaultTimings.RestartDelays; !slices.Equal(got, want) {
		t.Fatalf("default cool-offs %v, want %v", got, want)
	}
}

func TestExitTimeout(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.StopGrace = 200 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"worker": "ignore-term", "clock": "run"})
	e.scale(ctx, app, "worker=1", "clock=1")
	e.waitPS(ctx, app, "clock.1:up", "worker.1:up")
	e.scale(ctx, app, "worker=0", "clock=0")
	e.waitPS(ctx, app)
	lines := e.waitOutput(app, "worker.1", "Stopping all processes with SIGTERM",
		"Error R12 (Exit timeout) -> At least one process failed to exit within 200ms of SIGTERM",
		"Stopping remaining processes with SIGKILL", "Process exited with status 137", "State changed from up to down")
	w := e.host.byName("worker.1")[0]
	if g := w.stopGraces(); !slices.Equal(g, []time.Duration{200 * time.Millisecond}) {
		t.Errorf("worker stopped with graces %v", g)
	}
	if d := w.endedAt.Sub(w.started); d < 200*time.Millisecond {
		t.Errorf("worker ended %v after start, before the grace", d)
	}
	// A dyno that obeys SIGTERM is no R12.
	clock := e.waitOutput(app, "clock.1", "Stopping all processes with SIGTERM", "Process exited with status 143", "State changed from up to down")
	if count(clock, "R12") > 0 || count(lines, "crashed") > 0 {
		t.Errorf("clock output:\n%s", strings.Join(clock, "\n"))
	}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.MemoryInterval = 10 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"worker": "mem 600", "big": "mem 600", "hog": "mem 1100", "oom": "sleep 50ms; oom"})
	e.scale(ctx, app, "worker=1", "big=1:standard-2x")
	e.waitPS(ctx, app, "big.1:up", "worker.1:up")
	// 600 MB of a free dyno's 512: R14, and it keeps running.
	e.waitOutput(app, "worker.1", "Process running mem=600MB(117.2%)", "Error R14 (Memory quota exceeded)",
		"Process running mem=600MB(117.2%)", "Error R14 (Memory quota exceeded)")
	e.waitPS(ctx, app, "big.1:up", "worker.1:up")
	// Within a standard-2x's 1 GB: nothing.
	if lines := e.output(app, "big.1"); count(lines, "R14") > 0 {
		t.Errorf("big.1 output:\n%s", strings.Join(lines, "\n"))
	}
	if len(e.host.byName("worker.1")) != 1 {
		t.Error("R14 restarted the dyno")
	}

	// Twice the quota: R15, killed, restarted (a crash: the first at once).
	e.scale(ctx, app, "worker=0", "big=0", "hog=1")
	waitFor(t, "hog.1 restarted", func() bool { return len(e.host.byName("hog.1")) >= 2 }, nil)
	e.waitOutput(app, "hog.1", "Process running mem=1100MB(214.8%)", "Error R15 (Memory quota vastly exceeded)",
		"Stopping process with SIGKILL", "Process exited with status 137", "State changed from up to crashed",
		"State changed from crashed to starting")
	if g := e.host.byName("hog.1")[0].stopGraces(); !slices.Equal(g, []time.Duration{0}) {
		t.Errorf("hog stopped with graces %v", g)
	}

	// The backend's limit (Exit.OOM): R15 and a restart.
	e.scale(ctx, app, "hog=0", "oom=1")
	waitFor(t, "oom.1 restarted", func() bool { return len(e.host.byName("oom.1")) >= 2 }, nil)
	lines := e.waitOutput(app, "oom.1", "Error R15 (Memory quota vastly exceeded)", "Stopping process with SIGKILL",
		"Process exited with status 137", "State changed from up to crashed", "State changed from crashed to starting")
	if count(lines, "R12") > 0 {
		t.Errorf("oom.1 output:\n%s", strings.Join(lines, "\n"))
	}
}

func TestStartFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.rt.setStartErr(errStart)
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	// A dyno the runtime can't start crashed (R99), and is retried as
	// crashes are.
	e.waitPS(ctx, app, "web.1:crashed")
	e.waitOutput(app, "web.1", "Error R99 (Platform error)", "State changed from starting to crashed",
		"State changed from crashed to starting", "Error R99", "State changed from starting to crashed")
	e.rt.setStartErr(nil)
	if err := e.s.RestartDynos(ctx, app.Name, ""); err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, app, "web.1:up")
}

func TestCloseStopsEverything(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.StopGrace = 100 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen", "worker": "ignore-term"})
	e.scale(ctx, app, "web=2", "worker=1")
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up")
	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the one-off to run", func() bool { return e.host.byID(d.ID) != nil }, nil)
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := e.host.running(); len(r) != 0 {
		t.Fatalf("%d dynos still run after Close", len(r))
	}
	for _, i := range e.host.all() {
		if g := i.stopGraces(); !slices.Equal(g, []time.Duration{100 * time.Millisecond}) {
			t.Errorf("%s stopped with graces %v", i.spec.Name, g)
		}
	}
	// Nothing starts after Close.
	e.s.Reconcile(app.ID)
	if _, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "run"}); err == nil {
		t.Fatal("RunDyno after Close succeeded")
	}
	never(t, "a dyno started after Close", 50*time.Millisecond, func() bool { return len(e.host.running()) > 0 })
}

// TestOpenConverges is a server restart after kill -9: the new run's
// Open ends what the old run left, then brings the formation back.
func TestOpenConverges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	other := e.app(ctx, "never-deployed")
	e.deploy(ctx, app, webWorker)
	e.scale(ctx, app, "web=2", "worker=1")
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up")
	old := e.host.running()

	// A new run on the same store and host; the old one is gone for good
	// (its dynos are ended by the new run's Cleanup, not by it).
	e.rt.setStartErr(errStart) // the old run can't start anything any more
	e.start()
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up")
	for _, i := range old {
		if !i.ended() {
			t.Errorf("%s of the previous run still runs", i.spec.Name)
		}
	}
	if n := len(e.host.running()); n != 3 {
		t.Errorf("%d dynos run, want 3", n)
	}
	// Cleanup came before any start of the new run.
	events := e.host.eventLog()
	cleanup := slices.IndexFunc(events, func(s string) bool { return strings.HasPrefix(s, "cleanup run 2") })
	for i, ev := range events {
		if strings.HasPrefix(ev, "start ") && i < cleanup && !slices.ContainsFunc(old, func(f *fakeInstance) bool { return strings.HasSuffix(ev, f.spec.ID) }) {
			t.Errorf("%q before the cleanup", ev)
		}
	}
	if ds := e.dynos(ctx, other); len(ds) != 0 {
		t.Errorf("dynos of a never deployed app: %v", ds)
	}
	e.waitRoute(app, "two backends", func(r bulut.Route) bool { return len(r.Backends) == 2 })
}

func TestAppDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	keep := e.app(ctx, "other-app")
	e.deploy(ctx, app, webWorker)
	e.deploy(ctx, keep, webWorker)
	e.scale(ctx, app, "worker=1")
	e.waitPS(ctx, app, "web.1:up", "worker.1:up")
	e.waitPS(ctx, keep, "web.1:up")
	if _, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "run"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "four dynos", func() bool { return len(e.host.running()) == 4 }, nil)
	if _, err := e.svc.Apps.DeleteApp(ctx, app.Name); err != nil {
		t.Fatal(err)
	}
	e.s.Reconcile(app.ID)
	waitFor(t, "the deleted app's dynos to end", func() bool { return len(e.host.running()) == 1 }, nil)
	if r := e.host.running()[0]; r.spec.AppID != keep.ID {
		t.Fatalf("%s of %s runs", r.spec.Name, r.spec.AppID)
	}
	e.waitRoute(app, "an empty route", func(r bulut.Route) bool { return len(r.Backends) == 0 && !r.Crashed })
	_, err := e.s.FindDynos(ctx, app.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	// The output stays, for a while.
	e.waitOutput(app, "web.1", "State changed from up to down")
	e.waitPS(ctx, keep, "web.1:up")
}

func TestTwoAccountsIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	alice := e.account("alice@example.com")
	bob := e.account("bob@example.com")
	appA := e.app(alice, "alices-app")
	appB := e.app(bob, "bobs-app")
	e.deploy(alice, appA, webWorker)
	e.deploy(bob, appB, webWorker)
	da := e.waitPS(alice, appA, "web.1:up")[0]
	db := e.waitPS(bob, appB, "web.1:up")[0]
	for _, ref := range []string{appA.Name, appA.ID} {
		_, err := e.s.FindDynos(bob, ref)
		assertCode(t, err, bulut.ENOTFOUND)
		_, err = e.s.FindDyno(bob, ref, "web.1")
		assertCode(t, err, bulut.ENOTFOUND)
		assertCode(t, e.s.RestartDynos(bob, ref, ""), bulut.ENOTFOUND)
		assertCode(t, e.s.RestartDynos(bob, ref, "web"), bulut.ENOTFOUND)
		assertCode(t, e.s.StopDyno(bob, ref, da.ID), bulut.ENOTFOUND)
		_, err = e.s.RunDyno(bob, ref, bulut.DynoRun{Command: "env"})
		assertCode(t, err, bulut.ENOTFOUND)
	}
	// Another app's dyno ID through one's own app.
	_, err := e.s.FindDyno(bob, appB.Name, da.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	assertCode(t, e.s.StopDyno(bob, appB.Name, da.ID), bulut.ENOTFOUND)
	assertCode(t, e.s.RestartDynos(bob, appB.Name, da.ID), bulut.ENOTFOUND)
	// No account at all.
	_, err = e.s.FindDynos(context.Background(), appA.ID)
	assertCode(t, err, bulut.EUNAUTHORIZED)
	// Nothing changed.
	if got := e.waitPS(alice, appA, "web.1:up")[0]; got.ID != da.ID {
		t.Fatal("alice's dyno was replaced")
	}
	if got, err := e.s.FindDyno(bob, appB.Name, "web.1"); err != nil || got.ID != db.ID {
		t.Fatalf("bob's dyno: %+v, %v", got, err)
	}
	if len(e.host.all()) != 2 {
		t.Fatalf("%d dynos were started, want 2", len(e.host.all()))
	}
}

func TestFindDyno(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, webWorker)
	e.scale(ctx, app, "web=11")
	var want []string
	for i := 1; i <= 11; i++ {
		want = append(want, "web."+strconv.Itoa(i)+":up")
	}
	ds := e.waitPS(ctx, app, want...) // web.2 before web.10
	for _, d := range ds {
		for _, ref := range []string{d.ID, d.Name} {
			got, err := e.s.FindDyno(ctx, app.Name, ref)
			if err != nil || got.ID != d.ID || got.Name != d.Name {
				t.Fatalf("FindDyno(%q) = %+v, %v", ref, got, err)
			}
		}
	}
	for _, ref := range []string{"web.12", "worker.1", bulut.NewID(), "", "web"} {
		_, err := e.s.FindDyno(ctx, app.Name, ref)
		assertCode(t, err, bulut.ENOTFOUND)
	}
	_, err := e.s.FindDynos(ctx, "no-such-app")
	assertCode(t, err, bulut.ENOTFOUND)
}

func TestRestartDynos(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, webWorker)
	e.scale(ctx, app, "web=2", "worker=2")
	before := e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up", "worker.2:up")
	replaced := func(before, after []*bulut.Dyno) []string {
		var out []string
		for i := range before {
			if before[i].ID != after[i].ID {
				out = append(out, after[i].Name)
			}
		}
		return out
	}
	restart := func(target string, want ...string) {
		t.Helper()
		if err := e.s.RestartDynos(ctx, app.Name, target); err != nil {
			t.Fatalf("RestartDynos(%q): %v", target, err)
		}
		var after []*bulut.Dyno
		waitFor(t, "restart of "+strings.Join(want, ", "), func() bool {
			after = e.dynos(ctx, app)
			if len(after) != 4 {
				return false
			}
			for _, d := range after {
				if d.State != bulut.DynoUp {
					return false
				}
			}
			return slices.Equal(replaced(before, after), want)
		}, func() string { return strings.Join(e.ps(ctx, app), " ") })
		waitFor(t, "old dynos to end", func() bool { return len(e.host.running()) == 4 }, nil)
		before = after
	}
	restart("web.1", "web.1")
	restart(before[3].ID, "worker.2")
	restart("worker", "worker.1", "worker.2")
	restart("web", "web.1", "web.2")
	restart("", "web.1", "web.2", "worker.1", "worker.2")
	e.waitOutput(app, "web.1", "Restarting", "Starting process with command `listen`", "State changed from starting to up")

	assertCode(t, e.s.RestartDynos(ctx, app.Name, "clock"), bulut.ENOTFOUND)
	assertCode(t, e.s.RestartDynos(ctx, app.Name, "web.3"), bulut.ENOTFOUND)
	assertCode(t, e.s.RestartDynos(ctx, app.Name, bulut.NewID()), bulut.ENOTFOUND)
	// A type at 0 is no error.
	e.scale(ctx, app, "worker=0")
	e.waitPS(ctx, app, "web.1:up", "web.2:up")
	if err := e.s.RestartDynos(ctx, app.Name, "worker"); err != nil {
		t.Fatal(err)
	}
	// A one-off is stopped, not restarted.
	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, app, d.Name+":up", "web.1:up", "web.2:up")
	if err := e.s.RestartDynos(ctx, app.Name, d.Name); err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, app, "web.1:up", "web.2:up")
}

func TestStopDyno(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, webWorker)
	e.scale(ctx, app, "worker=1")
	before := e.waitPS(ctx, app, "web.1:up", "worker.1:up")
	// A formation dyno is stopped, then started again.
	for i, ref := range []string{"web.1", before[1].ID} {
		if err := e.s.StopDyno(ctx, app.Name, ref); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the stopped dyno to end", func() bool { return e.host.byID(before[i].ID).ended() }, nil)
		after := e.waitPS(ctx, app, "web.1:up", "worker.1:up")
		if after[i].ID == before[i].ID {
			t.Fatalf("%s was not replaced", after[i].Name)
		}
		before = after
	}
	lines := e.waitOutput(app, "worker.1", "Stopping all processes with SIGTERM", "State changed from up to down")
	if count(lines, "Starting process") != 2 || count(lines, "Restarting") != 0 {
		t.Errorf("worker.1 output:\n%s", strings.Join(lines, "\n"))
	}
	// A one-off is gone.
	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, app, d.Name+":up", "web.1:up", "worker.1:up")
	if err := e.s.StopDyno(ctx, app.Name, d.Name); err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, app, "web.1:up", "worker.1:up")
	e.waitOutput(app, d.Name, "Stopping all processes with SIGTERM", "Process exited with status 143", "State changed from up to complete")
	assertCode(t, e.s.StopDyno(ctx, app.Name, d.Name), bulut.ENOTFOUND)
	assertCode(t, e.s.StopDyno(ctx, app.Name, "web.2"), bulut.ENOTFOUND)
}

func TestForgetOldReleases(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	v2 := e.deploy(ctx, app, webWorker)
	e.waitPS(ctx, app, "web.1:up")
	v3 := e.deploy(ctx, app, webWorker)
	waitFor(t, "v2 forgotten", func() bool { return slices.Contains(e.rt.forgottenReleases(), v2.ID) }, nil)
	e.waitPS(ctx, app, "web.1:up")
	if slices.Contains(e.rt.forgottenReleases(), v3.ID) {
		t.Fatal("the current release was forgotten")
	}
}

// Make sure the fake honours the contract it stands for.
var _ runtime.Runtime = (*fakeRuntime)(nil)
