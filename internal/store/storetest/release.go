package storetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

func releaseTests() []group {
	return []group{
		{"ReleaseService_Create", []test{
			{"OK", testCreateReleaseOK},
			{"ConfigSnapshot", testCreateReleaseConfigSnapshot},
			{"FirstDeployScalesWeb", testCreateReleaseFirstDeployScalesWeb},
			{"FirstDeployWithoutWeb", testCreateReleaseFirstDeployWithoutWeb},
			{"FirstDeployAfterConfig", testCreateReleaseFirstDeployAfterConfig},
			{"ErrSlugOfOtherApp", testCreateReleaseErrSlugOfOtherApp},
			{"ErrOtherAccount", testCreateReleaseErrOtherAccount},
			{"ErrNoAccount", testCreateReleaseErrNoAccount},
			{"SystemContext", testCreateReleaseSystemContext},
			{"Concurrent", testCreateReleaseConcurrent},
		}},
		{"ReleaseService_Find", []test{
			{"ByVersion", testFindReleaseByVersion},
			{"ByID", testFindReleaseByID},
			{"ErrNotFound", testFindReleaseErrNotFound},
			{"ErrOtherAccount", testFindReleaseErrOtherAccount},
			{"ErrNoAccount", testFindReleaseErrNoAccount},
			{"SystemContext", testFindReleaseSystemContext},
			{"Current", testFindReleaseCurrent},
		}},
		{"ReleaseService_FindReleases", []test{
			{"OwnAppOnly", testFindReleasesOwnAppOnly},
			{"DefaultRange", testFindReleasesDefaultRange},
			{"ErrOtherAccount", testFindReleasesErrOtherAccount},
			{"ErrNoAccount", testFindReleasesErrNoAccount},
			{"SystemContext", testFindReleasesSystemContext},
		}},
		{"ReleaseService_FindReleases_Range", []test{
			{"VersionNumeric", testFindReleasesRangeVersionNumeric},
			{"VersionDescMax", testFindReleasesRangeVersionDescMax},
			{"VersionPages", testFindReleasesRangeVersionPages},
			{"VersionBounds", testFindReleasesRangeVersionBounds},
			{"ID", testFindReleasesRangeID},
			{"ErrBadField", testFindReleasesRangeErrBadField},
			{"ErrBadBound", testFindReleasesRangeErrBadBound},
		}},
		{"ReleaseService_Rollback", []test{
			{"OK", testRollbackOK},
			{"ByIDOrVersion", testRollbackByIDOrVersion},
			{"RestoresConfig", testRollbackRestoresConfig},
			{"KeepsFormation", testRollbackKeepsFormation},
			{"VersionsNeverReused", testRollbackVersionsNeverReused},
			{"ErrNoSlug", testRollbackErrNoSlug},
			{"ErrNotFound", testRollbackErrNotFound},
			{"ErrOtherAccount", testRollbackErrOtherAccount},
			{"ErrNoAccount", testRollbackErrNoAccount},
			{"SystemContext", testRollbackSystemContext},
		}},
	}
}

// assertRelease fails the test unless r is version v of app with the
// given description and slug, succeeded.
func assertRelease(t *testing.T, r *bulut.Release, app *bulut.App, v int, description, slugID string) {
	t.Helper()
	if r.AppID != app.ID || r.AppName != app.Name || r.Version != v || r.Description != description ||
		r.SlugID != slugID || r.Status != bulut.ReleaseSucceeded {
		t.Fatalf("release = %+v, want v%d %q of %s with slug %q, succeeded", r, v, description, app.Name, slugID)
	}
}

