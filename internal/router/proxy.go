package router

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"time"
)

type backendKey struct{}

// newProxy returns the reverse proxy to dynos: the backend chosen for a
// request travels in its context; connections to dynos are reused.
func (rt *Router) newProxy() *httputil.ReverseProxy {
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ForceAttemptHTTP2:     false,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = pr.In.Context().Value(backendKey{}).(string)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			rt.log.Warn("proxy", "host", r.Host, "backend", r.Context().Value(backendKey{}), "error", err)
			rt.page(w, http.StatusServiceUnavailable, "application-error", nil)
		},
	}
}

// pick chooses a backend at random.
func pick(backends []string) string {
	return backends[rand.IntN(len(backends))]
}
