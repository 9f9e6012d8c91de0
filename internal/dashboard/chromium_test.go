package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDashboard_Chromium loads pages in a real headless browser, which
// checks that they parse and render without a JavaScript build step.
func TestDashboard_Chromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium)
	}
	if testing.Short() {
		t.Skip("slow: starts a browser")
	}
	e := newEnv(t)

	dumpDOM := func(t *testing.T, path string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
			"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+t.TempDir(), "--dump-dom", e.Server.URL+path)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", path, err, out)
		}
		return string(out)
	}

	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/login", []string{"<title>Log in · bulut</title>", "Log in to your account", `action="/login"`, "Sign up"}},
		{"/signup", []string{"<title>Sign up · bulut</title>", "Create your account", `name="confirm"`, "At least 8 characters."}},
	} {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			dom := dumpDOM(t, tt.path)
			for _, s := range tt.want {
				if !strings.Contains(dom, s) {
					t.Errorf("DOM lacks %q:\n%s", s, dom)
				}
			}
		})
	}
}
