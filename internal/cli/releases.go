package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

// defaultListSize is how many releases and builds listings show.
const defaultListSize = 15

func (inv *invocation) releasesCommands() []*cobra.Command {
	return []*cobra.Command{inv.releasesCommand(), inv.releasesInfoCommand(), inv.rollbackCommand()}
}

func (inv *invocation) releasesCommand() *cobra.Command {
	return listCommand(inv, listSpec[*client.Release]{
		use: "releases", short: "display the releases for an app", numbered: "releases", empty: "%s has no releases.",
		fetch: func(c *client.Client, app string, n int) ([]*client.Release, error) {
			return c.Releases(inv.ctx, app, n)
		},
		print: func(app string, releases []*client.Release) {
			title := appLabel(app) + " Releases"
			for _, r := range releases {
				if r.Current {
					title += fmt.Sprintf(" - Current: v%d", r.Version)
					break
				}
			}
			inv.printHeader(title)
			now := time.Now()
			rows := make([][]string, len(releases))
			for i, r := range releases {
				desc := r.Description
				if s := releaseStatusNote(r.Status); s != "" {
					desc += " " + s
				}
				rows[i] = []string{fmt.Sprintf("v%d", r.Version), desc, r.User.Email, formatAgo(r.CreatedAt, now)}
			}
			inv.printTable(rows)
		},
	})
}

// releaseStatusNote is what Heroku appends to the description of a
// release that didn't succeed.
func releaseStatusNote(status string) string {
	switch status {
	case "failed":
		return "release command failed"
	case "pending":
		return "release command executing"
	}
	return ""
}

func (inv *invocation) releasesInfoCommand() *cobra.Command {
	var asJSON, shell bool
	cmd := &cobra.Command{
		Use:   "releases:info [RELEASE]",
		Short: "view detailed information for a release",
		Long:  "Show a release (vN, N or its ID; the newest by default) and the config vars it was made with.",
		Args:  maxArgs(1),
	}
	addJSONFlag(cmd, &asJSON)
	addShellFlag(cmd, &shell)
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		r, err := inv.findRelease(c, app, firstArg(args))
		if err != nil {
			return err
		}
		if asJSON {
			return inv.printJSON(r)
		}
		vars, err := c.ReleaseConfigVars(inv.ctx, app, r.ID)
		if err != nil {
			return err
		}
		change := r.Description
		if s := releaseStatusNote(r.Status); s != "" {
			change += " (" + s + ")"
		}
		inv.printHeader(fmt.Sprintf("Release v%d", r.Version))
		var fields [][2]string
		if len(r.AddonPlanNames) > 0 {
			fields = append(fields, [2]string{"Add-ons", strings.Join(r.AddonPlanNames, ", ")})
		}
		fields = append(fields, [2]string{"Change", change}, [2]string{"By", r.User.Email},
			[2]string{"When", r.CreatedAt.UTC().Format(time.RFC3339)})
		inv.printFields(fields)
		inv.println()
		inv.printHeader(fmt.Sprintf("v%d Config vars", r.Version))
		if shell {
			inv.printShellVars(vars)
		} else {
			inv.printConfigVars(vars, sortedKeys(vars))
		}
		return nil
	})
}

// findRelease returns the release named by arg (vN, N or an ID), or the
// app's newest one when arg is "".
func (inv *invocation) findRelease(c *client.Client, app, arg string) (*client.Release, error) {
	if arg != "" {
		return c.Release(inv.ctx, app, arg)
	}
	r, err := c.LatestRelease(inv.ctx, app)
	if err == nil && r == nil {
		return nil, userErrorf("%s has no releases.", appLabel(app))
	}
	return r, err
}

func (inv *invocation) rollbackCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rollback [RELEASE]",
		Aliases: []string{"releases:rollback"},
		Short:   "roll back to a previous release",
		Long:    "Make a new release with the code and config vars of an earlier one (vN; by default the last one before the current release that has code). Add-ons are not changed.",
		Args:    maxArgs(1),
	}
	return inv.appCommand(cmd, func(c *client.Client, app string, args []string) error {
		target, err := inv.rollbackTarget(c, app, firstArg(args))
		if err != nil {
			return err
		}
		var made *client.Release
		err = inv.action(fmt.Sprintf("Rolling back %s to v%d", appLabel(app), target.Version), func() (string, error) {
			if made, err = c.Rollback(inv.ctx, app, target.ID); err != nil {
				return "", err
			}
			return fmt.Sprintf("v%d", made.Version), nil
		})
		if err != nil {
			return err
		}
		inv.warn("Rollback affects code and config vars; it doesn't add or remove addons.")
		inv.warn(fmt.Sprintf("To undo, run: bulut rollback v%d", made.Version-1))
		return nil
	})
}

// rollbackTarget returns the release named by arg, or without one the
// newest succeeded release older than the current one that has a slug.
func (inv *invocation) rollbackTarget(c *client.Client, app, arg string) (*client.Release, error) {
	if arg != "" {
		return c.Release(inv.ctx, app, arg)
	}
	releases, err := c.Releases(inv.ctx, app, 100)
	if err != nil {
		return nil, err
	}
	seenCurrent := false
	for _, r := range releases { // newest first
		switch {
		case r.Current:
			seenCurrent = true
		case seenCurrent && r.Slug != nil && r.Status == "succeeded":
			return r, nil
		}
	}
	return nil, userErrorf("No previous release of %s with code to roll back to.", appLabel(app))
}

// printTable prints rows as aligned columns two spaces apart, without a
// header, as Heroku's tables.
func (inv *invocation) printTable(rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		inv.println(strings.TrimRight(b.String(), " "))
	}
}

// displayWidth counts the runes of s, which is its width in a terminal
// for the text tables show.
func displayWidth(s string) int { return len([]rune(s)) }

// formatAgo writes a time as Heroku's CLI: `2006/01/02 15:04:05 -0700`
// in local time, then how long ago it was when under 25 hours.
func formatAgo(t, now time.Time) string {
	s := t.Local().Format("2006/01/02 15:04:05 -0700")
	elapsed := now.Sub(t)
	switch {
	case elapsed < 0:
		return s + " (~ 0s ago)"
	case elapsed < time.Minute:
		return fmt.Sprintf("%s (~ %ds ago)", s, int(elapsed.Seconds()))
	case elapsed < time.Hour:
		return fmt.Sprintf("%s (~ %dm ago)", s, int(elapsed.Minutes()))
	case elapsed < 25*time.Hour:
		return fmt.Sprintf("%s (~ %dh ago)", s, int(elapsed.Hours()))
	}
	return s
}