// assertSameRelease fails the test unless got and want agree on every
// field (but Current, which changes).
func assertSameRelease(t *testing.T, got, want *bulut.Release) {
	t.Helper()
	if got.ID != want.ID || got.AppID != want.AppID || got.AppName != want.AppName || got.Version != want.Version ||
		got.Description != want.Description || got.SlugID != want.SlugID || got.Status != want.Status ||
		got.UserID != want.UserID || got.UserEmail != want.UserEmail {
		t.Fatalf("release = %+v, want %+v", got, want)
	}
	assertVars(t, fmt.Sprintf("v%d config vars", got.Version), got.ConfigVars, want.ConfigVars)
	assertTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	assertTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// mustFindRelease finds a release that must exist.
func mustFindRelease(t *testing.T, s Services, ctx context.Context, app, idOrVersion string) *bulut.Release {
	t.Helper()
	r, err := s.Releases.FindRelease(ctx, app, idOrVersion)
	if err != nil {
		t.Fatalf("FindRelease(%q, %q): %v", app, idOrVersion, err)
	}
	return r
}

// assertCurrent fails the test unless version v is app's only current
// release.
func assertCurrent(t *testing.T, s Services, ctx context.Context, app string, v int) {
	t.Helper()
	for _, r := range allReleases(t, s, ctx, app) {
		if r.Current != (r.Version == v) {
			t.Fatalf("v%d.Current = %v; want only v%d current", r.Version, r.Current, v)
		}
	}
	if r := mustFindRelease(t, s, ctx, app, strconv.Itoa(v)); !r.Current {
		t.Fatalf("FindRelease(v%d).Current = false", v)
	}
}

func testCreateReleaseOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	if clock != nil {
		clock.Advance(time.Minute)
	}
	r, err := s.Releases.CreateRelease(as(a), app.Name, slug.ID, "Deploy 01234567")
	if err != nil {
		t.Fatal(err)
	}
	assertID(t, "ID", r.ID)
	assertRelease(t, r, app, 2, "Deploy 01234567", slug.ID)
	if !r.Current || r.UserID != a.ID || r.UserEmail != a.Email || len(r.ConfigVars) != 0 {
		t.Errorf("release = %+v, want current, by %s (%s), no config", r, a.ID, a.Email)
	}
	got := mustFindApp(t, s, as(a), app.Name)
	if got.ReleasedAt == nil {
		t.Fatal("ReleasedAt = nil after a deploy")
	}
	if clock != nil {
		assertTime(t, "CreatedAt", r.CreatedAt, clock.Now())
		assertTime(t, "UpdatedAt", r.UpdatedAt, clock.Now())
		assertTime(t, "app ReleasedAt", *got.ReleasedAt, clock.Now())
		assertTime(t, "app UpdatedAt", got.UpdatedAt, clock.Now())
	}
	assertSameRelease(t, mustFindRelease(t, s, as(a), app.Name, "v2"), r)
	assertCurrent(t, s, as(a), app.Name, 2)
	// By app ID too.
	r3 := mustCreateRelease(t, s, as(a), app.ID, slug.ID, "Deploy again")
	assertRelease(t, r3, app, 3, "Deploy again", slug.ID)
}

func testCreateReleaseConfigSnapshot(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "1", "BAR", "x"))
	_, r := mustDeploy(t, s, as(a), app.Name, webWorker)
	want := map[string]string{"FOO": "1", "BAR": "x"}
	assertVars(t, "release config", r.ConfigVars, want)

	// Later changes don't touch the snapshot.
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "2", "BAR", nil))
	assertVars(t, "release config after a change", mustFindRelease(t, s, as(a), app.Name, strconv.Itoa(r.Version)).ConfigVars, want)
	_, r2 := mustDeploy(t, s, as(a), app.Name, webWorker)
	assertVars(t, "next release config", r2.ConfigVars, map[string]string{"FOO": "2"})
}

func testCreateReleaseFirstDeployScalesWeb(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustDeploy(t, s, as(a), app.Name, webWorker)
	f := assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
	for _, p := range f {
		assertID(t, "formation ID", p.ID)
		if p.AppID != app.ID {
			t.Errorf("formation %s: AppID %q, want %q", p.Type, p.AppID, app.ID)
		}
	}

	// A second deploy changes no quantity, even of web, and adds new
	// process types at 0.
	types := map[string]string{"web": "gunicorn app2:app", "worker": "python worker.py", "clock": "python clock.py"}
	mustDeploy(t, s, as(a), app.Name, types)
	assertFormation(t, s, as(a), app.Name,
		"clock=0:free:python clock.py", "web=1:free:gunicorn app2:app", "worker=0:free:python worker.py")
}

func testCreateReleaseFirstDeployWithoutWeb(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustDeploy(t, s, as(a), app.Name, map[string]string{"worker": "python worker.py"})
	assertFormation(t, s, as(a), app.Name, "worker=0:free:python worker.py")
	// web appears later: it is not the first deploy, so it stays at 0.
	mustDeploy(t, s, as(a), app.Name, webWorker)
	assertFormation(t, s, as(a), app.Name, "web=0:free:gunicorn app:app", "worker=0:free:python worker.py")
}

