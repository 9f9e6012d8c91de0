// Package server is the one place that wires every component of the
// platform together: it opens the store, builds the API, dashboard and
// router, and serves them all on one listener, routed by Host.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/dashboard"
	"github.com/bulut-bulut/bulut/internal/router"
)

// Server is a running platform.
type Server struct {
	Config config.Server
	Logger *slog.Logger

	// Store holds the domain services (available after Open).
	Store *Store

	listener net.Listener
	http     *http.Server
	urls     bulut.URLs
	done     chan error
}

// New returns a server for a validated configuration.
func New(cfg config.Server, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{Config: cfg, Logger: logger}
}

// Open opens the store and starts serving. It returns once the listener
// accepts connections.
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

	if s.listener, err = net.Listen("tcp", s.Config.Listen); err != nil {
		return fmt.Errorf("listen on %s: %w (is another bulut server running? choose another port with --listen)", s.Config.Listen, err)
	}
	port := s.listener.Addr().(*net.TCPAddr).Port
	s.urls = bulut.URLs{Scheme: "http", Domain: s.Config.Domain, Port: port}

	s.http = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.Logger.With("component", "http").Handler(), slog.LevelWarn),
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.http.Serve(s.listener) }()
	s.Logger.Info("listening", "addr", s.listener.Addr().String(), "domain", s.Config.Domain)
	return nil
}

// handler routes each request by its Host header to the part of the
// platform it addresses.
func (s *Server) handler() http.Handler {
	signupOpen := s.Config.Signup == "open"
	services := s.Store.Services()
	apiHandler := api.New(api.Config{Services: services, URLs: s.urls, SignupOpen: signupOpen, Logger: s.Logger})
	dash := dashboard.New(dashboard.Config{Services: services, URLs: s.urls, SignupOpen: signupOpen, Logger: s.Logger})
	apps := router.New(router.Config{Apps: services.Apps, URLs: s.urls, Logger: s.Logger})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		part, _ := s.urls.Classify(r.Host)
		switch part {
		case bulut.PartAPI:
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
			http.Error(w, "git push is not available yet on this server", http.StatusNotFound)
		default:
			apps.ServeHTTP(w, r)
		}
	})
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

// Addr returns the listener's address (valid after Open).
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Port returns the listener's port (valid after Open).
func (s *Server) Port() string { return strconv.Itoa(s.urls.Port) }

// Close stops accepting requests, lets running ones finish (up to 10 s)
// and closes the store.
func (s *Server) Close() error {
	var errs []error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := <-s.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		s.http = nil
	} else if s.listener != nil {
		s.listener.Close()
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}
