package cli

import (
	"fmt"
	"strings"

	"github.com/bulut-bulut/bulut/client"
	"github.com/spf13/cobra"
)

func (inv *invocation) appsCommands() []*cobra.Command {
	return []*cobra.Command{
		inv.appsListCommand(), inv.appsCreateCommand(), inv.appsInfoCommand(),
		inv.appsRenameCommand(), inv.appsDestroyCommand(),
	}
}

func (inv *invocation) appsListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "apps",
		Aliases: []string{"apps:list", "list"},
		Short:   "list your apps",
		Args:    noArgs(),
		RunE:    func(*cobra.Command, []string) error { return inv.listApps(asJSON) },
	}
	addJSONFlag(cmd, &asJSON)
	return cmd
}

func (inv *invocation) listApps(asJSON bool) error {
	c, err := inv.apiClient()
	if err != nil {
		return err
	}
	apps, err := c.Apps(inv.ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return inv.printJSON(append([]*client.App{}, apps...)) // [] rather than null
	}
	if len(apps) == 0 {
		inv.println("You have no apps.")
		return nil
	}
	account, err := c.Account(inv.ctx)
	if err != nil {
		return err
	}
	inv.printHeader(account.Email + " Apps")
	for _, app := range apps {
		inv.println(app.Name)
	}
	return nil
}

func (inv *invocation) appsCreateCommand() *cobra.Command {
	var opts createOptions
	cmd := &cobra.Command{
		Use:     "apps:create [NAME]",
		Aliases: []string{"create"},
		Short:   "create a new app",
		Long:    "Create an app (named NAME, or with a generated name) and, inside a git repository, add a git remote for it.",
		Args:    maxArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.name = firstArg(args)
			return inv.createApp(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.remote, "remote", "r", defaultRemote, "name of the git remote to create")
	cmd.Flags().BoolVar(&opts.noRemote, "no-remote", false, "do not create a git remote")
	addJSONFlag(cmd, &opts.asJSON)
	return cmd
}

type createOptions struct {
	name     string // "" for a generated one
	remote   string
	noRemote bool
	asJSON   bool
}

func (inv *invocation) createApp(opts createOptions) error {
	c, err := inv.apiClient()
	if err != nil {
		return err
	}
	var app *client.App
	label := "Creating app"
	if opts.name != "" {
		label = "Creating " + appLabel(opts.name)
	}
	err = inv.action(label, func() (string, error) {
		if app, err = c.CreateApp(inv.ctx, opts.name); err != nil || opts.name != "" {
			return "", err
		}
		return appLabel(app.Name), nil
	})
	if err != nil {
		return err
	}
	if !opts.noRemote {
		inv.addAppRemote(opts.remote, app.GitURL)
	}
	if opts.asJSON {
		return inv.printJSON(app)
	}
	inv.printURLs(app)
	return nil
}

// addAppRemote adds git remote name for a new app when Env.Dir is in a git
// repository that has no remote of that name yet. Failing only warns: the
// app exists anyway.
func (inv *invocation) addAppRemote(name, gitURL string) {
	if !inv.inGitRepo() || inv.hasGitRemote(name) {
		return
	}
	if _, err := inv.git("remote", "add", "--", name, gitURL); err != nil {
		inv.warn(err.Error())
	}
}

func (inv *invocation) appsInfoCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "apps:info",
		Aliases: []string{"info"},
		Short:   "show detailed app information",
		Args:    noArgs(),
	}
	f := addAppFlags(cmd)
	addJSONFlag(cmd, &asJSON)
	cmd.RunE = func(*cobra.Command, []string) error { return inv.showApp(f, asJSON) }
	return cmd
}

func (inv *invocation) showApp(f *appFlags, asJSON bool) error {
	_, app, err := inv.fetchApp(f)
	if err != nil {
		return err
	}
	if asJSON {
		return inv.printJSON(map[string]any{"app": app})
	}
	inv.printHeader(appLabel(app.Name))
	inv.printFields([][2]string{
		{"Git URL", app.GitURL},
		{"Owner", app.Owner.Email},
		{"Region", app.Region.Name},
		{"Stack", app.Stack.Name},
		{"Web URL", app.WebURL},
	})
	return nil
}

func (inv *invocation) appsRenameCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "apps:rename NEWNAME",
		Aliases: []string{"rename"},
		Short:   "rename an app",
		Long:    "Rename an app. Git remotes of the current repository that point at it are updated.",
		Args:    exactArgs(1),
	}
	f := addAppFlags(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error { return inv.renameApp(f, args[0]) }
	return cmd
}

