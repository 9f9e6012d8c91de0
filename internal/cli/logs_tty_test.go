//go:build linux

package cli_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut/internal/cli"
)

// TestLogsTerminal: logs colours its output on a terminal, unless
// NO_COLOR is set.
func TestLogsTerminal(t *testing.T) {
	lt := newLogsTest(t)
	lt.logs.log(lt.app.ID, demoLog...)
	for _, noColor := range []string{"", "1"} {
		master, slave := openPTY(t)
		env := cli.Env{Stdin: strings.NewReader(""), Stdout: slave, Stderr: io.Discard, Dir: lt.dir,
			Getenv: func(k string) string {
				if k == "NO_COLOR" {
					return noColor
				}
				return lt.env[k]
			}}
		if code := cli.Run(context.Background(), env, []string{"logs", "-a", "demo"}); code != 0 {
			t.Fatalf("exit %d", code)
		}
		slave.Close()
		out, _ := io.ReadAll(master) // EIO once the slave is closed and read
		text := strings.ReplaceAll(string(out), "\r\n", "\n")
		colored := strings.Contains(text, "\x1b[2m2026-12-01T13:22:00.124456+00:00\x1b[0m \x1b[33mapp[web.1]:\x1b[0m Listening on :5000\n")
		if noColor == "" && !colored || noColor != "" && text != stamped(demoLog...) {
			t.Fatalf("NO_COLOR=%q: output %q", noColor, text)
		}
	}
}
