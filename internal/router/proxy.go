package router

import (
	"context"
	"errors"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bulut-bulut/bulut"
)

type stateKey struct{}

// Why a request's context was cancelled by the router's timers.
var (
	errFirstByte  = errors.New("router: no response within the request timeout")
	errIdle       = errors.New("router: connection idle")
	errRestricted = errors.New("router: response over Heroku's limits")
)

// Heroku's response limits (heroku-reference 1.4): 502 and H25 beyond.
const (
	maxSetCookie          = 8192
	maxResponseHeaderLine = 512 << 10
)

// proxyState is one request's passage through the proxy.
type proxyState struct {
	rt      *Router
	l       *requestLog
	backend string
	cancel  context.CancelCauseFunc

	retry    bool   // a connect failure: try another dyno
	dialCode string // H19 or H21 for the last connect failure

	mu    sync.Mutex
	timer *time.Timer // first byte, then idle

	fired         atomic.Int32 // 1: first byte, 2: idle backend, 3: idle client
	clientReading atomic.Bool
	bodyRead      atomic.Int64
}

func (s *proxyState) arm(d time.Duration, why int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(d, func() {
		if why == 2 && s.clientReading.Load() {
			why = 3
		}
		if s.fired.CompareAndSwap(0, why) {
			if why == 1 {
				s.cancel(errFirstByte)
			} else {
				s.cancel(errIdle)
			}
		}
	})
}

// touch restarts the idle window.
func (s *proxyState) touch() {
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Reset(s.rt.cfg.IdleTimeout)
	}
	s.mu.Unlock()
}

func (s *proxyState) stop() {
	s.mu.Lock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
}

// forward proxies a request to one of the route's dynos, trying others
// (Heroku: at most 10 attempts) when a dyno refuses or times out the
// connection; those are skipped for Config.Quarantine.
func (rt *Router) forward(w *recorder, r *http.Request, app *bulut.App, l *requestLog) {
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	s := &proxyState{rt: rt, l: l, cancel: cancel}
	defer s.stop()
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &clientBody{ReadCloser: r.Body, s: s}
	}
	defer func() {
		switch s.fired.Load() {
		case 2:
			l.fail(codeIdle, http.StatusServiceUnavailable)
		case 3:
			l.fail(codeClientIdle, 499)
		}
	}()
	r = r.WithContext(context.WithValue(ctx, stateKey{}, s))
	deadline := l.start.Add(rt.cfg.BootTimeout)
	backoff := 10 * time.Millisecond
	for attempts := 0; ; {
		route := rt.route(app.ID)
		if len(route.Backends) == 0 {
			l.fail(codeNoWeb, http.StatusServiceUnavailable)
			if route.Crashed {
				l.fail(codeAppCrashed, http.StatusServiceUnavailable)
			}
			rt.page(w, http.StatusServiceUnavailable, "application-error", nil)
			return
		}
		i := rt.pick(route.Backends)
		if i < 0 {
			// Every dyno is quarantined: look again with a backoff, up to
			// the connect budget (Heroku: 75 s, then H99).
			if time.Now().Add(backoff).After(deadline) {
				l.fail(codePlatform, http.StatusServiceUnavailable)
				rt.page(w, http.StatusServiceUnavailable, "application-error", nil)
				return
			}
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				l.clientGone()
				w.WriteHeader(499)
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		s.backend, s.retry = route.Backends[i], false
		l.dyno = ""
		if i < len(route.Dynos) {
			l.dyno = route.Dynos[i]
		}
		rt.proxy.ServeHTTP(w, r)
		if !s.retry {
			return
		}
		if attempts++; attempts >= min(10, len(route.Backends)) {
			l.fail(s.dialCode, http.StatusServiceUnavailable)
			rt.page(w, http.StatusServiceUnavailable, "application-error", nil)
			return
		}
	}
}

// pick returns the index of a random backend not in quarantine, or -1.
func (rt *Router) pick(backends []string) int {
	i := rand.IntN(len(backends))
	if rt.nq.Load() == 0 {
		return i
	}
	now := time.Now()
	rt.qmu.Lock()
	defer rt.qmu.Unlock()
	for range backends {
		until, ok := rt.quarantined[backends[i]]
		if !ok {
			return i
		}
		if now.After(until) {
			delete(rt.quarantined, backends[i])
			rt.nq.Store(int32(len(rt.quarantined)))
			return i
		}
		i = (i + 1) % len(backends)
	}
	return -1
}

func (rt *Router) quarantine(backend string) {
	rt.qmu.Lock()
	defer rt.qmu.Unlock()
	if rt.quarantined == nil {
		rt.quarantined = map[string]time.Time{}
	}
	rt.quarantined[backend] = time.Now().Add(rt.cfg.Quarantine)
	rt.nq.Store(int32(len(rt.quarantined)))
}

// clientBody counts the request body sent on and restarts the idle window.
type clientBody struct {
	io.ReadCloser
	s *proxyState
}

