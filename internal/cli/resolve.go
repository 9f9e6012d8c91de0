package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// appFlags are the -a/--app and -r/--remote flags of commands acting on
// an app.
type appFlags struct {
	app    string
	remote string
}

func addAppFlags(cmd *cobra.Command) *appFlags {
	f := &appFlags{}
	cmd.Flags().StringVarP(&f.app, "app", "a", "", "app to run command against")
	cmd.Flags().StringVarP(&f.remote, "remote", "r", "", "git remote of app to use")
	return f
}

// appRemote is a git remote pointing at an app of this server.
type appRemote struct {
	remote string
	app    string
}

// resolveApp finds the app a command acts on: -a, else the app of the
// remote given with -r, else BULUT_APP, else the app the git remotes of
// Env.Dir point at (the remote named bulut first).
func (inv *invocation) resolveApp(f *appFlags) (string, error) {
	switch {
	case f.app != "":
		return f.app, nil
	case f.remote != "":
		return inv.appOfRemote(f.remote)
	case inv.env.Getenv("BULUT_APP") != "":
		return inv.env.Getenv("BULUT_APP"), nil
	}
	return inv.appFromGitRemotes()
}

func (inv *invocation) appOfRemote(name string) (string, error) {
	remotes, err := inv.appRemotes()
	if err != nil {
		return "", err
	}
	for _, r := range remotes {
		if r.remote == name {
			return r.app, nil
		}
	}
	return "", userErrorf("remote %s not found in git remotes", name)
}

func (inv *invocation) appFromGitRemotes() (string, error) {
	remotes, err := inv.appRemotes()
	if err != nil {
		return "", err
	}
	var apps []string
	for _, r := range remotes {
		if r.remote == defaultRemote {
			return r.app, nil
		}
		if !slices.Contains(apps, r.app) {
			apps = append(apps, r.app)
		}
	}
	switch len(apps) {
	case 0:
		return "", &cliError{
			err:  errors.New("No app specified."),
			hint: "Use -a APP, or run this command inside an app's git repository.",
			code: exitError,
		}
	case 1:
		return apps[0], nil
	}
	return "", multipleAppsError(remotes)
}

func multipleAppsError(remotes []appRemote) error {
	var hint strings.Builder
	fmt.Fprintf(&hint, "  Usage: --remote %s\n     or: --app %s\n", remotes[0].remote, remotes[0].app)
	hint.WriteString("  Your local git repository has more than 1 app referenced in git remotes.\n")
	hint.WriteString("  Specify the app you want with --app or --remote. bulut remotes in repo:")
	for _, r := range remotes {
		fmt.Fprintf(&hint, "\n  %s (%s)", r.app, r.remote)
	}
	return &cliError{err: errors.New("Multiple apps in git remotes"), hint: hint.String(), code: exitError}
}

// appRemotes lists the git remotes of Env.Dir that point at apps of this
// server: their URL is the server's git URL prefix, an app name and ".git".
func (inv *invocation) appRemotes() ([]appRemote, error) {
	remotes := inv.gitRemotes()
	if len(remotes) == 0 {
		return nil, nil
	}
	info, err := inv.serverInfo()
	if err != nil {
		return nil, err
	}
	var out []appRemote
	for _, r := range remotes {
		if app, ok := appFromGitURL(info.GitURLPrefix, r.url); ok {
			out = append(out, appRemote{remote: r.name, app: app})
		}
	}
	return out, nil
}

// appFromGitURL returns the app name in url when it is prefix + NAME + ".git".
func appFromGitURL(prefix, url string) (string, bool) {
	if prefix == "" {
		return "", false
	}
	rest, ok := strings.CutPrefix(url, prefix)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, ".git")
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return "", false
	}
	return name, true
}
