package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/cli"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/server"
)

// newServerCommand builds `bulut server` and its admin subcommands. It
// lives in main because only main may know both the CLI and the server.
func newServerCommand(env cli.Env) *cobra.Command {
	home := env.Getenv("HOME")
	cfg := config.DefaultServer(home)
	envErr := cfg.ApplyEnv(env.Getenv)
	cfg.Executable = executable()
	cfg.Environ = os.Environ()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "run the platform: API, dashboard, git, router and dynos",
		Long: "Runs the whole bulut platform in this process on one listener.\n" +
			"Every flag can also be set as BULUT_<FLAG> in the environment (e.g. BULUT_DATA_DIR).",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if envErr != nil {
				return envErr
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, env.Stdout, env.Stderr)
		},
	}
	cfg.BindFlags(cmd.Flags())
	cmd.AddCommand(newCreateUserCommand(&cfg, &envErr, env))
	return cmd
}

func newLogger(cfg config.Server, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the platform until ctx is cancelled (SIGINT/SIGTERM).
func serve(ctx context.Context, cfg config.Server, stdout, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)
	s := server.New(cfg, logger)
	if err := s.Open(); err != nil {
		return err
	}
	printWelcome(stdout, s)
	<-ctx.Done()
	logger.Info("shutting down")
	if err := s.Close(); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

func printWelcome(w io.Writer, s *server.Server) {
	u := s.URLs()
	fmt.Fprintf(w, "bulut %s is running on %s (data in %s)\n\n", bulut.Version, s.Addr(), s.Config.DataDir)
	fmt.Fprintf(w, "  Dashboard  %s\n", u.DashboardURL())
	fmt.Fprintf(w, "  API        %s\n", u.APIURL())
	fmt.Fprintf(w, "  Git        %s\n", u.GitURL("APP"))
	fmt.Fprintf(w, "  Apps       %s\n\n", u.WebURL("APP"))
	fmt.Fprintf(w, "Next steps:\n")
	if u.APIURL() != "http://api.localhost:5000" {
		fmt.Fprintf(w, "  export BULUT_API_URL=%s   point the CLI at this server\n", u.APIURL())
	}
	if s.Config.Signup == "open" {
		fmt.Fprintf(w, "  bulut signup                create an account (or sign up in the dashboard)\n")
	} else {
		fmt.Fprintf(w, "  bulut server admin:create-user --email EMAIL   create an account (sign-up is closed)\n")
	}
	fmt.Fprintf(w, "  bulut login                 log the CLI in through the browser\n")
	fmt.Fprintf(w, "  bulut apps:create NAME      create an app, then open %s\n", u.WebURL("NAME"))
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n")
}

// newCreateUserCommand is `bulut server admin:create-user`: it writes to
// the server's store directly, for servers with sign-up closed.
func newCreateUserCommand(cfg *config.Server, envErr *error, env cli.Env) *cobra.Command {
	var email, password string
	cmd := &cobra.Command{
		Use:           "admin:create-user",
		Short:         "create an account directly in the server's store",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if *envErr != nil {
				return *envErr
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if password == "" {
				password = env.Getenv("BULUT_PASSWORD")
			}
			store := server.NewStore(*cfg)
			if err := store.Open(); err != nil {
				return err
			}
			defer store.Close()
			acct, err := store.Accounts.CreateAccount(cmd.Context(), email, password)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Created account %s\n", acct.Email)
			return nil
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "e-mail address of the account")
	cmd.Flags().StringVar(&password, "password", "", "password (default: $BULUT_PASSWORD)")
	return cmd
}
