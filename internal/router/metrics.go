package router

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulut-bulut/bulut/internal/promtext"
)

// latencyBuckets are the upper bounds, in seconds, of the request
// duration histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

type seriesKey struct {
	app    string
	status int
}

type series struct {
	count   atomic.Uint64
	sumNs   atomic.Int64
	buckets []atomic.Uint64 // per bucket (not cumulative); the last is +Inf
}

// metrics counts requests and their durations per app and status.
type metrics struct {
	series sync.Map // seriesKey -> *series
}

func (m *metrics) observe(app string, status int, d time.Duration) {
	k := seriesKey{app, status}
	v, ok := m.series.Load(k)
	if !ok {
		v, _ = m.series.LoadOrStore(k, &series{buckets: make([]atomic.Uint64, len(latencyBuckets)+1)})
	}
	s := v.(*series)
	s.count.Add(1)
	s.sumNs.Add(int64(d))
	secs := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, secs)
	s.buckets[i].Add(1)
}

// WriteMetrics writes the router's metrics in Prometheus's text format:
// bulut_router_requests_total and bulut_router_request_duration_seconds,
// by app and status.
func (rt *Router) WriteMetrics(w io.Writer) {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriter(w)
		defer bw.Flush()
	}
	rt.metrics.write(bw)
}

func (m *metrics) write(w *bufio.Writer) {
	type entry struct {
		k seriesKey
		s *series
	}
	var all []entry
	m.series.Range(func(k, v any) bool {
		all = append(all, entry{k.(seriesKey), v.(*series)})
		return true
	})
	slices.SortFunc(all, func(a, b entry) int {
		if c := strings.Compare(a.k.app, b.k.app); c != 0 {
			return c
		}
		return a.k.status - b.k.status
	})
	pairs := func(e entry) []string { return []string{"app", e.k.app, "status", strconv.Itoa(e.k.status)} }
	promtext.Family(w, "bulut_router_requests_total", "counter", "Requests answered by the router, by app and status.")
	for _, e := range all {
		promtext.Sample(w, "bulut_router_requests_total", promtext.Labels(pairs(e)...), float64(e.s.count.Load()))
	}
	promtext.Family(w, "bulut_router_request_duration_seconds", "histogram", "Time from a request's arrival at the router to the end of its response.")
	for _, e := range all {
		var cum uint64
		for i := range e.s.buckets {
			cum += e.s.buckets[i].Load()
			le := "+Inf"
			if i < len(latencyBuckets) {
				le = promtext.FormatValue(latencyBuckets[i])
			}
			promtext.Sample(w, "bulut_router_request_duration_seconds_bucket", promtext.Labels(append(pairs(e), "le", le)...), float64(cum))
		}
		labels := promtext.Labels(pairs(e)...)
		promtext.Sample(w, "bulut_router_request_duration_seconds_sum", labels, float64(e.s.sumNs.Load())/1e9)
		promtext.Sample(w, "bulut_router_request_duration_seconds_count", labels, float64(cum))
	}
}
