// Package server is the one place that wires every component of the
// platform together: it opens the store, builds the API, dashboard, git
// receiver, builder and router, and serves them all on one listener,
// routed by Host (plus a private unix socket for git's hooks).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/builder"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/dashboard"
	"github.com/bulut-bulut/bulut/internal/gitreceive"
	"github.com/bulut-bulut/bulut/internal/logplex"
	"github.com/bulut-bulut/bulut/internal/router"
	"github.com/bulut-bulut/bulut/internal/runtime/local"
	"github.com/bulut-bulut/bulut/internal/scheduler"
	"github.com/bulut-bulut/bulut/internal/store/fsblob"
)

// Server is a running platform.
type Server struct {
	Config config.Server
	Logger *slog.Logger

	// Store holds the domain services (available after Open).
	Store *Store

	urls      bulut.URLs
	addr      string
	builder   *builder.Builder
	scheduler *scheduler.Scheduler
	logs      *logplex.Logplex
	api       *api.Handler
	servers   []*runningServer // the public listener and the hooks' socket
}

// runningServer is a server serving a listener.
type runningServer struct {
	server interface{ Shutdown(context.Context) error }
	done   chan error
}

// New returns a server for a validated configuration.
func New(cfg config.Server, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{Config: cfg, Logger: logger}
}

// Open opens the store, builds the components and starts serving. It
// returns once the listeners accept connections.
func (s *Server) Open() (err error) {
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.Store = NewStore(s.Config)
	if err := s.Store.Open(); err != nil {
		return err
	}
	listener, err := net.Listen("tcp", s.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another bulut server running? choose another port with --listen)", s.Config.Listen, err)
	}
	s.urls = bulut.URLs{Scheme: "http", Domain: s.Config.Domain, Port: listener.Addr().(*net.TCPAddr).Port}

	key, err := loadSigningKey(filepath.Join(s.Config.DataDir, "signing.key"))
	if err != nil {
		listener.Close()
		return err
	}
	stored := s.Store.Services()
	// Every change to apps and domains goes through the router's cache,
	// so the router never serves a stale host.
	appCache := router.CacheApps(stored.Apps)
	stored.Apps = appCache
	stored.Domains = appCache.Domains(stored.Domains)
	s.logs = logplex.New(logplex.Config{Dir: filepath.Join(s.Config.DataDir, "logs"), Drains: stored.LogDrains, Logger: s.Logger})
	if err := s.logs.Open(); err != nil {
		listener.Close()
		return err
	}
	stored.Logs = s.logs
	blobs := fsblob.New(filepath.Join(s.Config.DataDir, "blobs"))
	// The router wakes sleeping apps and waits for booting ones through
	// the scheduler, made below.
	var wake struct{ bulut.Waker }
	var boot struct{ *scheduler.Scheduler }
	apps := router.New(router.Config{Apps: appCache, Domains: stored.Domains, URLs: s.urls, Logs: s.logs,
		Waker: &wake, Starting: func(appID string) bool { return boot.Starting(appID) }, Logger: s.Logger})
	dynos, err := local.New(local.Config{
		Blobs:       blobs,
		DataDir:     filepath.Join(s.Config.DataDir, "dynos"),
		InitCommand: []string{s.Config.Executable, "dyno-init"},
		HiddenPaths: []string{s.Config.DataDir},
		Logger:      s.Logger,
	})
	if err != nil {
		listener.Close()
		return err
	}
	s.scheduler = scheduler.New(scheduler.Config{
		Services: stored, Runtime: dynos, Routes: apps, Logs: s.logs, URLs: s.urls, Logger: s.Logger,
		Timings: scheduler.Timings{BootTimeout: s.Config.BootTimeout, StopGrace: s.Config.StopGrace,
			IdleTimeout: s.Config.IdleTimeout, DeepSleepAfter: s.Config.DeepSleepAfter},
		Usage: s.Store.DynoUsage, FreeDynoHours: s.Config.FreeDynoHours,
	})
	wake.Waker = s.scheduler
	boot.Scheduler = s.scheduler
	var git *gitreceive.Server
	services := reconciling(stored, s.scheduler, s.logs, func(ctx context.Context, appID string) error {
		s.logs.Forget(appID)
		return git.DeleteRepo(ctx, appID)
	})
	services.Dynos = s.scheduler
	build := builder.New(builder.Config{
		Services: services, Blobs: blobs, URLs: s.urls,
		DataDir:        filepath.Join(s.Config.DataDir, "build"),
		Env:            s.Config.Environ,
		CompileTimeout: s.Config.BuildTimeout,
		MaxSlugSize:    int64(s.Config.MaxSlugSizeMB) << 20,
		Logger:         s.Logger,
	})
	s.builder = build
	socket := filepath.Join(s.Config.DataDir, "hook.sock")
	git = gitreceive.New(gitreceive.Config{
		Apps: services.Apps, Authorizations: services.Authorizations, Deployer: build, URLs: s.urls,
		ReposDir:    filepath.Join(s.Config.DataDir, "repos"),
		HooksDir:    filepath.Join(s.Config.DataDir, "hooks"),
		HookCommand: []string{s.Config.Executable, "hook", "pre-receive"},
		SocketPath:  socket,
		Logger:      s.Logger,
	})
	if err := git.Open(); err != nil {
		listener.Close()
		return err
	}
	hooks, err := listenUnix(socket)
	if err != nil {
		listener.Close()
		return err
	}
	s.serve(hooks, git.PrivateHandler(), nil)

	signupOpen := s.Config.Signup == "open"
	apiHandler := api.New(api.Config{Services: services, URLs: s.urls, SignupOpen: signupOpen, Logger: s.Logger,
		BuildOutput: build, BuildCache: build, Blobs: blobs, SigningKey: key, DrainsChanged: s.logs.DrainsChanged,
		DynoUsage: s.Store.DynoUsage, FreeDynoHours: s.Config.FreeDynoHours})
	dash := dashboard.New(dashboard.Config{Services: services, URLs: s.urls, SignupOpen: signupOpen, Logger: s.Logger})
	s.api = apiHandler
	// The router reads the public listener's requests itself and hands
	// connections for the platform's hosts to net/http's server.
	s.serve(listener, s.route(apiHandler, dash, git, apps, metricsHandler(build, s.scheduler, apps)), apps)
	if err := s.scheduler.Open(context.Background()); err != nil {
		return err
	}
	s.Logger.Info("listening", "addr", listener.Addr().String(), "domain", s.Config.Domain)
	return nil
}