// testCreateReleaseFirstDeployAfterConfig checks that releases without a
// slug (config changes) don't count as deploys.
func testCreateReleaseFirstDeployAfterConfig(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "1"))
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", nil))
	if got := mustFindApp(t, s, as(a), app.Name); got.ReleasedAt != nil {
		t.Errorf("ReleasedAt = %v after config changes only, want nil", got.ReleasedAt)
	}
	_, r := mustDeploy(t, s, as(a), app.Name, webWorker)
	if r.Version != 4 {
		t.Errorf("first deploy is v%d, want v4", r.Version)
	}
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testCreateReleaseErrSlugOfOtherApp(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	bobs := mustCreateApp(t, s, as(b), "bobs-app")
	otherSlug := mustCreateSlug(t, s, as(a), other.Name, webWorker)
	bobsSlug := mustCreateSlug(t, s, as(b), bobs.Name, webWorker)
	for _, id := range []string{otherSlug.ID, bobsSlug.ID, bulut.NewID(), "", "not-a-slug"} {
		r, err := s.Releases.CreateRelease(as(a), app.Name, id, "Deploy")
		assertCode(t, err, bulut.EINVALID)
		if r != nil {
			t.Fatalf("CreateRelease failed but returned %+v", r)
		}
	}
	// Not even the system may mix apps' slugs.
	_, err := s.Releases.CreateRelease(system(), app.Name, otherSlug.ID, "Deploy")
	assertCode(t, err, bulut.EINVALID)
	assertVersions(t, s, as(a), app.Name, 1)
	assertFormation(t, s, as(a), app.Name)
	if got := mustFindApp(t, s, as(a), app.Name); got.ReleasedAt != nil {
		t.Errorf("ReleasedAt = %v after failed releases", got.ReleasedAt)
	}
}

func testCreateReleaseErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	for _, idOrName := range []string{app.Name, app.ID} {
		_, err := s.Releases.CreateRelease(as(mallory), idOrName, slug.ID, "Deploy")
		assertCode(t, err, bulut.ENOTFOUND)
	}
	// Nor can alice's slug be released in mallory's app.
	mine := mustCreateApp(t, s, as(mallory), "mallorys-app")
	_, err := s.Releases.CreateRelease(as(mallory), mine.Name, slug.ID, "Deploy")
	assertCode(t, err, bulut.EINVALID)
	assertVersions(t, s, as(a), app.Name, 1)
	assertVersions(t, s, as(mallory), mine.Name, 1)
}

func testCreateReleaseErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	_, err := s.Releases.CreateRelease(context.Background(), app.Name, slug.ID, "Deploy")
	assertCode(t, err, bulut.EUNAUTHORIZED)
	assertVersions(t, s, as(a), app.Name, 1)
}

func testCreateReleaseSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	// A system context acting for nobody releases as the app's owner.
	r := mustCreateRelease(t, s, system(), app.Name, slug.ID, "Deploy")
	assertRelease(t, r, app, 2, "Deploy", slug.ID)
	if r.UserID != a.ID || r.UserEmail != a.Email {
		t.Errorf("system release by %s (%s), want the owner %s (%s)", r.UserID, r.UserEmail, a.ID, a.Email)
	}
	// One acting for an account releases as that account.
	r = mustCreateRelease(t, s, bulut.NewContextWithAccount(system(), b), app.ID, slug.ID, "Deploy")
	if r.Version != 3 || r.UserID != b.ID || r.UserEmail != b.Email {
		t.Errorf("release = %+v, want v3 by %s (%s)", r, b.ID, b.Email)
	}
}

// testCreateReleaseConcurrent checks that racing releases get distinct,
// consecutive versions.
func testCreateReleaseConcurrent(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	const n = 8
	rs := make([]*bulut.Release, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rs[i], errs[i] = s.Releases.CreateRelease(as(a), app.Name, slug.ID, fmt.Sprintf("Deploy %d", i))
		})
	}
	wg.Wait()
	var got []int
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent CreateRelease: %v", errs[i])
		}
		got = append(got, rs[i].Version)
	}
	slices.Sort(got)
	want := []int{2, 3, 4, 5, 6, 7, 8, 9}
	if !slices.Equal(got, want) {
		t.Fatalf("concurrent releases got versions %v, want %v", got, want)
	}
	assertVersions(t, s, as(a), app.Name, append([]int{1}, want...)...)
	assertCurrent(t, s, as(a), app.Name, 9)
}

