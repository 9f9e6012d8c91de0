package builder_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// metrics scrapes the builder: each sample's value by name and labels.
func (e *env) metrics() (map[string]float64, string) {
	e.t.Helper()
	var b strings.Builder
	e.b.WriteMetrics(&b)
	samples := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		series, value, ok := strings.Cut(l, " ")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			e.t.Fatalf("bad sample line %q", l)
		}
		samples[series] = v
	}
	return samples, b.String()
}

func (e *env) wantMetrics(want map[string]float64) map[string]float64 {
	e.t.Helper()
	samples, text := e.metrics()
	for series, n := range want {
		if got, ok := samples[series]; !ok || got != n {
			e.t.Errorf("%s = %v (present: %v), want %v\n%s", series, got, ok, n, text)
		}
	}
	return samples
}

func TestWriteMetrics(t *testing.T) {
	e := newEnv(t)
	samples := e.wantMetrics(map[string]float64{
		`bulut_builds_running`:                           0,
		`bulut_builds_total{status="succeeded"}`:         0,
		`bulut_builds_total{status="failed"}`:            0,
		`bulut_build_duration_seconds_count`:             0,
		`bulut_build_duration_seconds_bucket{le="+Inf"}`: 0,
		`bulut_build_duration_seconds_bucket{le="1800"}`: 0,
		`bulut_build_duration_seconds_sum`:               0,
	})
	_, text := e.metrics()
	for _, family := range []string{
		"# TYPE bulut_build_duration_seconds histogram\n",
		"# TYPE bulut_builds_running gauge\n",
		"# TYPE bulut_builds_total counter\n",
	} {
		if !strings.Contains(text, family) {
			t.Errorf("no %q in\n%s", family, text)
		}
	}
	if len(samples) != 18 { // 12 bounds and +Inf, sum, count, running, 2 totals
		t.Errorf("%d samples:\n%s", len(samples), text)
	}

	e.mustDeploy(files{"Procfile": "web: true\n"})
	if _, _, err := e.deploy(files{"README.md": "nothing to run"}); err == nil {
		t.Fatal("a build without a buildpack succeeded")
	}
	e.wantMetrics(map[string]float64{
		`bulut_builds_running`:                           0,
		`bulut_builds_total{status="succeeded"}`:         1,
		`bulut_builds_total{status="failed"}`:            1,
		`bulut_build_duration_seconds_count`:             2,
		`bulut_build_duration_seconds_bucket{le="+Inf"}`: 2,
	})

	// A build waiting for the test: running.
	bp := writeBuildpack(t, t.TempDir(), map[string]string{
		"detect":  `echo Gated`,
		"compile": `echo "       before the gate"; while [ ! -f /tmp/gate/open ]; do sleep 0.01; done`,
	})
	e.svc.Buildpacks.SetBuildpacks(e.ctx, e.app.ID, []string{bp})
	done := make(chan string)
	var out syncBuffer
	go func() {
		_, err := e.b.Deploy(e.ctx, bulut.Deploy{App: e.app, Commit: "abcdef0123", Source: files{"Procfile": "web: true"}.source()}, &out)
		done <- fmt.Sprint(err)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "before the gate") {
		if time.Now().After(deadline) {
			t.Fatalf("no output: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.wantMetrics(map[string]float64{`bulut_builds_running`: 1, `bulut_build_duration_seconds_count`: 2})
	tmp := filepath.Join(e.dir, "data", "builds", e.lastBuild().ID, "root", "tmp")
	if err := os.MkdirAll(filepath.Join(tmp, "gate"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tmp, "gate", "open"), nil, 0o644)
	if err := <-done; err != "<nil>" {
		t.Fatal(err)
	}
	samples = e.wantMetrics(map[string]float64{
		`bulut_builds_running`:                   0,
		`bulut_builds_total{status="succeeded"}`: 2,
		`bulut_builds_total{status="failed"}`:    1,
		`bulut_build_duration_seconds_count`:     3,
	})
	if samples[`bulut_build_duration_seconds_sum`] <= 0 {
		t.Errorf("duration sum %v", samples[`bulut_build_duration_seconds_sum`])
	}
}
