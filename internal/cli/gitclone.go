package cli

import (
	"cmp"
	"errors"
	"os"
	"os/exec"

	"github.com/spf13/cobra"
)

// gitCloneCommand is `git:clone -a APP [DIRECTORY]`: clone an app's
// repository, authenticated by the token in ~/.netrc (git reads it).
func (inv *invocation) gitCloneCommand() *cobra.Command {
	var app, remote string
	cmd := &cobra.Command{
		Use:   "git:clone -a APP [DIRECTORY]",
		Short: "clone an app's git repository",
		Long:  "Clone the app's repository into DIRECTORY (default: the app's name), with its remote named REMOTE (default " + defaultRemote + ").",
		Args:  maxArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return inv.cloneApp(cmp.Or(app, inv.env.Getenv("BULUT_APP")), firstArg(args), remote)
		},
	}
	cmd.Flags().StringVarP(&app, "app", "a", "", "app whose repository to clone")
	cmd.Flags().StringVarP(&remote, "remote", "r", defaultRemote, "name of the git remote to create")
	return cmd
}

func (inv *invocation) cloneApp(appName, dir, remote string) error {
	if appName == "" {
		return usageErrorf("Missing required flag app: bulut git:clone -a APP [DIRECTORY]")
	}
	app, err := inv.appNamed(appName)
	if err != nil {
		return err
	}
	dir = cmp.Or(dir, app.Name)
	cmd := exec.CommandContext(inv.ctx, "git", "clone", "-o", remote, "--", app.GitURL, dir)
	cmd.Dir = inv.env.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inv.env.Stdin, inv.env.Stdout, inv.env.Stderr
	cmd.Env = inv.gitEnv()
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return &cliError{err: errors.New("git clone failed."), code: exitError}
	case err != nil:
		return userErrorf("Could not run git: %v", err)
	}
	return nil
}

// gitEnv is the environment of git commands that reach the server: the
// process's, with the HOME (where git finds ~/.netrc) the CLI uses.
func (inv *invocation) gitEnv() []string {
	env := os.Environ()
	if home := inv.env.Getenv("HOME"); home != "" {
		env = append(env, "HOME="+home)
	}
	return env
}
