package cli

import (
	"errors"
	"io"
	"time"

	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

func (inv *invocation) buildsCommands() []*cobra.Command {
	return []*cobra.Command{inv.buildsCommand(), inv.buildsOutputCommand(), inv.buildsCachePurgeCommand()}
}

func (inv *invocation) buildsCachePurgeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "builds:cache:purge",
		Short: "empty the build cache of an app",
		Long:  "Delete an app's build cache: the next build installs everything from scratch.",
		Args:  noArgs(),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, _ []string) error {
		return inv.action("Purging build cache for "+appLabel(app), func() (string, error) {
			return "", c.PurgeBuildCache(inv.ctx, app)
		})
	})
}

func (inv *invocation) buildsCommand() *cobra.Command {
	return listCommand(inv, listSpec[*client.Build]{
		use: "builds", short: "list the builds of an app", numbered: "builds", empty: "%s has no builds.",
		fetch: func(c *client.Client, app string, n int) ([]*client.Build, error) { return c.Builds(inv.ctx, app, n) },
		print: func(app string, builds []*client.Build) {
			inv.printHeader(appLabel(app) + " Builds")
			now := time.Now()
			rows := make([][]string, len(builds))
			for i, b := range builds {
				version := ""
				if b.SourceBlob.Version != nil {
					version = *b.SourceBlob.Version
				}
				rows[i] = []string{b.ID, formatAgo(b.CreatedAt, now), b.User.Email, b.Status, version}
			}
			inv.printTable(rows)
		},
	})
}

func (inv *invocation) buildsOutputCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "builds:output [BUILD_ID]",
		Short: "stream the output of a build",
		Long:  "Print a build's output (the newest build's by default), following it until the build ends.",
		Args:  maxArgs(1),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		b, err := inv.findBuild(c, app, firstArg(args))
		if err != nil {
			return err
		}
		body, err := c.OpenStream(inv.ctx, b.OutputStreamURL)
		if err != nil {
			return err
		}
		defer body.Close()
		if _, err := io.Copy(inv.env.Stdout, body); err != nil && !errors.Is(err, io.EOF) {
			if inv.ctx.Err() != nil {
				return inv.ctx.Err()
			}
			return userErrorf("The build's output stream was cut: %v", err)
		}
		return nil
	})
}

// findBuild returns the build with ID id, or the app's newest one when
// id is "".
func (inv *invocation) findBuild(c *client.Client, app, id string) (*client.Build, error) {
	if id != "" {
		return c.Build(inv.ctx, app, id)
	}
	builds, err := c.Builds(inv.ctx, app, 1)
	if err != nil {
		return nil, err
	}
	if len(builds) == 0 {
		return nil, userErrorf("%s has no builds.", appLabel(app))
	}
	return builds[0], nil
}
