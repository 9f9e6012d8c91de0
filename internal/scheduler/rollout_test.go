package scheduler_test

import (
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// client asks a backend without keeping connections, so that each
// request reaches a dyno that listens.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

// traffic sends requests to the app's route, as the router would, until
// stopped; it counts failures and remembers the answers.
type traffic struct {
	stop    chan struct{}
	done    chan struct{}
	ok      atomic.Int64
	failed  atomic.Int64
	mu      sync.Mutex
	errs    []string
	answers map[string]bool
}

func (e *env) traffic(app *bulut.App) *traffic {
	tr := &traffic{stop: make(chan struct{}), done: make(chan struct{}), answers: map[string]bool{}}
	go func() {
		defer close(tr.done)
		for {
			select {
			case <-tr.stop:
				return
			default:
			}
			rt, _ := e.routes.route(app.ID)
			if len(rt.Backends) == 0 {
				tr.failed.Add(1)
				tr.mu.Lock()
				tr.errs = append(tr.errs, "no backend")
				tr.mu.Unlock()
				time.Sleep(time.Millisecond)
				continue
			}
			resp, err := client.Get("http://" + rt.Backends[rand.IntN(len(rt.Backends))] + "/")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				tr.mu.Lock()
				tr.answers[string(b)] = true
				tr.mu.Unlock()
				tr.ok.Add(1)
				continue
			}
			tr.failed.Add(1)
			tr.mu.Lock()
			tr.errs = append(tr.errs, err.Error())
			tr.mu.Unlock()
		}
	}()
	return tr
}

func (tr *traffic) end(t *testing.T) {
	t.Helper()
	close(tr.stop)
	<-tr.done
	if n := tr.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed: %q", n, n+tr.ok.Load(), tr.errs[:min(len(tr.errs), 5)])
	}
	if tr.ok.Load() == 0 {
		t.Error("no request was made")
	}
}

// port returns the port of a backend address.
func port(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	n, _ := strconv.Atoi(p)
	return n
}

