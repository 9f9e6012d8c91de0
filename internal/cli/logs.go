package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

func (inv *invocation) logsCommands() []*cobra.Command {
	return []*cobra.Command{inv.logsCommand(), inv.drainsCommand(), inv.drainsAddCommand(), inv.drainsRemoveCommand()}
}

// Log sessions return at most this many recent lines (what is kept).
const (
	defaultLogLines = 100
	maxLogLines     = 1500
)

// Reconnection delays of logs --tail: the first retry is quick, then they
// back off.
const (
	reconnectMin = 250 * time.Millisecond
	reconnectMax = 5 * time.Second
)

type logsFlags struct {
	num         int
	tail        bool
	dyno        string
	source      string
	processType string
	forceColors bool
}

func (inv *invocation) logsCommand() *cobra.Command {
	var lf logsFlags
	var in client.LogSessionCreate // from lf
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "display recent log output",
		Long: "Show an app's recent log lines: its dynos' output (app[web.1]), the router's lines (bulut[router]), " +
			"the platform's (bulut[web.1]) and the API's (app[api]). --tail follows the log as it is written.",
		Example: "  bulut logs --tail\n  bulut logs -n 200 --dyno web.1\n  bulut logs --source bulut --dyno router",
		Args:    noArgs(),
		PreRunE: func(*cobra.Command, []string) (err error) {
			in, err = lf.sessionCreate()
			return err
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&lf.num, "num", "n", defaultLogLines, "number of lines to display (at most 1500)")
	fl.BoolVarP(&lf.tail, "tail", "t", false, "continually stream logs")
	fl.StringVarP(&lf.dyno, "dyno", "d", "", "only show output from this dyno (web.1) or process type (web)")
	fl.StringVar(&lf.dyno, "dyno-name", "", "only show output from this dyno (web.1) or process type (web)")
	fl.MarkHidden("dyno-name")
	fl.StringVarP(&lf.source, "source", "s", "", "only show output from this source: app or bulut")
	fl.StringVarP(&lf.processType, "process-type", "p", "", "only show output from this process type (web)")
	fl.BoolVar(&lf.forceColors, "force-colors", false, "force use of colors (even when not on a terminal)")
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		return inv.streamLogs(c, app, in, inv.newLogColorizer(lf.forceColors))
	})
}

// sessionCreate checks the flags and turns them into a log session
// request.
func (lf *logsFlags) sessionCreate() (client.LogSessionCreate, error) {
	in := client.LogSessionCreate{Tail: lf.tail, Dyno: strings.TrimSpace(lf.dyno), Type: strings.TrimSpace(lf.processType)}
	if lf.num < 1 || lf.num > maxLogLines {
		return in, usageErrorf("--num must be between 1 and %d.", maxLogLines)
	}
	n := lf.num
	in.Lines = &n
	switch s := strings.ToLower(strings.TrimSpace(lf.source)); s {
	case "":
	case bulut.SourceApp, bulut.SourcePlatform:
		in.Source = s
	case "heroku":
		in.Source = bulut.SourcePlatform
	default:
		return in, usageErrorf("--source must be %s or %s, not %q.", bulut.SourceApp, bulut.SourcePlatform, lf.source)
	}
	if in.Dyno != "" && in.Type != "" {
		return in, usageErrorf("--dyno and --process-type can't be used together.")
	}
	return in, nil
}

// streamLogs prints an app's log session to stdout. With Tail, a lost
// connection is reconnected (with a new session once the URL expired),
// resuming after the last line printed, until the user interrupts.
func (inv *invocation) streamLogs(c *client.Client, app string, in client.LogSessionCreate, color *logColorizer) error {
	var session *client.LogSession
	var lastID string
	delay := reconnectMin
	warned := false
	for {
		if session == nil {
			s, err := c.CreateLogSession(inv.ctx, app, in)
			if err != nil {
				var netErr *client.NetworkError
				if !in.Tail || !errors.As(err, &netErr) {
					return inv.logsInterrupted(err)
				}
				// The server is away: keep trying.
			} else {
				session = s
			}
		}
		var err error
		if session != nil {
			err = c.StreamLogs(inv.ctx, session.LogplexURL, lastID, func(ev client.LogEvent) error {
				if ev.ID != "" {
					lastID = ev.ID
				}
				delay, warned = reconnectMin, false
				_, err := io.WriteString(inv.env.Stdout, color.line(ev.Line)+"\n")
				return err
			})
		}
		switch {
		case inv.ctx.Err() != nil:
			return inv.logsInterrupted(inv.ctx.Err())
		case !in.Tail && err == nil:
			return nil
		case !in.Tail && bulut.ErrorCode(err) != bulut.EINTERNAL:
			return err // the server refused the URL: its message says why
		case !in.Tail:
			return userErrorf("The log stream was cut: %s", errorMessage(err))
		}
		// A tail ended: the server went away or restarted, or the URL
		// expired. A new session is needed when the URL is refused.
		if err != nil && bulut.ErrorCode(err) != bulut.EINTERNAL {
			session = nil
		}
		if !warned {
			fmt.Fprintln(inv.env.Stderr, "Log stream interrupted, reconnecting...")
			warned = true
		}
		select {
		case <-inv.ctx.Done():
			return inv.logsInterrupted(inv.ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, reconnectMax)
	}
}

// logsInterrupted ends logs quietly when the user interrupted it (the
// way out of --tail), else returns err.
func (inv *invocation) logsInterrupted(err error) error {
	if inv.ctx.Err() != nil {
		return &exitStatusError{code: exitInterrupted}
	}
	return err
}

func (inv *invocation) drainsCommand() *cobra.Command {
	return listCommand(inv, listSpec[*client.LogDrain]{
		use: "drains", short: "display the log drains of an app",
		long:  "List the log drains of an app: the syslog and HTTPS endpoints its log is sent to, with their tokens.",
		empty: "%s has no log drains.",
		fetch: func(c *client.Client, app string, _ int) ([]*client.LogDrain, error) {
			return c.LogDrains(inv.ctx, app)
		},
		print: func(app string, drains []*client.LogDrain) {
			inv.printHeader("Drains")
			for _, d := range drains {
				inv.printf("%s (%s)\n", d.URL, d.Token)
			}
		},
	})
}

func (inv *invocation) drainsAddCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "drains:add URL",
		Short:   "add a log drain to an app",
		Long:    "Send an app's log to a syslog endpoint over TCP (syslog://HOST:PORT) or TLS (syslog+tls://HOST:PORT), or to an HTTPS endpoint (https://HOST/PATH). An app can have 5 drains.",
		Example: "  bulut drains:add syslog+tls://logs.example.com:6514",
		Args:    exactArgs(1),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		d, err := c.AddLogDrain(inv.ctx, app, args[0])
		if err != nil {
			return err
		}
		inv.printf("Successfully added drain %s\n", d.URL)
		return nil
	})
}

func (inv *invocation) drainsRemoveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drains:remove URL_OR_TOKEN",
		Short: "remove a log drain from an app",
		Long:  "Stop sending an app's log to a drain, named by its URL or its token (d.…).",
		Args:  exactArgs(1),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		d, err := c.RemoveLogDrain(inv.ctx, app, args[0])
		if err != nil {
			return err
		}
		inv.printf("Successfully removed drain %s\n", d.URL)
		return nil
	})
}
