package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// InvalidAppNames are names CreateApp and UpdateApp must refuse.
var InvalidAppNames = []string{
	"", "a", "ab", "Abc", "ABC", "1abc", "-abc", "abc-", "abc_def", "abc.def", "abc def", " abc", "abc\n", "ümlaut",
	"a" + strings.Repeat("b", 30), // 31 characters
}

func appTests() []group {
	return []group{
		{"AppService_Create", []test{
			{"OK", testCreateAppOK},
			{"LongestName", testCreateAppLongestName},
			{"GeneratedName", testCreateAppGeneratedName},
			{"ErrInvalidName", testCreateAppErrInvalidName},
			{"ErrReservedName", testCreateAppErrReservedName},
			{"ErrNameTaken", testCreateAppErrNameTaken},
			{"ErrNameTakenByOtherAccount", testCreateAppErrNameTakenByOtherAccount},
			{"ErrNoAccount", testCreateAppErrNoAccount},
			{"ConcurrentSameName", testCreateAppConcurrentSameName},
			{"InitialRelease", testCreateAppInitialRelease},
		}},
		{"AppService_Find", []test{
			{"ByName", testFindAppByName},
			{"ByID", testFindAppByID},
			{"ErrNotFound", testFindAppErrNotFound},
			{"ErrOtherAccount", testFindAppErrOtherAccount},
			{"ErrNoAccount", testFindAppErrNoAccount},
			{"SystemContext", testFindAppSystemContext},
		}},
		{"AppService_Update", []test{
			{"Rename", testUpdateAppRename},
			{"RenameToSameName", testUpdateAppRenameToSameName},
			{"ErrNameTaken", testUpdateAppErrNameTaken},
			{"ErrInvalidName", testUpdateAppErrInvalidName},
			{"Maintenance", testUpdateAppMaintenance},
			{"ErrNotFound", testUpdateAppErrNotFound},
			{"ErrOtherAccount", testUpdateAppErrOtherAccount},
			{"ErrNoAccount", testUpdateAppErrNoAccount},
		}},
		{"AppService_Delete", []test{
			{"OK", testDeleteAppOK},
			{"ByID", testDeleteAppByID},
			{"ErrNotFound", testDeleteAppErrNotFound},
			{"ErrOtherAccount", testDeleteAppErrOtherAccount},
			{"ErrNoAccount", testDeleteAppErrNoAccount},
			{"RemovesDeploys", testDeleteAppRemovesDeploys},
		}},
		{"AppService_FindApps", []test{
			{"OwnAppsOnly", testFindAppsOwnAppsOnly},
			{"SystemContext", testFindAppsSystemContext},
			{"IDOrName", testFindAppsIDOrName},
			{"Empty", testFindAppsEmpty},
			{"DefaultRange", testFindAppsDefaultRange},
			{"ErrNoAccount", testFindAppsErrNoAccount},
		}},
		{"AppService_FindApps_Range", []test{
			{"Pages", testFindAppsRangePages},
			{"ExactPage", testFindAppsRangeExactPage},
			{"Desc", testFindAppsRangeDesc},
			{"ID", testFindAppsRangeID},
			{"UpdatedAt", testFindAppsRangeUpdatedAt},
			{"Last", testFindAppsRangeLast},
			{"FirstInclusive", testFindAppsRangeFirstInclusive},
			{"ErrBadField", testFindAppsRangeErrBadField},
		}},
	}
}

// appNames returns the names of apps.
func appNames(apps []*bulut.App) []string {
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.Name
	}
	return names
}

// findApps lists apps and fails the test on error.
func findApps(t *testing.T, s Services, ctx context.Context, f bulut.AppFilter) ([]*bulut.App, bool) {
	t.Helper()
	apps, more, err := s.Apps.FindApps(ctx, f)
	if err != nil {
		t.Fatalf("FindApps(%+v): %v", f, err)
	}
	return apps, more
}

