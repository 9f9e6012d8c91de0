// Package config holds the server's settings: defaults, then BULUT_*
// environment variables, then flags, validated once. Components receive
// plain values from it and never read the environment themselves.
package config

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Server is the configuration of `bulut server`.
type Server struct {
	DataDir          string
	Listen           string
	Domain           string
	Runtime          string
	DatabaseURL      string
	PostgresAdminURL string
	IdleTimeout      time.Duration
	DeepSleepAfter   time.Duration
	FreeDynoHours    int
	Signup           string // "open" or "closed"
	LogLevel         string // "debug", "info", "warn", "error"
	LogFormat        string // "text" or "json"
	BuildTimeout     time.Duration
	MaxSlugSizeMB    int

	// BootTimeout (R10) and StopGrace (R12) are Heroku's 60 s and 30 s
	// when zero; tests set small ones.
	BootTimeout time.Duration
	StopGrace   time.Duration

	// Executable is the bulut binary, which git's hooks run (`bulut hook
	// pre-receive`), and Environ the server's environment, which builds
	// take PATH, HOME and package-index settings from. Set by main, not
	// by flags.
	Executable string
	Environ    []string
}

// DefaultServer returns the embedded defaults for a user whose home
// directory is home.
func DefaultServer(home string) Server {
	return Server{
		DataDir:        filepath.Join(home, ".local", "share", "bulut"),
		Listen:         ":5000",
		Domain:         "localhost",
		Runtime:        "local",
		IdleTimeout:    30 * time.Minute,
		DeepSleepAfter: time.Hour,
		FreeDynoHours:  750,
		Signup:         "open",
		LogLevel:       "info",
		LogFormat:      "text",
		BuildTimeout:   15 * time.Minute,
		MaxSlugSizeMB:  500,
	}
}

// field binds one setting to its flag and BULUT_* variable.
type field struct {
	flag, usage string
	str         *string
	dur         *time.Duration
	num         *int
}

func (s *Server) fields() []field {
	return []field{
		{flag: "data-dir", usage: "directory for the database, slugs and build caches", str: &s.DataDir},
		{flag: "listen", usage: "address of the one HTTP listener (API, dashboard, git, apps)", str: &s.Listen},
		{flag: "domain", usage: "domain apps and the platform answer under (APP.DOMAIN, api.DOMAIN, ...)", str: &s.Domain},
		{flag: "runtime", usage: "dyno runtime: local", str: &s.Runtime},
		{flag: "database-url", usage: "platform state: empty for SQLite in the data dir", str: &s.DatabaseURL},
		{flag: "postgres-admin-url", usage: "PostgreSQL server for add-ons (default: a managed local cluster)", str: &s.PostgresAdminURL},
		{flag: "idle-timeout", usage: "free apps sleep after this long without a request", dur: &s.IdleTimeout},
		{flag: "deep-sleep-after", usage: "sleeping (frozen) dynos are stopped after this long, to free their memory", dur: &s.DeepSleepAfter},
		{flag: "free-dyno-hours", usage: "free dyno hours per app per month", num: &s.FreeDynoHours},
		{flag: "signup", usage: "open: anyone may sign up; closed: only `bulut server admin:create-user`", str: &s.Signup},
		{flag: "log-level", usage: "debug, info, warn or error", str: &s.LogLevel},
		{flag: "log-format", usage: "text or json", str: &s.LogFormat},
		{flag: "build-timeout", usage: "longest a buildpack's compile may run", dur: &s.BuildTimeout},
		{flag: "max-slug-size", usage: "largest slug a build may make, in MB", num: &s.MaxSlugSizeMB},
	}
}

