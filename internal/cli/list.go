package cli

import (
	"github.com/spf13/cobra"

	"github.com/bulut-bulut/bulut/client"
)

// listSpec describes a `NAME [-n N] [--json]` listing of an app's items
// (releases, builds, buildpacks, drains, domains).
type listSpec[T any] struct {
	use, short, long string
	// numbered is the noun of -n's help ("releases"); "" for lists that
	// have no -n.
	numbered string
	// empty is printed, with the app's label, when there is nothing to
	// show ("%s has no releases."); "" leaves empty lists to print.
	empty string
	fetch func(c *client.Client, app string, n int) ([]T, error)
	print func(app string, items []T)
}

// listCommand builds a listing command with --json and, for numbered
// lists, -n (default defaultListSize).
func listCommand[T any](inv *invocation, spec listSpec[T]) *cobra.Command {
	var asJSON bool
	num := defaultListSize
	cmd := &cobra.Command{
		Use:     spec.use,
		Aliases: []string{spec.use + ":list"},
		Short:   spec.short,
		Long:    spec.long,
		Args:    noArgs(),
		PreRunE: func(*cobra.Command, []string) error {
			if num < 1 {
				return usageErrorf("--num must be at least 1.")
			}
			return nil
		},
	}
	addJSONFlag(cmd, &asJSON)
	if spec.numbered != "" {
		cmd.Flags().IntVarP(&num, "num", "n", defaultListSize, "number of "+spec.numbered+" to show")
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		items, err := spec.fetch(c, app, num)
		if err != nil {
			return err
		}
		if asJSON {
			return inv.printJSON(append([]T{}, items...))
		}
		if len(items) == 0 && spec.empty != "" {
			inv.printf(spec.empty+"\n", appLabel(app))
			return nil
		}
		spec.print(app, items)
		return nil
	})
}