// assertAppNames fails the test unless apps have exactly the given names in
// that order.
func assertAppNames(t *testing.T, what string, apps []*bulut.App, want ...string) {
	t.Helper()
	if got := appNames(apps); !slices.Equal(got, want) {
		t.Fatalf("%s: apps %q, want %q", what, got, want)
	}
}

// assertNoApps fails the test if any app exists at all.
func assertNoApps(t *testing.T, s Services) {
	t.Helper()
	apps, _ := findApps(t, s, system(), bulut.AppFilter{Range: bulut.ListRange{Field: "name", Max: bulut.MaxPageSize}})
	if len(apps) > 0 {
		t.Fatalf("apps %q exist, want none", appNames(apps))
	}
}

// assertSameApp fails the test unless got and want agree on every field.
func assertSameApp(t *testing.T, got, want *bulut.App) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.OwnerID != want.OwnerID || got.OwnerEmail != want.OwnerEmail ||
		got.Region != want.Region || got.Stack != want.Stack || got.Maintenance != want.Maintenance ||
		(got.ReleasedAt == nil) != (want.ReleasedAt == nil) {
		t.Fatalf("app = %+v, want %+v", got, want)
	}
	assertTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	assertTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func testCreateAppOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app, err := s.Apps.CreateApp(as(a), "my-app-1")
	if err != nil {
		t.Fatal(err)
	}
	assertID(t, "ID", app.ID)
	if app.Name != "my-app-1" || app.OwnerID != a.ID || app.OwnerEmail != a.Email {
		t.Errorf("app = %+v, want name my-app-1 owned by %s (%s)", app, a.ID, a.Email)
	}
	if app.Region != bulut.DefaultRegion || app.Stack != bulut.DefaultStack {
		t.Errorf("region, stack = %q, %q; want %q, %q", app.Region, app.Stack, bulut.DefaultRegion, bulut.DefaultStack)
	}
	if app.Maintenance || app.ReleasedAt != nil {
		t.Errorf("new app has Maintenance %v, ReleasedAt %v; want off and nil", app.Maintenance, app.ReleasedAt)
	}
	if clock != nil {
		assertTime(t, "CreatedAt", app.CreatedAt, clock.Now())
		assertTime(t, "UpdatedAt", app.UpdatedAt, clock.Now())
	} else if app.CreatedAt.IsZero() || app.UpdatedAt.IsZero() {
		t.Errorf("CreatedAt = %v, UpdatedAt = %v, want them set", app.CreatedAt, app.UpdatedAt)
	}
	assertSameApp(t, mustFindApp(t, s, as(a), "my-app-1"), app)
}

// useClockIfAny installs a fake clock when the store supports it.
func useClockIfAny(s Services) *Clock {
	if s.SetNow == nil {
		return nil
	}
	c := &Clock{now: Start}
	s.SetNow(c.Now)
	return c
}

func testCreateAppLongestName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, name := range []string{"abc", "a" + strings.Repeat("b", 29), "a-9", "a--b"} {
		mustCreateApp(t, s, as(a), name)
		mustFindApp(t, s, as(a), name)
	}
}

func testCreateAppGeneratedName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	ctx := as(a)
	seen := map[string]bool{}
	for range 5 {
		app := mustCreateApp(t, s, ctx, "")
		if err := bulut.ValidateAppName(app.Name); err != nil {
			t.Fatalf("generated name %q is not valid: %v", app.Name, err)
		}
		if seen[app.Name] {
			t.Fatalf("generated name %q twice", app.Name)
		}
		seen[app.Name] = true
		if app.OwnerID != a.ID {
			t.Fatalf("OwnerID = %q, want %q", app.OwnerID, a.ID)
		}
		assertSameApp(t, mustFindApp(t, s, ctx, app.Name), app)
	}
}

func testCreateAppErrInvalidName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, name := range InvalidAppNames {
		if name == "" {
			continue // an empty name asks for a generated one
		}
		app, err := s.Apps.CreateApp(as(a), name)
		if got := bulut.ErrorCode(err); got != bulut.EINVALID {
			t.Errorf("CreateApp(%q): code %q, want %q (err: %v)", name, got, bulut.EINVALID, err)
		} else if app != nil {
			t.Errorf("CreateApp(%q) failed but returned %+v", name, app)
		}
	}
	assertNoApps(t, s)
}

