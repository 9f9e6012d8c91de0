package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// runFlags are the flags of run and run:detached.
type runFlags struct {
	size, processType string
	env               []string
	noTTY, exitCode   bool
}

func addRunFlags(cmd *cobra.Command, r *runFlags) {
	cmd.Flags().StringVarP(&r.size, "size", "s", "", "dyno size (free, basic, standard-1x, standard-2x, performance-m)")
	cmd.Flags().StringVar(&r.processType, "type", "", "process type of the one-off dyno (default run)")
	cmd.Flags().StringArrayVarP(&r.env, "env", "e", nil, "environment variables to set, as KEY=VALUE;KEY2=VALUE2")
	// Commands start at the first argument: their own flags stay theirs.
	cmd.Flags().SetInterspersed(false)
}

// dynoCreate builds the API request of a one-off dyno.
func (r *runFlags) dynoCreate(args []string) (client.DynoCreate, error) {
	in := client.DynoCreate{Command: buildCommand(args), Size: r.size, Type: r.processType}
	for _, list := range r.env {
		for pair := range strings.SplitSeq(list, ";") {
			if strings.TrimSpace(pair) == "" {
				continue
			}
			k, v, ok := strings.Cut(pair, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return in, usageErrorf("--env takes KEY=VALUE pairs separated by ;, not %q.", pair)
			}
			if in.Env == nil {
				in.Env = map[string]string{}
			}
			in.Env[strings.TrimSpace(k)] = v
		}
	}
	return in, nil
}

// buildCommand joins run's arguments into the command line, as Heroku's
// CLI: one argument is taken as it is (`bulut run "rake test"`), several
// are joined with the ones holding spaces or quotes double-quoted.
func buildCommand(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, ` "`) {
			a = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}

// takeTrailingApp lets `bulut run bash -a APP` name the app after the
// command, as Heroku's CLI allows: a trailing -a/--app is taken unless
// the command came after `--`.
func takeTrailingApp(cmd *cobra.Command, f *appFlags, args []string) []string {
	if cmd.ArgsLenAtDash() >= 0 || f.app != "" {
		return args
	}
	n := len(args)
	switch {
	case n >= 3 && (args[n-2] == "-a" || args[n-2] == "--app"):
		f.app = args[n-1]
		return args[:n-2]
	case n >= 2 && strings.HasPrefix(args[n-1], "--app="):
		f.app = strings.TrimPrefix(args[n-1], "--app=")
		return args[:n-1]
	}
	return args
}

func (inv *invocation) runCommand() *cobra.Command {
	var r runFlags
	cmd := &cobra.Command{
		Use:   "run COMMAND [ARGS...]",
		Short: "run a one-off process inside a dyno",
		Long: "Run a command in a one-off dyno with the app's current release and config vars, attached to this terminal: " +
			"input, output, terminal resizes and signals go through, and bulut exits with the command's exit code. " +
			"Flags go before the command: everything from its first word on is the command's, except a trailing -a APP, as Heroku's CLI allows. " +
			"Put -- before a command that itself ends with -a.",
		Example: "  bulut run bash\n  bulut run -a myapp -- python manage.py migrate --noinput",
		Args:    usageArgs(cobra.MinimumNArgs(1)),
	}
	cmd.Flags().BoolVar(&r.noTTY, "no-tty", false, "don't give the command a terminal")
	cmd.Flags().BoolVarP(&r.exitCode, "exit-code", "x", false, "exit with the command's exit code (always the case)")
	return inv.oneOffCommand(cmd, &r, func(c *client.Client, app string, in client.DynoCreate) error {
		return inv.runAttached(c, app, in, r.noTTY)
	})
}

// oneOffCommand completes cmd, run or run:detached: it adds the app
// flags and r's, and running cmd calls run with an API client, the app
// and the request of the one-off dyno its arguments ask for.
func (inv *invocation) oneOffCommand(cmd *cobra.Command, r *runFlags, run func(c *client.Client, app string, in client.DynoCreate) error) *cobra.Command {
	f := addAppFlags(cmd)
	addRunFlags(cmd, r)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		args = takeTrailingApp(cmd, f, args)
		in, err := r.dynoCreate(args)
		if err != nil {
			return err
		}
		c, app, err := inv.clientAndApp(f)
		if err != nil {
			return err
		}
		return run(c, app, in)
	}
	return cmd
}

