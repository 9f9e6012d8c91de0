package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// maintenanceCommands are maintenance, maintenance:on and maintenance:off:
// an app in maintenance answers every request with the maintenance page
// (503, H80).
func (inv *invocation) maintenanceCommands() []*cobra.Command {
	show := &cobra.Command{
		Use:   "maintenance",
		Short: "display the current maintenance status of app",
		Args:  exactArgs(0),
	}
	sf := addAppFlags(show)
	show.RunE = func(*cobra.Command, []string) error {
		_, app, err := inv.fetchApp(sf)
		if err != nil {
			return err
		}
		if app.Maintenance {
			inv.printf("on\n")
		} else {
			inv.printf("off\n")
		}
		return nil
	}
	set := func(use, short, verb string, on bool) *cobra.Command {
		cmd := &cobra.Command{Use: use, Short: short, Args: exactArgs(0)}
		f := addAppFlags(cmd)
		cmd.RunE = func(*cobra.Command, []string) error {
			c, app, err := inv.fetchApp(f)
			if err != nil {
				return err
			}
			return inv.action(fmt.Sprintf("%s maintenance mode for %s", verb, appLabel(app.Name)), func() (string, error) {
				_, err := c.SetMaintenance(inv.ctx, app.ID, on)
				return "", err
			})
		}
		return cmd
	}
	return []*cobra.Command{
		show,
		set("maintenance:on", "put the app into maintenance mode", "Enabling", true),
		set("maintenance:off", "take the app out of maintenance mode", "Disabling", false),
	}
}