func testFindReleaseByVersion(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, r := mustDeploy(t, s, as(a), app.Name, webWorker)
	mustDeploy(t, s, as(a), app.Name, webWorker)
	for _, v := range []string{"2", "v2"} {
		assertSameRelease(t, mustFindRelease(t, s, as(a), app.Name, v), r)
		assertSameRelease(t, mustFindRelease(t, s, as(a), app.ID, v), r)
	}
	first := mustFindRelease(t, s, as(a), app.Name, "v1")
	assertRelease(t, first, app, 1, "Initial release", "")
}

func testFindReleaseByID(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, r := mustDeploy(t, s, as(a), app.Name, webWorker)
	mustDeploy(t, s, as(a), app.Name, webWorker)
	assertSameRelease(t, mustFindRelease(t, s, as(a), app.Name, r.ID), r)
	assertSameRelease(t, mustFindRelease(t, s, as(a), app.Name, strings.ToUpper(r.ID)), r)
}

func testFindReleaseErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	_, otherRelease := mustDeploy(t, s, as(a), other.Name, webWorker)
	mustDeploy(t, s, as(a), app.Name, webWorker)
	for _, v := range []string{"3", "v3", "0", "v0", "-1", "v-1", "+1", " 1", "1 ", "V1", "vv1", "1.0", "x", "", "v",
		"99999999999999999999", bulut.NewID(), otherRelease.ID} {
		r, err := s.Releases.FindRelease(as(a), app.Name, v)
		if code := bulut.ErrorCode(err); code != bulut.ENOTFOUND {
			t.Errorf("FindRelease(%q): code %q, want %q (err: %v)", v, code, bulut.ENOTFOUND, err)
		} else if r != nil {
			t.Errorf("FindRelease(%q) failed but returned %+v", v, r)
		}
	}
	_, err := s.Releases.FindRelease(as(a), "missing-app", "1")
	assertCode(t, err, bulut.ENOTFOUND)
}

func testFindReleaseErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	_, r := mustDeploy(t, s, as(a), app.Name, webWorker)
	mine := mustCreateApp(t, s, as(mallory), "mallorys-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		for _, v := range []string{"1", "v2", r.ID} {
			_, err := s.Releases.FindRelease(as(mallory), idOrName, v)
			assertCode(t, err, bulut.ENOTFOUND)
		}
	}
	_, err := s.Releases.FindRelease(as(mallory), mine.Name, r.ID)
	assertCode(t, err, bulut.ENOTFOUND)
}

func testFindReleaseErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.Releases.FindRelease(context.Background(), app.Name, "v1")
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindReleaseSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	appA := mustCreateApp(t, s, as(a), "alices-app")
	appB := mustCreateApp(t, s, as(b), "bobs-app")
	_, ra := mustDeploy(t, s, as(a), appA.Name, webWorker)
	_, rb := mustDeploy(t, s, as(b), appB.Name, webWorker)
	assertSameRelease(t, mustFindRelease(t, s, system(), appA.Name, "v2"), ra)
	assertSameRelease(t, mustFindRelease(t, s, system(), appB.ID, rb.ID), rb)
	_, err := s.Releases.FindRelease(system(), appA.Name, rb.ID)
	assertCode(t, err, bulut.ENOTFOUND)
}

func testFindReleaseCurrent(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	assertCurrent(t, s, as(a), app.Name, 1)
	mustDeploy(t, s, as(a), app.Name, webWorker)
	assertCurrent(t, s, as(a), app.Name, 2)
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "1"))
	assertCurrent(t, s, as(a), app.Name, 3)
	mustRollback(t, s, as(a), app.Name, "v2")
	assertCurrent(t, s, as(a), app.Name, 4)
	// Each app has its own current release.
	assertCurrent(t, s, as(a), other.Name, 1)
	mustDeploy(t, s, as(a), other.Name, webWorker)
	assertCurrent(t, s, as(a), other.Name, 2)
	assertCurrent(t, s, as(a), app.Name, 4)
}

