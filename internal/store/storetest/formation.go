package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
		{"FormationService_Update", []test{
			{"Absolute", testUpdateFormationAbsolute},
			{"Relative", testUpdateFormationRelative},
			{"Batch", testUpdateFormationBatch},
			{"SameTypeTwice", testUpdateFormationSameTypeTwice},
			{"Empty", testUpdateFormationEmpty},
			{"Times", testUpdateFormationTimes},
			{"Size", testUpdateFormationSize},
			{"SizeLowercased", testUpdateFormationSizeLowercased},
			{"ErrUnknownSize", testUpdateFormationErrUnknownSize},
			{"ErrNegative", testUpdateFormationErrNegative},
			{"ErrNegativeDelta", testUpdateFormationErrNegativeDelta},
			{"ErrUnknownType", testUpdateFormationErrUnknownType},
			{"ErrNeverDeployed", testUpdateFormationErrNeverDeployed},
			{"ErrNotFound", testUpdateFormationErrNotFound},
			{"ErrOtherAccount", testUpdateFormationErrOtherAccount},
			{"ErrNoAccount", testUpdateFormationErrNoAccount},
			{"SystemContext", testUpdateFormationSystemContext},
			{"AccountsIsolated", testUpdateFormationAccountsIsolated},
			{"KeptAcrossReleases", testUpdateFormationKeptAcrossReleases},
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

// intp returns a pointer to n.
func intp(n int) *int { return &n }

// scale is an absolute update of a process type's quantity.
func scale(typ string, n int) bulut.FormationUpdate {
	return bulut.FormationUpdate{Type: typ, Quantity: intp(n)}
}

// scaleBy is a relative update of a process type's quantity.
func scaleBy(typ string, delta int) bulut.FormationUpdate {
	return bulut.FormationUpdate{Type: typ, Delta: intp(delta)}
}

// resize is an update of a process type's size.
func resize(typ, size string) bulut.FormationUpdate {
	return bulut.FormationUpdate{Type: typ, Size: strp(size)}
}

// mustUpdateFormation applies updates, checks the returned formation is
// want (formationString entries) and that it is what FindFormation reads.
func mustUpdateFormation(t *testing.T, s Services, ctx context.Context, app string, updates []bulut.FormationUpdate, want ...string) []*bulut.Formation {
	t.Helper()
	f, err := s.Formations.UpdateFormation(ctx, app, updates)
	if err != nil {
		t.Fatalf("UpdateFormation(%q, %s): %v", app, updatesString(updates), err)
	}
	if got := formationString(f); !slices.Equal(got, want) {
		t.Fatalf("UpdateFormation(%q, %s) returned %q, want %q", app, updatesString(updates), got, want)
	}
	assertFormation(t, s, ctx, app, want...)
	return f
}

// updatesString describes updates for failure messages.
func updatesString(updates []bulut.FormationUpdate) string {
	var parts []string
	for _, u := range updates {
		p := u.Type
		if u.Quantity != nil {
			p += fmt.Sprintf("=%d", *u.Quantity)
		}
		if u.Delta != nil {
			p += fmt.Sprintf("%+d", *u.Delta)
		}
		if u.Size != nil {
			p += ":" + *u.Size
		}
		parts = append(parts, p)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// assertUpdateFormationFails checks that updates fail with code and leave
// the formation as it was.
func assertUpdateFormationFails(t *testing.T, s Services, ctx context.Context, app string, updates []bulut.FormationUpdate, code string) error {
	t.Helper()
	before := formationString(mustFindFormation(t, s, system(), app))
	f, err := s.Formations.UpdateFormation(ctx, app, updates)
	if bulut.ErrorCode(err) != code {
		t.Fatalf("UpdateFormation(%q, %s) = %q, %v; want error code %q", app, updatesString(updates), formationString(f), err, code)
	}
	if len(f) != 0 {
		t.Fatalf("UpdateFormation(%q, %s) failed but returned %q", app, updatesString(updates), formationString(f))
	}
	if after := formationString(mustFindFormation(t, s, system(), app)); !slices.Equal(after, before) {
		t.Fatalf("a failed UpdateFormation(%q, %s) changed the formation from %q to %q", app, updatesString(updates), before, after)
	}
	return err
}

// deployedApp makes alice's app with a web and a worker type, web at 1.
func deployedApp(t *testing.T, s Services) (*bulut.Account, *bulut.App) {
	t.Helper()
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustDeploy(t, s, as(a), app.Name, webWorker)
	return a, app
}

func testUpdateFormationAbsolute(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	before := mustFindFormation(t, s, as(a), app.Name)
	after := mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", 3)},
		"web=3:free:gunicorn app:app", "worker=0:free:python worker.py")
	for i := range before {
		if after[i].ID != before[i].ID || after[i].AppID != app.ID {
			t.Errorf("%s: ID %s app %s after scaling, want %s and %s", after[i].Type, after[i].ID, after[i].AppID, before[i].ID, app.ID)
		}
	}
	// By ID too, and down to zero.
	mustUpdateFormation(t, s, as(a), app.ID, []bulut.FormationUpdate{scale("web", 0), scale("worker", 2)},
		"web=0:free:gunicorn app:app", "worker=2:free:python worker.py")
	// The same quantity again is no error.
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("worker", 2)},
		"web=0:free:gunicorn app:app", "worker=2:free:python worker.py")
}

func testUpdateFormationRelative(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("web", +1)},
		"web=2:free:gunicorn app:app", "worker=0:free:python worker.py")
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("web", +3), scaleBy("worker", +1)},
		"web=5:free:gunicorn app:app", "worker=1:free:python worker.py")
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("web", -4), scaleBy("worker", -1)},
		"web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("web", 0)},
		"web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testUpdateFormationBatch(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{
		scale("web", 2), {Type: "worker", Delta: intp(3), Size: strp("standard-2x")},
	}, "web=2:free:gunicorn app:app", "worker=3:standard-2x:python worker.py")
}

