package cli

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

func (inv *invocation) psCommands() []*cobra.Command {
	return []*cobra.Command{inv.psCommand(), inv.psScaleCommand(), inv.psTypeCommand(), inv.psRestartCommand(),
		inv.psStopCommand(), inv.runCommand(), inv.runDetachedCommand()}
}

func (inv *invocation) psCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ps [TYPE...]",
		Aliases: []string{"ps:list", "dyno:list"},
		Short:   "list dynos for an app",
		Long:    "List an app's dynos, grouped by process type, one-off dynos first. Give process types to list only theirs.",
	}
	addJSONFlag(cmd, &asJSON)
	return inv.appCommand(cmd, func(c *client.Client, app string, types []string) error {
		dynos, err := c.Dynos(inv.ctx, app)
		if err != nil {
			return err
		}
		if len(types) > 0 {
			dynos = slices.DeleteFunc(dynos, func(d *client.Dyno) bool { return !slices.Contains(types, d.Type) })
		}
		if asJSON {
			return inv.printJSON(append([]*client.Dyno{}, dynos...))
		}
		inv.printFreeQuota(c, app, dynos)
		if len(dynos) == 0 {
			if len(types) > 0 {
				inv.printf("No %s dynos on %s\n", strings.Join(types, ", "), appLabel(app))
			} else {
				inv.printf("No dynos on %s\n", appLabel(app))
			}
			return nil
		}
		inv.printDynos(dynos, time.Now())
		return nil
	})
}

// printFreeQuota prints, for an app running free dynos, the free dyno
// hours left this month, as Heroku's ps does first. A server that can't
// tell is not an error.
func (inv *invocation) printFreeQuota(c *client.Client, app string, dynos []*client.Dyno) {
	if !slices.ContainsFunc(dynos, func(d *client.Dyno) bool { return strings.EqualFold(d.Size, "free") }) {
		return
	}
	u, err := c.Usage(inv.ctx, app)
	if err != nil || u.QuotaSeconds <= 0 {
		return
	}
	left := max(u.RemainingSeconds, 0)
	inv.printf("Free dyno hours quota remaining this month: %dh %dm (%d%%)\n\n",
		left/3600, left%3600/60, left*100/u.QuotaSeconds)
}

// dynoGroup is the dynos ps shows under one header.
type dynoGroup struct {
	title string
	lines []string
}

// printDynos prints dynos as Heroku's ps: one-off dynos first, then one
// group per process type (and command and size).
func (inv *invocation) printDynos(dynos []*client.Dyno, now time.Time) {
	slices.SortFunc(dynos, compareDynos)
	var oneOffs []string
	var groups []*dynoGroup
	byKey := map[string]*dynoGroup{}
	for _, d := range dynos {
		since := formatAgo(d.UpdatedAt, now)
		if d.Type == "run" {
			oneOffs = append(oneOffs, fmt.Sprintf("%s (%s): %s %s: %s", d.Name, dynoSize(d), d.State, since, d.Command))
			continue
		}
		key := fmt.Sprintf("%s (%s): %s", d.Type, dynoSize(d), d.Command)
		g := byKey[key]
		if g == nil {
			g = &dynoGroup{title: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.lines = append(g.lines, fmt.Sprintf("%s: %s %s", d.Name, d.State, since))
	}
	if len(oneOffs) > 0 {
		groups = append([]*dynoGroup{{title: "run: one-off processes", lines: oneOffs}}, groups...)
	}
	for i, g := range groups {
		if i > 0 {
			inv.println()
		}
		inv.printf("=== %s (%d)\n", g.title, len(g.lines))
		for _, line := range g.lines {
			inv.println(line)
		}
	}
}

// compareDynos orders dynos by type, then by number (web.2 before web.10).
func compareDynos(a, b *client.Dyno) int {
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	na, errA := strconv.Atoi(a.Name[strings.LastIndex(a.Name, ".")+1:])
	nb, errB := strconv.Atoi(b.Name[strings.LastIndex(b.Name, ".")+1:])
	if errA == nil && errB == nil && na != nb {
		return cmp.Compare(na, nb)
	}
	return cmp.Compare(a.Name, b.Name)
}

// dynoSize is a dyno's size as ps shows it (Heroku's CLI says 1X when
// the API gives none).
func dynoSize(d *client.Dyno) string { return cmp.Or(d.Size, "1X") }

// scaleArgPattern is Heroku's ps:scale argument: TYPE=N, TYPE+N or
// TYPE-N, optionally followed by :SIZE.
var scaleArgPattern = regexp.MustCompile(`^([\w-]+)([=+-]\d+)(?::([\w-]+))?$`)

const scaleUsage = `Usage: bulut ps:scale TYPE1=AMOUNT1[:SIZE] [TYPE2=AMOUNT2 ...]
Must specify TYPE and AMOUNT to scale.
TYPE must be a process type of the app (letters, digits, _ and -).
AMOUNT must be a number, or a relative number like +1 or -1.`

func (inv *invocation) psScaleCommand() *cobra.Command {
	var updates []client.FormationUpdate // from the arguments
	cmd := &cobra.Command{
		Use:     "ps:scale [TYPE1=AMOUNT1[:SIZE] ...]",
		Aliases: []string{"scale", "dyno:scale"},
		Short:   "scale dyno quantity up or down",
		Long:    "Scale process types to a number of dynos (web=2), up or down (worker+1, worker-1), optionally changing their size (web=2:standard-2x). Without arguments, show the current formation.",
		Example: "  bulut ps:scale web=2 worker+1:standard-2x",
		PreRunE: func(_ *cobra.Command, args []string) error {
			for _, arg := range args {
				m := scaleArgPattern.FindStringSubmatch(arg)
				if m == nil {
					return usageErrorf("%s", scaleUsage)
				}
				updates = append(updates, client.FormationUpdate{Type: m[1], Quantity: strings.TrimPrefix(m[2], "="), Size: m[3]})
			}
			return nil
		},
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		if len(updates) == 0 {
			fs, err := inv.formation(c, app)
			if err != nil {
				return err
			}
			parts := make([]string, len(fs))
			for i, f := range fs {
				parts[i] = fmt.Sprintf("%s=%d:%s", f.Type, f.Quantity, f.Size)
			}
			inv.println(strings.Join(parts, " "))
			return nil
		}
		return inv.action("Scaling dynos", func() (string, error) {
			fs, err := c.UpdateFormation(inv.ctx, app, updates)
			if err != nil {
				return "", err
			}
			var parts []string
			for _, f := range sortedFormation(fs) {
				if slices.ContainsFunc(updates, func(u client.FormationUpdate) bool { return u.Type == f.Type }) {
					parts = append(parts, fmt.Sprintf("%s at %d:%s", f.Type, f.Quantity, f.Size))
				}
			}
			return "now running " + strings.Join(parts, ", "), nil
		})
	})
}

// formation returns an app's process types sorted by type, or Heroku's
// error when it has none yet.
func (inv *invocation) formation(c *client.Client, app string) ([]*client.Formation, error) {
	fs, err := c.Formation(inv.ctx, app)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, userErrorf("No process types on %s.\nUpload a Procfile to add process types.", appLabel(app))
	}
	return sortedFormation(fs), nil
}