func testFindReleasesOwnAppOnly(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	mustDeploy(t, s, as(a), other.Name, webWorker)
	mustDeploy(t, s, as(a), other.Name, webWorker)
	mustDeploy(t, s, as(a), app.Name, webWorker)
	rs := allReleases(t, s, as(a), app.Name)
	if got := versions(rs); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("versions = %v, want [1 2]", got)
	}
	for _, r := range rs {
		if r.AppID != app.ID || r.AppName != app.Name {
			t.Errorf("v%d belongs to %s (%s), want %s", r.Version, r.AppID, r.AppName, app.Name)
		}
	}
	assertVersions(t, s, as(a), other.Name, 1, 2, 3)
}

func testFindReleasesDefaultRange(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for i := range 11 {
		mustUpdateConfig(t, s, as(a), app.Name, patch("N", strconv.Itoa(i)))
	}
	// The zero range is every release by version.
	rs, more, err := s.Releases.FindReleases(as(a), app.Name, bulut.ListRange{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := versions(rs), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(got, want) || more {
		t.Fatalf("FindReleases with the zero range = %v, more %v; want %v, more false", got, more, want)
	}
}

func testFindReleasesErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		rs, _, err := s.Releases.FindReleases(as(mallory), idOrName, bulut.ListRange{})
		assertCode(t, err, bulut.ENOTFOUND)
		if len(rs) != 0 {
			t.Fatalf("FindReleases failed but returned %d releases", len(rs))
		}
	}
}

func testFindReleasesErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, _, err := s.Releases.FindReleases(context.Background(), app.Name, bulut.ListRange{})
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindReleasesSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustDeploy(t, s, as(a), app.Name, webWorker)
	assertVersions(t, s, system(), app.Name, 1, 2)
	assertVersions(t, s, system(), app.ID, 1, 2)
}

// makeReleases gives a new app of a's versions 1 to n (config changes).
func makeReleases(t *testing.T, s Services, a *bulut.Account, n int) *bulut.App {
	t.Helper()
	app := mustCreateApp(t, s, as(a), "my-app")
	for v := 2; v <= n; v++ {
		mustUpdateConfig(t, s, as(a), app.Name, patch("V", strconv.Itoa(v)))
	}
	return app
}

// assertReleasePage fails the test unless FindReleases with r returns
// versions want and more.
func assertReleasePage(t *testing.T, s Services, ctx context.Context, app string, r bulut.ListRange, wantMore bool, want ...int) []*bulut.Release {
	t.Helper()
	rs, more, err := s.Releases.FindReleases(ctx, app, r)
	if err != nil {
		t.Fatalf("FindReleases(%+v): %v", r, err)
	}
	if got := versions(rs); !slices.Equal(got, want) || more != wantMore {
		t.Fatalf("range %+v: versions %v, more %v; want %v, more %v", r, got, more, want, wantMore)
	}
	return rs
}

// seq returns the integers from..to, counting down if to < from.
func seq(from, to int) []int {
	var out []int
	step := 1
	if to < from {
		step = -1
	}
	for v := from; ; v += step {
		out = append(out, v)
		if v == to {
			return out
		}
	}
}

// testFindReleasesRangeVersionNumeric checks that versions order as
// numbers: v10 after v9, not after v1.
func testFindReleasesRangeVersionNumeric(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := makeReleases(t, s, a, 12)
	ctx := as(a)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", Max: 100}, false, seq(1, 12)...)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", Max: 100, Desc: true}, false, seq(12, 1)...)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "9", Max: 100}, false, seq(9, 12)...)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "2", Last: "10", Max: 100}, false, seq(2, 10)...)
}

// testFindReleasesRangeVersionDescMax is the CLI's query for the current
// version and `bulut releases`' page.
func testFindReleasesRangeVersionDescMax(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := makeReleases(t, s, a, 20)
	ctx := as(a)
	rs := assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", Max: 1, Desc: true}, true, 20)
	if !rs[0].Current {
		t.Error("the latest release is not current")
	}
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", Max: 15, Desc: true}, true, seq(20, 6)...)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", Max: 20, Desc: true}, false, seq(20, 1)...)
}

