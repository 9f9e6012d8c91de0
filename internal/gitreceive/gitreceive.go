// Package gitreceive serves apps' git repositories over smart HTTP with the
// real git binary (upload-pack and receive-pack in --stateless-rpc mode),
// and deploys pushes to main or master from git's pre-receive hook: the
// hook (`bulut hook pre-receive`) calls back into the server over a private
// unix socket, and the build's output streams back to the pusher.
package gitreceive

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/bulut-bulut/bulut"
)

// Config holds what the git server needs.
type Config struct {
	Apps           bulut.AppService
	Authorizations bulut.AuthorizationService
	Deployer       bulut.Deployer
	URLs           bulut.URLs

	// ReposDir holds one bare repository per app, named by the app's ID
	// so that renames keep it.
	ReposDir string
	// HooksDir is where the server writes the hook scripts git runs.
	HooksDir string
	// HookCommand runs `bulut hook pre-receive` (the bulut binary and
	// those two arguments).
	HookCommand []string
	// SocketPath is the private unix socket the hook calls back on.
	SocketPath string
	// Git is the git binary (default "git").
	Git    string
	Logger *slog.Logger
}

// Server is the git host's http.Handler, plus the private handler the
// hooks call.
type Server struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	pushes map[string]*push       // by push ID, while receive-pack runs
	locks  map[string]*sync.Mutex // by app ID: one build at a time
}

// push is an authenticated push in progress.
type push struct {
	app     *bulut.App
	account *bulut.Account
	repo    string
}

// New returns a git server. Call Open before serving.
func New(cfg Config) *Server {
	if cfg.Git == "" {
		cfg.Git = "git"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: cfg.Logger.With("component", "gitreceive"),
		pushes: map[string]*push{}, locks: map[string]*sync.Mutex{}}
}

// Open creates the repositories' directory and writes the hook scripts.
func (s *Server) Open() error {
	if err := os.MkdirAll(s.cfg.ReposDir, 0o700); err != nil {
		return err
	}
	return writeHooks(s.cfg.HooksDir, s.cfg.HookCommand)
}

// repoPath is the bare repository of an app.
func (s *Server) repoPath(app *bulut.App) string {
	return filepath.Join(s.cfg.ReposDir, app.ID+".git")
}

// appLock returns the mutex that serialises an app's builds.
func (s *Server) appLock(appID string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.locks[appID]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[appID] = l
	}
	return l
}

func (s *Server) registerPush(p *push) string {
	id := bulut.NewID()
	s.mu.Lock()
	s.pushes[id] = p
	s.mu.Unlock()
	return id
}

func (s *Server) unregisterPush(id string) {
	s.mu.Lock()
	delete(s.pushes, id)
	s.mu.Unlock()
}

func (s *Server) lookupPush(id string) *push {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushes[id]
}

// DeleteRepo removes an app's repository (after the app is deleted).
func (s *Server) DeleteRepo(ctx context.Context, appID string) error {
	if !bulut.IsID(appID) {
		return nil
	}
	return os.RemoveAll(filepath.Join(s.cfg.ReposDir, appID+".git"))
}
