// Package router answers requests for apps' hosts: it proxies them to an
// up web dyno of the app's current release (as the scheduler publishes
// them), and answers Heroku's pages for apps that can't serve (never
// deployed, no web dynos, crashed) and for hosts no app owns.
package router

import (
	"context"
	"embed"
	"html/template"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/bulut-bulut/bulut"
)

//go:embed pages/*.html
var pageFS embed.FS

var pages = template.Must(template.ParseFS(pageFS, "pages/*.html"))

// Config holds what the router needs.
type Config struct {
	Apps bulut.AppService
	URLs bulut.URLs
	// Logs gets one line per request to an app (may be nil).
	Logs   bulut.LogSink
	Logger *slog.Logger
}

// Router is the http.Handler for app hosts.
type Router struct {
	cfg   Config
	log   *slog.Logger
	table table
	proxy *httputil.ReverseProxy
}

// New returns a Router.
func New(cfg Config) *Router {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	rt := &Router{cfg: cfg, log: cfg.Logger.With("component", "router")}
	rt.proxy = rt.newProxy()
	return rt
}

// ServeHTTP routes a request by its host (already known to be an app host).
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	l := &requestLog{start: time.Now(), requestID: requestID(r)}
	defer rt.logRequest(app, r, rec, l)
	r.Header.Set("X-Request-Id", l.requestID)
	route := rt.route(app.ID)
	switch {
	case len(route.Backends) > 0:
		i := rand.IntN(len(route.Backends))
		if i < len(route.Dynos) {
			l.dyno = route.Dynos[i]
		}
		ctx := context.WithValue(r.Context(), backendKey{}, route.Backends[i])
		ctx = context.WithValue(ctx, requestLogKey{}, l)
		rt.proxy.ServeHTTP(rec, r.WithContext(ctx))
	case route.Crashed:
		l.code = codeAppCrashed
		rt.page(rec, http.StatusServiceUnavailable, "application-error", nil)
	case app.ReleasedAt != nil:
		l.code = codeNoWeb
		rt.page(rec, http.StatusServiceUnavailable, "application-error", nil)
	default:
		// Never deployed: Heroku's H81 "Blank app", answered with the
		// welcome page (status 502, as Heroku's router logs it).
		l.code = codeBlankApp
		rt.page(rec, http.StatusBadGateway, "welcome", map[string]string{
			"Name":      app.Name,
			"GitURL":    rt.cfg.URLs.GitURL(app.Name),
			"Dashboard": rt.cfg.URLs.DashboardURL(),
		})
	}
}

func (rt *Router) lookup(r *http.Request, host string) (*bulut.App, error) {
	name := rt.cfg.URLs.AppNameFromHost(host)
	if name == "" || bulut.ValidateAppName(name) != nil {
		return nil, bulut.NotFound("app")
	}
	return rt.cfg.Apps.FindApp(bulut.NewSystemContext(r.Context()), name)
}

func (rt *Router) page(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name+".html", data); err != nil {
		rt.log.Error("render page", "page", name, "error", err)
	}
}