// route sends each request, by its Host header, to the part of the
// platform it addresses.
func (s *Server) route(apiHandler, dash, git, apps, metrics http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		part, _ := s.urls.Classify(r.Host)
		switch part {
		case bulut.PartAPI:
			if r.URL.Path == "/metrics" && fromLoopback(r) {
				metrics.ServeHTTP(w, r)
				return
			}
			apiHandler.ServeHTTP(w, r)
		case bulut.PartBare:
			if isBrowser(r) {
				http.Redirect(w, r, s.urls.DashboardURL(), http.StatusFound)
				return
			}
			apiHandler.ServeHTTP(w, r)
		case bulut.PartDashboard:
			dash.ServeHTTP(w, r)
		case bulut.PartGit:
			git.ServeHTTP(w, r)
		default:
			apps.ServeHTTP(w, r)
		}
	})
}

func (s *Server) serve(l net.Listener, h http.Handler, apps *router.Router) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(s.Logger.With("component", "http").Handler(), slog.LevelWarn),
	}
	rs := &runningServer{server: srv, done: make(chan error, 1)}
	if apps != nil {
		front := &router.Front{Router: apps, Platform: srv}
		rs.server = front
		go func() { rs.done <- front.Serve(l) }()
	} else {
		go func() { rs.done <- srv.Serve(l) }()
	}
	s.servers = append(s.servers, rs)
	if tl, ok := l.(*net.TCPListener); ok {
		s.addr = tl.Addr().String()
	}
}

// listenUnix listens on a unix socket only this user can reach,
// replacing a stale socket file left by a previous run.
func listenUnix(path string) (net.Listener, error) {
	if len(path) > 100 {
		return nil, fmt.Errorf("the data dir path is too long for the hooks' unix socket %s: choose a shorter --data-dir", path)
	}
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// fromLoopback reports whether a request comes from this machine: the
// metrics name every app, so only local scrapers get them.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// isBrowser tells a browser's page request from an API client's.
func isBrowser(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	accept := strings.ToLower(strings.Join(r.Header.Values("Accept"), ","))
	return strings.Contains(accept, "text/html") && !strings.Contains(accept, "application/vnd.heroku+json")
}

// URLs returns the platform's public URLs (valid after Open).
func (s *Server) URLs() bulut.URLs { return s.urls }

// Addr returns the public listener's address (valid after Open).
func (s *Server) Addr() string { return s.addr }

// Port returns the public listener's port (valid after Open).
func (s *Server) Port() string { return strconv.Itoa(s.urls.Port) }

// Close stops accepting requests, lets running ones finish (up to 10 s)
// and closes the store.
func (s *Server) Close() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.api != nil {
		s.api.Close() // ends log tails, which would hold the shutdown
	}
	for _, rs := range s.servers {
		if err := rs.server.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := <-rs.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	s.servers = nil
	if s.scheduler != nil {
		errs = append(errs, s.scheduler.Close())
		s.scheduler = nil
	}
	if s.builder != nil {
		errs = append(errs, s.builder.Close())
		s.builder = nil
	}
	if s.logs != nil {
		errs = append(errs, s.logs.Close())
		s.logs = nil
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}
