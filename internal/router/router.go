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
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulut-bulut/bulut"
)

//go:embed pages/*.html
var pageFS embed.FS

// pages are the router's HTML pages, by name: each file under pages/
// fills layout.html's title, body (and style) blocks.
var pages = func() map[string]*template.Template {
	names, err := fs.Glob(pageFS, "pages/*.html")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, name := range names {
		if name != "pages/layout.html" {
			m[strings.TrimSuffix(path.Base(name), ".html")] = template.Must(template.ParseFS(pageFS, "pages/layout.html", name))
		}
	}
	return m
}()

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
	// Waker is told of every request to an app (its idle timer: at its
	// start, its end, and every second while its bytes flow) and
	// wakes apps whose route is Asleep, holding the request up to
	// BootTimeout (H20 after). May be nil (apps never sleep).
	Waker bulut.Waker

	// Timeouts, Heroku's by default (tests make them short).
	RequestTimeout time.Duration // to the first response byte once connected: 30 s (H12)
	IdleTimeout    time.Duration // rolling, after the first byte: 55 s (H15, H28)
	ConnectTimeout time.Duration // to connect to a dyno: 5 s (H19)
	Quarantine     time.Duration // a dyno that failed to connect is skipped: 5 s
	BootTimeout    time.Duration // held for a starting dyno, or while every dyno is quarantined: 75 s (H20, H99)
	// Backlog is how many requests an app may have in flight per web
	// dyno: Heroku's 200 (H11 beyond).
	Backlog int
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
	if c.Backlog <= 0 {
		c.Backlog = 200
	}
}

// Router answers requests for app hosts: on connections it serves itself
// (Serve), or taken over from net/http's server (ServeHTTP).
type Router struct {
	cfg     Config
	log     *slog.Logger
	table   table
	pool    pool
	metrics metrics
	// handoff gives a connection whose request is for the platform's
	// hosts to the platform's server (nil: such requests get 404s).
	handoff func(net.Conn)

	inFlight sync.Map // app ID -> *atomic.Int64: requests being forwarded

	qmu         sync.Mutex
	quarantined map[string]time.Time // backend -> until
	nq          atomic.Int32         // len(quarantined), read without the lock
}

// New returns a Router.
func New(cfg Config) *Router {
	cfg.defaults()
	rt := &Router{cfg: cfg, log: cfg.Logger.With("component", "router")}
	rt.pool = pool{
		dialer:      &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second},
		idleTimeout: 90 * time.Second,
		maxIdle:     256,
	}
	return rt
}

// serveRequest answers a request read by cc for an app's host, and
// reports whether the connection can serve another.
func (rt *Router) serveRequest(cc *clientConn, host string, start time.Time) bool {
	req := &cc.req
	app, err := rt.lookup(host)
	if err != nil {
		if bulut.ErrorCode(err) != bulut.ENOTFOUND {
			rt.log.Error("lookup app", "host", host, "error", err)
			return cc.page(&requestLog{}, http.StatusServiceUnavailable, "application-error", nil)
		}
		if req.bad != "" {
			return cc.page(&requestLog{}, http.StatusBadRequest, "bad-request", nil)
		}
		return cc.page(&requestLog{}, http.StatusNotFound, "no-such-app", nil)
	}
	l := &cc.log
	*l = requestLog{start: start}
	if validRequestID(req.requestID) {
		l.requestID = string(req.requestID)
	} else {
		l.requestID = bulut.NewID()
	}
	defer rt.finish(app, cc, l)

	if req.bad != "" {
		status := http.StatusBadRequest
		if req.expect != nil && req.bad == "unsupported expect header value" {
			status = http.StatusExpectationFailed
		}
		l.fail(codeRequestError, status)
		l.cause = req.bad
		if status == http.StatusExpectationFailed {
			return cc.page(l, status, "expectation-failed", nil)
		}
		cc.page(l, status, "bad-request", nil)
		return false
	}
	if app.Maintenance {
		l.fail(codeMaintenance, http.StatusServiceUnavailable)
		return cc.page(l, http.StatusServiceUnavailable, "maintenance", nil)
	}

	cc.appID = app.ID
	cc.keepAwake(true)
	route := rt.route(app.ID)
	if route.QuotaExceeded {
		l.fail(codeQuota, http.StatusServiceUnavailable)
		return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
	}
	if route.Asleep && rt.cfg.Waker != nil || len(route.Backends) == 0 && !route.Crashed && rt.cfg.Starting != nil && rt.cfg.Starting(app.ID) {
		// Held until a web dyno is up, while the client stays.
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(rt.cfg.BootTimeout))
		stop := cc.watch(cancel)
		var ok bool
		if route.Asleep && rt.cfg.Waker != nil {
			ok = rt.cfg.Waker.Wake(ctx, app.ID) == nil
			route = rt.route(app.ID)
		} else {
			route, ok = rt.waitRoute(ctx, app.ID)
		}
		cancel()
		if stop() {
			l.clientGone()
			return false
		}
		if !ok {
			l.fail(codeBootTimeout, http.StatusServiceUnavailable)
			return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
		}
	}
	if len(route.Backends) > 0 {
		n := rt.appInFlight(app.ID)
		defer n.Add(-1)
		if n.Add(1) > int64(rt.cfg.Backlog*len(route.Backends)) {
			l.fail(codeBacklog, http.StatusServiceUnavailable)
			return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
		}
		return rt.forward(cc, l, app.ID)
	}
	if cache, ok := rt.cfg.Apps.(*AppCache); ok {
		// Pages: from the app as stored now (a cached one may predate its
		// first release).
		if fresh, err := cache.AppService.FindApp(bulut.NewSystemContext(context.Background()), app.ID); err == nil {
			app = fresh
		}
	}
	switch {
	case route.Crashed:
		l.fail(codeAppCrashed, http.StatusServiceUnavailable)
		return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
	case app.ReleasedAt != nil:
		l.fail(codeNoWeb, http.StatusServiceUnavailable)
		return cc.page(l, http.StatusServiceUnavailable, "application-error", nil)
	default:
		// Never deployed: Heroku's H81 "Blank app", answered with the
		// welcome page (status 502, as Heroku's router logs it).
		l.fail(codeBlankApp, http.StatusBadGateway)
		return cc.page(l, http.StatusBadGateway, "welcome", map[string]string{
			"Name":      app.Name,
			"GitURL":    rt.cfg.URLs.GitURL(app.Name),
			"Dashboard": rt.cfg.URLs.DashboardURL(),
		})
	}
}

// appInFlight returns the counter of an app's requests in flight.
func (rt *Router) appInFlight(appID string) *atomic.Int64 {
	if v, ok := rt.inFlight.Load(appID); ok {
		return v.(*atomic.Int64)
	}
	v, _ := rt.inFlight.LoadOrStore(appID, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// lookup returns the app of a host: APP.DOMAIN, or a custom domain.
func (rt *Router) lookup(host string) (*bulut.App, error) {
	ctx := context.Background()
	if cache, ok := rt.cfg.Apps.(*AppCache); ok {
		return cache.lookup(ctx, host, rt.findApp)
	}
	return rt.findApp(ctx, host)
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

// waitRoute waits for an app's route to have a backend (or its dynos to
// have crashed), until ctx is done.
func (rt *Router) waitRoute(ctx context.Context, appID string) (bulut.Route, bool) {
	for {
		route, changed := rt.routeAndChange(appID)
		if len(route.Backends) > 0 || route.Crashed {
			return route, true // served, or H10 at once
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return route, false
		}
	}
}