func sortedFormation(fs []*client.Formation) []*client.Formation {
	return slices.SortedFunc(slices.Values(fs), func(a, b *client.Formation) int { return cmp.Compare(a.Type, b.Type) })
}

// sizePrices are Heroku's monthly prices of the dyno sizes, in dollars,
// which ps:type shows for comparison.
var sizePrices = map[string]int{"Free": 0, "Basic": 7, "Standard-1X": 25, "Standard-2X": 50, "Performance-M": 250}

var typeSizePattern = regexp.MustCompile(`^([\w-]+)=([\w-]+)$`)

func (inv *invocation) psTypeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "ps:type [SIZE | TYPE=SIZE...]",
		Aliases: []string{"ps:resize", "dyno:type", "dyno:resize", "resize"},
		Short:   "manage dyno sizes",
		Long:    "Without arguments, show the dyno size of each process type. With one SIZE, set it for every process type; with TYPE=SIZE arguments, for those types. Sizes: free, basic, standard-1x, standard-2x, performance-m.",
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		fs, err := inv.formation(c, app)
		if err != nil {
			return err
		}
		if len(args) > 0 {
			updates, err := typeSizeUpdates(fs, args)
			if err != nil {
				return err
			}
			err = inv.action("Scaling dynos on "+appLabel(app), func() (string, error) {
				_, err := c.UpdateFormation(inv.ctx, app, updates)
				return "", err
			})
			if err != nil {
				return err
			}
			if fs, err = inv.formation(c, app); err != nil {
				return err
			}
		}
		inv.printSizes(fs)
		return nil
	})
}

// typeSizeUpdates parses ps:type's arguments: one size for every type,
// or TYPE=SIZE pairs.
func typeSizeUpdates(fs []*client.Formation, args []string) ([]client.FormationUpdate, error) {
	var updates []client.FormationUpdate
	if len(args) == 1 && !strings.Contains(args[0], "=") {
		for _, f := range fs {
			updates = append(updates, client.FormationUpdate{Type: f.Type, Size: args[0]})
		}
		return updates, nil
	}
	var types []string
	for _, f := range fs {
		types = append(types, f.Type)
	}
	for _, arg := range args {
		m := typeSizePattern.FindStringSubmatch(arg)
		if m == nil {
			return nil, usageErrorf("Usage: bulut ps:type SIZE, or bulut ps:type TYPE=SIZE [TYPE2=SIZE2 ...]: %q is neither.", arg)
		}
		if !slices.Contains(types, m[1]) {
			return nil, userErrorf("Type %s not found in process formation.\nTypes: %s", m[1], strings.Join(types, ", "))
		}
		updates = append(updates, client.FormationUpdate{Type: m[1], Size: m[2]})
	}
	return updates, nil
}