// index returns the position of the first event with the prefix, -1 if none.
func index(events []string, prefix string) int {
	return slices.IndexFunc(events, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// routeEvent is how the route recorder logs a route.
func routeEvent(rt bulut.Route) string {
	return "route " + rt.AppID + " " + strings.Join(rt.Backends, ",") + " crashed=" + strconv.FormatBool(rt.Crashed)
}

func TestRollout(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.DrainDelay = 200 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	v2 := e.deploy(ctx, app, map[string]string{"web": "listen", "worker": "run"})
	e.scale(ctx, app, "web=2", "worker=1")
	old := e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up")
	oldRoute := e.waitRoute(app, "v2 routed", func(r bulut.Route) bool { return len(r.Backends) == 2 })
	tr := e.traffic(app)

	// v3 takes a while to boot: the v2 dynos serve meanwhile.
	v3 := e.deploy(ctx, app, map[string]string{"web": "sleep 300ms; listen", "worker": "run"})
	ds := e.waitPS(ctx, app, "web.1:up", "web.1:starting", "web.2:up", "web.2:starting", "worker.1:up")
	if ds[0].ID != old[0].ID || ds[1].ReleaseVersion != 3 || ds[0].ReleaseVersion != 2 {
		t.Fatalf("during the rollout: %+v %+v", ds[0], ds[1])
	}
	if rt, _ := e.routes.route(app.ID); !slices.Equal(rt.Backends, oldRoute.Backends) {
		t.Fatalf("route during the rollout: %+v, want %+v", rt, oldRoute)
	}
	// The worker is replaced at once: old stopped, new started.
	waitFor(t, "the old worker to end", func() bool { return e.host.byID(old[2].ID).ended() }, nil)
	// Then the new web dynos take over.
	newRoute := e.waitRoute(app, "v3 routed", func(r bulut.Route) bool {
		return len(r.Backends) == 2 && !slices.Contains(r.Backends, oldRoute.Backends[0]) && !slices.Contains(r.Backends, oldRoute.Backends[1])
	})
	ds = e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up")
	for _, d := range ds {
		if d.ReleaseID != v3.ID {
			t.Errorf("%s runs release %d", d.Name, d.ReleaseVersion)
		}
	}
	for _, b := range newRoute.Backends {
		if got := get(t, b); !strings.HasSuffix(got, " "+v3.ID) {
			t.Errorf("%s answers %q, want v3", b, got)
		}
	}
	waitFor(t, "the v2 web dynos to end", func() bool { return e.host.byID(old[0].ID).ended() && e.host.byID(old[1].ID).ended() }, nil)
	tr.end(t)
	if !tr.answers["web.1 "+v2.ID] || !tr.answers["web.1 "+v3.ID] {
		t.Errorf("answers: %v", tr.answers)
	}

	// In the order of events: the v3 route, then SIGTERM to the v2 web
	// dynos; no route between lacks a backend.
	events := e.host.eventLog()
	switched := index(events, routeEvent(newRoute))
	if switched < 0 {
		t.Fatalf("no event %q in %q", routeEvent(newRoute), events)
	}
	for _, d := range old[:2] {
		if stop := index(events, "stop "+d.Name+" "+d.ID); stop < switched {
			t.Errorf("%s (v2) was stopped (event %d) before the v3 route (event %d)", d.Name, stop, switched)
		}
	}
	for _, rt := range e.routes.history(app.ID) {
		if len(rt.Backends) == 0 && index(events, routeEvent(rt)) > index(events, routeEvent(oldRoute)) {
			t.Errorf("an empty route was published during the rollout")
		}
	}
	lines := e.output(app, "web.1")
	if !containsInOrder(lines, "Restarting", "Starting process with command `sleep 300ms; listen`", "State changed from starting to up",
		"Stopping all processes with SIGTERM", "Process exited with status 143", "State changed from up to down") {
		t.Errorf("web.1 output:\n%s", strings.Join(lines, "\n"))
	}
}

func TestRolloutFailingRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings()) // cool-offs: 0, then an hour
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	v2 := e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.scale(ctx, app, "web=2")
	old := e.waitPS(ctx, app, "web.1:up", "web.2:up")
	oldRoute := e.waitRoute(app, "v2 routed", func(r bulut.Route) bool { return len(r.Backends) == 2 })
	tr := e.traffic(app)

	// v3 crashes at boot: restarted at once, crashes again, cools off;
	// v2 keeps serving all along.
	e.deploy(ctx, app, map[string]string{"web": "exit 1"})
	waitFor(t, "v3 to crash twice", func() bool { return len(e.host.byName("web.1")) == 3 && len(e.host.byName("web.2")) == 3 }, nil)
	ds := e.waitPS(ctx, app, "web.1:up", "web.1:crashed", "web.2:up", "web.2:crashed")
	if ds[0].ID != old[0].ID || ds[2].ID != old[1].ID {
		t.Fatal("the v2 dynos were replaced")
	}
	never(t, "the v2 dynos stopped", 200*time.Millisecond, func() bool {
		return e.host.byID(old[0].ID).ended() || e.host.byID(old[1].ID).ended()
	})
	if rt, _ := e.routes.route(app.ID); !slices.Equal(rt.Backends, oldRoute.Backends) || rt.Crashed {
		t.Fatalf("route %+v, want the v2 dynos'", rt)
	}
	// FindDyno by name prefers the dyno of the current release.
	if d, err := e.s.FindDyno(ctx, app.Name, "web.1"); err != nil || d.State != bulut.DynoCrashed || d.ReleaseVersion != 3 {
		t.Fatalf("FindDyno(web.1) = %+v, %v", d, err)
	}
	tr.end(t)
	if len(tr.answers) != 2 || !tr.answers["web.1 "+v2.ID] {
		t.Errorf("answers: %v", tr.answers)
	}

	// A good release replaces everything.
	v4 := e.deploy(ctx, app, map[string]string{"web": "listen"})
	ds = e.waitPS(ctx, app, "web.1:up", "web.2:up")
	for _, d := range ds {
		if d.ReleaseID != v4.ID {
			t.Errorf("%s runs v%d", d.Name, d.ReleaseVersion)
		}
	}
	waitFor(t, "v2 to end", func() bool { return len(e.host.running()) == 2 }, nil)
}

