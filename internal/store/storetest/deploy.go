package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/bulut-bulut/bulut"
)

// Helpers shared by the suites of the deploy services (releases, config
// vars, slugs, builds, formation, buildpacks).

// webWorker are the process types of a typical slug.
var webWorker = map[string]string{"web": "gunicorn app:app", "worker": "python worker.py"}

// mustCreateSlug records a slug of app with the given process types.
func mustCreateSlug(t *testing.T, s Services, ctx context.Context, app string, types map[string]string) *bulut.Slug {
	t.Helper()
	slug := &bulut.Slug{ProcessTypes: types, Commit: "0123456789abcdef0123456789abcdef01234567",
		CommitDescription: "Fix things", BuildpackDescription: "Python", Checksum: "SHA256:00ff", Size: 1234}
	if err := s.Slugs.CreateSlug(ctx, app, slug); err != nil {
		t.Fatalf("CreateSlug(%q): %v", app, err)
	}
	return slug
}

// mustCreateRelease releases a slug of app.
func mustCreateRelease(t *testing.T, s Services, ctx context.Context, app, slugID, description string) *bulut.Release {
	t.Helper()
	r, err := s.Releases.CreateRelease(ctx, app, slugID, description)
	if err != nil {
		t.Fatalf("CreateRelease(%q, %q): %v", app, slugID, err)
	}
	return r
}

// mustDeploy records a slug with the given process types and releases it.
func mustDeploy(t *testing.T, s Services, ctx context.Context, app string, types map[string]string) (*bulut.Slug, *bulut.Release) {
	t.Helper()
	slug := mustCreateSlug(t, s, ctx, app, types)
	return slug, mustCreateRelease(t, s, ctx, app, slug.ID, "Deploy "+slug.Commit[:8])
}

// mustRollback rolls app back to a release.
func mustRollback(t *testing.T, s Services, ctx context.Context, app, idOrVersion string) *bulut.Release {
	t.Helper()
	r, err := s.Releases.Rollback(ctx, app, idOrVersion)
	if err != nil {
		t.Fatalf("Rollback(%q, %q): %v", app, idOrVersion, err)
	}
	return r
}

// strp returns a pointer to s.
func strp(s string) *string { return &s }

// patch builds a config patch from pairs: a key and a value, or a key
// and nil to unset.
func patch(kv ...any) map[string]*string {
	p := map[string]*string{}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		switch v := kv[i+1].(type) {
		case nil:
			p[k] = nil
		case string:
			p[k] = strp(v)
		default:
			panic(fmt.Sprintf("patch: bad value %T", v))
		}
	}
	return p
}

// mustUpdateConfig applies a config patch, which must make a release.
func mustUpdateConfig(t *testing.T, s Services, ctx context.Context, app string, p map[string]*string) (map[string]string, *bulut.Release) {
	t.Helper()
	vars, r, err := s.ConfigVars.UpdateConfigVars(ctx, app, p)
	if err != nil {
		t.Fatalf("UpdateConfigVars(%q): %v", app, err)
	}
	if r == nil {
		t.Fatalf("UpdateConfigVars(%q) made no release", app)
	}
	return vars, r
}

// mustFindConfigVars returns app's config vars.
func mustFindConfigVars(t *testing.T, s Services, ctx context.Context, app string) map[string]string {
	t.Helper()
	vars, err := s.ConfigVars.FindConfigVars(ctx, app)
	if err != nil {
		t.Fatalf("FindConfigVars(%q): %v", app, err)
	}
	return vars
}

