package scheduler_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/promtext"
	"github.com/bulut-bulut/bulut/internal/scheduler"
)

// bootingTimings keep a web dyno that never listens starting.
func bootingTimings() scheduler.Timings {
	t := testTimings()
	t.BootTimeout = time.Hour
	return t
}

// metrics scrapes the scheduler: each sample's value by name and labels,
// and the lines in order.
func (e *env) metrics() (map[string]float64, []string) {
	e.t.Helper()
	var b strings.Builder
	e.s.WriteMetrics(&b)
	samples, err := promtext.Samples(b.String())
	if err != nil {
		e.t.Fatal(err)
	}
	return samples, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// wantDynos checks bulut_dynos samples: "app type state" -> count.
func wantDynos(t *testing.T, samples map[string]float64, want map[string]float64) {
	t.Helper()
	for k, n := range want {
		f := strings.Fields(k)
		series := `bulut_dynos{app="` + f[0] + `",type="` + f[1] + `",state="` + f[2] + `"}`
		got, ok := samples[series]
		if !ok {
			t.Errorf("no sample %s", series)
		} else if got != n {
			t.Errorf("%s = %v, want %v", series, got, n)
		}
	}
}

func TestWriteMetricsDynos(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bootingTimings())
	ctx := e.account("alice@example.com")
	busy := e.app(ctx, "busy")
	e.deploy(ctx, busy, webWorker)
	e.scale(ctx, busy, "web=2", "worker=1")
	e.waitPS(ctx, busy, "web.1:up", "web.2:up", "worker.1:up")
	run, err := e.s.RunDyno(ctx, busy.Name, bulut.DynoRun{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, busy, run.Name+":up", "web.1:up", "web.2:up", "worker.1:up")
	booting := e.app(ctx, "booting")
	e.deploy(ctx, booting, map[string]string{"web": "print booting"})
	e.waitPS(ctx, booting, "web.1:starting")
	broken := e.app(ctx, "broken")
	e.deploy(ctx, broken, map[string]string{"web": "exit 1"})
	e.waitPS(ctx, broken, "web.1:crashed")
	e.app(ctx, "never-deployed")

	samples, lines := e.metrics()
	wantDynos(t, samples, map[string]float64{
		"busy web up": 2, "busy web starting": 0, "busy web crashed": 0, "busy web idle": 0, "busy web stopping": 0,
		"busy worker up": 1, "busy run up": 1,
		"booting web starting": 1, "booting web up": 0,
		"broken web crashed": 1, "broken web up": 0,
	})
	for k := range samples {
		if strings.Contains(k, "never-deployed") {
			t.Errorf("a sample for an app without dynos: %s", k)
		}
	}
	if lines[0] != "# HELP bulut_dynos Dynos by app, process type and state (idle: asleep, frozen or stopped; stopping: being stopped)." ||
		lines[1] != "# TYPE bulut_dynos gauge" {
		t.Errorf("family header:\n%s", strings.Join(lines[:2], "\n"))
	}
	// Sorted by app and type (states in a fixed order within).
	var order []string
	for _, l := range lines[2:] {
		at := strings.Index(l, `,state=`)
		if at < 0 {
			t.Fatalf("line %q", l)
		}
		if k := l[:at]; len(order) == 0 || order[len(order)-1] != k {
			order = append(order, k)
		}
	}
	if !slices.IsSorted(order) || len(order) != 5 {
		t.Errorf("series not sorted or missing:\n%s", strings.Join(order, "\n"))
	}

	// Stopped: the series stay, at zero.
	e.scale(ctx, busy, "web=0", "worker=0")
	if err := e.s.StopDyno(ctx, busy.Name, run.Name); err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, busy)
	samples, _ = e.metrics()
	wantDynos(t, samples, map[string]float64{"busy web up": 0, "busy worker up": 0, "busy web stopping": 0})
}

func TestWriteMetricsIdle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		deep time.Duration
	}{
		// The fake runtime can't freeze: its dynos are stopped at once
		// (deep sleep), unless deep sleep is off.
		{"asleep", -1},
		{"deep", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sleepTimings(tc.deep))
			ctx := e.account("alice@example.com")
			app := e.app(ctx, "sleepy")
			e.deploy(ctx, app, webWorker)
			e.scale(ctx, app, "worker=1")
			e.waitRoute(app, "an asleep route", func(r bulut.Route) bool { return r.Asleep })
			e.waitPS(ctx, app, "web.1:idle", "worker.1:idle")
			if tc.deep > 0 {
				waitFor(t, "the dynos to be stopped", func() bool { return len(e.host.running()) == 0 }, nil)
			}
			samples, _ := e.metrics()
			wantDynos(t, samples, map[string]float64{
				"sleepy web idle": 1, "sleepy worker idle": 1, "sleepy web up": 0, "sleepy worker up": 0, "sleepy web stopping": 0,
			})
		})
	}
}

func TestStarting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bootingTimings())
	ctx := e.account("alice@example.com")
	if e.s.Starting(bulut.NewID()) {
		t.Error("an unknown app is starting")
	}
	app := e.app(ctx, "slow")
	if e.s.Starting(app.ID) {
		t.Error("a never deployed app is starting")
	}
	e.deploy(ctx, app, map[string]string{"web": "print booting"})
	e.waitPS(ctx, app, "web.1:starting")
	if !e.s.Starting(app.ID) {
		t.Error("a booting web dyno: not starting")
	}
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.waitPS(ctx, app, "web.1:up")
	if e.s.Starting(app.ID) {
		t.Error("an up web dyno: starting")
	}
	// A new release booting while the old one serves: the router has a
	// backend, nothing to wait for.
	e.deploy(ctx, app, map[string]string{"web": "print booting again"})
	e.waitPS(ctx, app, "web.1:up", "web.1:starting")
	if e.s.Starting(app.ID) {
		t.Error("an up web dyno and a new one booting: starting")
	}

	// Crashed, or only workers booting: not starting.
	broken := e.app(ctx, "broken")
	e.deploy(ctx, broken, map[string]string{"web": "exit 1"})
	e.waitPS(ctx, broken, "web.1:crashed")
	if e.s.Starting(broken.ID) {
		t.Error("a crashed web dyno: starting")
	}
	workers := e.app(ctx, "workers")
	e.deploy(ctx, workers, map[string]string{"web": "listen", "worker": "run"})
	e.scale(ctx, workers, "web=0", "worker=1")
	e.waitPS(ctx, workers, "worker.1:up")
	if e.s.Starting(workers.ID) {
		t.Error("an app without web dynos: starting")
	}
}