// runAttached starts a one-off dyno and connects this terminal to it.
func (inv *invocation) runAttached(c *client.Client, app string, in client.DynoCreate, noTTY bool) error {
	fd, tty := inv.terminalFD()
	if _, outTTY := inv.stdoutTerminal(); !outTTY || noTTY {
		tty = false
	}
	size, haveSize := inv.terminalSize()
	in.Attach, in.ForceNoTTY = true, !tty
	if in.Env == nil {
		in.Env = map[string]string{}
	}
	if t := inv.env.Getenv("TERM"); t != "" {
		in.Env["TERM"] = t
	}
	if haveSize {
		in.Env["COLUMNS"], in.Env["LINES"] = strconv.Itoa(int(size.Cols)), strconv.Itoa(int(size.Rows))
	}
	fmt.Fprintf(inv.env.Stderr, "Running %s on %s... ", in.Command, appLabel(app))
	d, err := c.CreateDyno(inv.ctx, app, in)
	if err == nil && (d.AttachURL == nil || *d.AttachURL == "") {
		err = errNoAttachURL
	}
	if err != nil {
		fmt.Fprintln(inv.env.Stderr, "!")
		return err
	}
	fmt.Fprintf(inv.env.Stderr, "up, %s\n", d.Name)

	dio := bulut.DynoIO{Stdin: inv.env.Stdin, Stdout: inv.env.Stdout, TTY: tty}
	if tty {
		dio.Size = size
		state, err := term.MakeRaw(fd)
		if err != nil {
			return err
		}
		defer term.Restore(fd, state)
	}
	// The session ends with the command, not with the first interrupt:
	// signals are forwarded to it. A third interrupt hangs up.
	ctx, cancel := context.WithCancel(context.WithoutCancel(inv.ctx))
	defer cancel()
	resize, signals := make(chan bulut.WindowSize, 1), make(chan string, 8)
	dio.Resize, dio.Signal = resize, signals
	sigs := make(chan os.Signal, 8)
	stop := inv.notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGWINCH)
	defer stop()
	go inv.forwardSignals(ctx, cancel, sigs, resize, signals)

	code, err := c.Attach(ctx, *d.AttachURL, dio)
	if err != nil {
		if ctx.Err() != nil {
			return context.Canceled // interrupted: report says so
		}
		return err
	}
	if code != 0 {
		return &exitStatusError{code: code}
	}
	return nil
}

// forwardSignals passes this process's signals to the dyno: terminal
// resizes as resizes, the others by name.
func (inv *invocation) forwardSignals(ctx context.Context, hangUp func(), sigs <-chan os.Signal, resize chan bulut.WindowSize, signals chan<- string) {
	interrupts := 0
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-sigs:
			if s == syscall.SIGWINCH {
				if size, ok := inv.terminalSize(); ok {
					select {
					case <-resize:
					default:
					}
					resize <- size
				}
				continue
			}
			select {
			case signals <- signalName(s):
			default:
			}
			if s == os.Interrupt {
				if interrupts++; interrupts == 3 {
					hangUp()
					return
				}
			}
		}
	}
}

// signalName is a signal's name without SIG, as the attach protocol
// sends it.
func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "INT"
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGHUP:
		return "HUP"
	case syscall.SIGQUIT:
		return "QUIT"
	}
	return strings.TrimPrefix(strings.ToUpper(s.String()), "SIG")
}

// notify relays signals to c until the returned function is called.
func (inv *invocation) notify(c chan<- os.Signal, sigs ...os.Signal) func() {
	if inv.env.Notify != nil {
		return inv.env.Notify(c, sigs...)
	}
	signal.Notify(c, sigs...)
	return func() { signal.Stop(c) }
}

// stdoutTerminal returns the file descriptor of stdout when it is a
// terminal.
func (inv *invocation) stdoutTerminal() (int, bool) {
	f, ok := inv.env.Stdout.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// terminalSize is the size of the terminal on stdout, else stdin.
func (inv *invocation) terminalSize() (bulut.WindowSize, bool) {
	for _, get := range []func() (int, bool){inv.stdoutTerminal, inv.terminalFD} {
		if fd, ok := get(); ok {
			if cols, rows, err := term.GetSize(fd); err == nil && cols > 0 && rows > 0 {
				return bulut.WindowSize{Rows: uint16(rows), Cols: uint16(cols)}, true
			}
		}
	}
	return bulut.WindowSize{}, false
}

func (inv *invocation) runDetachedCommand() *cobra.Command {
	var r runFlags
	cmd := &cobra.Command{
		Use:   "run:detached COMMAND [ARGS...]",
		Short: "run a detached dyno, where output is sent to your logs",
		Long:  "Run a command in a one-off dyno in the background; its output goes to the app's logs.",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
	}
	return inv.oneOffCommand(cmd, &r, func(c *client.Client, app string, in client.DynoCreate) error {
		var d *client.Dyno
		err := inv.action(fmt.Sprintf("Running %s on %s", in.Command, appLabel(app)), func() (string, error) {
			var err error
			d, err = c.CreateDyno(inv.ctx, app, in)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("%s (%s)", d.Name, dynoSize(d)), nil
		})
		if err != nil {
			return err
		}
		inv.printf("Run bulut logs --app %s --dyno %s to view the output.\n", app, d.Name)
		return nil
	})
}