func testCreateAppErrReservedName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, name := range []string{"api", "git", "dashboard", "www", "admin", "status", "logs"} {
		_, err := s.Apps.CreateApp(as(a), name)
		if got := bulut.ErrorCode(err); got != bulut.EINVALID {
			t.Errorf("CreateApp(%q): code %q, want %q (err: %v)", name, got, bulut.EINVALID, err)
		}
		// The system can't create them either.
		_, err = s.Apps.CreateApp(bulut.NewContextWithAccount(system(), a), name)
		if got := bulut.ErrorCode(err); got != bulut.EINVALID {
			t.Errorf("CreateApp(%q) in a system context: code %q, want %q (err: %v)", name, got, bulut.EINVALID, err)
		}
	}
	assertNoApps(t, s)
}

func testCreateAppErrNameTaken(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	first := mustCreateApp(t, s, as(a), "taken")
	_, err := s.Apps.CreateApp(as(a), "taken")
	assertCode(t, err, bulut.EINVALID)
	assertMessageContains(t, err, "already taken")

	apps, _ := findApps(t, s, system(), bulut.AppFilter{})
	if len(apps) != 1 || apps[0].ID != first.ID {
		t.Fatalf("apps after a failed create: %q, want only the first", appNames(apps))
	}
}

func testCreateAppErrNameTakenByOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	first := mustCreateApp(t, s, as(a), "taken")
	// Names are global: they are host names.
	_, err := s.Apps.CreateApp(as(b), "taken")
	assertCode(t, err, bulut.EINVALID)
	assertMessageContains(t, err, "already taken")

	if apps, _ := findApps(t, s, as(b), bulut.AppFilter{}); len(apps) != 0 {
		t.Fatalf("bob has apps %q, want none", appNames(apps))
	}
	assertSameApp(t, mustFindApp(t, s, as(a), "taken"), first)
}

func testCreateAppErrNoAccount(t *testing.T, s Services) {
	mustCreateAccount(t, s, "alice@example.com")
	for _, ctx := range []context.Context{context.Background(), system()} {
		_, err := s.Apps.CreateApp(ctx, "no-owner")
		assertCode(t, err, bulut.EUNAUTHORIZED)
		_, err = s.Apps.CreateApp(ctx, "")
		assertCode(t, err, bulut.EUNAUTHORIZED)
	}
	assertNoApps(t, s)
}

// testCreateAppConcurrentSameName checks that racing creates of one name
// make exactly one app.
func testCreateAppConcurrentSameName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		ctx := as(a)
		if i%2 == 1 {
			ctx = as(b)
		}
		wg.Go(func() { _, errs[i] = s.Apps.CreateApp(ctx, "contested") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch bulut.ErrorCode(err) {
		case "":
			ok++
		case bulut.EINVALID:
			assertMessageContains(t, err, "already taken")
		default:
			t.Errorf("concurrent CreateApp: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent creates succeeded, want exactly 1", ok)
	}
	apps, _ := findApps(t, s, system(), bulut.AppFilter{})
	assertAppNames(t, "all apps", apps, "contested")
}

func testFindAppByName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateApp(t, s, as(a), "my-app-2")
	assertSameApp(t, mustFindApp(t, s, as(a), "my-app"), app)
}

func testFindAppByID(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateApp(t, s, as(a), "my-app-2")
	assertSameApp(t, mustFindApp(t, s, as(a), app.ID), app)
	// IDs are UUIDs, which are case-insensitive.
	assertSameApp(t, mustFindApp(t, s, as(a), strings.ToUpper(app.ID)), app)
}

func testFindAppErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, idOrName := range []string{"other-app", "My-App", "my-app ", "", bulut.NewID(), app.ID + "0", "not-an-id"} {
		got, err := s.Apps.FindApp(as(a), idOrName)
		if code := bulut.ErrorCode(err); code != bulut.ENOTFOUND {
			t.Errorf("FindApp(%q): code %q, want %q (err: %v)", idOrName, code, bulut.ENOTFOUND, err)
		} else if got != nil {
			t.Errorf("FindApp(%q) failed but returned %+v", idOrName, got)
		}
	}
}

func testFindAppErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustCreateApp(t, s, as(mallory), "mallorys-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		_, err := s.Apps.FindApp(as(mallory), idOrName)
		assertCode(t, err, bulut.ENOTFOUND)
		// Indistinguishable from an app that does not exist.
		_, errMissing := s.Apps.FindApp(as(mallory), "missing-app")
		if bulut.ErrorMessage(err) != bulut.ErrorMessage(errMissing) {
			t.Errorf("another account's app says %q, a missing one %q", bulut.ErrorMessage(err), bulut.ErrorMessage(errMissing))
		}
	}
}

func testFindAppErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		_, err := s.Apps.FindApp(context.Background(), idOrName)
		assertCode(t, err, bulut.EUNAUTHORIZED)
	}
}

func testFindAppSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	appA := mustCreateApp(t, s, as(a), "alices-app")
	appB := mustCreateApp(t, s, as(b), "bobs-app")
	for _, app := range []*bulut.App{appA, appB} {
		assertSameApp(t, mustFindApp(t, s, system(), app.Name), app)
		assertSameApp(t, mustFindApp(t, s, system(), app.ID), app)
	}
	_, err := s.Apps.FindApp(system(), "missing-app")
	assertCode(t, err, bulut.ENOTFOUND)
}

func testUpdateAppRename(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "old-name")
	if clock != nil {
		clock.Advance(time.Minute)
	}
	newName := "new-name"
	got, err := s.Apps.UpdateApp(as(a), "old-name", bulut.AppUpdate{Name: &newName})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != app.ID || got.Name != newName || got.OwnerID != a.ID || got.OwnerEmail != a.Email {
		t.Errorf("UpdateApp = %+v, want app %s named %s", got, app.ID, newName)
	}
	assertTime(t, "CreatedAt", got.CreatedAt, app.CreatedAt)
	if clock != nil {
		assertTime(t, "UpdatedAt", got.UpdatedAt, clock.Now())
	}
	assertSameApp(t, mustFindApp(t, s, as(a), newName), got)
	assertSameApp(t, mustFindApp(t, s, as(a), app.ID), got)

	_, err = s.Apps.FindApp(as(a), "old-name")
	assertCode(t, err, bulut.ENOTFOUND)
	// The old name is free again, for anyone.
	b := mustCreateAccount(t, s, "bob@example.com")
	mustCreateApp(t, s, as(b), "old-name")

	// Renaming by ID works too.
	third := "third-name"
	if got, err = s.Apps.UpdateApp(as(a), app.ID, bulut.AppUpdate{Name: &third}); err != nil {
		t.Fatal(err)
	} else if got.Name != third {
		t.Errorf("Name = %q, want %q", got.Name, third)
	}
}