func testUpdateFormationSameTypeTwice(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	// Updates apply in order.
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", 2), scaleBy("web", +1)},
		"web=3:free:gunicorn app:app", "worker=0:free:python worker.py")
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("web", +1), scale("web", 1)},
		"web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testUpdateFormationEmpty(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	mustUpdateFormation(t, s, as(a), app.Name, nil, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
	// A type alone, with nothing to change, changes nothing.
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{{Type: "web"}},
		"web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testUpdateFormationTimes(t *testing.T, s Services) {
	clock := useClock(t, s)
	a, app := deployedApp(t, s)
	created := clock.Now()
	clock.Advance(time.Hour)
	f := mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", 2)},
		"web=2:free:gunicorn app:app", "worker=0:free:python worker.py")
	assertTime(t, "web CreatedAt", f[0].CreatedAt, created)
	assertTime(t, "web UpdatedAt", f[0].UpdatedAt, clock.Now())
	assertTime(t, "worker UpdatedAt", f[1].UpdatedAt, created)
	f = mustFindFormation(t, s, as(a), app.Name)
	assertTime(t, "web UpdatedAt as read back", f[0].UpdatedAt, clock.Now())
	assertTime(t, "worker UpdatedAt as read back", f[1].UpdatedAt, created)
}

func testUpdateFormationSize(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	// A size alone keeps the quantity.
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{resize("web", bulut.SizeStandard2X)},
		"web=1:standard-2x:gunicorn app:app", "worker=0:free:python worker.py")
	for size := range bulut.Sizes {
		mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{resize("worker", size)},
			"web=1:standard-2x:gunicorn app:app", "worker=0:"+size+":python worker.py")
	}
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{{Type: "web", Quantity: intp(4), Size: strp(bulut.SizeBasic)}},
		"web=4:basic:gunicorn app:app", "worker=0:"+formationSize(t, s, as(a), app.Name, "worker")+":python worker.py")
}

// formationSize returns the size of one of app's process types.
func formationSize(t *testing.T, s Services, ctx context.Context, app, typ string) string {
	t.Helper()
	for _, f := range mustFindFormation(t, s, ctx, app) {
		if f.Type == typ {
			return f.Size
		}
	}
	t.Fatalf("%s has no process type %s", app, typ)
	return ""
}

func testUpdateFormationSizeLowercased(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	// The CLI sends Heroku's Title Case.
	for _, c := range []struct{ in, want string }{
		{"Standard-2X", "standard-2x"}, {"Performance-M", "performance-m"}, {"FREE", "free"}, {"Basic", "basic"}, {"standard-1X", "standard-1x"},
	} {
		mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{resize("web", c.in)},
			"web=1:"+c.want+":gunicorn app:app", "worker=0:free:python worker.py")
	}
}

func testUpdateFormationErrUnknownSize(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	for _, size := range []string{"huge", "", "standard-3x", "eco", " free"} {
		assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{resize("web", size)}, bulut.EINVALID)
	}
	// A bad size later in a batch undoes the earlier updates.
	err := assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", 5), scale("worker", 2), resize("worker", "huge")}, bulut.EINVALID)
	assertMessageContains(t, err, "huge")
}

func testUpdateFormationErrNegative(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", -1)}, bulut.EINVALID)
	assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("worker", 3), scale("web", -2)}, bulut.EINVALID)
	assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{{Type: "web", Quantity: intp(-1), Size: strp("basic")}}, bulut.EINVALID)
}

