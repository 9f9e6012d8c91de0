package storetest

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/bulut-bulut/bulut"
)

func slugTests() []group {
	return []group{
		{"SlugService_Create", []test{
			{"OK", testCreateSlugOK},
			{"Defaults", testCreateSlugDefaults},
			{"ErrInvalid", testCreateSlugErrInvalid},
			{"ErrNotFound", testCreateSlugErrNotFound},
			{"ErrOtherAccount", testCreateSlugErrOtherAccount},
			{"ErrNoAccount", testCreateSlugErrNoAccount},
			{"SystemContext", testCreateSlugSystemContext},
		}},
		{"SlugService_Find", []test{
			{"OK", testFindSlugOK},
			{"ErrNotFound", testFindSlugErrNotFound},
			{"ErrOtherApp", testFindSlugErrOtherApp},
			{"ErrOtherAccount", testFindSlugErrOtherAccount},
			{"ErrNoAccount", testFindSlugErrNoAccount},
			{"SystemContext", testFindSlugSystemContext},
		}},
	}
}

// assertSameSlug fails the test unless got and want agree on every field.
func assertSameSlug(t *testing.T, got, want *bulut.Slug) {
	t.Helper()
	if got.ID != want.ID || got.AppID != want.AppID || !maps.Equal(got.ProcessTypes, want.ProcessTypes) ||
		got.Commit != want.Commit || got.CommitDescription != want.CommitDescription ||
		got.BuildpackDescription != want.BuildpackDescription || got.Stack != want.Stack ||
		got.Checksum != want.Checksum || got.Size != want.Size {
		t.Fatalf("slug = %+v, want %+v", got, want)
	}
	assertTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
}

// mustFindSlug finds a slug that must exist.
func mustFindSlug(t *testing.T, s Services, ctx context.Context, app, id string) *bulut.Slug {
	t.Helper()
	slug, err := s.Slugs.FindSlug(ctx, app, id)
	if err != nil {
		t.Fatalf("FindSlug(%q, %q): %v", app, id, err)
	}
	return slug
}

func testCreateSlugOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := &bulut.Slug{
		ProcessTypes:         map[string]string{"web": "bin/web --port $PORT", "release": "bin/migrate"},
		Commit:               "fedcba9876543210fedcba9876543210fedcba98",
		CommitDescription:    "Add a thing\n\nWith a body",
		BuildpackDescription: "Python, Procfile",
		Stack:                "heroku-22",
		Checksum:             "SHA256:" + strings.Repeat("ab", 32),
		Size:                 50 << 20,
	}
	want := *slug
	if err := s.Slugs.CreateSlug(as(a), app.Name, slug); err != nil {
		t.Fatal(err)
	}
	assertID(t, "ID", slug.ID)
	if slug.AppID != app.ID {
		t.Errorf("AppID = %q, want %q", slug.AppID, app.ID)
	}
	if clock != nil {
		assertTime(t, "CreatedAt", slug.CreatedAt, clock.Now())
	} else if slug.CreatedAt.IsZero() {
		t.Error("CreatedAt not set")
	}
	want.ID, want.AppID, want.CreatedAt = slug.ID, app.ID, slug.CreatedAt
	assertSameSlug(t, slug, &want)
	assertSameSlug(t, mustFindSlug(t, s, as(a), app.Name, slug.ID), &want)

	// A second slug is another one; creating a slug releases nothing.
	second := mustCreateSlug(t, s, as(a), app.ID, webWorker)
	if second.ID == slug.ID {
		t.Fatal("two slugs share an ID")
	}
	assertVersions(t, s, as(a), app.Name, 1)
	assertFormation(t, s, as(a), app.Name)
}

func testCreateSlugDefaults(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := &bulut.Slug{}
	if err := s.Slugs.CreateSlug(as(a), app.Name, slug); err != nil {
		t.Fatal(err)
	}
	// No process types is an empty map; no stack is the app's.
	got := mustFindSlug(t, s, as(a), app.Name, slug.ID)
	if got.ProcessTypes == nil || len(got.ProcessTypes) != 0 {
		t.Errorf("ProcessTypes = %#v, want an empty map", got.ProcessTypes)
	}
	if got.Stack != app.Stack || slug.Stack != app.Stack {
		t.Errorf("Stack = %q (returned %q), want the app's %q", got.Stack, slug.Stack, app.Stack)
	}
	// A slug with no process types releases and adds no formation.
	mustCreateRelease(t, s, as(a), app.Name, slug.ID, "Deploy")
	assertFormation(t, s, as(a), app.Name)
}