func testUpdateAppRenameToSameName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	name := "my-app"
	got, err := s.Apps.UpdateApp(as(a), app.ID, bulut.AppUpdate{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.ID != app.ID {
		t.Errorf("UpdateApp = %+v", got)
	}
}

func testUpdateAppErrNameTaken(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateApp(t, s, as(a), "my-other-app")
	mustCreateApp(t, s, as(b), "bobs-app")
	for _, name := range []string{"my-other-app", "bobs-app"} {
		got, err := s.Apps.UpdateApp(as(a), "my-app", bulut.AppUpdate{Name: &name})
		assertCode(t, err, bulut.EINVALID)
		assertMessageContains(t, err, "already taken")
		if got != nil {
			t.Errorf("UpdateApp failed but returned %+v", got)
		}
	}
	assertSameApp(t, mustFindApp(t, s, as(a), app.ID), app)
	apps, _ := findApps(t, s, system(), bulut.AppFilter{Range: bulut.ListRange{Field: "name"}})
	assertAppNames(t, "all apps", apps, "bobs-app", "my-app", "my-other-app")
}

func testUpdateAppErrInvalidName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	names := append(slices.Clone(InvalidAppNames), bulut.ReservedAppNames...)
	for _, name := range names {
		_, err := s.Apps.UpdateApp(as(a), "my-app", bulut.AppUpdate{Name: &name})
		if got := bulut.ErrorCode(err); got != bulut.EINVALID {
			t.Errorf("UpdateApp to %q: code %q, want %q (err: %v)", name, got, bulut.EINVALID, err)
		}
	}
	assertSameApp(t, mustFindApp(t, s, as(a), app.ID), app)
}

func testUpdateAppMaintenance(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, on := range []bool{true, true, false} {
		got, err := s.Apps.UpdateApp(as(a), "my-app", bulut.AppUpdate{Maintenance: &on})
		if err != nil {
			t.Fatal(err)
		}
		if got.Maintenance != on || got.Name != app.Name || got.ID != app.ID {
			t.Fatalf("UpdateApp(maintenance %v) = %+v", on, got)
		}
		if found := mustFindApp(t, s, as(a), app.ID); found.Maintenance != on {
			t.Fatalf("after UpdateApp(maintenance %v) FindApp says %v", on, found.Maintenance)
		}
	}
	// An empty update changes nothing.
	got, err := s.Apps.UpdateApp(as(a), "my-app", bulut.AppUpdate{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != app.Name || got.Maintenance {
		t.Errorf("empty UpdateApp = %+v", got)
	}
	// Both at once.
	on, name := true, "renamed-app"
	got, err = s.Apps.UpdateApp(as(a), app.ID, bulut.AppUpdate{Name: &name, Maintenance: &on})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || !got.Maintenance {
		t.Errorf("UpdateApp(name and maintenance) = %+v", got)
	}
}

func testUpdateAppErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	on := true
	for _, idOrName := range []string{"missing-app", bulut.NewID()} {
		_, err := s.Apps.UpdateApp(as(a), idOrName, bulut.AppUpdate{Maintenance: &on})
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testUpdateAppErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	on, name := true, "stolen-app"
	for _, idOrName := range []string{app.Name, app.ID} {
		for _, upd := range []bulut.AppUpdate{{Maintenance: &on}, {Name: &name}, {Name: &name, Maintenance: &on}} {
			_, err := s.Apps.UpdateApp(as(mallory), idOrName, upd)
			assertCode(t, err, bulut.ENOTFOUND)
		}
	}
	assertSameApp(t, mustFindApp(t, s, as(a), app.ID), app)
	// The name mallory tried is still free.
	mustCreateApp(t, s, as(mallory), name)
}

func testUpdateAppErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	on := true
	_, err := s.Apps.UpdateApp(context.Background(), app.Name, bulut.AppUpdate{Maintenance: &on})
	assertCode(t, err, bulut.EUNAUTHORIZED)
	assertSameApp(t, mustFindApp(t, s, as(a), app.ID), app)
}

func testDeleteAppOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "doomed-app")
	other := mustCreateApp(t, s, as(a), "other-app")
	got, err := s.Apps.DeleteApp(as(a), "doomed-app")
	if err != nil {
		t.Fatal(err)
	}
	assertSameApp(t, got, app)

	_, err = s.Apps.FindApp(as(a), "doomed-app")
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.Apps.FindApp(as(a), app.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.Apps.DeleteApp(as(a), "doomed-app")
	assertCode(t, err, bulut.ENOTFOUND)
	apps, _ := findApps(t, s, as(a), bulut.AppFilter{})
	assertAppNames(t, "apps after delete", apps, other.Name)

	// The name can be used again, and makes a new app.
	again := mustCreateApp(t, s, as(a), "doomed-app")
	if again.ID == app.ID {
		t.Errorf("re-created app has the deleted app's ID %s", app.ID)
	}
}

