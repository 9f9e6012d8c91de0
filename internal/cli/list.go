package cli

import (
	"github.com/spf13/cobra"

	"github.com/bulut-bulut/bulut/client"
)

// listSpec describes a `NAME [-n N] [--json]` listing of an app's newest
// items (releases, builds).
type listSpec[T any] struct {
	use, short, noun string
	fetch            func(c *client.Client, app string, n int) ([]T, error)
	print            func(app string, items []T)
}

// listCommand builds a listing command: -n (default defaultListSize),
// --json, and "APP has no NOUN." when there is nothing to show.
func listCommand[T any](inv *invocation, spec listSpec[T]) *cobra.Command {
	var asJSON bool
	var num int
	cmd := &cobra.Command{
		Use:     spec.use,
		Aliases: []string{spec.use + ":list"},
		Short:   spec.short,
		Args:    noArgs(),
	}
	f := addAppFlags(cmd)
	addJSONFlag(cmd, &asJSON)
	cmd.Flags().IntVarP(&num, "num", "n", defaultListSize, "number of "+spec.noun+" to show")
	cmd.RunE = func(*cobra.Command, []string) error {
		if num < 1 {
			return usageErrorf("--num must be at least 1.")
		}
		c, app, err := inv.clientAndApp(f)
		if err != nil {
			return err
		}
		items, err := spec.fetch(c, app, num)
		if err != nil {
			return err
		}
		if asJSON {
			return inv.printJSON(append([]T{}, items...))
		}
		if len(items) == 0 {
			inv.printf("%s has no %s.\n", appLabel(app), spec.noun)
			return nil
		}
		spec.print(app, items)
		return nil
	}
	return cmd
}
