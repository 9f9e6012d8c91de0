// Package router answers requests for apps' hosts: it proxies them to an
// up web dyno of the app's current release (as the scheduler publishes
// them), and answers Heroku's pages for apps that can't serve (never
// deployed, no web dynos, crashed, in maintenance) and for hosts no app
// owns.
package router

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulut-bulut/bulut"
)

//go:embed pages/*.html
var pageFS embed.FS

var pages = template.Must(template.ParseFS(pageFS, "pages/*.html"))

// Config holds what the router needs.
type Config struct {
	Apps bulut.AppService
	// Domains finds the apps of custom domains (may be nil: none).
	Domains bulut.DomainService
	URLs    bulut.URLs
	// Logs gets one line per request to an app (may be nil).
	Logs   bulut.LogSink
	Logger *slog.Logger
	// Starting reports whether an app has web dynos booting: the router
	// then holds its requests until one is up, for up to BootTimeout (H20
	// after). May be nil (no app is ever starting).
	Starting func(appID string) bool
	// Waker is told of every request to an app (its idle timer) and
	// wakes apps whose route is Asleep, holding the request up to
	// BootTimeout (H20 after). May be nil (apps never sleep).
	Waker bulut.Waker

	// Timeouts, Heroku's by default (tests make them short).
	RequestTimeout time.Duration // to the first response byte once connected: 30 s (H12)
	IdleTimeout    time.Duration // rolling, after the first byte: 55 s (H15, H28)
	ConnectTimeout time.Duration // to connect to a dyno: 5 s (H19)
	Quarantine     time.Duration // a dyno that failed to connect is skipped: 5 s
	BootTimeout    time.Duration // held for a starting dyno, or while every dyno is quarantined: 75 s (H20, H99)
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.RequestTimeout, 30*time.Second)
	set(&c.IdleTimeout, 55*time.Second)
	set(&c.ConnectTimeout, 5*time.Second)
	set(&c.Quarantine, 5*time.Second)
	set(&c.BootTimeout, 75*time.Second)
}

// Router is the http.Handler for app hosts.
type Router struct {
	cfg     Config
	log     *slog.Logger
	table   table
	proxy   *httputil.ReverseProxy
	metrics metrics

	qmu         sync.Mutex
	quarantined map[string]time.Time // backend -> until
	nq          atomic.Int32         // len(quarantined), read without the lock
}

// New returns a Router.
func New(cfg Config) *Router {
	cfg.defaults()
	rt := &Router{cfg: cfg, log: cfg.Logger.With("component", "router")}
	rt.proxy = rt.newProxy()
	return rt
}

