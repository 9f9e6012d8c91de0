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

func buildTests() []group {
	return []group{
		{"BuildService_Create", []test{
			{"OK", testCreateBuildOK},
			{"IgnoresSlugAndRelease", testCreateBuildIgnoresSlugAndRelease},
			{"ErrNotFound", testCreateBuildErrNotFound},
			{"ErrOtherAccount", testCreateBuildErrOtherAccount},
			{"ErrNoAccount", testCreateBuildErrNoAccount},
			{"SystemContext", testCreateBuildSystemContext},
		}},
		{"BuildService_Update", []test{
			{"OK", testUpdateBuildOK},
			{"Partial", testUpdateBuildPartial},
			{"ClearSlug", testUpdateBuildClearSlug},
			{"ErrInvalidStatus", testUpdateBuildErrInvalidStatus},
			{"ErrSlugOfOtherApp", testUpdateBuildErrSlugOfOtherApp},
			{"ErrReleaseOfOtherApp", testUpdateBuildErrReleaseOfOtherApp},
			{"ErrNotFound", testUpdateBuildErrNotFound},
			{"ErrOtherAccount", testUpdateBuildErrOtherAccount},
			{"ErrNoAccount", testUpdateBuildErrNoAccount},
			{"SystemContext", testUpdateBuildSystemContext},
		}},
		{"BuildService_Find", []test{
			{"OK", testFindBuildOK},
			{"ErrNotFound", testFindBuildErrNotFound},
			{"ErrOtherApp", testFindBuildErrOtherApp},
			{"ErrOtherAccount", testFindBuildErrOtherAccount},
			{"ErrNoAccount", testFindBuildErrNoAccount},
			{"SystemContext", testFindBuildSystemContext},
		}},
		{"BuildService_FindBuilds", []test{
			{"OwnAppOnly", testFindBuildsOwnAppOnly},
			{"Empty", testFindBuildsEmpty},
			{"ErrOtherAccount", testFindBuildsErrOtherAccount},
			{"ErrNoAccount", testFindBuildsErrNoAccount},
			{"SystemContext", testFindBuildsSystemContext},
		}},
		{"BuildService_FindBuilds_Range", []test{
			{"CreatedAt", testFindBuildsRangeCreatedAt},
			{"CreatedAtPages", testFindBuildsRangeCreatedAtPages},
			{"CreatedAtBounds", testFindBuildsRangeCreatedAtBounds},
			{"ID", testFindBuildsRangeID},
			{"ErrBadField", testFindBuildsRangeErrBadField},
			{"ErrBadBound", testFindBuildsRangeErrBadBound},
		}},
	}
}

// assertSameBuild fails the test unless got and want agree on every field.
func assertSameBuild(t *testing.T, got, want *bulut.Build) {
	t.Helper()
	if got.ID != want.ID || got.AppID != want.AppID || got.Status != want.Status || got.SourceVersion != want.SourceVersion ||
		!slices.Equal(got.Buildpacks, want.Buildpacks) || got.SlugID != want.SlugID || got.ReleaseID != want.ReleaseID ||
		got.UserID != want.UserID || got.UserEmail != want.UserEmail {
		t.Fatalf("build = %+v, want %+v", got, want)
	}
	assertTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	assertTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

// mustFindBuild finds a build that must exist.
func mustFindBuild(t *testing.T, s Services, ctx context.Context, app, id string) *bulut.Build {
	t.Helper()
	b, err := s.Builds.FindBuild(ctx, app, id)
	if err != nil {
		t.Fatalf("FindBuild(%q, %q): %v", app, id, err)
	}
	return b
}

// mustUpdateBuild updates a build.
func mustUpdateBuild(t *testing.T, s Services, ctx context.Context, id string, upd bulut.BuildUpdate) *bulut.Build {
	t.Helper()
	b, err := s.Builds.UpdateBuild(ctx, id, upd)
	if err != nil {
		t.Fatalf("UpdateBuild(%q): %v", id, err)
	}
	return b
}

// buildCommits returns the SourceVersion of builds.
func buildCommits(bs []*bulut.Build) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.SourceVersion
	}
	return out
}

func testCreateBuildOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := &bulut.Build{SourceVersion: "0123456789abcdef0123456789abcdef01234567",
		Buildpacks: []string{"heroku/nodejs", "https://github.com/heroku/heroku-buildpack-python"}}
	if err := s.Builds.CreateBuild(as(a), app.Name, b); err != nil {
		t.Fatal(err)
	}
	assertID(t, "ID", b.ID)
	if b.AppID != app.ID || b.Status != bulut.BuildPending || b.UserID != a.ID || b.UserEmail != a.Email {
		t.Errorf("build = %+v, want a pending build of %s by %s", b, app.ID, a.Email)
	}
	if b.SlugID != "" || b.ReleaseID != "" {
		t.Errorf("new build has slug %q, release %q", b.SlugID, b.ReleaseID)
	}
	if clock != nil {
		assertTime(t, "CreatedAt", b.CreatedAt, clock.Now())
		assertTime(t, "UpdatedAt", b.UpdatedAt, clock.Now())
	}
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), b)
	// A build is not a release.
	assertVersions(t, s, as(a), app.Name, 1)

	// No buildpacks (detection) is an empty list.
	b2 := &bulut.Build{SourceVersion: "abc"}
	if err := s.Builds.CreateBuild(as(a), app.ID, b2); err != nil {
		t.Fatal(err)
	}
	if got := mustFindBuild(t, s, as(a), app.Name, b2.ID); got.Buildpacks == nil || len(got.Buildpacks) != 0 {
		t.Errorf("Buildpacks = %#v, want an empty list", got.Buildpacks)
	}
	if b2.ID == b.ID {
		t.Error("two builds share an ID")
	}
}

func testCreateBuildIgnoresSlugAndRelease(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug, rel := mustDeploy(t, s, as(a), app.Name, webWorker)
	b := &bulut.Build{ID: "preset", Status: bulut.BuildSucceeded, SlugID: slug.ID, ReleaseID: rel.ID, UserID: "someone"}
	if err := s.Builds.CreateBuild(as(a), app.Name, b); err != nil {
		t.Fatal(err)
	}
	got := mustFindBuild(t, s, as(a), app.Name, b.ID)
	if got.Status != bulut.BuildPending || got.SlugID != "" || got.ReleaseID != "" || got.UserID != a.ID || !bulut.IsID(got.ID) {
		t.Errorf("build = %+v, want a new pending build by %s with no slug or release", got, a.ID)
	}
	assertSameBuild(t, got, b)
}

func testCreateBuildErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, app := range []string{"missing-app", bulut.NewID(), ""} {
		assertCode(t, s.Builds.CreateBuild(as(a), app, &bulut.Build{}), bulut.ENOTFOUND)
	}
}

func testCreateBuildErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		b := &bulut.Build{SourceVersion: "evil"}
		assertCode(t, s.Builds.CreateBuild(as(mallory), idOrName, b), bulut.ENOTFOUND)
		if b.ID != "" {
			t.Errorf("CreateBuild failed but set ID %q", b.ID)
		}
	}
	if bs, _, err := s.Builds.FindBuilds(as(a), app.Name, bulut.ListRange{}); err != nil || len(bs) != 0 {
		t.Errorf("alice's app has %d builds (%v), want none", len(bs), err)
	}
}

func testCreateBuildErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	assertCode(t, s.Builds.CreateBuild(context.Background(), app.Name, &bulut.Build{}), bulut.EUNAUTHORIZED)
}

func testCreateBuildSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	// A system context acting for nobody builds as the app's owner.
	build := mustCreateBuild(t, s, system(), app.Name, "abc")
	if build.UserID != a.ID || build.UserEmail != a.Email {
		t.Errorf("system build by %s (%s), want the owner %s", build.UserID, build.UserEmail, a.Email)
	}
	// One acting for an account builds as that account.
	build = mustCreateBuild(t, s, bulut.NewContextWithAccount(system(), b), app.Name, "def")
	if build.UserID != b.ID || build.UserEmail != b.Email {
		t.Errorf("build by %s (%s), want %s", build.UserID, build.UserEmail, b.Email)
	}
}

func testUpdateBuildOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	slug, rel := mustDeploy(t, s, as(a), app.Name, webWorker)
	if clock != nil {
		clock.Advance(time.Minute)
	}
	got := mustUpdateBuild(t, s, as(a), b.ID, bulut.BuildUpdate{Status: strp(bulut.BuildSucceeded),
		Buildpacks: []string{"heroku/python", "heroku/procfile"}, SlugID: &slug.ID, ReleaseID: strp(strings.ToUpper(rel.ID))})
	want := *b
	want.Status, want.Buildpacks, want.SlugID, want.ReleaseID = bulut.BuildSucceeded, []string{"heroku/python", "heroku/procfile"}, slug.ID, rel.ID
	want.UpdatedAt = got.UpdatedAt
	if clock != nil {
		assertTime(t, "UpdatedAt", got.UpdatedAt, clock.Now())
	}
	assertSameBuild(t, got, &want)
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), &want)

	// Failed builds too.
	b2 := mustCreateBuild(t, s, as(a), app.Name, "def")
	got = mustUpdateBuild(t, s, as(a), strings.ToUpper(b2.ID), bulut.BuildUpdate{Status: strp(bulut.BuildFailed)})
	if got.Status != bulut.BuildFailed || got.ID != b2.ID {
		t.Errorf("build = %+v, want failed", got)
	}
}

func testUpdateBuildPartial(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	got := mustUpdateBuild(t, s, as(a), b.ID, bulut.BuildUpdate{SlugID: &slug.ID})
	if got.Status != bulut.BuildPending || !slices.Equal(got.Buildpacks, b.Buildpacks) || got.SlugID != slug.ID || got.ReleaseID != "" {
		t.Errorf("after setting the slug: %+v", got)
	}
	got = mustUpdateBuild(t, s, as(a), b.ID, bulut.BuildUpdate{Status: strp(bulut.BuildSucceeded)})
	if got.Status != bulut.BuildSucceeded || got.SlugID != slug.ID || !slices.Equal(got.Buildpacks, b.Buildpacks) {
		t.Errorf("after setting the status: %+v", got)
	}
	// The empty update changes nothing but is no error.
	got = mustUpdateBuild(t, s, as(a), b.ID, bulut.BuildUpdate{})
	if got.Status != bulut.BuildSucceeded || got.SlugID != slug.ID || got.SourceVersion != "abc" {
		t.Errorf("after an empty update: %+v", got)
	}
}

func testUpdateBuildClearSlug(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	slug, rel := mustDeploy(t, s, as(a), app.Name, webWorker)
	mustUpdateBuild(t, s, as(a), b.ID, bulut.BuildUpdate{SlugID: &slug.ID, ReleaseID: &rel.ID})
	got := mustUpdateBuild(t, s, as(a), b.ID, bulut.BuildUpdate{SlugID: strp(""), ReleaseID: strp("")})
	if got.SlugID != "" || got.ReleaseID != "" {
		t.Errorf("after clearing: slug %q, release %q", got.SlugID, got.ReleaseID)
	}
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), got)
}

func testUpdateBuildErrInvalidStatus(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	for _, status := range []string{"", "done", "Succeeded", "succeeded "} {
		got, err := s.Builds.UpdateBuild(as(a), b.ID, bulut.BuildUpdate{Status: &status})
		assertCode(t, err, bulut.EINVALID)
		if got != nil {
			t.Fatalf("UpdateBuild failed but returned %+v", got)
		}
	}
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), b)
}

func testUpdateBuildErrSlugOfOtherApp(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	slug := mustCreateSlug(t, s, as(a), other.Name, webWorker)
	for _, id := range []string{slug.ID, bulut.NewID(), "not-a-slug"} {
		_, err := s.Builds.UpdateBuild(as(a), b.ID, bulut.BuildUpdate{Status: strp(bulut.BuildSucceeded), SlugID: &id})
		assertCode(t, err, bulut.EINVALID)
		_, err = s.Builds.UpdateBuild(system(), b.ID, bulut.BuildUpdate{SlugID: &id})
		assertCode(t, err, bulut.EINVALID)
	}
	// Nothing of the refused updates was kept.
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), b)
}

func testUpdateBuildErrReleaseOfOtherApp(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	_, rel := mustDeploy(t, s, as(a), other.Name, webWorker)
	for _, id := range []string{rel.ID, bulut.NewID(), "v1", "1"} {
		_, err := s.Builds.UpdateBuild(as(a), b.ID, bulut.BuildUpdate{ReleaseID: &id})
		assertCode(t, err, bulut.EINVALID)
	}
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), b)
}

func testUpdateBuildErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustCreateBuild(t, s, as(a), app.Name, "abc")
	for _, id := range []string{bulut.NewID(), "", "not-a-build"} {
		for _, ctx := range []context.Context{as(a), system()} {
			_, err := s.Builds.UpdateBuild(ctx, id, bulut.BuildUpdate{Status: strp(bulut.BuildFailed)})
			assertCode(t, err, bulut.ENOTFOUND)
		}
	}
}

func testUpdateBuildErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	mine := mustCreateApp(t, s, as(mallory), "mallorys-app")
	mySlug := mustCreateSlug(t, s, as(mallory), mine.Name, webWorker)
	for _, upd := range []bulut.BuildUpdate{{Status: strp(bulut.BuildFailed)}, {}, {SlugID: &mySlug.ID}} {
		got, err := s.Builds.UpdateBuild(as(mallory), b.ID, upd)
		assertCode(t, err, bulut.ENOTFOUND)
		if got != nil {
			t.Fatalf("UpdateBuild failed but returned %+v", got)
		}
	}
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), b)
}

func testUpdateBuildErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	_, err := s.Builds.UpdateBuild(context.Background(), b.ID, bulut.BuildUpdate{Status: strp(bulut.BuildFailed)})
	assertCode(t, err, bulut.EUNAUTHORIZED)
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), b)
}

func testUpdateBuildSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	appA := mustCreateApp(t, s, as(a), "alices-app")
	appB := mustCreateApp(t, s, as(b), "bobs-app")
	ba := mustCreateBuild(t, s, as(a), appA.Name, "abc")
	bb := mustCreateBuild(t, s, as(b), appB.Name, "def")
	slug := mustCreateSlug(t, s, as(b), appB.Name, webWorker)
	if got := mustUpdateBuild(t, s, system(), ba.ID, bulut.BuildUpdate{Status: strp(bulut.BuildFailed)}); got.Status != bulut.BuildFailed {
		t.Errorf("build = %+v, want failed", got)
	}
	if got := mustUpdateBuild(t, s, system(), bb.ID, bulut.BuildUpdate{Status: strp(bulut.BuildSucceeded), SlugID: &slug.ID}); got.SlugID != slug.ID {
		t.Errorf("build = %+v, want slug %s", got, slug.ID)
	}
	if got := mustFindBuild(t, s, as(a), appA.Name, ba.ID); got.Status != bulut.BuildFailed {
		t.Errorf("alice sees build %+v, want failed", got)
	}
}

func testFindBuildOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	mustCreateBuild(t, s, as(a), app.Name, "def")
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.Name, b.ID), b)
	assertSameBuild(t, mustFindBuild(t, s, as(a), app.ID, strings.ToUpper(b.ID)), b)
}

func testFindBuildErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	for _, id := range []string{bulut.NewID(), "", "not-an-id", b.ID + "0"} {
		got, err := s.Builds.FindBuild(as(a), app.Name, id)
		assertCode(t, err, bulut.ENOTFOUND)
		if got != nil {
			t.Fatalf("FindBuild(%q) failed but returned %+v", id, got)
		}
	}
	_, err := s.Builds.FindBuild(as(a), "missing-app", b.ID)
	assertCode(t, err, bulut.ENOTFOUND)
}

