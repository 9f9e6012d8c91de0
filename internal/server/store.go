package server

import (
	"fmt"
	"os"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/store/sqlite"
)

// Store is the platform's state: the database and the domain services on it.
type Store struct {
	Accounts       *sqlite.AccountService
	Authorizations *sqlite.AuthorizationService
	Apps           *sqlite.AppService
	Releases       *sqlite.ReleaseService
	ConfigVars     *sqlite.ConfigVarService
	Slugs          *sqlite.SlugService
	Builds         *sqlite.BuildService
	Formations     *sqlite.FormationService
	Buildpacks     *sqlite.BuildpackService
	LogDrains      *sqlite.LogDrainService
	Domains        *sqlite.DomainService
	DynoUsage      *sqlite.DynoUsageService

	cfg config.Server
	db  *sqlite.DB
}

// NewStore returns the store a configuration names; call Open before use.
func NewStore(cfg config.Server) *Store { return &Store{cfg: cfg} }

// Open creates the data dir if needed and opens the database.
func (s *Store) Open() error {
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	s.db = sqlite.NewDB(s.cfg.SQLitePath())
	if err := s.db.Open(); err != nil {
		return err
	}
	s.Accounts = sqlite.NewAccountService(s.db)
	s.Authorizations = sqlite.NewAuthorizationService(s.db)
	s.Apps = sqlite.NewAppService(s.db)
	s.Releases = sqlite.NewReleaseService(s.db)
	s.ConfigVars = sqlite.NewConfigVarService(s.db)
	s.Slugs = sqlite.NewSlugService(s.db)
	s.Builds = sqlite.NewBuildService(s.db)
	s.Formations = sqlite.NewFormationService(s.db)
	s.Buildpacks = sqlite.NewBuildpackService(s.db)
	s.LogDrains = sqlite.NewLogDrainService(s.db)
	s.Domains = sqlite.NewDomainService(s.db)
	s.DynoUsage = sqlite.NewDynoUsageService(s.db)
	return nil
}

// Services returns the domain services on the store.
func (s *Store) Services() bulut.Services {
	return bulut.Services{
		Accounts: s.Accounts, Authorizations: s.Authorizations, LoginSessions: s.Authorizations, Apps: s.Apps,
		Releases: s.Releases, ConfigVars: s.ConfigVars, Slugs: s.Slugs, Builds: s.Builds,
		Formations: s.Formations, Buildpacks: s.Buildpacks, LogDrains: s.LogDrains, Domains: s.Domains,
	}
}

// Close closes the database.
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}