func (b *clientBody) Read(p []byte) (int, error) {
	b.s.clientReading.Store(true)
	n, err := b.ReadCloser.Read(p)
	b.s.clientReading.Store(false)
	if n > 0 {
		b.s.bodyRead.Add(int64(n))
		b.s.touch()
	}
	return n, err
}

// backendBody restarts the idle window on each read of the response.
type backendBody struct {
	io.ReadCloser
	s *proxyState
}

func (b *backendBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.s.touch()
	}
	return n, err
}

// newProxy returns the reverse proxy to dynos: the backend chosen for a
// request travels in its context; connections to dynos are reused.
func (rt *Router) newProxy() *httputil.ReverseProxy {
	transport := &transport{
		dialer:      &net.Dialer{Timeout: rt.cfg.ConnectTimeout, KeepAlive: 30 * time.Second},
		idleTimeout: 90 * time.Second,
		maxIdle:     256,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			s := pr.In.Context().Value(stateKey{}).(*proxyState)
			l := s.l
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = s.backend
			pr.Out.Host = pr.In.Host
			if prior, ok := pr.In.Header["X-Forwarded-For"]; ok {
				pr.Out.Header["X-Forwarded-For"] = prior // appended to
			}
			pr.SetXForwarded()
			h := pr.Out.Header
			h.Del("X-Forwarded-Host")
			h.Del("Expect") // answered here: 100 Continue once the body is read
			h["X-Forwarded-Port"] = []string{forwardedPort(pr.In)}
			h["X-Request-Start"] = []string{strconv.FormatInt(l.start.UnixMilli(), 10)}
			h["X-Request-Id"] = []string{l.requestID}
			h["Via"] = []string{appendVia(pr.In.Header.Get("Via"))}
			pr.Out = pr.Out.WithContext(httptrace.WithClientTrace(pr.Out.Context(), &httptrace.ClientTrace{
				GotConn: func(httptrace.GotConnInfo) {
					l.connect = time.Since(l.start)
					s.arm(rt.cfg.RequestTimeout, 1)
				},
				GotFirstResponseByte: func() { s.arm(rt.cfg.IdleTimeout, 2) },
			}))
		},
		ModifyResponse: func(res *http.Response) error {
			s := res.Request.Context().Value(stateKey{}).(*proxyState)
			for k, vs := range res.Header {
				for _, v := range vs {
					if len(k)+2+len(v) > maxResponseHeaderLine || k == "Set-Cookie" && len(v) > maxSetCookie {
						return errRestricted
					}
				}
			}
			res.Header["Via"] = []string{appendVia(res.Header.Get("Via"))}
			if res.StatusCode == http.StatusSwitchingProtocols {
				s.stop() // WebSockets: no idle window
				s.l.status = http.StatusSwitchingProtocols
			} else {
				res.Body = &backendBody{ReadCloser: res.Body, s: s}
			}
			return nil
		},
		Transport:     transport,
		FlushInterval: 0, // responses of unknown length (streams) are flushed at each write anyway
		ErrorHandler:  rt.proxyError,
		ErrorLog:      log.New(io.Discard, "", 0),
		BufferPool:    bufferPool{},
	}
}

// proxyError turns a failure to get a response from a dyno into
// Heroku's code and page.
func (rt *Router) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	s := r.Context().Value(stateKey{}).(*proxyState)
	l := s.l
	cause := context.Cause(r.Context())
	var op *net.OpError
	switch {
	case cause == errFirstByte:
		l.fail(codeTimeout, http.StatusServiceUnavailable)
		l.service = rt.cfg.RequestTimeout
	case cause == errIdle:
		return // logged by forward
	case errors.Is(err, errRestricted):
		l.fail(codeRestriction, http.StatusBadGateway)
		rt.page(w, http.StatusBadGateway, "gateway-error", nil)
		return
	case errors.Is(err, context.Canceled):
		l.clientGone()
		w.WriteHeader(499)
		return
	case errors.As(err, &op) && op.Op == "dial":
		rt.quarantine(s.backend)
		s.retry = true
		s.dialCode = codeConnectTimeout
		if errors.Is(err, syscall.ECONNREFUSED) {
			s.dialCode = codeRefused
		}
		return
	case s.bodyRead.Load() > 0:
		l.fail(codeInterrupted, http.StatusServiceUnavailable)
		l.sock = "backend"
	default:
		l.fail(codeBackend, http.StatusServiceUnavailable)
	}
	rt.log.Debug("proxy", "host", r.Host, "backend", s.backend, "code", l.code, "error", err)
	rt.page(w, http.StatusServiceUnavailable, "application-error", nil)
}

// forwardedPort is the port the client connected to (Heroku: 80 or 443).
func forwardedPort(r *http.Request) string {
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		return port
	}
	if r.TLS != nil {
		return "443"
	}
	return "80"
}

func appendVia(prior string) string {
	if prior == "" {
		return "1.1 bulut"
	}
	return prior + ", 1.1 bulut"
}

// bufferPool reuses the proxy's copy buffers (32 KB each otherwise
// allocated per response).
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
