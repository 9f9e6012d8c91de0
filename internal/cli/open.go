package cli

import (
	"net/url"

	"github.com/spf13/cobra"
)

func (inv *invocation) openCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "open [PATH]",
		Aliases: []string{"apps:open"},
		Short:   "open the app in a web browser",
		Args:    maxArgs(1),
	}
	f := addAppFlags(cmd)
	cmd.RunE = func(_ *cobra.Command, args []string) error { return inv.openApp(f, firstArg(args)) }
	return cmd
}

func (inv *invocation) openApp(f *appFlags, path string) error {
	_, app, err := inv.fetchApp(f)
	if err != nil {
		return err
	}
	target, err := resolveURL(app.WebURL, path)
	if err != nil {
		return err
	}
	return inv.action("Opening "+target, func() (string, error) {
		return "", inv.openBrowser(target)
	})
}

// resolveURL resolves path (e.g. "/admin?x=1" or "admin") against base.
func resolveURL(base, path string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	p, err := url.Parse(path)
	if err != nil {
		return "", usageErrorf("Invalid path %q: %v", path, err)
	}
	return b.ResolveReference(p).String(), nil
}
