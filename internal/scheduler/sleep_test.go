package scheduler_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/scheduler"
)

// sleepTimings sleep apps after 300 ms without a request.
func sleepTimings(deep time.Duration) scheduler.Timings {
	t := testTimings()
	t.IdleTimeout = 300 * time.Millisecond
	t.DeepSleepAfter = deep
	return t
}

// sleepApp is echoApp with a listen backlog for 20 concurrent
// connections (Python's default is 5).
var sleepApp = strings.Replace(echoApp, "http.server.ThreadingHTTPServer((", "http.server.ThreadingHTTPServer.request_queue_size = 128\nhttp.server.ThreadingHTTPServer((", 1)

const tickWorker = `while :; do echo tick; sleep 0.02; done`

// wakeAndGet does what the router does for a request to a sleeping app:
// Wake, then a request to a routed web dyno.
func (e *env) wakeAndGet(app *bulut.App) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	e.s.Touch(app.ID)
	if rt, _ := e.routes.route(app.ID); rt.Asleep {
		if err := e.s.Wake(ctx, app.ID); err != nil {
			return "", err
		}
	}
	rt, _ := e.routes.route(app.ID)
	if len(rt.Backends) == 0 {
		return "", io.ErrUnexpectedEOF
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + rt.Backends[0] + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestLocalSleepFreezeAndWake(t *testing.T) {
	t.Parallel()
	e, blobs := localEnv(t, sleepTimings(-1))
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "sleepy")
	e.deploySlug(ctx, blobs, app, map[string]string{"web": "python3 app.py", "worker": tickWorker}, map[string]string{"app.py": sleepApp})
	e.scale(ctx, app, "worker=1")
	e.waitPS(ctx, app, "web.1:up", "worker.1:up")

	// Requests keep it awake.
	stop := time.Now().Add(700 * time.Millisecond)
	for time.Now().Before(stop) {
		if got, err := e.wakeAndGet(app); err != nil || got != "web.1 \n" {
			t.Fatalf("request: %q %v", got, err)
		}
		if rt, _ := e.routes.route(app.ID); rt.Asleep {
			t.Fatal("the app slept although it had requests")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Idle: web and worker sleep, frozen.
	e.waitPS(ctx, app, "web.1:idle", "worker.1:idle")
	e.waitRoute(app, "an asleep route", func(r bulut.Route) bool { return r.Asleep && len(r.Backends) == 0 })
	e.waitOutput(app, "web.1", "Idling", "State changed from up to idle")
	e.waitOutput(app, "worker.1", "Idling", "State changed from up to idle")
	time.Sleep(50 * time.Millisecond)
	ticks := count(e.output(app, "worker.1"), "tick")
	time.Sleep(300 * time.Millisecond)
	if n := count(e.output(app, "worker.1"), "tick"); n > ticks+1 {
		t.Errorf("the sleeping worker ran: %d ticks", n-ticks)
	}

	// One request wakes it.
	start := time.Now()
	if got, err := e.wakeAndGet(app); err != nil || got != "web.1 \n" {
		t.Fatalf("first wake: %q %v", got, err)
	}
	t.Logf("woke in %v", time.Since(start))
	e.waitPS(ctx, app, "web.1:idle", "worker.1:idle")

	// 20 concurrent requests wake it and all succeed.
	start = time.Now()
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := e.wakeAndGet(app); err != nil || got != "web.1 \n" {
				errs <- got + " " + errString(err)
			}
		}()
	}
	wg.Wait()
	t.Logf("20 requests during the wake answered in %v", time.Since(start))
	close(errs)
	for msg := range errs {
		t.Errorf("a request during the wake failed: %s", msg)
	}
	e.waitPS(ctx, app, "web.1:up", "worker.1:up")
	e.waitOutput(app, "web.1", "Idling", "Unidling", "State changed from idle to up")
	e.waitOutput(app, "worker.1", "Unidling", "State changed from idle to up")
	ticks = count(e.output(app, "worker.1"), "tick")
	waitFor(t, "the worker to run again", func() bool { return count(e.output(app, "worker.1"), "tick") > ticks+2 }, nil)

	// And it sleeps again.
	e.waitPS(ctx, app, "web.1:idle", "worker.1:idle")
	if got, err := e.wakeAndGet(app); err != nil || got != "web.1 \n" {
		t.Fatalf("second wake: %q %v", got, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestLocalDeepSleep(t *testing.T) {
	t.Parallel()
	// An idle timeout above the wake's requests: an app falls asleep again
	// that long after its last request began, answered or not.
	timings := sleepTimings(300 * time.Millisecond)
	timings.IdleTimeout = time.Second
	e, blobs := localEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "deep")
	e.deploySlug(ctx, blobs, app, map[string]string{"web": "python3 app.py"}, map[string]string{"app.py": sleepApp})
	// Up, idle, then stopped: still listed idle, the route still asleep.
	e.waitOutput(app, "web.1", "State changed from starting to up", "State changed from up to idle",
		"Stopping all processes with SIGTERM", "State changed from idle to down")
	e.waitPS(ctx, app, "web.1:idle")
	if rt, _ := e.routes.route(app.ID); !rt.Asleep {
		t.Fatalf("route %+v, want asleep", rt)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := e.wakeAndGet(app); err != nil || got != "web.1 \n" {
				t.Errorf("a request during the wake: %q %v", got, err)
			}
		}()
	}
	wg.Wait()
	// Started again (ps may say idle again already: the app sleeps on).
	e.waitOutput(app, "web.1", "State changed from idle to down", "Starting process", "State changed from starting to up")
}

func TestLocalOtherSizesNeverSleep(t *testing.T) {
	t.Parallel()
	e, blobs := localEnv(t, sleepTimings(-1))
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "awake")
	e.deploySlug(ctx, blobs, app, map[string]string{"web": "python3 app.py"}, map[string]string{"app.py": sleepApp})
	e.scale(ctx, app, "web=1:basic")
	e.waitPS(ctx, app, "web.1:up")
	time.Sleep(200 * time.Millisecond) // a replaced dyno settles
	e.waitPS(ctx, app, "web.1:up")
	never(t, "a basic app slept", time.Second, func() bool {
		rt, _ := e.routes.route(app.ID)
		return rt.Asleep || strings.Contains(strings.Join(e.ps(ctx, app), " "), "idle")
	})
}