// assertVars fails the test unless got holds exactly want (nil and empty
// are alike).
func assertVars(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// allReleases lists all of app's releases, by version.
func allReleases(t *testing.T, s Services, ctx context.Context, app string) []*bulut.Release {
	t.Helper()
	rs, more, err := s.Releases.FindReleases(ctx, app, bulut.ListRange{Field: "version", Max: bulut.MaxPageSize})
	if err != nil {
		t.Fatalf("FindReleases(%q): %v", app, err)
	}
	if more {
		t.Fatalf("FindReleases(%q): more than %d releases", app, bulut.MaxPageSize)
	}
	return rs
}

// versions returns the versions of releases.
func versions(rs []*bulut.Release) []int {
	vs := make([]int, len(rs))
	for i, r := range rs {
		vs[i] = r.Version
	}
	return vs
}

// assertVersions fails the test unless app's releases are exactly want.
func assertVersions(t *testing.T, s Services, ctx context.Context, app string, want ...int) {
	t.Helper()
	if got := versions(allReleases(t, s, ctx, app)); !slices.Equal(got, want) {
		t.Fatalf("%s: releases %v, want %v", app, got, want)
	}
}

// mustFindFormation returns app's formation.
func mustFindFormation(t *testing.T, s Services, ctx context.Context, app string) []*bulut.Formation {
	t.Helper()
	f, err := s.Formations.FindFormation(ctx, app)
	if err != nil {
		t.Fatalf("FindFormation(%q): %v", app, err)
	}
	return f
}

// formationString describes a formation as "type=quantity:size:command"
// entries, for comparisons.
func formationString(f []*bulut.Formation) []string {
	out := make([]string, len(f))
	for i, p := range f {
		out[i] = fmt.Sprintf("%s=%d:%s:%s", p.Type, p.Quantity, p.Size, p.Command)
	}
	return out
}

// assertFormation fails the test unless app's formation is exactly want
// (formationString entries, in order).
func assertFormation(t *testing.T, s Services, ctx context.Context, app string, want ...string) []*bulut.Formation {
	t.Helper()
	f := mustFindFormation(t, s, ctx, app)
	if got := formationString(f); !slices.Equal(got, want) {
		t.Fatalf("%s: formation %q, want %q", app, got, want)
	}
	return f
}

// mustFindBuildpacks returns app's buildpacks.
func mustFindBuildpacks(t *testing.T, s Services, ctx context.Context, app string) []string {
	t.Helper()
	bps, err := s.Buildpacks.FindBuildpacks(ctx, app)
	if err != nil {
		t.Fatalf("FindBuildpacks(%q): %v", app, err)
	}
	return bps
}

// mustCreateBuild records a pending build of app.
func mustCreateBuild(t *testing.T, s Services, ctx context.Context, app, commit string) *bulut.Build {
	t.Helper()
	b := &bulut.Build{SourceVersion: commit, Buildpacks: []string{"heroku/python"}}
	if err := s.Builds.CreateBuild(ctx, app, b); err != nil {
		t.Fatalf("CreateBuild(%q): %v", app, err)
	}
	return b
}

func testCreateAppInitialRelease(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	rs := allReleases(t, s, as(a), app.Name)
	if len(rs) != 1 {
		t.Fatalf("new app has %d releases, want 1", len(rs))
	}
	r := rs[0]
	assertID(t, "release ID", r.ID)
	if r.Version != 1 || r.Description != "Initial release" || r.Status != bulut.ReleaseSucceeded || !r.Current {
		t.Errorf("initial release = %+v, want current v1 Initial release, succeeded", r)
	}
	if r.SlugID != "" || len(r.ConfigVars) != 0 {
		t.Errorf("initial release has slug %q and config %v, want none", r.SlugID, r.ConfigVars)
	}
	if r.AppID != app.ID || r.AppName != app.Name || r.UserID != a.ID || r.UserEmail != a.Email {
		t.Errorf("initial release = %+v, want app %s (%s) by %s (%s)", r, app.ID, app.Name, a.ID, a.Email)
	}
	if clock != nil {
		assertTime(t, "CreatedAt", r.CreatedAt, clock.Now())
		assertTime(t, "UpdatedAt", r.UpdatedAt, clock.Now())
	}
	// Creating the release does not count as a deploy.
	if got := mustFindApp(t, s, as(a), app.Name); got.ReleasedAt != nil {
		t.Errorf("ReleasedAt = %v, want nil before the first deploy", got.ReleasedAt)
	}
	assertVars(t, "config vars", mustFindConfigVars(t, s, as(a), app.Name), nil)
	assertFormation(t, s, as(a), app.Name)
	if bps := mustFindBuildpacks(t, s, as(a), app.Name); len(bps) != 0 {
		t.Errorf("buildpacks = %q, want none", bps)
	}
}

// testDeleteAppRemovesDeploys checks that an app's releases, config,
// slugs, builds, formation and buildpacks go with it: a new app of the same
// name starts afresh.
func testDeleteAppRemovesDeploys(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	ctx := as(a)
	app := mustCreateApp(t, s, ctx, "doomed-app")
	other := mustCreateApp(t, s, ctx, "other-app")
	for _, name := range []string{app.Name, other.Name} {
		mustUpdateConfig(t, s, ctx, name, patch("FOO", "bar"))
		b := mustCreateBuild(t, s, ctx, name, "abc")
		slug, rel := mustDeploy(t, s, ctx, name, webWorker)
		if _, err := s.Builds.UpdateBuild(ctx, b.ID, bulut.BuildUpdate{Status: strp(bulut.BuildSucceeded), SlugID: &slug.ID, ReleaseID: &rel.ID}); err != nil {
			t.Fatal(err)
		}
		if err := s.Buildpacks.SetBuildpacks(ctx, name, []string{"heroku/python"}); err != nil {
			t.Fatal(err)
		}
	}
	slug := mustCreateSlug(t, s, ctx, app.Name, webWorker)
	build := mustCreateBuild(t, s, ctx, app.Name, "def")

	if _, err := s.Apps.DeleteApp(ctx, app.Name); err != nil {
		t.Fatal(err)
	}
	for _, c := range []context.Context{ctx, system()} {
		_, _, err := s.Releases.FindReleases(c, app.ID, bulut.ListRange{})
		assertCode(t, err, bulut.ENOTFOUND)
		_, err = s.Slugs.FindSlug(c, app.ID, slug.ID)
		assertCode(t, err, bulut.ENOTFOUND)
		_, err = s.Builds.FindBuild(c, app.ID, build.ID)
		assertCode(t, err, bulut.ENOTFOUND)
		_, err = s.ConfigVars.FindConfigVars(c, app.ID)
		assertCode(t, err, bulut.ENOTFOUND)
	}
	_, err := s.Builds.UpdateBuild(system(), build.ID, bulut.BuildUpdate{Status: strp(bulut.BuildFailed)})
	assertCode(t, err, bulut.ENOTFOUND)

	again := mustCreateApp(t, s, ctx, app.Name)
	assertVersions(t, s, ctx, again.Name, 1)
	assertVars(t, "config vars of the new app", mustFindConfigVars(t, s, ctx, again.Name), nil)
	assertFormation(t, s, ctx, again.Name)
	if bps := mustFindBuildpacks(t, s, ctx, again.Name); len(bps) != 0 {
		t.Errorf("buildpacks of the new app = %q, want none", bps)
	}
	if bs, _, err := s.Builds.FindBuilds(ctx, again.Name, bulut.ListRange{}); err != nil || len(bs) != 0 {
		t.Errorf("builds of the new app = %d, %v; want none", len(bs), err)
	}
	_, err = s.Slugs.FindSlug(ctx, again.Name, slug.ID)
	assertCode(t, err, bulut.ENOTFOUND)

	// The other app keeps everything.
	assertVersions(t, s, ctx, other.Name, 1, 2, 3)
	assertVars(t, "config vars of the other app", mustFindConfigVars(t, s, ctx, other.Name), map[string]string{"FOO": "bar"})
	assertFormation(t, s, ctx, other.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
	if bps := mustFindBuildpacks(t, s, ctx, other.Name); !slices.Equal(bps, []string{"heroku/python"}) {
		t.Errorf("buildpacks of the other app = %q", bps)
	}
	if bs, _, err := s.Builds.FindBuilds(ctx, other.Name, bulut.ListRange{}); err != nil || len(bs) != 1 {
		t.Errorf("builds of the other app = %d, %v; want 1", len(bs), err)
	}
}