func testDeleteAppByID(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "doomed-app")
	got, err := s.Apps.DeleteApp(as(a), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertSameApp(t, got, app)
	assertNoApps(t, s)
}

func testDeleteAppErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mustCreateApp(t, s, as(a), "my-app")
	for _, idOrName := range []string{"missing-app", bulut.NewID(), ""} {
		_, err := s.Apps.DeleteApp(as(a), idOrName)
		if got := bulut.ErrorCode(err); got != bulut.ENOTFOUND {
			t.Errorf("DeleteApp(%q): code %q, want %q (err: %v)", idOrName, got, bulut.ENOTFOUND, err)
		}
	}
	mustFindApp(t, s, as(a), "my-app")
}

func testDeleteAppErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		_, err := s.Apps.DeleteApp(as(mallory), idOrName)
		assertCode(t, err, bulut.ENOTFOUND)
	}
	assertSameApp(t, mustFindApp(t, s, as(a), app.ID), app)
}

func testDeleteAppErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.Apps.DeleteApp(context.Background(), app.Name)
	assertCode(t, err, bulut.EUNAUTHORIZED)
	mustFindApp(t, s, as(a), app.ID)
}

func testFindAppsOwnAppsOnly(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	c := mustCreateAccount(t, s, "carol@example.com")
	mustCreateApp(t, s, as(a), "alice-2")
	mustCreateApp(t, s, as(b), "bob-1")
	mustCreateApp(t, s, as(a), "alice-1")
	byName := bulut.AppFilter{Range: bulut.ListRange{Field: "name"}}

	apps, more := findApps(t, s, as(a), byName)
	assertAppNames(t, "alice's apps", apps, "alice-1", "alice-2")
	for _, app := range apps {
		if app.OwnerID != a.ID || app.OwnerEmail != a.Email {
			t.Errorf("app %s: owner %s %s, want %s %s", app.Name, app.OwnerID, app.OwnerEmail, a.ID, a.Email)
		}
	}
	if more {
		t.Error("more = true, want false")
	}
	apps, _ = findApps(t, s, as(b), byName)
	assertAppNames(t, "bob's apps", apps, "bob-1")
	apps, _ = findApps(t, s, as(c), byName)
	assertAppNames(t, "carol's apps", apps)
}

func testFindAppsSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	mustCreateApp(t, s, as(a), "alice-1")
	mustCreateApp(t, s, as(b), "bob-1")
	mustCreateApp(t, s, as(a), "alice-2")
	apps, _ := findApps(t, s, system(), bulut.AppFilter{Range: bulut.ListRange{Field: "name"}})
	assertAppNames(t, "all apps", apps, "alice-1", "alice-2", "bob-1")
	if apps[2].OwnerID != b.ID || apps[2].OwnerEmail != b.Email {
		t.Errorf("bob-1 owner = %s %s, want %s %s", apps[2].OwnerID, apps[2].OwnerEmail, b.ID, b.Email)
	}
}

func testFindAppsIDOrName(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app := mustCreateApp(t, s, as(a), "alice-1")
	mustCreateApp(t, s, as(a), "alice-2")
	bobs := mustCreateApp(t, s, as(b), "bob-1")
	for _, v := range []string{app.Name, app.ID} {
		apps, _ := findApps(t, s, as(a), bulut.AppFilter{IDOrName: &v})
		assertAppNames(t, "IDOrName "+v, apps, "alice-1")
	}
	for _, v := range []string{bobs.Name, bobs.ID, "missing"} {
		apps, _ := findApps(t, s, as(a), bulut.AppFilter{IDOrName: &v})
		assertAppNames(t, "IDOrName "+v, apps)
	}
	v := bobs.Name
	apps, _ := findApps(t, s, system(), bulut.AppFilter{IDOrName: &v})
	assertAppNames(t, "system IDOrName "+v, apps, "bob-1")
}