// EnvName returns the environment variable of a flag: BULUT_DATA_DIR for
// data-dir.
func EnvName(flag string) string {
	return "BULUT_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// ApplyEnv overrides settings with the BULUT_* variables that are set.
func (s *Server) ApplyEnv(getenv func(string) string) error {
	for _, f := range s.fields() {
		v := getenv(EnvName(f.flag))
		if v == "" {
			continue
		}
		switch {
		case f.str != nil:
			*f.str = v
		case f.dur != nil:
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a duration (e.g. 30m, 1h)", EnvName(f.flag), v)
			}
			*f.dur = d
		case f.num != nil:
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s: %q is not a whole number", EnvName(f.flag), v)
			}
			*f.num = n
		}
	}
	return nil
}

// BindFlags registers the settings as flags whose defaults are the
// current values (so flags override the environment).
func (s *Server) BindFlags(fs *pflag.FlagSet) {
	for _, f := range s.fields() {
		usage := f.usage + " (" + EnvName(f.flag) + ")"
		switch {
		case f.str != nil:
			fs.StringVar(f.str, f.flag, *f.str, usage)
		case f.dur != nil:
			fs.DurationVar(f.dur, f.flag, *f.dur, usage)
		case f.num != nil:
			fs.IntVar(f.num, f.flag, *f.num, usage)
		}
	}
}

// Validate checks the settings and says what to change.
func (s *Server) Validate() error {
	if s.DataDir == "" {
		return fmt.Errorf("--data-dir must not be empty")
	}
	if _, port, err := net.SplitHostPort(s.Listen); err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT or :PORT (e.g. :5000)", s.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--listen %q: %q is not a port number", s.Listen, port)
	}
	d := strings.ToLower(strings.TrimSuffix(s.Domain, "."))
	if d == "" || strings.ContainsAny(d, "/: ") || net.ParseIP(d) != nil {
		return fmt.Errorf("--domain %q: want a DNS name such as localhost or paas.example.com (apps answer on APP.DOMAIN)", s.Domain)
	}
	s.Domain = d
	switch s.Runtime {
	case "local":
	case "docker", "kubernetes":
		return fmt.Errorf("--runtime %s is not available yet; use --runtime local", s.Runtime)
	default:
		return fmt.Errorf("--runtime %q: want local", s.Runtime)
	}
	if s.DatabaseURL != "" && !strings.HasPrefix(s.DatabaseURL, "sqlite:") && !strings.HasPrefix(s.DatabaseURL, "file:") {
		if strings.HasPrefix(s.DatabaseURL, "postgres://") || strings.HasPrefix(s.DatabaseURL, "postgresql://") {
			return fmt.Errorf("--database-url: the PostgreSQL store is not available yet; leave it empty for SQLite in the data dir")
		}
		return fmt.Errorf("--database-url %q: want sqlite:PATH (or empty for SQLite in the data dir)", s.DatabaseURL)
	}
	if s.IdleTimeout <= 0 {
		return fmt.Errorf("--idle-timeout must be positive")
	}
	if s.DeepSleepAfter <= 0 {
		return fmt.Errorf("--deep-sleep-after must be positive")
	}
	if s.FreeDynoHours < 0 {
		return fmt.Errorf("--free-dyno-hours must not be negative")
	}
	if s.BuildTimeout <= 0 {
		return fmt.Errorf("--build-timeout must be positive")
	}
	if s.MaxSlugSizeMB <= 0 {
		return fmt.Errorf("--max-slug-size must be a positive number of MB")
	}
	if s.Signup != "open" && s.Signup != "closed" {
		return fmt.Errorf("--signup %q: want open or closed", s.Signup)
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", s.LogLevel)
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		return fmt.Errorf("--log-format %q: want text or json", s.LogFormat)
	}
	return nil
}

// SQLitePath is the database file: from --database-url, else bulut.db in
// the data dir.
func (s *Server) SQLitePath() string {
	if s.DatabaseURL == "" {
		return filepath.Join(s.DataDir, "bulut.db")
	}
	p := strings.TrimPrefix(strings.TrimPrefix(s.DatabaseURL, "sqlite:"), "file:")
	return strings.TrimPrefix(p, "//")
}
