// Package cli is the bulut command line: Heroku's command names, flags and
// output, as a thin client of the Platform API through package client.
// Everything it needs from the process (streams, environment, working
// directory) is injected through Env.
package cli

import (
	"bufio"
	"context"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

// Env is what the CLI gets from the process that runs it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment: BULUT_API_URL, BULUT_API_KEY,
	// BULUT_APP, HOME, NETRC, BROWSER.
	Getenv func(string) string
	// Dir is the working directory, where git remotes are looked up.
	Dir string
	// OpenBrowser opens a URL. nil: $BROWSER if set, else xdg-open.
	OpenBrowser func(url string) error
	// Hostname names this machine in the descriptions of login tokens.
	Hostname string
	// Notify relays the process's signals to c until the returned stop
	// function is called, for `run` to forward them to the dyno. nil:
	// signal.Notify.
	Notify func(c chan<- os.Signal, sig ...os.Signal) (stop func())
}

// Run runs the CLI with args (without the program name) and returns the
// process exit code. extra commands (e.g. `server`, built by main) are
// added to the root command.
func Run(ctx context.Context, env Env, args []string, extra ...*cobra.Command) int {
	inv := newInvocation(ctx, env)
	root := inv.rootCommand()
	root.AddCommand(extra...)
	root.SetArgs(joinTopicArgs(root, args))
	return inv.report(root.ExecuteContext(ctx))
}

// invocation is one run of the CLI: its environment and what it has
// learnt from the server so far.
type invocation struct {
	ctx   context.Context
	env   Env
	stdin *bufio.Reader
	info  *client.Info // cached answer of GET /bulut/info
	// tokenSource says where the token of authenticated requests came
	// from ("" before one was needed), to explain a rejected token.
	tokenSource string
}

func newInvocation(ctx context.Context, env Env) *invocation {
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	return &invocation{ctx: ctx, env: env, stdin: bufio.NewReader(env.Stdin)}
}

func (inv *invocation) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:               "bulut",
		Short:             "bulut, a self-hosted Heroku",
		Long:              "bulut runs apps the way Heroku does. `bulut server` runs the platform; every other command talks to its API (BULUT_API_URL, default " + client.DefaultBaseURL + ").",
		Version:           bulut.Version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		Args:              cobra.ArbitraryArgs,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("%s is not a bulut command.", args[0])
			}
			return cmd.Help()
		},
	}
	root.SetIn(inv.env.Stdin)
	root.SetOut(inv.env.Stdout)
	root.SetErr(inv.env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%s", err) })
	root.AddCommand(inv.authCommands()...)
	root.AddCommand(inv.appsCommands()...)
	root.AddCommand(inv.configCommands()...)
	root.AddCommand(inv.releasesCommands()...)
	root.AddCommand(inv.buildsCommands()...)
	root.AddCommand(inv.buildpacksCommands()...)
	root.AddCommand(inv.psCommands()...)
	root.AddCommand(inv.logsCommands()...)
	root.AddCommand(inv.maintenanceCommands()...)
	root.AddCommand(inv.domainsCommands()...)
	root.AddCommand(inv.gitRemoteCommand(), inv.gitCloneCommand(), inv.openCommand())
	return root
}

// joinTopicArgs accepts Heroku's "topic command" spelling: `apps create x`
// runs `apps:create x` when such a command exists.
func joinTopicArgs(root *cobra.Command, args []string) []string {
	if len(args) < 2 || strings.HasPrefix(args[0], "-") || strings.HasPrefix(args[1], "-") {
		return args
	}
	joined := args[0] + ":" + args[1]
	for _, c := range root.Commands() {
		if c.Name() == joined || c.HasAlias(joined) {
			return append([]string{joined}, args[2:]...)
		}
	}
	return args
}

// noArgs, maxArgs and exactArgs check positional arguments, reporting a
// mismatch as a usage error.
func noArgs() cobra.PositionalArgs { return usageArgs(cobra.NoArgs) }

func maxArgs(n int) cobra.PositionalArgs { return usageArgs(cobra.MaximumNArgs(n)) }

func exactArgs(n int) cobra.PositionalArgs { return usageArgs(cobra.ExactArgs(n)) }

func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageErrorf("%s", err)
		}
		return nil
	}
}

// apiURL is the API's base URL: BULUT_API_URL (http:// added when it has
// no scheme) or the default.
func (inv *invocation) apiURL() string {
	u := strings.TrimRight(inv.env.Getenv("BULUT_API_URL"), "/")
	switch {
	case u == "":
		return client.DefaultBaseURL
	case !strings.Contains(u, "://"):
		return "http://" + u
	}
	return u
}

// apiHost is the host name (without port) of the API, its netrc machine.
func (inv *invocation) apiHost() string {
	u, err := url.Parse(inv.apiURL())
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// anonymousClient calls the API without a token.
func (inv *invocation) anonymousClient() *client.Client {
	return client.New(inv.apiURL(), "")
}

// apiClient calls the API with the user's token; not being logged in is
// an error.
func (inv *invocation) apiClient() (*client.Client, error) {
	token, source, err := inv.token()
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errNotLoggedIn
	}
	inv.tokenSource = source
	return client.New(inv.apiURL(), token), nil
}

// serverInfo returns GET /bulut/info, asked at most once per invocation.
func (inv *invocation) serverInfo() (*client.Info, error) {
	if inv.info != nil {
		return inv.info, nil
	}
	info, err := inv.anonymousClient().Info(inv.ctx)
	if err != nil {
		return nil, err
	}
	inv.info = info
	return info, nil
}
