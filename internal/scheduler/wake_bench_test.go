package scheduler_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// TestLocalWakeTime measures (BULUT_WAKE_BENCH=1; bench/wake.sh) the
// wake time of sleeping apps with real dynos: from the request (Wake)
// to the first byte of its answer, from each tier, for a Go app and a
// gunicorn (Flask) app, against their boot time (deploy to first byte).
func TestLocalWakeTime(t *testing.T) {
	if os.Getenv("BULUT_WAKE_BENCH") != "1" {
		t.Skip("a benchmark: BULUT_WAKE_BENCH=1")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	os.WriteFile(src, []byte(`package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(os.Getenv("DYNO"))) })
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`), 0o644)
	bin := filepath.Join(dir, "app")
	if out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v %s", err, out)
	}
	binary, _ := os.ReadFile(bin)
	apps := []struct {
		name    string
		command string
		files   map[string]string
	}{
		{"go", "bin/app", map[string]string{"bin/app": string(binary)}},
		{"gunicorn", "/usr/bin/python3 -m gunicorn -b 0.0.0.0:$PORT app:app", map[string]string{"app.py": `from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return "hello"
`}},
	}
	for _, ap := range apps {
		t.Run(ap.name, func(t *testing.T) {
			// The idle timeout is longer than a wake (gunicorn's boot): an
			// app falls asleep again that long after its last request
			// began (Touch), even with that request still waiting.
			timings := sleepTimings(time.Second)
			timings.IdleTimeout = 2 * time.Second
			e, blobs := localEnv(t, timings)
			ctx := e.account("alice@example.com")
			app := e.app(ctx, "wake-"+ap.name)
			start := time.Now()
			e.deploySlug(ctx, blobs, app, map[string]string{"web": ap.command}, ap.files)
			waitFor(t, "the first answer", func() bool { _, err := e.wakeAndGet(app); return err == nil }, nil)
			boot := time.Since(start)
			var frozen, stopped []time.Duration
			for range 7 {
				e.waitPS(ctx, app, "web.1:idle")
				frozen = append(frozen, timeWake(t, e, app))
				e.waitPS(ctx, app, "web.1:idle")
				// Deep asleep: stopped (still listed idle).
				downs := count(e.output(app, "web.1"), "State changed from idle to down")
				waitFor(t, "the deep sleep", func() bool { return count(e.output(app, "web.1"), "State changed from idle to down") > downs }, nil)
				stopped = append(stopped, timeWake(t, e, app))
			}
			own := directBoot(t, ap.command, ap.files)
			fmt.Printf("%-8s boot (deploy to first byte) %8.1f ms; the app's own boot (on the host) %6.1f ms\n", ap.name, ms(boot), ms(own))
			fmt.Printf("%-8s wake, frozen  (first byte)  p50 %8.2f ms  max %8.2f ms\n", ap.name, ms(p50(frozen)), ms(slices.Max(frozen)))
			fmt.Printf("%-8s wake, stopped (first byte)  p50 %8.2f ms  max %8.2f ms  (p50 added to its own boot: %6.1f ms)\n", ap.name, ms(p50(stopped)), ms(slices.Max(stopped)), ms(p50(stopped)-own))
		})
	}
}

// timeWake times one request to a sleeping app, as the router serves
// it: Wake, then the first byte of the dyno's answer.
func timeWake(t *testing.T, e *env, app *bulut.App) time.Duration {
	t.Helper()
	start := time.Now()
	rt, _ := e.routes.route(app.ID)
	if !rt.Asleep {
		t.Fatalf("route %+v: not asleep", rt)
	}
	if err := e.s.Wake(t.Context(), app.ID); err != nil {
		t.Fatal(err)
	}
	rt, _ = e.routes.route(app.ID)
	if len(rt.Backends) == 0 {
		t.Fatalf("woken route %+v", rt)
	}
	resp, err := http.Get("http://" + rt.Backends[0] + "/")
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return d
}

// directBoot is the app's own boot time: its command started on the host,
// to the first byte of an answer (p50 of 5).
func directBoot(t *testing.T, command string, files map[string]string) time.Duration {
	dir := t.TempDir()
	for name, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755)
	}
	var ds []time.Duration
	for i := range 5 {
		port := fmt.Sprint(29000 + i)
		cmd := exec.Command("bash", "-c", "exec "+command)
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "PORT="+port)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for {
			resp, err := http.Get("http://127.0.0.1:" + port + "/")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Since(start) > 20*time.Second {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		ds = append(ds, time.Since(start))
		cmd.Process.Kill()
		cmd.Wait()
	}
	return p50(ds)
}

func p50(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
