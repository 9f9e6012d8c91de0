package scheduler_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// goApp is a web app in Go that answers its $DYNO.
const goApp = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(os.Getenv("DYNO"))) })
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`

var goAppBinary = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "bulut-bench-app-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goApp), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module app\n\ngo 1.22\n"), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "build", "-o", "app", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-trimpath")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, &exec.Error{Name: string(out), Err: err}
	}
	return os.ReadFile(filepath.Join(dir, "app"))
})

// leanInit builds testdata/dynoinit, an init without the server's
// packages: the test binary as init pays their package initialisation
// (internal/secret's bcrypt hash alone takes ~70 ms) at every dyno start.
var leanInit = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "bulut-bench-init-")
	if err != nil {
		return "", err
	}
	leanInitDir = dir
	bin := filepath.Join(dir, "dynoinit")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/dynoinit")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.Error{Name: string(out), Err: err}
	}
	return bin, nil
})

// leanInitDir is removed by TestMain.
var leanInitDir string

// benchApp deploys the Go app (at web=0) with the local runtime.
func benchApp(b *testing.B) (*env, context.Context, *bulut.App, chan bulut.Route) {
	b.Helper()
	bin, err := goAppBinary()
	if err != nil {
		b.Fatal(err)
	}
	init, err := leanInit()
	if err != nil {
		b.Fatal(err)
	}
	timings := testTimings()
	timings.StopGrace = 2 * time.Second
	e, blobs := localEnvInit(b, timings, []string{"env", runMarker, init})
	routes := make(chan bulut.Route, 1024)
	e.routes.mu.Lock()
	e.routes.notify = routes
	e.routes.mu.Unlock()
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "bench-app")
	e.deploySlug(ctx, blobs, app, map[string]string{"web": "bin/app"}, map[string]string{"bin/app": string(bin)})
	e.scale(ctx, app, "web=0")
	e.waitPS(ctx, app)
	return e, ctx, app, routes
}

// waitBackends waits for a route of the app with n backends.
func waitBackends(b *testing.B, routes chan bulut.Route, appID string, n int) {
	b.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case rt := <-routes:
			if rt.AppID == appID && len(rt.Backends) == n {
				return
			}
		case <-timeout:
			b.Fatalf("no route with %d backends", n)
		}
	}
}

// scaleNow updates the formation, then starts the clock and tells the
// scheduler: what is timed is the scheduler and the runtime, not the
// store's write.
func scaleNow(b *testing.B, e *env, ctx context.Context, app *bulut.App, n int) time.Time {
	b.Helper()
	if _, err := e.svc.Formations.UpdateFormation(ctx, app.ID, []bulut.FormationUpdate{{Type: "web", Quantity: &n}}); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	e.s.Reconcile(app.ID)
	return t0
}

// BenchmarkLocalStartToUp times one Go web dyno from Reconcile to routed
// (its port answers): p50 and p95 over the iterations.
func BenchmarkLocalStartToUp(b *testing.B) {
	e, ctx, app, routes := benchApp(b)
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := scaleNow(b, e, ctx, app, 1)
		waitBackends(b, routes, app.ID, 1)
		times = append(times, time.Since(t0))
		b.StopTimer()
		scaleNow(b, e, ctx, app, 0)
		waitBackends(b, routes, app.ID, 0)
		e.waitPS(ctx, app)
		b.StartTimer()
	}
	reportPercentiles(b, times)
}

// BenchmarkLocalScale0To10 times web=0 -> 10 until all ten are routed.
func BenchmarkLocalScale0To10(b *testing.B) {
	e, ctx, app, routes := benchApp(b)
	var times []time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := scaleNow(b, e, ctx, app, 10)
		waitBackends(b, routes, app.ID, 10)
		times = append(times, time.Since(t0))
		b.StopTimer()
		scaleNow(b, e, ctx, app, 0)
		waitBackends(b, routes, app.ID, 0)
		e.waitPS(ctx, app)
		b.StartTimer()
	}
	reportPercentiles(b, times)
}

// BenchmarkLocalMemoryPerDyno reports the server's heap and stacks per
// running dyno (the scheduler's and the runtime's), with 50 dynos up.
func BenchmarkLocalMemoryPerDyno(b *testing.B) {
	e, ctx, app, routes := benchApp(b)
	const n = 50
	used := func() uint64 {
		goruntime.GC()
		var m goruntime.MemStats
		goruntime.ReadMemStats(&m)
		return m.HeapAlloc + m.StackInuse
	}
	var per []float64
	for range b.N {
		before := used()
		scaleNow(b, e, ctx, app, n)
		waitBackends(b, routes, app.ID, n)
		after := used()
		per = append(per, float64(int64(after)-int64(before))/n)
		scaleNow(b, e, ctx, app, 0)
		waitBackends(b, routes, app.ID, 0)
		e.waitPS(ctx, app)
	}
	slices.Sort(per)
	b.ReportMetric(per[len(per)/2], "B/dyno")
}

func reportPercentiles(b *testing.B, times []time.Duration) {
	slices.Sort(times)
	p := func(q float64) float64 {
		return float64(times[min(len(times)-1, int(q*float64(len(times))))].Microseconds()) / 1000
	}
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.95), "p95-ms")
	b.ReportMetric(0, "ns/op")
}
