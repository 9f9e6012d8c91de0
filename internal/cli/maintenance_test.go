package cli_test

import (
	"io"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut/internal/testenv"
)

func TestAgainstServer_Maintenance(t *testing.T) {
	ct, srv := newServerTest(t)
	ct.env["BULUT_API_KEY"] = srv.Signup(t, "m@example.com", "maintenance-pass")
	ct.mustRun("apps:create", "demo", "--no-remote")
	get := func() (int, string) {
		t.Helper()
		res, err := testenv.LoopbackClient().Get("http://demo.localhost:" + srv.Port() + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	if got := ct.mustRun("maintenance", "-a", "demo").stdout; got != "off\n" {
		t.Fatalf("maintenance: %q", got)
	}
	if r := ct.mustRun("maintenance:on", "-a", "demo"); !strings.HasPrefix(r.stderr, "Enabling maintenance mode for ⬢ demo... done") {
		t.Fatalf("maintenance:on: %q", r.stderr)
	}
	if got := ct.mustRun("maintenance", "-a", "demo").stdout; got != "on\n" {
		t.Fatalf("maintenance after on: %q", got)
	}
	if code, body := get(); code != 503 || !strings.Contains(body, "Offline for Maintenance") {
		t.Fatalf("app in maintenance: %d %.200s", code, body)
	}
	if r := ct.mustRun("maintenance:off", "-a", "demo"); !strings.HasPrefix(r.stderr, "Disabling maintenance mode for ⬢ demo... done") {
		t.Fatalf("maintenance:off: %q", r.stderr)
	}
	if code, body := get(); code != 502 || !strings.Contains(body, "Welcome to your new app!") {
		t.Fatalf("app out of maintenance: %d %.200s", code, body)
	}
}