// ServeHTTP routes a request by its host (already known to be an app host).
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	_, host := rt.cfg.URLs.Classify(r.Host)
	app, err := rt.lookup(r, host)
	if err != nil {
		if bulut.ErrorCode(err) != bulut.ENOTFOUND {
			rt.log.Error("lookup app", "host", host, "error", err)
			rt.page(w, http.StatusServiceUnavailable, "application-error", nil)
			return
		}
		rt.page(w, http.StatusNotFound, "no-such-app", nil)
		return
	}
	rec := &recorder{ResponseWriter: w}
	l := &requestLog{start: start, requestID: requestID(r)}
	defer rt.finish(app, r, rec, l)
	r.Header.Set("X-Request-Id", l.requestID)

	if requestTooLarge(r) {
		l.fail(codeRequestError, http.StatusBadRequest)
		l.cause = "bad header"
		rt.page(rec, http.StatusBadRequest, "bad-request", nil)
		return
	}
	if e := r.Header.Get("Expect"); e != "" && !strings.EqualFold(e, "100-continue") {
		l.fail(codeRequestError, http.StatusExpectationFailed)
		l.cause = "unsupported expect header value"
		rt.page(rec, http.StatusExpectationFailed, "expectation-failed", nil)
		return
	}
	if app.Maintenance {
		l.fail(codeMaintenance, http.StatusServiceUnavailable)
		rt.page(rec, http.StatusServiceUnavailable, "maintenance", nil)
		return
	}

	if rt.cfg.Waker != nil {
		rt.cfg.Waker.Touch(app.ID)
	}
	route := rt.route(app.ID)
	if route.QuotaExceeded {
		l.fail(codeQuota, http.StatusServiceUnavailable)
		rt.page(rec, http.StatusServiceUnavailable, "application-error", nil)
		return
	}
	if route.Asleep && rt.cfg.Waker != nil {
		ctx, cancel := context.WithDeadline(r.Context(), start.Add(rt.cfg.BootTimeout))
		err := rt.cfg.Waker.Wake(ctx, app.ID)
		cancel()
		if err != nil {
			if r.Context().Err() != nil {
				l.clientGone()
				rec.WriteHeader(499)
				return
			}
			l.fail(codeBootTimeout, http.StatusServiceUnavailable)
			rt.page(rec, http.StatusServiceUnavailable, "application-error", nil)
			return
		}
		route = rt.route(app.ID)
	}
	if len(route.Backends) == 0 && !route.Crashed && rt.cfg.Starting != nil && rt.cfg.Starting(app.ID) {
		var ok bool
		if route, ok = rt.waitRoute(r.Context(), app.ID, start.Add(rt.cfg.BootTimeout)); !ok {
			if r.Context().Err() != nil {
				l.clientGone()
				rec.WriteHeader(499)
				return
			}
			l.fail(codeBootTimeout, http.StatusServiceUnavailable)
			rt.page(rec, http.StatusServiceUnavailable, "application-error", nil)
			return
		}
	}
	if len(route.Backends) > 0 {
		rt.forward(rec, r, app, l)
		return
	}
	if cache, ok := rt.cfg.Apps.(*AppCache); ok {
		// Pages: from the app as stored now (a cached one may predate its
		// first release).
		if fresh, err := cache.AppService.FindApp(bulut.NewSystemContext(r.Context()), app.ID); err == nil {
			app = fresh
		}
	}
	switch {
	case route.Crashed:
		l.fail(codeAppCrashed, http.StatusServiceUnavailable)
		rt.page(rec, http.StatusServiceUnavailable, "application-error", nil)
	case app.ReleasedAt != nil:
		l.fail(codeNoWeb, http.StatusServiceUnavailable)
		rt.page(rec, http.StatusServiceUnavailable, "application-error", nil)
	default:
		// Never deployed: Heroku's H81 "Blank app", answered with the
		// welcome page (status 502, as Heroku's router logs it).
		l.fail(codeBlankApp, http.StatusBadGateway)
		rt.page(rec, http.StatusBadGateway, "welcome", map[string]string{
			"Name":      app.Name,
			"GitURL":    rt.cfg.URLs.GitURL(app.Name),
			"Dashboard": rt.cfg.URLs.DashboardURL(),
		})
	}
}

// Heroku's request limits (heroku-reference 1.4): a longer request line or
// header line, a longer header name or more headers get a 400.
const (
	maxRequestLine = 8192
	maxHeaderLine  = 8192
	maxHeaderName  = 1000
	maxHeaders     = 1000
)

func requestTooLarge(r *http.Request) bool {
	if len(r.Method)+len(r.RequestURI)+len(" HTTP/1.1")+1 > maxRequestLine {
		return true
	}
	n := 0
	for k, vs := range r.Header {
		if len(k) > maxHeaderName {
			return true
		}
		for _, v := range vs {
			if n++; len(k)+2+len(v) > maxHeaderLine {
				return true
			}
		}
	}
	return n > maxHeaders
}

// lookup returns the app of a host: APP.DOMAIN, or a custom domain.
func (rt *Router) lookup(r *http.Request, host string) (*bulut.App, error) {
	if cache, ok := rt.cfg.Apps.(*AppCache); ok {
		return cache.lookup(r.Context(), host, rt.findApp)
	}
	return rt.findApp(r.Context(), host)
}

func (rt *Router) findApp(ctx context.Context, host string) (*bulut.App, error) {
	apps := rt.cfg.Apps
	if cache, ok := apps.(*AppCache); ok {
		apps = cache.AppService
	}
	ctx = bulut.NewSystemContext(ctx)
	name := rt.cfg.URLs.AppNameFromHost(host)
	if name == "" && rt.cfg.Domains != nil {
		d, err := rt.cfg.Domains.FindDomain(ctx, host)
		if err != nil {
			return nil, err
		}
		return apps.FindApp(ctx, d.AppID)
	}
	if name == "" || bulut.ValidateAppName(name) != nil {
		return nil, bulut.NotFound("app")
	}
	return apps.FindApp(ctx, name)
}

// waitRoute waits for an app's route to have a backend, until deadline.
func (rt *Router) waitRoute(ctx context.Context, appID string, deadline time.Time) (bulut.Route, bool) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		route, changed := rt.routeAndChange(appID)
		if len(route.Backends) > 0 {
			return route, true
		}
		select {
		case <-changed:
		case <-timer.C:
			return route, false
		case <-ctx.Done():
			return route, false
		}
	}
}

func (rt *Router) page(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name+".html", data); err != nil {
		rt.log.Error("render page", "page", name, "error", err)
	}
}