func testFindAppsEmpty(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	apps, more := findApps(t, s, as(a), bulut.AppFilter{Range: bulut.ListRange{Field: "name", Max: 10}})
	if len(apps) != 0 || more {
		t.Errorf("FindApps = %q, %v; want nothing", appNames(apps), more)
	}
}

func testFindAppsDefaultRange(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	want := createApps(t, s, as(a), 25)
	// The zero range is the default page, which holds them all.
	apps, more := findApps(t, s, as(a), bulut.AppFilter{})
	got := appNames(apps)
	slices.Sort(got)
	if !slices.Equal(got, want) || more {
		t.Errorf("FindApps with the zero range = %q, more %v; want %q, more false", got, more, want)
	}
}

func testFindAppsErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mustCreateApp(t, s, as(a), "my-app")
	apps, _, err := s.Apps.FindApps(context.Background(), bulut.AppFilter{})
	assertCode(t, err, bulut.EUNAUTHORIZED)
	if len(apps) != 0 {
		t.Errorf("FindApps failed but returned %q", appNames(apps))
	}
}

// createApps creates n apps named app-00, app-01... for the account of ctx,
// in random order so that creation order is not name order, and returns
// their names sorted.
func createApps(t *testing.T, s Services, ctx context.Context, n int) []string {
	t.Helper()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("app-%02d", i)
	}
	order := slices.Clone(names)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, name := range order {
		mustCreateApp(t, s, ctx, name)
	}
	return names
}

// assertPage fails the test unless FindApps with r returns want and more.
func assertPage(t *testing.T, s Services, ctx context.Context, r bulut.ListRange, wantMore bool, want ...string) []*bulut.App {
	t.Helper()
	apps, more := findApps(t, s, ctx, bulut.AppFilter{Range: r})
	assertAppNames(t, fmt.Sprintf("range %+v", r), apps, want...)
	if more != wantMore {
		t.Fatalf("range %+v: more = %v, want %v", r, more, wantMore)
	}
	return apps
}

func testFindAppsRangePages(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	names := createApps(t, s, as(a), 25)
	mustCreateApp(t, s, as(b), "app-05b") // sorts among alice's, must not show up
	ctx := as(a)

	r := bulut.ListRange{Field: "name", Max: 10}
	page := assertPage(t, s, ctx, r, true, names[0:10]...)

	r.First, r.FirstExclusive = page[len(page)-1].Name, true
	page = assertPage(t, s, ctx, r, true, names[10:20]...)

	r.First = page[len(page)-1].Name
	page = assertPage(t, s, ctx, r, false, names[20:25]...)

	r.First = page[len(page)-1].Name
	assertPage(t, s, ctx, r, false)
}

func testFindAppsRangeExactPage(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	names := createApps(t, s, as(a), 10)
	assertPage(t, s, as(a), bulut.ListRange{Field: "name", Max: 10}, false, names...)
	assertPage(t, s, as(a), bulut.ListRange{Field: "name", Max: 9}, true, names[:9]...)
	assertPage(t, s, as(a), bulut.ListRange{Field: "name", Max: 1}, true, names[0])
}

func testFindAppsRangeDesc(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	names := createApps(t, s, as(a), 25)
	slices.Reverse(names) // app-24 ... app-00
	ctx := as(a)

	r := bulut.ListRange{Field: "name", Max: 10, Desc: true}
	page := assertPage(t, s, ctx, r, true, names[0:10]...)
	r.First, r.FirstExclusive = page[len(page)-1].Name, true
	page = assertPage(t, s, ctx, r, true, names[10:20]...)
	r.First = page[len(page)-1].Name
	assertPage(t, s, ctx, r, false, names[20:25]...)

	// With order=desc, First is the upper bound and Last the lower one.
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-20", Last: "app-15", Max: 100, Desc: true}, false,
		"app-20", "app-19", "app-18", "app-17", "app-16", "app-15")
}

