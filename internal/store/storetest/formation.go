package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

func formationTests() []group {
	return []group{
		{"FormationService_Find", []test{
			{"Empty", testFindFormationEmpty},
			{"OK", testFindFormationOK},
			{"SortedByType", testFindFormationSortedByType},
			{"CommandFromCurrentRelease", testFindFormationCommandFromCurrentRelease},
			{"ErrNotFound", testFindFormationErrNotFound},
			{"ErrOtherAccount", testFindFormationErrOtherAccount},
			{"ErrNoAccount", testFindFormationErrNoAccount},
			{"SystemContext", testFindFormationSystemContext},
		}},
	}
}

func testFindFormationEmpty(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	f := mustFindFormation(t, s, as(a), app.Name)
	if f == nil || len(f) != 0 {
		t.Fatalf("formation of a new app = %#v, want an empty list", f)
	}
	// Config releases add none.
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1"))
	assertFormation(t, s, as(a), app.Name)
}

func testFindFormationOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	if clock != nil {
		clock.Advance(time.Minute)
	}
	mustDeploy(t, s, as(a), app.Name, webWorker)
	for _, idOrName := range []string{app.Name, app.ID} {
		f := assertFormation(t, s, as(a), idOrName, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
		if f[0].ID == f[1].ID {
			t.Error("two process types share an ID")
		}
		for _, p := range f {
			assertID(t, "ID", p.ID)
			if p.AppID != app.ID {
				t.Errorf("%s: AppID %q, want %q", p.Type, p.AppID, app.ID)
			}
			if clock != nil {
				assertTime(t, p.Type+" CreatedAt", p.CreatedAt, clock.Now())
				assertTime(t, p.Type+" UpdatedAt", p.UpdatedAt, clock.Now())
			}
		}
	}
	// IDs are stable across deploys.
	before := mustFindFormation(t, s, as(a), app.Name)
	mustDeploy(t, s, as(a), app.Name, webWorker)
	after := mustFindFormation(t, s, as(a), app.Name)
	for i := range before {
		if before[i].ID != after[i].ID {
			t.Errorf("%s changed ID on a deploy", before[i].Type)
		}
	}
}

func testFindFormationSortedByType(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustDeploy(t, s, as(a), app.Name, map[string]string{"worker": "w", "web": "s", "clock": "c", "release": "r", "a_job": "j"})
	assertFormation(t, s, as(a), app.Name, "a_job=0:free:j", "clock=0:free:c", "release=0:free:r", "web=1:free:s", "worker=0:free:w")
}

func testFindFormationCommandFromCurrentRelease(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustDeploy(t, s, as(a), app.Name, webWorker)                                  // v2
	mustDeploy(t, s, as(a), app.Name, map[string]string{"web": "node server.js"}) // v3
	// worker is no longer in the current slug: kept, with no command.
	assertFormation(t, s, as(a), app.Name, "web=1:free:node server.js", "worker=0:free:")
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1")) // v4, same slug
	assertFormation(t, s, as(a), app.Name, "web=1:free:node server.js", "worker=0:free:")
	mustRollback(t, s, as(a), app.Name, "v2")
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testFindFormationErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, app := range []string{"missing-app", bulut.NewID(), ""} {
		_, err := s.Formations.FindFormation(as(a), app)
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testFindFormationErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustDeploy(t, s, as(a), app.Name, webWorker)
	for _, idOrName := range []string{app.Name, app.ID} {
		f, err := s.Formations.FindFormation(as(mallory), idOrName)
		assertCode(t, err, bulut.ENOTFOUND)
		if len(f) != 0 {
			t.Fatalf("FindFormation failed but returned %q", formationString(f))
		}
	}
}

func testFindFormationErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.Formations.FindFormation(context.Background(), app.Name)
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindFormationSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustDeploy(t, s, as(a), app.Name, webWorker)
	assertFormation(t, s, system(), app.ID, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}
