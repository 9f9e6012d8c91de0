package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulut-bulut/bulut/internal/cli"
	"github.com/bulut-bulut/bulut/internal/gitreceive"
)

// newHookCommand is `bulut hook pre-receive`, which git runs during a push
// (the server writes the hook script that calls it).
func newHookCommand(env cli.Env) *cobra.Command {
	hook := &cobra.Command{Use: "hook", Short: "git hooks of the bulut server (run by git)", Hidden: true}
	hook.AddCommand(&cobra.Command{
		Use:   "pre-receive",
		Short: "build and release a push to main or master",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := gitreceive.RunPreReceiveHook(cmd.Context(), env.Stdin, env.Stdout, env.Stderr, env.Getenv); code != 0 {
				os.Exit(code)
			}
			return nil
		},
	})
	return hook
}

// executable is the path this binary was started by, so that git's hooks
// run the same binary under the same name (os.Executable resolves
// symlinks, which a binary installed as a link would not want).
func executable() string {
	arg0 := os.Args[0]
	if !strings.Contains(arg0, "/") {
		if p, err := exec.LookPath(arg0); err == nil {
			arg0 = p
		}
	}
	if p, err := filepath.Abs(arg0); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := os.Executable()
	return p
}