func testCreateSlugErrInvalid(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, slug := range []*bulut.Slug{
		{ProcessTypes: map[string]string{"": "bin/web"}},
		{ProcessTypes: map[string]string{" ": "bin/web"}},
		{Size: -1},
	} {
		err := s.Slugs.CreateSlug(as(a), app.Name, slug)
		assertCode(t, err, bulut.EINVALID)
		if slug.ID != "" {
			t.Errorf("CreateSlug failed but set ID %q", slug.ID)
		}
	}
}

func testCreateSlugErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	for _, app := range []string{"missing-app", bulut.NewID(), ""} {
		slug := &bulut.Slug{}
		assertCode(t, s.Slugs.CreateSlug(as(a), app, slug), bulut.ENOTFOUND)
	}
}

func testCreateSlugErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		slug := &bulut.Slug{ProcessTypes: webWorker}
		assertCode(t, s.Slugs.CreateSlug(as(mallory), idOrName, slug), bulut.ENOTFOUND)
		if slug.ID != "" {
			t.Errorf("CreateSlug failed but set ID %q", slug.ID)
		}
	}
}

func testCreateSlugErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	assertCode(t, s.Slugs.CreateSlug(context.Background(), app.Name, &bulut.Slug{}), bulut.EUNAUTHORIZED)
}

func testCreateSlugSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, system(), app.Name, webWorker)
	assertSameSlug(t, mustFindSlug(t, s, as(a), app.Name, slug.ID), slug)
}

func testFindSlugOK(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	mustCreateSlug(t, s, as(a), app.Name, nil)
	assertSameSlug(t, mustFindSlug(t, s, as(a), app.Name, slug.ID), slug)
	assertSameSlug(t, mustFindSlug(t, s, as(a), app.ID, strings.ToUpper(slug.ID)), slug)
}

func testFindSlugErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	for _, id := range []string{bulut.NewID(), "", "not-an-id", slug.ID + "0"} {
		got, err := s.Slugs.FindSlug(as(a), app.Name, id)
		assertCode(t, err, bulut.ENOTFOUND)
		if got != nil {
			t.Fatalf("FindSlug(%q) failed but returned %+v", id, got)
		}
	}
	_, err := s.Slugs.FindSlug(as(a), "missing-app", slug.ID)
	assertCode(t, err, bulut.ENOTFOUND)
}

func testFindSlugErrOtherApp(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	slug := mustCreateSlug(t, s, as(a), other.Name, webWorker)
	_, err := s.Slugs.FindSlug(as(a), app.Name, slug.ID)
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = s.Slugs.FindSlug(system(), app.Name, slug.ID)
	assertCode(t, err, bulut.ENOTFOUND)
}

func testFindSlugErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mine := mustCreateApp(t, s, as(mallory), "mallorys-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	for _, idOrName := range []string{app.Name, app.ID, mine.Name} {
		_, err := s.Slugs.FindSlug(as(mallory), idOrName, slug.ID)
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testFindSlugErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug := mustCreateSlug(t, s, as(a), app.Name, webWorker)
	_, err := s.Slugs.FindSlug(context.Background(), app.Name, slug.ID)
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindSlugSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	appA := mustCreateApp(t, s, as(a), "alices-app")
	appB := mustCreateApp(t, s, as(b), "bobs-app")
	sa := mustCreateSlug(t, s, as(a), appA.Name, webWorker)
	sb := mustCreateSlug(t, s, as(b), appB.Name, webWorker)
	assertSameSlug(t, mustFindSlug(t, s, system(), appA.Name, sa.ID), sa)
	assertSameSlug(t, mustFindSlug(t, s, system(), appB.ID, sb.ID), sb)
}