func TestRolloutConfigChange(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.DrainDelay = 100 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "sleep 100ms; listen"})
	old := e.waitPS(ctx, app, "web.1:up")
	e.waitRoute(app, "routed", func(r bulut.Route) bool { return len(r.Backends) == 1 })
	tr := e.traffic(app)
	for i := range 3 {
		rel := e.setConfig(ctx, app, "GREETING", "hello "+strconv.Itoa(i))
		waitFor(t, "the new release to serve", func() bool {
			rt, _ := e.routes.route(app.ID)
			return len(rt.Backends) == 1 && strings.HasSuffix(get(t, rt.Backends[0]), rel.ID)
		}, nil)
		d := e.waitPS(ctx, app, "web.1:up")[0]
		if got := e.host.byID(d.ID).env["GREETING"]; got != "hello "+strconv.Itoa(i) {
			t.Fatalf("GREETING=%q", got)
		}
	}
	tr.end(t)
	waitFor(t, "the old dynos to end", func() bool { return len(e.host.running()) == 1 && e.host.byID(old[0].ID).ended() }, nil)
}

func TestRolloutRestart(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.DrainDelay = 100 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "sleep 100ms; listen"})
	e.scale(ctx, app, "web=3")
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "web.3:up")
	e.waitRoute(app, "routed", func(r bulut.Route) bool { return len(r.Backends) == 3 })
	tr := e.traffic(app)
	for _, target := range []string{"", "web", "web.2"} {
		before := e.dynos(ctx, app)
		if err := e.s.RestartDynos(ctx, app.Name, target); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "restart "+target, func() bool {
			after := e.dynos(ctx, app)
			if len(after) != 3 {
				return false
			}
			for i, d := range after {
				if d.State != bulut.DynoUp || (d.ID == before[i].ID) == (target == "" || target == "web" || d.Name == target) {
					return false
				}
			}
			return true
		}, func() string { return strings.Join(e.ps(ctx, app), " ") })
		waitFor(t, "old dynos to end", func() bool { return len(e.host.running()) == 3 }, nil)
	}
	tr.end(t)
}

func TestRolloutScaleDownDuringRollout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.scale(ctx, app, "web=3")
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "web.3:up")
	e.deploy(ctx, app, map[string]string{"web": "sleep 200ms; listen"})
	e.waitPS(ctx, app, "web.1:up", "web.1:starting", "web.2:up", "web.2:starting", "web.3:up", "web.3:starting")
	e.scale(ctx, app, "web=1")
	ds := e.waitPS(ctx, app, "web.1:up")
	if ds[0].ReleaseVersion != 3 {
		t.Fatalf("web.1 runs v%d", ds[0].ReleaseVersion)
	}
	waitFor(t, "one dyno left", func() bool { return len(e.host.running()) == 1 }, nil)
	rt := e.waitRoute(app, "one backend", func(r bulut.Route) bool { return len(r.Backends) == 1 })
	if got := get(t, rt.Backends[0]); !strings.HasPrefix(got, "web.1 ") {
		t.Fatalf("backend answers %q", got)
	}
}

func TestResize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	old := e.waitPS(ctx, app, "web.1:up")
	// A new size restarts the dynos, with the new memory quota.
	e.scale(ctx, app, "web:Standard-2X")
	var d *bulut.Dyno
	waitFor(t, "a standard-2x web.1", func() bool {
		ds := e.dynos(ctx, app)
		if len(ds) != 1 || ds[0].State != bulut.DynoUp || ds[0].Size != bulut.SizeStandard2X {
			return false
		}
		d = ds[0]
		return true
	}, nil)
	if d.ID == old[0].ID || e.host.byID(d.ID).spec.Memory != 1<<30 {
		t.Fatalf("%+v", d)
	}
	if d.ReleaseVersion != 2 {
		t.Fatalf("v%d", d.ReleaseVersion)
	}
}

// Reconcile is cheap and safe to call often and concurrently.
func TestReconcileConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen", "worker": "run"})
	e.scale(ctx, app, "web=3", "worker=2")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				e.s.Reconcile(app.ID)
			}
		}()
	}
	wg.Wait()
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "web.3:up", "worker.1:up", "worker.2:up")
	if n := len(e.host.all()); n != 5 {
		t.Fatalf("%d dynos started, want 5", n)
	}
	e.s.Reconcile("")
	e.s.Reconcile(bulut.NewID())
	never(t, "a sixth dyno", 50*time.Millisecond, func() bool { return len(e.host.all()) > 5 })
}
