package cli

import (
	"cmp"
	"slices"

	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

func (inv *invocation) buildpacksCommands() []*cobra.Command {
	return []*cobra.Command{
		inv.buildpacksCommand(), inv.buildpacksSetCommand(), inv.buildpacksAddCommand(),
		inv.buildpacksRemoveCommand(), inv.buildpacksClearCommand(),
	}
}

func (inv *invocation) buildpacksCommand() *cobra.Command {
	return listCommand(inv, listSpec[*client.BuildpackInstallation]{
		use: "buildpacks", short: "display the buildpacks for an app",
		empty: "%s has no Buildpack URL set.",
		fetch: func(c *client.Client, app string, _ int) ([]*client.BuildpackInstallation, error) {
			return c.Buildpacks(inv.ctx, app)
		},
		print: func(app string, bps []*client.BuildpackInstallation) {
			title := appLabel(app) + " Buildpack URL"
			if len(bps) > 1 {
				title += "s"
			}
			inv.printHeader(title)
			inv.printBuildpacks(buildpackURLs(bps), "")
		},
	})
}

// buildpackFlags are the flags of the commands changing buildpacks.
type buildpackFlags struct {
	*appFlags
	index int // 1-based; 0 when not given
}

// addBuildpackFlags adds the app flags and --index to cmd, and checks
// --index before cmd runs.
func addBuildpackFlags(cmd *cobra.Command) *buildpackFlags {
	f := &buildpackFlags{appFlags: addAppFlags(cmd)}
	cmd.Flags().IntVarP(&f.index, "index", "i", 0, "the 1-based index of the buildpack")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Flags().Changed("index") && f.index < 1 {
			return usageErrorf("Invalid index. Must be greater than 0.")
		}
		return nil
	}
	return f
}

func (inv *invocation) buildpacksSetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildpacks:set BUILDPACK",
		Short: "set new app buildpack, overwriting into list of buildpacks if necessary",
		Long:  "Set the buildpack (a git URL, a local directory on the server, or a built-in name such as heroku/python) at --index (default 1), replacing the one there.",
		Args:  exactArgs(1),
	}
	return inv.changeBuildpacksCommand(cmd, "set", func(bps []string, buildpack string, index int) []string {
		if i := max(index-1, 0); i < len(bps) {
			bps[i] = buildpack
			return bps
		}
		return append(bps, buildpack)
	})
}

func (inv *invocation) buildpacksAddCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildpacks:add BUILDPACK",
		Short: "add new app buildpack, inserting into list of buildpacks if necessary",
		Long:  "Add a buildpack at the end of the list, or at --index.",
		Args:  exactArgs(1),
	}
	return inv.changeBuildpacksCommand(cmd, "added", func(bps []string, buildpack string, index int) []string {
		i := len(bps)
		if index > 0 {
			i = min(index-1, len(bps))
		}
		return slices.Insert(bps, i, buildpack)
	})
}

// changeBuildpacksCommand completes cmd, a command putting its argument
// in an app's buildpacks: change puts buildpack in bps at index (1-based;
// 0 when --index is not given), and the new list is saved and shown.
func (inv *invocation) changeBuildpacksCommand(cmd *cobra.Command, action string, change func(bps []string, buildpack string, index int) []string) *cobra.Command {
	f := addBuildpackFlags(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		c, app, bps, err := inv.appBuildpacks(f.appFlags)
		if err != nil {
			return err
		}
		if slices.Contains(bps, args[0]) {
			return userErrorf("The buildpack %s is already set on your app.", args[0])
		}
		return inv.saveBuildpacks(c, f, app, change(bps, args[0], f.index), action)
	}
	return cmd
}

// appBuildpacks returns an API client, the app the flags name and the
// URLs of its buildpacks in order.
func (inv *invocation) appBuildpacks(f *appFlags) (*client.Client, string, []string, error) {
	c, app, err := inv.clientAndApp(f)
	if err != nil {
		return nil, "", nil, err
	}
	installed, err := c.Buildpacks(inv.ctx, app)
	if err != nil {
		return nil, "", nil, err
	}
	return c, app, buildpackURLs(installed), nil
}