// A dyno stopped by a deep sleep is still listed, idle since it went to
// sleep, with its name, command, size and release, until the app wakes
// (on the fake runtime, which can't freeze, dynos are stopped at once).
func TestDeepSleepListsIdleDynos(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sleepTimings(time.Hour))
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "deep-ps")
	rel := e.deploy(ctx, app, webWorker)
	e.scale(ctx, app, "web=2", "worker=1")
	up := e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up")
	e.waitPS(ctx, app, "web.1:idle", "web.2:idle", "worker.1:idle")
	waitFor(t, "the sleeping dynos to be stopped", func() bool { return len(e.host.running()) == 0 }, nil)
	e.waitOutput(app, "web.1", "State changed from up to idle", "Stopping all processes with SIGTERM")

	ds := e.waitPS(ctx, app, "web.1:idle", "web.2:idle", "worker.1:idle")
	for i, d := range ds {
		if d.ID != up[i].ID || d.AppID != app.ID || d.AppName != app.Name || d.Type != up[i].Type ||
			d.Size != bulut.SizeFree || d.ReleaseID != rel.ID || d.ReleaseVersion != rel.Version {
			t.Errorf("%s: %+v, was %+v", d.Name, d, up[i])
		}
		if want := webWorker[d.Type]; d.Command != want {
			t.Errorf("%s: command %q, want %q", d.Name, d.Command, want)
		}
		if d.UpdatedAt.Before(up[i].UpdatedAt) || d.UpdatedAt.After(time.Now()) {
			t.Errorf("%s: idle since %v, up since %v", d.Name, d.UpdatedAt, up[i].UpdatedAt)
		}
	}
	if rt, _ := e.routes.route(app.ID); !rt.Asleep || len(rt.Backends) != 0 {
		t.Fatalf("route %+v, want asleep", rt)
	}
	for _, ref := range []string{"web.2", ds[1].ID} {
		d, err := e.s.FindDyno(ctx, app.ID, ref)
		if err != nil || d.Name != "web.2" || d.State != bulut.DynoIdle || !d.UpdatedAt.Equal(ds[1].UpdatedAt) {
			t.Errorf("FindDyno(%s) = %+v, %v", ref, d, err)
		}
	}
	// Stopping a sleeping dyno: it is stopped already; restarting one
	// applies when the app wakes.
	if err := e.s.StopDyno(ctx, app.ID, "web.1"); err != nil {
		t.Errorf("StopDyno of a sleeping dyno: %v", err)
	}
	if err := e.s.RestartDynos(ctx, app.ID, "web.2"); err != nil {
		t.Errorf("RestartDynos of a sleeping dyno: %v", err)
	}
	e.waitPS(ctx, app, "web.1:idle", "web.2:idle", "worker.1:idle")

	// A request wakes it: new dynos, up and routed.
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := e.s.Wake(wctx, app.ID); err != nil {
		t.Fatal(err)
	}
	rt, _ := e.routes.route(app.ID)
	if rt.Asleep || len(rt.Backends) == 0 {
		t.Fatalf("route after the wake: %+v", rt)
	}
	get(t, rt.Backends[0])
	woke := e.waitPS(ctx, app, "web.1:up", "web.2:up", "worker.1:up")
	for i, d := range woke {
		if d.ID == up[i].ID {
			t.Errorf("%s kept its ID through a deep sleep", d.Name)
		}
	}
	if len(e.host.running()) != 3 {
		t.Errorf("%d dynos run after the wake, want 3", len(e.host.running()))
	}
}
