package dashboard_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/dashboard"
)

// brokenApps is an AppService whose store has failed.
type brokenApps struct{ bulut.AppService }

var errDisk = errors.New("sqlite: disk I/O error at /secret/path")

func (brokenApps) FindApps(context.Context, bulut.AppFilter) ([]*bulut.App, bool, error) {
	return nil, false, errDisk
}

func (brokenApps) CreateApp(context.Context, string) (*bulut.App, error) { return nil, errDisk }

func TestDashboard_InternalError(t *testing.T) {
	e := newEnv(t, func(c *dashboard.Config) { c.Apps = brokenApps{c.Apps} })
	b, _ := e.loggedIn("ada@example.com")
	for _, r := range []*response{b.Get("/"), b.Submit("/new", "/new", url.Values{"name": {"my-app"}})} {
		assertStatus(t, r, http.StatusInternalServerError)
		assertContains(t, r, "Something went wrong.")
		assertNotContains(t, r, "disk I/O", "/secret/path")
	}
	if log := e.Log.String(); !strings.Contains(log, `"component":"dashboard"`) || !strings.Contains(log, "disk I/O error") {
		t.Fatalf("error not logged:\n%s", log)
	}
}