func (inv *invocation) buildpacksRemoveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildpacks:remove [BUILDPACK]",
		Short: "remove a buildpack set on the app",
		Long:  "Remove a buildpack, named or at --index.",
		Args:  maxArgs(1),
	}
	f := addBuildpackFlags(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		buildpack := firstArg(args)
		switch {
		case buildpack != "" && f.index != 0:
			return usageErrorf("Please choose either index or Buildpack URL, but not both.")
		case buildpack == "" && f.index == 0:
			return usageErrorf("Usage: bulut buildpacks:remove [BUILDPACK_URL].\nMust specify a buildpack to remove, either by index or URL.")
		}
		c, app, bps, err := inv.appBuildpacks(f.appFlags)
		if err != nil {
			return err
		}
		i := f.index - 1
		switch {
		case len(bps) == 0:
			return userErrorf("No buildpacks were found. Next release on %s will detect buildpacks normally.", appLabel(app))
		case buildpack != "":
			if i = slices.Index(bps, buildpack); i < 0 {
				return userErrorf("Buildpack not found. Nothing was removed.")
			}
		case i >= len(bps) && len(bps) == 1:
			return userErrorf("Invalid index. Only valid value is 1.")
		case i >= len(bps):
			return userErrorf("Invalid index. Please choose a value between 1 and %d", len(bps))
		}
		return inv.saveBuildpacks(c, f, app, slices.Delete(bps, i, i+1), "removed")
	}
	return cmd
}

func (inv *invocation) buildpacksClearCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildpacks:clear",
		Short: "clear all buildpacks set on the app",
		Args:  noArgs(),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		if _, err := c.SetBuildpacks(inv.ctx, app, nil); err != nil {
			return err
		}
		inv.printf("Buildpacks cleared. Next release on %s will detect buildpacks normally.\n", appLabel(app))
		return nil
	})
}

// saveBuildpacks stores an app's new buildpack list and tells what the
// next release will use, as Heroku's CLI.
func (inv *invocation) saveBuildpacks(c *client.Client, f *buildpackFlags, app string, bps []string, action string) error {
	saved, err := c.SetBuildpacks(inv.ctx, app, bps)
	if err != nil {
		return err
	}
	bps = buildpackURLs(saved)
	push := "git push " + cmp.Or(f.remote, defaultRemote) + " main"
	switch len(bps) {
	case 0:
		inv.printf("Buildpack %s. Next release on %s will detect buildpacks normally.\n", action, appLabel(app))
	case 1:
		inv.printf("Buildpack %s. Next release on %s will use %s.\n", action, appLabel(app), bps[0])
		inv.printf("Run %s to create a new release using this buildpack.\n", push)
	default:
		inv.printf("Buildpack %s. Next release on %s will use:\n", action, appLabel(app))
		inv.printBuildpacks(bps, "  ")
		inv.printf("Run %s to create a new release using these buildpacks.\n", push)
	}
	return nil
}

// printBuildpacks prints one buildpack alone, several numbered.
func (inv *invocation) printBuildpacks(bps []string, indent string) {
	if len(bps) == 1 {
		inv.println(indent + bps[0])
		return
	}
	for i, bp := range bps {
		inv.printf("%s%d. %s\n", indent, i+1, bp)
	}
}

// buildpackURLs returns installations' URLs in order.
func buildpackURLs(bps []*client.BuildpackInstallation) []string {
	sorted := slices.Clone(bps)
	slices.SortStableFunc(sorted, func(a, b *client.BuildpackInstallation) int { return a.Ordinal - b.Ordinal })
	urls := make([]string, len(sorted))
	for i, bp := range sorted {
		urls[i] = bp.Buildpack.URL
	}
	return urls
}