func testFindReleasesRangeVersionPages(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := makeReleases(t, s, a, 25)
	ctx := as(a)
	for _, desc := range []bool{false, true} {
		want := seq(1, 25)
		if desc {
			want = seq(25, 1)
		}
		r := bulut.ListRange{Field: "version", Max: 10, Desc: desc}
		var got []int
		for page := 0; ; page++ {
			rs, more, err := s.Releases.FindReleases(ctx, app.Name, r)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, versions(rs)...)
			if !more {
				break
			}
			if page > 5 {
				t.Fatal("too many pages")
			}
			// As in a Next-Range header.
			r.First, r.FirstExclusive = strconv.Itoa(rs[len(rs)-1].Version), true
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages (desc %v): versions %v, want %v", desc, got, want)
		}
	}
}

func testFindReleasesRangeVersionBounds(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := makeReleases(t, s, a, 12)
	ctx := as(a)
	// "vN" as well as "N"; Last is inclusive.
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "v3", Last: "v5", Max: 100}, false, 3, 4, 5)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "3", FirstExclusive: true, Last: "5", Max: 100}, false, 4, 5)
	// With order=desc, First is the upper bound.
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "10", Last: "8", Max: 100, Desc: true}, false, 10, 9, 8)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "10", FirstExclusive: true, Max: 2, Desc: true}, true, 9, 8)
	// Max cuts a bounded range short.
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "2", Last: "11", Max: 3}, true, 2, 3, 4)
	// Bounds need not exist.
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "11", Last: "99", Max: 100}, false, 11, 12)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "version", First: "13", Max: 100}, false)
}

func testFindReleasesRangeID(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := makeReleases(t, s, a, 12)
	ctx := as(a)
	all := allReleases(t, s, ctx, app.Name)
	slices.SortFunc(all, func(x, y *bulut.Release) int { return strings.Compare(x.ID, y.ID) })
	want := versions(all)

	r := bulut.ListRange{Field: "id", Max: 5}
	var got []int
	for range 3 {
		rs, more, err := s.Releases.FindReleases(ctx, app.Name, r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, versions(rs)...)
		if wantMore := len(got) < 12; more != wantMore {
			t.Fatalf("after %d releases more = %v, want %v", len(got), more, wantMore)
		}
		if len(rs) > 0 {
			r.First, r.FirstExclusive = rs[len(rs)-1].ID, true
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("releases by id = %v, want %v", got, want)
	}
	slices.Reverse(want)
	assertReleasePage(t, s, ctx, app.Name, bulut.ListRange{Field: "id", Max: 100, Desc: true}, false, want...)
}

func testFindReleasesRangeErrBadField(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, field := range []string{"name", "created_at", "description", "version; DROP TABLE releases", "Version"} {
		_, _, err := s.Releases.FindReleases(as(a), app.Name, bulut.ListRange{Field: field, Max: 10})
		if got := bulut.ErrorCode(err); got != bulut.ERANGE {
			t.Errorf("FindReleases by %q: code %q, want %q (err: %v)", field, got, bulut.ERANGE, err)
		}
	}
}

func testFindReleasesRangeErrBadBound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, bound := range []string{"abc", "1.5", "-1", "v", "1; DROP TABLE releases"} {
		for _, r := range []bulut.ListRange{{Field: "version", First: bound, Max: 10}, {Field: "version", Last: bound, Max: 10}} {
			_, _, err := s.Releases.FindReleases(as(a), app.Name, r)
			if got := bulut.ErrorCode(err); got != bulut.ERANGE {
				t.Errorf("FindReleases(%+v): code %q, want %q (err: %v)", r, got, bulut.ERANGE, err)
			}
		}
	}
	assertVersions(t, s, as(a), app.Name, 1)
}

// rollbackFixture gives alice an app with:
//
//	v1 Initial release
//	v2 Deploy (slug A: web, worker)
//	v3 Set FOO (FOO=1)
//	v4 Deploy (slug B: web)
//	v5 Set BAR and FOO (FOO=2, BAR=x)
func rollbackFixture(t *testing.T, s Services) (a *bulut.Account, app *bulut.App, slugA, slugB *bulut.Slug) {
	t.Helper()
	a = mustCreateAccount(t, s, "alice@example.com")
	app = mustCreateApp(t, s, as(a), "my-app")
	slugA, _ = mustDeploy(t, s, as(a), app.Name, webWorker)
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "1"))
	slugB, _ = mustDeploy(t, s, as(a), app.Name, map[string]string{"web": "gunicorn b:app"})
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "2", "BAR", "x"))
	return a, app, slugA, slugB
}

func testRollbackOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a, app, slugA, _ := rollbackFixture(t, s)
	if clock != nil {
		clock.Advance(time.Hour)
	}
	r, err := s.Releases.Rollback(as(a), app.Name, "v3")
	if err != nil {
		t.Fatal(err)
	}
	assertRelease(t, r, app, 6, "Rollback to v3", slugA.ID)
	if !r.Current || r.UserID != a.ID || r.UserEmail != a.Email {
		t.Errorf("rollback release = %+v, want current, by %s", r, a.Email)
	}
	assertVars(t, "rollback release config", r.ConfigVars, map[string]string{"FOO": "1"})
	assertVars(t, "app config after rollback", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"FOO": "1"})
	assertSameRelease(t, mustFindRelease(t, s, as(a), app.Name, "6"), r)
	assertCurrent(t, s, as(a), app.Name, 6)
	// The formation runs slug A's commands again.
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
	if clock != nil {
		got := mustFindApp(t, s, as(a), app.Name)
		assertTime(t, "CreatedAt", r.CreatedAt, clock.Now())
		if got.ReleasedAt == nil {
			t.Fatal("ReleasedAt = nil")
		}
		assertTime(t, "app ReleasedAt", *got.ReleasedAt, clock.Now())
	}
	// Rolling back is undone by rolling back to the release before it.
	r = mustRollback(t, s, as(a), app.Name, "v5")
	assertRelease(t, r, app, 7, "Rollback to v5", mustFindRelease(t, s, as(a), app.Name, "v5").SlugID)
	assertVars(t, "app config after undo", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"FOO": "2", "BAR": "x"})
}

func testRollbackByIDOrVersion(t *testing.T, s Services) {
	a, app, slugA, _ := rollbackFixture(t, s)
	v2 := mustFindRelease(t, s, as(a), app.Name, "v2")
	for i, v := range []string{"2", "v2", v2.ID, strings.ToUpper(v2.ID)} {
		r := mustRollback(t, s, as(a), app.Name, v)
		assertRelease(t, r, app, 6+i, "Rollback to v2", slugA.ID)
	}
	// A rollback may itself be a target.
	r := mustRollback(t, s, as(a), app.ID, "v6")
	assertRelease(t, r, app, 10, "Rollback to v6", slugA.ID)
}

func testRollbackRestoresConfig(t *testing.T, s Services) {
	a, app, slugA, slugB := rollbackFixture(t, s)
	// v2 had no config: the vars set since are gone.
	r := mustRollback(t, s, as(a), app.Name, "v2")
	assertRelease(t, r, app, 6, "Rollback to v2", slugA.ID)
	assertVars(t, "config after rollback to v2", mustFindConfigVars(t, s, as(a), app.Name), nil)
	// v4 had FOO=1 with slug B.
	r = mustRollback(t, s, as(a), app.Name, "v4")
	assertRelease(t, r, app, 7, "Rollback to v4", slugB.ID)
	assertVars(t, "config after rollback to v4", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"FOO": "1"})
	// Later config changes start from the restored config and keep the
	// rolled-back slug.
	vars, r := mustUpdateConfig(t, s, as(a), app.Name, patch("BAZ", "z"))
	assertVars(t, "config after a change", vars, map[string]string{"FOO": "1", "BAZ": "z"})
	assertRelease(t, r, app, 8, "Set BAZ config vars", slugB.ID)
	// Older releases keep their snapshots.
	assertVars(t, "v5 config", mustFindRelease(t, s, as(a), app.Name, "v5").ConfigVars, map[string]string{"FOO": "2", "BAR": "x"})
}

func testRollbackKeepsFormation(t *testing.T, s Services) {
	a, app, _, _ := rollbackFixture(t, s)
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn b:app", "worker=0:free:")
	mustRollback(t, s, as(a), app.Name, "v2")
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
	mustRollback(t, s, as(a), app.Name, "v4")
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn b:app", "worker=0:free:")
}