// printSizes prints the dyno size table of ps:type.
func (inv *invocation) printSizes(fs []*client.Formation) {
	rows := [][]string{{"Type", "Size", "Qty", "Cost/hour", "Max cost/month"}}
	totals := map[string]int{}
	var sizes []string
	for _, f := range fs {
		hourly, monthly := "", ""
		if price, ok := sizePrices[f.Size]; ok {
			hourly = fmt.Sprintf("~$%.3f", float64(price*f.Quantity)/720)
			monthly = fmt.Sprintf("$%d", price*f.Quantity)
		}
		rows = append(rows, []string{f.Type, f.Size, strconv.Itoa(f.Quantity), hourly, monthly})
		if _, ok := totals[f.Size]; !ok {
			sizes = append(sizes, f.Size)
		}
		totals[f.Size] += f.Quantity
	}
	inv.printHeader("Process Types")
	inv.printTable(rows)
	inv.println()
	inv.printHeader("Dyno Totals")
	rows = [][]string{{"Type", "Total"}}
	for _, s := range sizes {
		rows = append(rows, []string{s, strconv.Itoa(totals[s])})
	}
	inv.printTable(rows)
}

// dynoTarget is what ps:restart and ps:stop act on: one dyno (web.1),
// a process type (web), or, for restarts, every dyno ("").
type dynoTarget struct {
	dyno, processType string
}

func addDynoTargetFlags(cmd *cobra.Command, t *dynoTarget) {
	cmd.Flags().StringVarP(&t.dyno, "dyno-name", "d", "", "name of the dyno (web.1)")
	cmd.Flags().StringVarP(&t.processType, "process-type", "p", "", "name of the process type (web)")
}

// resolve takes the positional argument, if any: a name with a dot is a
// dyno, one without a process type.
func (t *dynoTarget) resolve(args []string) error {
	if len(args) > 0 {
		if t.dyno != "" || t.processType != "" {
			return usageErrorf("Give the dyno or process type as an argument or with a flag, not both.")
		}
		if strings.Contains(args[0], ".") {
			t.dyno = args[0]
		} else {
			t.processType = args[0]
		}
	}
	if t.dyno != "" && t.processType != "" {
		return usageErrorf("--dyno-name and --process-type can't be used together.")
	}
	return nil
}

// describe is how messages name the target: "web.1 dyno", "web dynos".
func (t *dynoTarget) describe() string {
	switch {
	case t.dyno != "":
		return t.dyno + " dyno"
	case t.processType != "":
		return t.processType + " dynos"
	}
	return "dynos"
}

func (inv *invocation) psRestartCommand() *cobra.Command {
	var target dynoTarget
	cmd := &cobra.Command{
		Use:     "ps:restart [DYNO|TYPE]",
		Aliases: []string{"restart", "dyno:restart"},
		Short:   "restart app dynos",
		Long:    "Restart every dyno of an app, one dyno (web.1) or the dynos of a process type (web). Web dynos are replaced without dropping requests.",
		Args:    maxArgs(1),
		PreRunE: func(_ *cobra.Command, args []string) error { return target.resolve(args) },
	}
	addDynoTargetFlags(cmd, &target)
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		return inv.action(fmt.Sprintf("Restarting %s on %s", target.describe(), appLabel(app)), func() (string, error) {
			switch {
			case target.dyno != "":
				return "", c.RestartDyno(inv.ctx, app, target.dyno)
			case target.processType != "":
				return "", c.RestartProcessType(inv.ctx, app, target.processType)
			}
			return "", c.RestartAllDynos(inv.ctx, app)
		})
	})
}

func (inv *invocation) psStopCommand() *cobra.Command {
	var target dynoTarget
	cmd := &cobra.Command{
		Use:     "ps:stop DYNO|TYPE",
		Aliases: []string{"stop", "ps:kill", "kill", "dyno:stop", "dyno:kill"},
		Short:   "stop app dynos",
		Long:    "Stop one dyno (web.1) or the dynos of a process type (web). The platform starts formation dynos again; a stopped one-off dyno is gone. Use ps:scale TYPE=0 to stop a process type for good.",
		Args:    maxArgs(1),
		PreRunE: func(_ *cobra.Command, args []string) error {
			if err := target.resolve(args); err != nil {
				return err
			}
			if target.dyno == "" && target.processType == "" {
				return usageErrorf("Give the dyno (web.1) or process type (web) to stop.")
			}
			return nil
		},
	}
	addDynoTargetFlags(cmd, &target)
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		return inv.action(fmt.Sprintf("Stopping %s on %s", target.describe(), appLabel(app)), func() (string, error) {
			if target.dyno != "" {
				return "", c.StopDyno(inv.ctx, app, target.dyno)
			}
			return "", c.StopProcessType(inv.ctx, app, target.processType)
		})
	})
}

// errNoAttachURL is a server answering a run without a terminal to
// attach to.
var errNoAttachURL = errors.New("The server started the dyno without an attach URL: it can't connect a terminal.")