func testFindBuildErrOtherApp(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	b := mustCreateBuild(t, s, as(a), other.Name, "abc")
	for _, ctx := range []context.Context{as(a), system()} {
		_, err := s.Builds.FindBuild(ctx, app.Name, b.ID)
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testFindBuildErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mine := mustCreateApp(t, s, as(mallory), "mallorys-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	for _, idOrName := range []string{app.Name, app.ID, mine.Name} {
		_, err := s.Builds.FindBuild(as(mallory), idOrName, b.ID)
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testFindBuildErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	_, err := s.Builds.FindBuild(context.Background(), app.Name, b.ID)
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindBuildSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	b := mustCreateBuild(t, s, as(a), app.Name, "abc")
	assertSameBuild(t, mustFindBuild(t, s, system(), app.Name, b.ID), b)
}

// findBuilds lists builds and fails the test on error.
func findBuilds(t *testing.T, s Services, ctx context.Context, app string, r bulut.ListRange) ([]*bulut.Build, bool) {
	t.Helper()
	bs, more, err := s.Builds.FindBuilds(ctx, app, r)
	if err != nil {
		t.Fatalf("FindBuilds(%q, %+v): %v", app, r, err)
	}
	return bs, more
}

// assertBuildPage fails the test unless FindBuilds with r returns the
// builds of the given commits, and more.
func assertBuildPage(t *testing.T, s Services, ctx context.Context, app string, r bulut.ListRange, wantMore bool, want ...string) []*bulut.Build {
	t.Helper()
	bs, more := findBuilds(t, s, ctx, app, r)
	if got := buildCommits(bs); !slices.Equal(got, want) || more != wantMore {
		t.Fatalf("range %+v: builds %q, more %v; want %q, more %v", r, got, more, want, wantMore)
	}
	return bs
}

// makeBuilds creates n builds of a new app of a, a second apart (when the
// clock is fake), of commits c00, c01...
func makeBuilds(t *testing.T, s Services, a *bulut.Account, clock *Clock, n int) (*bulut.App, []string) {
	t.Helper()
	app := mustCreateApp(t, s, as(a), "my-app")
	commits := make([]string, n)
	for i := range n {
		if clock != nil {
			clock.Advance(time.Second)
		}
		commits[i] = fmt.Sprintf("c%02d", i)
		mustCreateBuild(t, s, as(a), app.Name, commits[i])
	}
	return app, commits
}

func testFindBuildsOwnAppOnly(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	app, commits := makeBuilds(t, s, a, clock, 3)
	other := mustCreateApp(t, s, as(a), "my-other-app")
	bobs := mustCreateApp(t, s, as(b), "bobs-app")
	mustCreateBuild(t, s, as(a), other.Name, "other")
	mustCreateBuild(t, s, as(b), bobs.Name, "bob")
	bs := assertBuildPage(t, s, as(a), app.Name, bulut.ListRange{}, false, commits...)
	for _, build := range bs {
		if build.AppID != app.ID {
			t.Errorf("build %s of app %s, want %s", build.ID, build.AppID, app.ID)
		}
	}
	assertBuildPage(t, s, as(a), other.Name, bulut.ListRange{}, false, "other")
	assertBuildPage(t, s, as(b), bobs.ID, bulut.ListRange{}, false, "bob")
}

func testFindBuildsEmpty(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	bs, more := findBuilds(t, s, as(a), app.Name, bulut.ListRange{Field: "created_at", Max: 10})
	if len(bs) != 0 || more {
		t.Errorf("FindBuilds = %d builds, more %v; want none", len(bs), more)
	}
}

func testFindBuildsErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustCreateBuild(t, s, as(a), app.Name, "abc")
	for _, idOrName := range []string{app.Name, app.ID} {
		bs, _, err := s.Builds.FindBuilds(as(mallory), idOrName, bulut.ListRange{})
		assertCode(t, err, bulut.ENOTFOUND)
		if len(bs) != 0 {
			t.Fatalf("FindBuilds failed but returned %d builds", len(bs))
		}
	}
}

func testFindBuildsErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, _, err := s.Builds.FindBuilds(context.Background(), app.Name, bulut.ListRange{})
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindBuildsSystemContext(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app, commits := makeBuilds(t, s, a, clock, 3)
	assertBuildPage(t, s, system(), app.Name, bulut.ListRange{}, false, commits...)
}

func testFindBuildsRangeCreatedAt(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app, commits := makeBuilds(t, s, a, clock, 5)
	ctx := as(a)
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", Max: 10}, false, commits...)
	rev := slices.Clone(commits)
	slices.Reverse(rev)
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", Max: 10, Desc: true}, false, rev...)
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", Max: 2, Desc: true}, true, rev[:2]...)
	// Updating a build does not move it.
	bs, _ := findBuilds(t, s, ctx, app.Name, bulut.ListRange{})
	clock.Advance(time.Hour)
	mustUpdateBuild(t, s, ctx, bs[0].ID, bulut.BuildUpdate{Status: strp(bulut.BuildFailed)})
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", Max: 10}, false, commits...)
}

func testFindBuildsRangeCreatedAtPages(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app, commits := makeBuilds(t, s, a, clock, 25)
	ctx := as(a)
	for _, desc := range []bool{false, true} {
		want := slices.Clone(commits)
		if desc {
			slices.Reverse(want)
		}
		r := bulut.ListRange{Field: "created_at", Max: 10, Desc: desc}
		var got []string
		for page := 0; ; page++ {
			bs, more := findBuilds(t, s, ctx, app.Name, r)
			got = append(got, buildCommits(bs)...)
			if !more {
				break
			}
			if page > 5 {
				t.Fatal("too many pages")
			}
			// As in a Next-Range header: the time in RFC 3339.
			r.First, r.FirstExclusive = bs[len(bs)-1].CreatedAt.Format(time.RFC3339Nano), true
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages (desc %v): %q, want %q", desc, got, want)
		}
	}
}

func testFindBuildsRangeCreatedAtBounds(t *testing.T, s Services) {
	clock := useClock(t, s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app, commits := makeBuilds(t, s, a, clock, 10) // at Start+1s ... Start+10s
	ctx := as(a)
	at := func(sec int) string { return Start.Add(time.Duration(sec) * time.Second).Format(time.RFC3339) }
	// Last is inclusive; bounds in any RFC 3339 precision or zone.
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", First: at(3), Last: at(5), Max: 100}, false, commits[2:5]...)
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", First: at(3), FirstExclusive: true, Max: 100}, false, commits[3:]...)
	inZone := Start.Add(8 * time.Second).In(time.FixedZone("X", 2*3600)).Format(time.RFC3339Nano)
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", First: inZone, Max: 100}, false, commits[7:]...)
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", First: at(5), Last: at(3), Max: 100, Desc: true}, false,
		commits[4], commits[3], commits[2])
	assertBuildPage(t, s, ctx, app.Name, bulut.ListRange{Field: "created_at", First: at(11), Max: 100}, false)
}

func testFindBuildsRangeID(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	byID := map[string]string{}
	var ids []string
	for i := range 12 {
		b := mustCreateBuild(t, s, as(a), app.Name, fmt.Sprintf("c%02d", i))
		byID[b.ID] = b.SourceVersion
		ids = append(ids, b.ID)
	}
	slices.Sort(ids)
	var want []string
	for _, id := range ids {
		want = append(want, byID[id])
	}
	r := bulut.ListRange{Field: "id", Max: 5}
	var got []string
	for range 3 {
		bs, more := findBuilds(t, s, as(a), app.Name, r)
		got = append(got, buildCommits(bs)...)
		if wantMore := len(got) < 12; more != wantMore {
			t.Fatalf("after %d builds more = %v, want %v", len(got), more, wantMore)
		}
		if len(bs) > 0 {
			r.First, r.FirstExclusive = bs[len(bs)-1].ID, true
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("builds by id = %q, want %q", got, want)
	}
	slices.Reverse(want)
	assertBuildPage(t, s, as(a), app.Name, bulut.ListRange{Field: "id", Max: 100, Desc: true}, false, want...)
}

func testFindBuildsRangeErrBadField(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, field := range []string{"version", "updated_at", "status", "created_at; DROP TABLE builds"} {
		_, _, err := s.Builds.FindBuilds(as(a), app.Name, bulut.ListRange{Field: field, Max: 10})
		if got := bulut.ErrorCode(err); got != bulut.ERANGE {
			t.Errorf("FindBuilds by %q: code %q, want %q (err: %v)", field, got, bulut.ERANGE, err)
		}
	}
}

func testFindBuildsRangeErrBadBound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, bound := range []string{"yesterday", "2030-01-02", "2030-01-02 03:04:05", "1"} {
		for _, r := range []bulut.ListRange{{Field: "created_at", First: bound, Max: 10}, {Field: "created_at", Last: bound, Max: 10}} {
			_, _, err := s.Builds.FindBuilds(as(a), app.Name, r)
			if got := bulut.ErrorCode(err); got != bulut.ERANGE {
				t.Errorf("FindBuilds(%+v): code %q, want %q (err: %v)", r, got, bulut.ERANGE, err)
			}
		}
	}
}