func testRollbackVersionsNeverReused(t *testing.T, s Services) {
	a, app, _, _ := rollbackFixture(t, s)
	mustRollback(t, s, as(a), app.Name, "v2")
	mustRollback(t, s, as(a), app.Name, "v4")
	_, r := mustUpdateConfig(t, s, as(a), app.Name, patch("X", "1"))
	if r.Version != 8 {
		t.Fatalf("release after two rollbacks is v%d, want v8", r.Version)
	}
	_, r = mustDeploy(t, s, as(a), app.Name, webWorker)
	if r.Version != 9 {
		t.Fatalf("deploy is v%d, want v9", r.Version)
	}
	assertVersions(t, s, as(a), app.Name, seq(1, 9)...)
	ids := map[string]bool{}
	for _, r := range allReleases(t, s, as(a), app.Name) {
		if ids[r.ID] {
			t.Fatalf("release ID %s used twice", r.ID)
		}
		ids[r.ID] = true
	}
}

func testRollbackErrNoSlug(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "1")) // v2, before any deploy
	mustDeploy(t, s, as(a), app.Name, webWorker)               // v3
	mustUpdateConfig(t, s, as(a), app.Name, patch("FOO", "2")) // v4
	for _, v := range []string{"v1", "2"} {
		r, err := s.Releases.Rollback(as(a), app.Name, v)
		assertCode(t, err, bulut.EINVALID)
		assertMessageContains(t, err, "Can't roll back to v"+strings.TrimPrefix(v, "v")+": it has no slug.")
		if r != nil {
			t.Fatalf("Rollback failed but returned %+v", r)
		}
	}
	assertVersions(t, s, as(a), app.Name, 1, 2, 3, 4)
	assertVars(t, "config vars", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"FOO": "2"})
}

func testRollbackErrNotFound(t *testing.T, s Services) {
	a, app, _, _ := rollbackFixture(t, s)
	other := mustCreateApp(t, s, as(a), "my-other-app")
	_, otherRelease := mustDeploy(t, s, as(a), other.Name, webWorker)
	for _, v := range []string{"v6", "99", "0", "", "latest", bulut.NewID(), otherRelease.ID} {
		_, err := s.Releases.Rollback(as(a), app.Name, v)
		if code := bulut.ErrorCode(err); code != bulut.ENOTFOUND {
			t.Errorf("Rollback(%q): code %q, want %q (err: %v)", v, code, bulut.ENOTFOUND, err)
		}
	}
	_, err := s.Releases.Rollback(as(a), "missing-app", "v2")
	assertCode(t, err, bulut.ENOTFOUND)
	assertVersions(t, s, as(a), app.Name, 1, 2, 3, 4, 5)
}

func testRollbackErrOtherAccount(t *testing.T, s Services) {
	a, app, _, _ := rollbackFixture(t, s)
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	mine := mustCreateApp(t, s, as(mallory), "mallorys-app")
	v2 := mustFindRelease(t, s, as(a), app.Name, "v2")
	for _, idOrName := range []string{app.Name, app.ID} {
		_, err := s.Releases.Rollback(as(mallory), idOrName, "v2")
		assertCode(t, err, bulut.ENOTFOUND)
	}
	// Another app's release can't be rolled back to, and leaks no config.
	_, err := s.Releases.Rollback(as(mallory), mine.Name, v2.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	assertVersions(t, s, as(a), app.Name, 1, 2, 3, 4, 5)
	assertVersions(t, s, as(mallory), mine.Name, 1)
	assertVars(t, "mallory's config", mustFindConfigVars(t, s, as(mallory), mine.Name), nil)
}

func testRollbackErrNoAccount(t *testing.T, s Services) {
	a, app, _, _ := rollbackFixture(t, s)
	_, err := s.Releases.Rollback(context.Background(), app.Name, "v2")
	assertCode(t, err, bulut.EUNAUTHORIZED)
	assertVersions(t, s, as(a), app.Name, 1, 2, 3, 4, 5)
}

func testRollbackSystemContext(t *testing.T, s Services) {
	a, app, slugA, _ := rollbackFixture(t, s)
	r := mustRollback(t, s, system(), app.Name, "v3")
	assertRelease(t, r, app, 6, "Rollback to v3", slugA.ID)
	if r.UserID != a.ID {
		t.Errorf("system rollback by %q, want the owner %q", r.UserID, a.ID)
	}
}
