package builder_test

import (
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut/internal/promtext"
)

// metrics scrapes the builder: each sample's value by name and labels.
func (e *env) metrics() (map[string]float64, string) {
	e.t.Helper()
	var b strings.Builder
	e.b.WriteMetrics(&b)
	samples, err := promtext.Samples(b.String())
	if err != nil {
		e.t.Fatal(err)
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
	done, _ := e.gatedBuild("")
	e.wantMetrics(map[string]float64{`bulut_builds_running`: 1, `bulut_build_duration_seconds_count`: 2})
	e.openGate(e.lastBuild().ID)
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
