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
	f := addAppFlags(cmd)
	addJSONFlag(cmd, &asJSON)
	cmd.Flags().BoolVarP(&shell, "shell", "s", false, "output config vars in shell format")
	cmd.RunE = func(*cobra.Command, []string) error {
		c, app, err := inv.clientAndApp(f)
		if err != nil {
			return err
		}
		vars, err := c.ConfigVars(inv.ctx, app)
		if err != nil {
			return err
		}
		switch {
		case asJSON:
			return inv.printJSON(nonNilMap(vars))
		case shell:
			for _, k := range sortedKeys(vars) {
				inv.printf("%s=%s\n", k, shellQuote(vars[k]))
			}
		case len(vars) == 0:
			inv.printf("%s has no config vars.\n", appLabel(app))
		default:
			inv.printHeader(appLabel(app) + " Config Vars")
			inv.printConfigVars(vars, sortedKeys(vars))
		}
		return nil
	}
	return cmd
}

func (inv *invocation) configGetCommand() *cobra.Command {
	var shell bool
	cmd := &cobra.Command{
		Use:   "config:get KEY...",
		Short: "display a single config value for an app",
		Long:  "Print the value of each KEY, an empty line for one that is not set.",
		Args:  usageArgs(cobra.MinimumNArgs(1)),
	}
	f := addAppFlags(cmd)
	cmd.Flags().BoolVarP(&shell, "shell", "s", false, "output config vars in shell format")
	cmd.RunE = func(_ *cobra.Command, keys []string) error {
		c, app, err := inv.clientAndApp(f)
		if err != nil {
			return err
		}
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
	}
	return cmd
}

func (inv *invocation) configSetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config:set KEY=VALUE...",
		Aliases: []string{"config:add"},
		Short:   "set one or more config vars",
		Long:    "Set config vars (the value is everything after the first =), which makes a new release and restarts the app's dynos.",
	}
	f := addAppFlags(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageErrorf("Usage: bulut config:set KEY1=VALUE1 [KEY2=VALUE2 ...]\nMust specify KEY and VALUE to set.")
		}
		patch := map[string]*string{}
		var keys []string
		for _, arg := range args {
			k, v, ok := strings.Cut(arg, "=")
			if !ok || k == "" {
				return usageErrorf("%s is invalid. Must be in the format FOO=bar.", arg)
			}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
			patch[k] = &v
		}
		c, app, err := inv.clientAndApp(f)
		if err != nil {
			return err
		}
		var vars map[string]string
		err = inv.action(fmt.Sprintf("Setting %s and restarting %s", strings.Join(keys, ", "), appLabel(app)), func() (string, error) {
			if vars, err = c.UpdateConfigVars(inv.ctx, app, patch); err != nil {
				return "", err
			}
			return latestVersion(inv, c, app), nil
		})
		if err != nil {
			return err
		}
		sort.Strings(keys)
		inv.printConfigVars(vars, keys)
		return nil
	}
	return cmd
}

func (inv *invocation) configUnsetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config:unset KEY...",
		Aliases: []string{"config:remove"},
		Short:   "unset one or more config vars",
		Long:    "Unset config vars, which makes a new release and restarts the app's dynos.",
	}
	f := addAppFlags(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usageErrorf("Usage: bulut config:unset KEY1 [KEY2 ...]\nMust specify KEY to unset.")
		}
		patch := map[string]*string{}
		var keys []string
		for _, k := range args {
			if _, dup := patch[k]; !dup {
				keys = append(keys, k)
			}
			patch[k] = nil
		}
		c, app, err := inv.clientAndApp(f)
		if err != nil {
			return err
		}
		return inv.action(fmt.Sprintf("Unsetting %s and restarting %s", strings.Join(keys, ", "), appLabel(app)), func() (string, error) {
			if _, err := c.UpdateConfigVars(inv.ctx, app, patch); err != nil {
				return "", err
			}
			return latestVersion(inv, c, app), nil
		})
	}
	return cmd
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