func (inv *invocation) renameApp(f *appFlags, newName string) error {
	c, old, err := inv.fetchApp(f)
	if err != nil {
		return err
	}
	var renamed *client.App
	err = inv.action(fmt.Sprintf("Renaming %s to %s", appLabel(old.Name), appLabel(newName)), func() (string, error) {
		renamed, err = c.RenameApp(inv.ctx, old.ID, newName)
		return "", err
	})
	if err != nil {
		return err
	}
	inv.printURLs(renamed)
	for _, remote := range inv.remotesWithURL(old.GitURL) {
		if err := inv.setGitRemote(remote, renamed.GitURL); err != nil {
			inv.warn(err.Error())
			continue
		}
		inv.printf("Git remote %s updated\n", remote)
	}
	inv.warn("Don't forget to update git remotes for all other local checkouts of the app.")
	return nil
}

func (inv *invocation) appsDestroyCommand() *cobra.Command {
	var confirm string
	cmd := &cobra.Command{
		Use:     "apps:destroy [APP]",
		Aliases: []string{"destroy", "apps:delete"},
		Short:   "permanently destroy an app",
		Long:    "Destroy an app for good, after you retype its name (or give it with --confirm). Git remotes of the current repository that point at it are removed.",
		Args:    maxArgs(1),
	}
	f := addAppFlags(cmd)
	cmd.Flags().StringVar(&confirm, "confirm", "", "name of the app, to skip the question")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		if len(args) == 1 {
			f.app = args[0]
		}
		return inv.destroyApp(f, confirm)
	}
	return cmd
}

func (inv *invocation) destroyApp(f *appFlags, confirm string) error {
	c, app, err := inv.fetchApp(f)
	if err != nil {
		return err
	}
	if err := inv.confirmApp(app.Name, confirm); err != nil {
		return err
	}
	err = inv.action(fmt.Sprintf("Destroying %s (including all add-ons)", appLabel(app.Name)), func() (string, error) {
		_, err := c.DeleteApp(inv.ctx, app.ID)
		return "", err
	})
	if err != nil {
		return err
	}
	for _, remote := range inv.remotesWithURL(app.GitURL) {
		if err := inv.removeGitRemote(remote); err != nil {
			inv.warn(err.Error())
		}
	}
	return nil
}

// confirmApp makes sure the user means to destroy app: confirm must be its
// name, or, without confirm, the user must type it.
func (inv *invocation) confirmApp(app, confirm string) error {
	if confirm != "" {
		if confirm != app {
			return userErrorf("Confirmation %s did not match %s. Aborted.", confirm, app)
		}
		return nil
	}
	inv.warn(fmt.Sprintf("WARNING: This will delete %s including all add-ons.\nTo proceed, type %s or re-run this command with --confirm %s",
		appLabel(app), app, app))
	fmt.Fprint(inv.env.Stderr, "\n> ")
	answer, _ := inv.readLine() // the end of the input is a wrong answer
	inv.endPromptLine()
	if strings.TrimSpace(answer) != app {
		return userErrorf("Confirmation did not match %s. Aborted.", app)
	}
	return nil
}

// clientAndApp returns an authenticated client and the app the command
// acts on.
func (inv *invocation) clientAndApp(f *appFlags) (*client.Client, string, error) {
	c, err := inv.apiClient()
	if err != nil {
		return nil, "", err
	}
	name, err := inv.resolveApp(f)
	return c, name, err
}

// appCommand completes cmd, a command acting on an app: it adds the
// -a/--app and -r/--remote flags, and running cmd calls run with an API
// client and the app they name. Checks that need no server (of flags and
// arguments) go in cmd.PreRunE, which cobra runs first.
func (inv *invocation) appCommand(cmd *cobra.Command, run func(c *client.Client, app string, args []string) error) *cobra.Command {
	f := addAppFlags(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		c, app, err := inv.clientAndApp(f)
		if err != nil {
			return err
		}
		return run(c, app, args)
	}
	return cmd
}

// fetchApp returns an API client and the app the flags (or the
// environment, or the git remotes) name.
func (inv *invocation) fetchApp(f *appFlags) (*client.Client, *client.App, error) {
	c, name, err := inv.clientAndApp(f)
	if err != nil {
		return nil, nil, err
	}
	app, err := c.App(inv.ctx, name)
	return c, app, err
}

// appNamed returns the app called name.
func (inv *invocation) appNamed(name string) (*client.App, error) {
	c, err := inv.apiClient()
	if err != nil {
		return nil, err
	}
	return c.App(inv.ctx, name)
}

// printURLs prints an app's `WEB_URL | GIT_URL` line.
func (inv *invocation) printURLs(app *client.App) {
	inv.printf("%s | %s\n", app.WebURL, app.GitURL)
}

func addJSONFlag(cmd *cobra.Command, asJSON *bool) {
	cmd.Flags().BoolVar(asJSON, "json", false, "output in json format")
}

// firstArg is args[0], or "" when there are none.
func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
