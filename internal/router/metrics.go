package router

import (
	"bufio"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// Metrics returns the Prometheus text-format handler of the router's
// metrics: bulut_router_requests_total and
// bulut_router_request_duration_seconds, by app and status.
func (rt *Router) Metrics() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		defer bw.Flush()
		rt.metrics.write(bw)
	})
}

// WriteMetrics writes the router's metrics (those Metrics serves) to w,
// for a handler that serves them with other components' metrics.
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
	labels := func(e entry) string {
		return `app="` + escapeLabel(e.k.app) + `",status="` + strconv.Itoa(e.k.status) + `"`
	}
	w.WriteString("# HELP bulut_router_requests_total Requests answered by the router, by app and status.\n")
	w.WriteString("# TYPE bulut_router_requests_total counter\n")
	for _, e := range all {
		w.WriteString("bulut_router_requests_total{" + labels(e) + "} " + strconv.FormatUint(e.s.count.Load(), 10) + "\n")
	}
	w.WriteString("# HELP bulut_router_request_duration_seconds Time from a request's arrival at the router to the end of its response.\n")
	w.WriteString("# TYPE bulut_router_request_duration_seconds histogram\n")
	for _, e := range all {
		l := labels(e)
		var cum uint64
		for i := range e.s.buckets {
			cum += e.s.buckets[i].Load()
			le := "+Inf"
			if i < len(latencyBuckets) {
				le = strconv.FormatFloat(latencyBuckets[i], 'g', -1, 64)
			}
			w.WriteString("bulut_router_request_duration_seconds_bucket{" + l + `,le="` + le + `"} ` + strconv.FormatUint(cum, 10) + "\n")
		}
		sum := float64(e.s.sumNs.Load()) / 1e9
		w.WriteString("bulut_router_request_duration_seconds_sum{" + l + "} " + strconv.FormatFloat(sum, 'g', -1, 64) + "\n")
		w.WriteString("bulut_router_request_duration_seconds_count{" + l + "} " + strconv.FormatUint(cum, 10) + "\n")
	}
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
