package cli

import (
	"bytes"
	"cmp"
	"fmt"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"
)

// defaultRemote is the name of the git remote of an app.
const defaultRemote = "bulut"

// gitRemote is a remote of the git repository in Env.Dir.
type gitRemote struct {
	name string
	url  string // fetch URL
}

// git runs git in Env.Dir and returns its trimmed output. Callers put
// "--" before arguments that come from the user.
func (inv *invocation) git(args ...string) (string, error) {
	cmd := exec.CommandContext(inv.ctx, "git", append([]string{"-C", inv.env.Dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("git %s: %s", args[0], msg)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// inGitRepo reports whether Env.Dir is inside a git work tree.
func (inv *invocation) inGitRepo() bool {
	out, err := inv.git("rev-parse", "--is-inside-work-tree")
	return err == nil && out == "true"
}

// gitRemotes lists the remotes of the repository in Env.Dir; none outside
// a repository.
func (inv *invocation) gitRemotes() []gitRemote {
	out, err := inv.git("remote", "-v")
	if err != nil {
		return nil
	}
	var remotes []gitRemote
	for line := range strings.Lines(out) {
		fields := strings.Fields(line)
		if len(fields) == 3 && fields[2] == "(fetch)" {
			remotes = append(remotes, gitRemote{name: fields[0], url: fields[1]})
		}
	}
	return remotes
}

// remotesWithURL returns the names of the remotes whose URL is url.
func (inv *invocation) remotesWithURL(url string) []string {
	var names []string
	for _, r := range inv.gitRemotes() {
		if r.url == url {
			names = append(names, r.name)
		}
	}
	return names
}

func (inv *invocation) hasGitRemote(name string) bool {
	for _, r := range inv.gitRemotes() {
		if r.name == name {
			return true
		}
	}
	return false
}

// setGitRemote points remote name at url, adding it if it doesn't exist.
func (inv *invocation) setGitRemote(name, url string) error {
	if inv.hasGitRemote(name) {
		_, err := inv.git("remote", "set-url", "--", name, url)
		return err
	}
	_, err := inv.git("remote", "add", "--", name, url)
	return err
}

func (inv *invocation) removeGitRemote(name string) error {
	_, err := inv.git("remote", "remove", "--", name)
	return err
}

// gitRemoteCommand is `git:remote`: point a git remote at an app.
func (inv *invocation) gitRemoteCommand() *cobra.Command {
	var app, remote string
	cmd := &cobra.Command{
		Use:   "git:remote [-a APP] [-r REMOTE]",
		Short: "add (or update) a git remote for an app",
		Long:  "Point git remote REMOTE (default " + defaultRemote + ") of the repository in the current directory at the app's git URL.",
		Args:  noArgs(),
		RunE: func(*cobra.Command, []string) error {
			return inv.setAppRemote(cmp.Or(app, inv.env.Getenv("BULUT_APP")), remote)
		},
	}
	cmd.Flags().StringVarP(&app, "app", "a", "", "app to point the remote at")
	cmd.Flags().StringVarP(&remote, "remote", "r", defaultRemote, "name of the git remote to set")
	return cmd
}

func (inv *invocation) setAppRemote(appName, remote string) error {
	if appName == "" {
		return userErrorf("Specify an app with --app")
	}
	if !inv.inGitRepo() {
		return userErrorf("Not a git repository: run bulut git:remote inside one.")
	}
	app, err := inv.appNamed(appName)
	if err != nil {
		return err
	}
	if err := inv.setGitRemote(remote, app.GitURL); err != nil {
		return err
	}
	inv.printf("set git remote %s to %s\n", remote, app.GitURL)
	return nil
}
