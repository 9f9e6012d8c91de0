package router

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"time"
)

type (
	backendKey    struct{}
	requestLogKey struct{}
)

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
			if l, ok := pr.In.Context().Value(requestLogKey{}).(*requestLog); ok {
				pr.Out = pr.Out.WithContext(httptrace.WithClientTrace(pr.Out.Context(), &httptrace.ClientTrace{
					GotConn: func(httptrace.GotConnInfo) { l.connect = time.Since(l.start) },
				}))
			}
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			rt.log.Warn("proxy", "host", r.Host, "backend", r.Context().Value(backendKey{}), "error", err)
			if l, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
				l.code = codeBackend
			}
			rt.page(w, http.StatusServiceUnavailable, "application-error", nil)
		},
	}
}
