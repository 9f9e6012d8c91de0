package cli

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

func (inv *invocation) configCommands() []*cobra.Command {
	return []*cobra.Command{inv.configCommand(), inv.configGetCommand(), inv.configSetCommand(), inv.configUnsetCommand()}
}

func (inv *invocation) configCommand() *cobra.Command {
	var asJSON, shell bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "display the config vars for an app",
		Args:  noArgs(),
	}
	addJSONFlag(cmd, &asJSON)
	addShellFlag(cmd, &shell)
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		vars, err := c.ConfigVars(inv.ctx, app)
		if err != nil {
			return err
		}
		switch {
		case asJSON:
			return inv.printJSON(nonNilMap(vars))
		case shell:
			inv.printShellVars(vars)
		case len(vars) == 0:
			inv.printf("%s has no config vars.\n", appLabel(app))
		default:
			inv.printHeader(appLabel(app) + " Config Vars")
			inv.printConfigVars(vars, sortedKeys(vars))
		}
		return nil
	})
}

func (inv *invocation) configGetCommand() *cobra.Command {
	var shell bool
	cmd := &cobra.Command{
		Use:   "config:get KEY...",
		Short: "display a single config value for an app",
		Long:  "Print the value of each KEY, an empty line for one that is not set.",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
	}
	addShellFlag(cmd, &shell)
	return inv.appCommand(cmd, func(c *client.Client, app string, keys []string) error {
		vars, err := c.ConfigVars(inv.ctx, app)
		if err != nil {
			return err
		}
		for _, k := range keys {
			v, ok := vars[k]
			switch {
			case !ok:
				inv.println()
			case shell:
				inv.printf("%s=%s\n", k, shellQuote(v))
			default:
				inv.println(v)
			}
		}
		return nil
	})
}

func (inv *invocation) configSetCommand() *cobra.Command {
	var change configChange
	cmd := &cobra.Command{
		Use:     "config:set KEY=VALUE...",
		Aliases: []string{"config:add"},
		Short:   "set one or more config vars",
		Long:    "Set config vars (the value is everything after the first =), which makes a new release and restarts the app's dynos.",
		PreRunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("Usage: bulut config:set KEY1=VALUE1 [KEY2=VALUE2 ...]\nMust specify KEY and VALUE to set.")
			}
			for _, arg := range args {
				k, v, ok := strings.Cut(arg, "=")
				if !ok || k == "" {
					return usageErrorf("%s is invalid. Must be in the format FOO=bar.", arg)
				}
				change.put(k, &v)
			}
			return nil
		},
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		vars, err := inv.changeConfigVars(c, app, "Setting", change)
		if err != nil {
			return err
		}
		inv.printConfigVars(vars, slices.Sorted(slices.Values(change.keys)))
		return nil
	})
}

func (inv *invocation) configUnsetCommand() *cobra.Command {
	var change configChange
	cmd := &cobra.Command{
		Use:     "config:unset KEY...",
		Aliases: []string{"config:remove"},
		Short:   "unset one or more config vars",
		Long:    "Unset config vars, which makes a new release and restarts the app's dynos.",
		PreRunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("Usage: bulut config:unset KEY1 [KEY2 ...]\nMust specify KEY to unset.")
			}
			for _, k := range args {
				change.put(k, nil)
			}
			return nil
		},
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		_, err := inv.changeConfigVars(c, app, "Unsetting", change)
		return err
	})
}

// configChange is what config:set or config:unset changes: the keys in
// the order given, without repeats, and their new values (nil unsets).
type configChange struct {
	keys []string
	vars map[string]*string
}

func (ch *configChange) put(k string, v *string) {
	if ch.vars == nil {
		ch.vars = map[string]*string{}
	}
	if _, dup := ch.vars[k]; !dup {
		ch.keys = append(ch.keys, k)
	}
	ch.vars[k] = v
}

// changeConfigVars makes change (`VERB KEYS and restarting ⬢ APP...
// done, vN`) and returns the app's config vars after it.
func (inv *invocation) changeConfigVars(c *client.Client, app, verb string, change configChange) (map[string]string, error) {
	var vars map[string]string
	err := inv.action(fmt.Sprintf("%s %s and restarting %s", verb, strings.Join(change.keys, ", "), appLabel(app)), func() (string, error) {
		var err error
		if vars, err = c.UpdateConfigVars(inv.ctx, app, change.vars); err != nil {
			return "", err
		}
		return latestVersion(inv, c, app), nil
	})
	return vars, err
}

// latestVersion is `vN` of an app's newest release, for `done, vN`; ""
// if it can't be read (the change itself went through).
func latestVersion(inv *invocation, c *client.Client, app string) string {
	r, err := c.LatestRelease(inv.ctx, app)
	if err != nil || r == nil {
		return ""
	}
	return fmt.Sprintf("v%d", r.Version)
}

// printConfigVars prints the vars named by keys (those that are set) as
// Heroku's styled object: `KEY: value`, values aligned.
func (inv *invocation) printConfigVars(vars map[string]string, keys []string) {
	var fields [][2]string
	for _, k := range keys {
		if v, ok := vars[k]; ok {
			fields = append(fields, [2]string{k, v})
		}
	}
	inv.printFields(fields)
}

// printShellVars prints config vars as `KEY=value` lines for a shell,
// sorted by key.
func (inv *invocation) printShellVars(vars map[string]string) {
	for _, k := range sortedKeys(vars) {
		inv.printf("%s=%s\n", k, shellQuote(vars[k]))
	}
}

func addShellFlag(cmd *cobra.Command, shell *bool) {
	cmd.Flags().BoolVarP(shell, "shell", "s", false, "output config vars in shell format")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
