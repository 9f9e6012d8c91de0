package builder

import (
	"io"
	"sync"
	"time"

	"github.com/bulut-bulut/bulut/internal/promtext"
)

// durationBuckets are the upper bounds, in seconds, of the build
// duration histogram: builds take seconds to minutes (15 at most by
// default).
var durationBuckets = []float64{1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800}

// stats counts builds for the metrics.
type stats struct {
	mu        sync.Mutex
	running   int
	succeeded uint64
	failed    uint64              // canceled builds too
	durations *promtext.Histogram // set by New
}

// started counts a build that began; the caller calls finished.
func (st *stats) started() time.Time {
	st.mu.Lock()
	st.running++
	st.mu.Unlock()
	return time.Now()
}

// finished counts a build that ended.
func (st *stats) finished(began time.Time, ok bool) {
	took := time.Since(began).Seconds()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.running--
	if ok {
		st.succeeded++
	} else {
		st.failed++
	}
	st.durations.Observe(took)
}

// WriteMetrics writes the builder's metrics in the Prometheus text
// format: bulut_build_duration_seconds (a histogram of finished builds),
// bulut_builds_running and bulut_builds_total by status (succeeded or
// failed), counted since the server started.
func (b *Builder) WriteMetrics(w io.Writer) {
	st := &b.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	promtext.Family(w, "bulut_build_duration_seconds", "histogram", "Time builds took, from their start to their release or failure.")
	st.durations.Write(w, "bulut_build_duration_seconds")
	promtext.Family(w, "bulut_builds_running", "gauge", "Builds running.")
	promtext.Sample(w, "bulut_builds_running", "", float64(st.running))
	promtext.Family(w, "bulut_builds_total", "counter", "Builds finished, by status (a canceled build failed).")
	promtext.Sample(w, "bulut_builds_total", promtext.Labels("status", "failed"), float64(st.failed))
	promtext.Sample(w, "bulut_builds_total", promtext.Labels("status", "succeeded"), float64(st.succeeded))
}