func testFindAppsRangeID(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	createApps(t, s, as(a), 25)
	ctx := as(a)
	all, _ := findApps(t, s, ctx, bulut.AppFilter{Range: bulut.ListRange{Field: "name"}})
	ids := make([]string, len(all))
	byID := map[string]string{}
	for i, app := range all {
		ids[i], byID[app.ID] = app.ID, app.Name
	}
	slices.Sort(ids)
	namesInIDOrder := func(ids []string) []string {
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = byID[id]
		}
		return names
	}

	r := bulut.ListRange{Field: "id", Max: 10}
	var got []string
	for range 3 {
		apps, more := findApps(t, s, ctx, bulut.AppFilter{Range: r})
		if len(apps) == 0 {
			t.Fatalf("range %+v: no apps", r)
		}
		got = append(got, appNames(apps)...)
		r.First, r.FirstExclusive = apps[len(apps)-1].ID, true
		if want := len(got) < 25; more != want {
			t.Fatalf("after %d apps more = %v, want %v", len(got), more, want)
		}
	}
	if want := namesInIDOrder(ids); !slices.Equal(got, want) {
		t.Fatalf("apps by id = %q, want %q", got, want)
	}

	r = bulut.ListRange{Field: "id", Max: 100, Desc: true}
	apps, _ := findApps(t, s, ctx, bulut.AppFilter{Range: r})
	slices.Reverse(ids)
	assertAppNames(t, "apps by id desc", apps, namesInIDOrder(ids)...)
}

func testFindAppsRangeUpdatedAt(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	ctx := as(a)
	var names []string
	for i := range 5 {
		clock.Advance(time.Second)
		names = append(names, mustCreateApp(t, s, ctx, fmt.Sprintf("app-%d", 4-i)).Name)
	}
	// Touching app-4 makes it the most recently updated.
	clock.Advance(time.Second)
	on := true
	if _, err := s.Apps.UpdateApp(ctx, "app-4", bulut.AppUpdate{Maintenance: &on}); err != nil {
		t.Fatal(err)
	}
	names = append(names[1:], "app-4")
	assertPage(t, s, ctx, bulut.ListRange{Field: "updated_at", Max: 10}, false, names...)
	slices.Reverse(names)
	assertPage(t, s, ctx, bulut.ListRange{Field: "updated_at", Max: 2, Desc: true}, true, names[:2]...)
}

func testFindAppsRangeLast(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	names := createApps(t, s, as(a), 25)
	ctx := as(a)
	// Last is inclusive.
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-05", Last: "app-09", Max: 100}, false, names[5:10]...)
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", Last: "app-02", Max: 100}, false, names[0:3]...)
	// Max still cuts a bounded range short.
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-05", Last: "app-09", Max: 3}, true, names[5:8]...)
	// The next page of that range stops at Last.
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-07", FirstExclusive: true, Last: "app-09", Max: 3}, false, names[8:10]...)
	// Bounds need not be existing values.
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-055", Last: "app-065", Max: 100}, false, "app-06")
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-10", Last: "app-09", Max: 100}, false)
}

func testFindAppsRangeFirstInclusive(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	names := createApps(t, s, as(a), 25)
	ctx := as(a)
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-20", Max: 100}, false, names[20:]...)
	assertPage(t, s, ctx, bulut.ListRange{Field: "name", First: "app-20", FirstExclusive: true, Max: 100}, false, names[21:]...)
}

func testFindAppsRangeErrBadField(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mustCreateApp(t, s, as(a), "my-app")
	for _, field := range []string{"owner_id", "password", "name; DROP TABLE apps", "Name", "maintenance"} {
		_, _, err := s.Apps.FindApps(as(a), bulut.AppFilter{Range: bulut.ListRange{Field: field, Max: 10}})
		if got := bulut.ErrorCode(err); got != bulut.ERANGE {
			t.Errorf("FindApps by %q: code %q, want %q (err: %v)", field, got, bulut.ERANGE, err)
		}
	}
	mustFindApp(t, s, as(a), "my-app")
}
