package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/bulut-bulut/bulut"
)

func buildpackTests() []group {
	return []group{
		{"BuildpackService_Find", []test{
			{"Empty", testFindBuildpacksEmpty},
			{"ErrNotFound", testFindBuildpacksErrNotFound},
			{"ErrOtherAccount", testFindBuildpacksErrOtherAccount},
			{"ErrNoAccount", testFindBuildpacksErrNoAccount},
			{"SystemContext", testFindBuildpacksSystemContext},
		}},
		{"BuildpackService_Set", []test{
			{"OK", testSetBuildpacksOK},
			{"Replace", testSetBuildpacksReplace},
			{"Clear", testSetBuildpacksClear},
			{"ErrEmpty", testSetBuildpacksErrEmpty},
			{"ErrOtherAccount", testSetBuildpacksErrOtherAccount},
			{"ErrNoAccount", testSetBuildpacksErrNoAccount},
			{"SystemContext", testSetBuildpacksSystemContext},
		}},
	}
}

// mustSetBuildpacks sets app's buildpacks.
func mustSetBuildpacks(t *testing.T, s Services, ctx context.Context, app string, bps ...string) {
	t.Helper()
	if err := s.Buildpacks.SetBuildpacks(ctx, app, bps); err != nil {
		t.Fatalf("SetBuildpacks(%q, %q): %v", app, bps, err)
	}
}

// assertBuildpacks fails the test unless app's buildpacks are want.
func assertBuildpacks(t *testing.T, s Services, ctx context.Context, app string, want ...string) {
	t.Helper()
	if got := mustFindBuildpacks(t, s, ctx, app); !slices.Equal(got, want) {
		t.Fatalf("%s: buildpacks %q, want %q", app, got, want)
	}
}

func testFindBuildpacksEmpty(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	bps := mustFindBuildpacks(t, s, as(a), app.Name)
	if bps == nil || len(bps) != 0 {
		t.Fatalf("buildpacks of a new app = %#v, want an empty list", bps)
	}
}

func testFindBuildpacksErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, app := range []string{"missing-app", bulut.NewID(), ""} {
		_, err := s.Buildpacks.FindBuildpacks(as(a), app)
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testFindBuildpacksErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustSetBuildpacks(t, s, as(a), app.Name, "heroku/python")
	for _, idOrName := range []string{app.Name, app.ID} {
		bps, err := s.Buildpacks.FindBuildpacks(as(mallory), idOrName)
		assertCode(t, err, bulut.ENOTFOUND)
		if len(bps) != 0 {
			t.Fatalf("FindBuildpacks failed but returned %q", bps)
		}
	}
}

func testFindBuildpacksErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.Buildpacks.FindBuildpacks(context.Background(), app.Name)
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindBuildpacksSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustSetBuildpacks(t, s, as(a), app.Name, "heroku/python")
	assertBuildpacks(t, s, system(), app.ID, "heroku/python")
}

func testSetBuildpacksOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	// Order is kept, not sorted; duplicates are the caller's business.
	want := []string{"heroku/nodejs", "https://github.com/heroku/heroku-buildpack-python.git#v1", "/srv/buildpacks/custom", "heroku/go"}
	mustSetBuildpacks(t, s, as(a), app.Name, want...)
	assertBuildpacks(t, s, as(a), app.Name, want...)
	assertBuildpacks(t, s, as(a), app.ID, want...)
	assertBuildpacks(t, s, as(a), other.Name)
	// Buildpacks are not a release.
	assertVersions(t, s, as(a), app.Name, 1)
}

func testSetBuildpacksReplace(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustSetBuildpacks(t, s, as(a), app.Name, "a", "b", "c")
	mustSetBuildpacks(t, s, as(a), app.ID, "d")
	assertBuildpacks(t, s, as(a), app.Name, "d")
	mustSetBuildpacks(t, s, as(a), app.Name, "c", "b", "a", "e")
	assertBuildpacks(t, s, as(a), app.Name, "c", "b", "a", "e")
}

func testSetBuildpacksClear(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, clear := range [][]string{nil, {}} {
		mustSetBuildpacks(t, s, as(a), app.Name, "heroku/python")
		if err := s.Buildpacks.SetBuildpacks(as(a), app.Name, clear); err != nil {
			t.Fatal(err)
		}
		assertBuildpacks(t, s, as(a), app.Name)
	}
}

func testSetBuildpacksErrEmpty(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustSetBuildpacks(t, s, as(a), app.Name, "heroku/python")
	for _, bps := range [][]string{{""}, {" "}, {"\t\n"}, {"heroku/nodejs", ""}, {"", "heroku/nodejs"}} {
		err := s.Buildpacks.SetBuildpacks(as(a), app.Name, bps)
		assertCode(t, err, bulut.EINVALID)
	}
	assertBuildpacks(t, s, as(a), app.Name, "heroku/python")
}

func testSetBuildpacksErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustSetBuildpacks(t, s, as(a), app.Name, "heroku/python")
	for _, idOrName := range []string{app.Name, app.ID} {
		for _, bps := range [][]string{{"https://evil.example/buildpack"}, nil} {
			assertCode(t, s.Buildpacks.SetBuildpacks(as(mallory), idOrName, bps), bulut.ENOTFOUND)
		}
	}
	assertBuildpacks(t, s, as(a), app.Name, "heroku/python")
}

func testSetBuildpacksErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	assertCode(t, s.Buildpacks.SetBuildpacks(context.Background(), app.Name, []string{"heroku/python"}), bulut.EUNAUTHORIZED)
	assertBuildpacks(t, s, as(a), app.Name)
}

func testSetBuildpacksSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustSetBuildpacks(t, s, system(), app.Name, "heroku/go")
	assertBuildpacks(t, s, as(a), app.Name, "heroku/go")
}