func testUpdateFormationErrNegativeDelta(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	// web is at 1, worker at 0.
	assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("worker", -1)}, bulut.EINVALID)
	assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("web", -2)}, bulut.EINVALID)
	assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("worker", +2), scaleBy("web", -1), scaleBy("web", -1)}, bulut.EINVALID)
	// Down to zero is fine.
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scaleBy("web", -1)},
		"web=0:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testUpdateFormationErrUnknownType(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	for _, typ := range []string{"clock", "", "Web", "web.1"} {
		assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scale(typ, 1)}, bulut.ENOTFOUND)
	}
	// Nothing of the batch is applied.
	err := assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", 3), scale("clock", 1)}, bulut.ENOTFOUND)
	assertMessageContains(t, err, "clock")
}

func testUpdateFormationErrNeverDeployed(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	assertUpdateFormationFails(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", 1)}, bulut.ENOTFOUND)
}

func testUpdateFormationErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, app := range []string{"missing-app", bulut.NewID(), ""} {
		_, err := s.Formations.UpdateFormation(as(a), app, []bulut.FormationUpdate{scale("web", 1)})
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testUpdateFormationErrOtherAccount(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	for _, idOrName := range []string{app.Name, app.ID} {
		assertUpdateFormationFails(t, s, as(mallory), idOrName, []bulut.FormationUpdate{scale("web", 5)}, bulut.ENOTFOUND)
		assertUpdateFormationFails(t, s, as(mallory), idOrName, []bulut.FormationUpdate{scale("clock", 5)}, bulut.ENOTFOUND)
		assertUpdateFormationFails(t, s, as(mallory), idOrName, []bulut.FormationUpdate{resize("web", "huge")}, bulut.ENOTFOUND)
	}
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testUpdateFormationErrNoAccount(t *testing.T, s Services) {
	_, app := deployedApp(t, s)
	assertUpdateFormationFails(t, s, context.Background(), app.Name, []bulut.FormationUpdate{scale("web", 2)}, bulut.EUNAUTHORIZED)
}

func testUpdateFormationSystemContext(t *testing.T, s Services) {
	_, app := deployedApp(t, s)
	mustUpdateFormation(t, s, system(), app.ID, []bulut.FormationUpdate{scale("web", 2)},
		"web=2:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testUpdateFormationAccountsIsolated(t *testing.T, s Services) {
	alice := mustCreateAccount(t, s, "alice@example.com")
	bob := mustCreateAccount(t, s, "bob@example.com")
	appA := mustCreateApp(t, s, as(alice), "alices-app")
	appB := mustCreateApp(t, s, as(bob), "bobs-app")
	mustDeploy(t, s, as(alice), appA.Name, webWorker)
	mustDeploy(t, s, as(bob), appB.Name, webWorker)
	mustUpdateFormation(t, s, as(alice), appA.Name, []bulut.FormationUpdate{scale("web", 3), resize("worker", "standard-2x")},
		"web=3:free:gunicorn app:app", "worker=0:standard-2x:python worker.py")
	mustUpdateFormation(t, s, as(bob), appB.Name, []bulut.FormationUpdate{scale("worker", 2)},
		"web=1:free:gunicorn app:app", "worker=2:free:python worker.py")
	assertFormation(t, s, as(alice), appA.Name, "web=3:free:gunicorn app:app", "worker=0:standard-2x:python worker.py")
	// Each sees only their own.
	assertUpdateFormationFails(t, s, as(bob), appA.Name, []bulut.FormationUpdate{scale("web", 0)}, bulut.ENOTFOUND)
	assertUpdateFormationFails(t, s, as(alice), appB.ID, []bulut.FormationUpdate{scale("web", 0)}, bulut.ENOTFOUND)
}

func testUpdateFormationKeptAcrossReleases(t *testing.T, s Services) {
	a, app := deployedApp(t, s)
	mustUpdateFormation(t, s, as(a), app.Name, []bulut.FormationUpdate{scale("web", 3), {Type: "worker", Quantity: intp(2), Size: strp("basic")}},
		"web=3:free:gunicorn app:app", "worker=2:basic:python worker.py")
	mustDeploy(t, s, as(a), app.Name, map[string]string{"web": "gunicorn b:app", "worker": "python worker.py", "clock": "python clock.py"})
	assertFormation(t, s, as(a), app.Name, "clock=0:free:python clock.py", "web=3:free:gunicorn b:app", "worker=2:basic:python worker.py")
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1"))
	mustRollback(t, s, as(a), app.Name, "v2")
	assertFormation(t, s, as(a), app.Name, "clock=0:free:", "web=3:free:gunicorn app:app", "worker=2:basic:python worker.py")
}
