package server

import (
	"bufio"
	"net/http"

	"github.com/bulut-bulut/bulut/internal/builder"
	"github.com/bulut-bulut/bulut/internal/promtext"
	"github.com/bulut-bulut/bulut/internal/router"
	"github.com/bulut-bulut/bulut/internal/scheduler"
)

// metricsHandler serves the platform's Prometheus metrics, each family
// written by the component it counts, in the order of their names:
// builds (bulut_build_duration_seconds, bulut_builds_running,
// bulut_builds_total), dynos (bulut_dynos), then requests
// (bulut_router_*).
func metricsHandler(b *builder.Builder, s *scheduler.Scheduler, rt *router.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", promtext.ContentType)
		bw := bufio.NewWriter(w)
		defer bw.Flush()
		b.WriteMetrics(bw)
		s.WriteMetrics(bw)
		rt.WriteMetrics(bw)
	})
}
