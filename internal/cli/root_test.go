package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut/internal/cli"
	"github.com/spf13/cobra"
)

func TestUsageErrors(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	for _, args := range [][]string{
		{"nonsense"},
		{"apps", "--bogus"},
		{"apps:info", "extra-arg"},
		{"apps:rename"},
		{"apps:create", "a", "b"},
	} {
		r := ct.run("", args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, " ›   Error: ") {
			t.Errorf("bulut %s: exit %d, stderr %q; want a usage error", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	ct.run("", "nonsense").wantError(t, 2, "nonsense is not a bulut command.")
}

func TestHelp(t *testing.T) {
	ct := newCLITest(t)
	for _, args := range [][]string{{}, {"--help"}, {"help", "apps:create"}} {
		r := ct.run("", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("bulut %s: exit %d, stdout %q", strings.Join(args, " "), r.code, r.stdout)
		}
	}
}

func TestTopicSpelling(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	if r := ct.mustRun("apps", "create", "demo"); r.stderr != "Creating ⬢ demo... done\n" {
		t.Fatalf("stderr = %q", r.stderr)
	}
	if r := ct.mustRun("apps", "info", "-a", "demo"); !strings.HasPrefix(r.stdout, "=== ⬢ demo") {
		t.Fatalf("stdout = %q", r.stdout)
	}
}

func TestRun_ExtraCommands(t *testing.T) {
	var got []string
	server := &cobra.Command{
		Use: "server",
		RunE: func(cmd *cobra.Command, args []string) error {
			got = args
			if cmd.Context() == nil {
				t.Error("no context")
			}
			return nil
		},
	}
	var stderr bytes.Buffer
	code := cli.Run(context.Background(), cli.Env{Stderr: &stderr}, []string{"server", "x"}, server)
	if code != 0 || len(got) != 1 || got[0] != "x" {
		t.Fatalf("exit %d, args %q, stderr %q", code, got, stderr.String())
	}
}

func TestRun_Interrupted(t *testing.T) {
	ct := newCLITest(t)
	ct.logIn("a@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	env := cli.Env{Stderr: &stderr, Getenv: func(k string) string { return ct.env[k] }}
	if code := cli.Run(ctx, env, []string{"apps"}); code != 130 || stderr.String() != " ›   Error: Interrupted.\n" {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
