package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bulut-bulut/bulut"
)

func configVarTests() []group {
	return []group{
		{"ConfigVarService_Find", []test{
			{"Empty", testFindConfigVarsEmpty},
			{"ErrNotFound", testFindConfigVarsErrNotFound},
			{"ErrOtherAccount", testFindConfigVarsErrOtherAccount},
			{"ErrNoAccount", testFindConfigVarsErrNoAccount},
			{"SystemContext", testFindConfigVarsSystemContext},
		}},
		{"ConfigVarService_Update", []test{
			{"OK", testUpdateConfigVarsOK},
			{"Unset", testUpdateConfigVarsUnset},
			{"SetAndUnset", testUpdateConfigVarsSetAndUnset},
			{"Values", testUpdateConfigVarsValues},
			{"KeepsSlug", testUpdateConfigVarsKeepsSlug},
			{"EmptyPatch", testUpdateConfigVarsEmptyPatch},
			{"ErrInvalidKey", testUpdateConfigVarsErrInvalidKey},
			{"SizeLimit", testUpdateConfigVarsSizeLimit},
			{"ErrTooBig", testUpdateConfigVarsErrTooBig},
			{"ErrOtherAccount", testUpdateConfigVarsErrOtherAccount},
			{"ErrNoAccount", testUpdateConfigVarsErrNoAccount},
			{"SystemContext", testUpdateConfigVarsSystemContext},
			{"Concurrent", testUpdateConfigVarsConcurrent},
		}},
	}
}

func testFindConfigVarsEmpty(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	for _, idOrName := range []string{app.Name, app.ID} {
		vars := mustFindConfigVars(t, s, as(a), idOrName)
		if vars == nil || len(vars) != 0 {
			t.Fatalf("FindConfigVars of a new app = %#v, want an empty map", vars)
		}
	}
}

func testFindConfigVarsErrNotFound(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mustCreateApp(t, s, as(a), "my-app")
	for _, idOrName := range []string{"missing-app", bulut.NewID(), ""} {
		_, err := s.ConfigVars.FindConfigVars(as(a), idOrName)
		assertCode(t, err, bulut.ENOTFOUND)
	}
}

func testFindConfigVarsErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("SECRET", "s3cret"))
	for _, idOrName := range []string{app.Name, app.ID} {
		vars, err := s.ConfigVars.FindConfigVars(as(mallory), idOrName)
		assertCode(t, err, bulut.ENOTFOUND)
		if len(vars) != 0 {
			t.Fatalf("FindConfigVars failed but returned %v", vars)
		}
	}
}

func testFindConfigVarsErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, err := s.ConfigVars.FindConfigVars(context.Background(), app.Name)
	assertCode(t, err, bulut.EUNAUTHORIZED)
}

func testFindConfigVarsSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	b := mustCreateAccount(t, s, "bob@example.com")
	appA := mustCreateApp(t, s, as(a), "alices-app")
	appB := mustCreateApp(t, s, as(b), "bobs-app")
	mustUpdateConfig(t, s, as(a), appA.Name, patch("A", "1"))
	mustUpdateConfig(t, s, as(b), appB.Name, patch("B", "2"))
	assertVars(t, "alice's config", mustFindConfigVars(t, s, system(), appA.ID), map[string]string{"A": "1"})
	assertVars(t, "bob's config", mustFindConfigVars(t, s, system(), appB.Name), map[string]string{"B": "2"})
}

func testUpdateConfigVarsOK(t *testing.T, s Services) {
	clock := useClockIfAny(s)
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	other := mustCreateApp(t, s, as(a), "my-other-app")
	vars, r, err := s.ConfigVars.UpdateConfigVars(as(a), app.Name, patch("B", "2", "A", "1"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "2"}
	assertVars(t, "UpdateConfigVars", vars, want)
	if r == nil {
		t.Fatal("UpdateConfigVars made no release")
	}
	assertRelease(t, r, app, 2, "Set A, B config vars", "")
	assertVars(t, "release config", r.ConfigVars, want)
	if !r.Current || r.UserID != a.ID || r.UserEmail != a.Email {
		t.Errorf("release = %+v, want current, by %s", r, a.Email)
	}
	if clock != nil {
		assertTime(t, "release CreatedAt", r.CreatedAt, clock.Now())
	}
	assertVars(t, "FindConfigVars", mustFindConfigVars(t, s, as(a), app.Name), want)
	assertSameRelease(t, mustFindRelease(t, s, as(a), app.Name, "v2"), r)
	assertCurrent(t, s, as(a), app.Name, 2)

	// Setting again overwrites, by app ID too.
	vars, r = mustUpdateConfig(t, s, as(a), app.ID, patch("A", "one"))
	assertVars(t, "after overwrite", vars, map[string]string{"A": "one", "B": "2"})
	assertRelease(t, r, app, 3, "Set A config vars", "")

	// Other apps are untouched.
	assertVars(t, "other app's config", mustFindConfigVars(t, s, as(a), other.Name), nil)
	assertVersions(t, s, as(a), other.Name, 1)
}

func testUpdateConfigVarsUnset(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1", "B", "2", "C", "3"))
	vars, r := mustUpdateConfig(t, s, as(a), app.Name, patch("C", nil, "A", nil))
	assertVars(t, "after unset", vars, map[string]string{"B": "2"})
	assertRelease(t, r, app, 3, "Remove A, C config vars", "")
	assertVars(t, "release config", r.ConfigVars, map[string]string{"B": "2"})
	assertVars(t, "FindConfigVars", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"B": "2"})
	// The release before keeps them.
	assertVars(t, "v2 config", mustFindRelease(t, s, as(a), app.Name, "v2").ConfigVars, map[string]string{"A": "1", "B": "2", "C": "3"})
}

func testUpdateConfigVarsSetAndUnset(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1"))
	vars, r := mustUpdateConfig(t, s, as(a), app.Name, patch("A", nil, "B", "2"))
	assertVars(t, "after set and unset", vars, map[string]string{"B": "2"})
	assertRelease(t, r, app, 3, "Set B config vars and Remove A config vars", "")
}

func testUpdateConfigVarsValues(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	want := map[string]string{
		"EMPTY":        "",
		"UNICODE":      "ümlaut ☁ 雲",
		"MULTILINE":    "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
		"QUOTES":       `"'\` + "`",
		"SPACES":       "  padded  ",
		"JSON":         `{"a": [1, 2]}`,
		"lower_case_9": "0",
		"NUL":          "a\x00b",
	}
	p := map[string]*string{}
	for k, v := range want {
		p[k] = strp(v)
	}
	vars, r := mustUpdateConfig(t, s, as(a), app.Name, p)
	assertVars(t, "UpdateConfigVars", vars, want)
	assertVars(t, "release config", r.ConfigVars, want)
	assertVars(t, "FindConfigVars", mustFindConfigVars(t, s, as(a), app.Name), want)
	assertVars(t, "FindRelease config", mustFindRelease(t, s, as(a), app.Name, r.ID).ConfigVars, want)
}

func testUpdateConfigVarsKeepsSlug(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	slug, _ := mustDeploy(t, s, as(a), app.Name, webWorker)
	_, r := mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1"))
	assertRelease(t, r, app, 3, "Set A config vars", slug.ID)
	_, r = mustUpdateConfig(t, s, as(a), app.Name, patch("A", nil))
	assertRelease(t, r, app, 4, "Remove A config vars", slug.ID)
	// A config release is not a deploy: the formation stays.
	assertFormation(t, s, as(a), app.Name, "web=1:free:gunicorn app:app", "worker=0:free:python worker.py")
}

func testUpdateConfigVarsEmptyPatch(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1"))
	before := mustFindApp(t, s, as(a), app.Name)
	for _, p := range []map[string]*string{nil, {}} {
		vars, r, err := s.ConfigVars.UpdateConfigVars(as(a), app.Name, p)
		if err != nil {
			t.Fatal(err)
		}
		assertVars(t, "empty patch", vars, map[string]string{"A": "1"})
		if r != nil {
			t.Fatalf("an empty patch made release %+v", r)
		}
	}
	assertVersions(t, s, as(a), app.Name, 1, 2)
	assertSameApp(t, mustFindApp(t, s, as(a), app.Name), before)
	// Still scoped.
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	_, _, err := s.ConfigVars.UpdateConfigVars(as(mallory), app.Name, nil)
	assertCode(t, err, bulut.ENOTFOUND)
}

func testUpdateConfigVarsErrInvalidKey(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1"))
	for _, key := range []string{"", "A-B", "A B", "A=B", "A.B", "É", "A\n", " A", "$A"} {
		// A good key beside the bad one is not set either.
		for _, p := range []map[string]*string{patch(key, "x"), patch(key, nil), patch("GOOD", "1", key, "x")} {
			vars, r, err := s.ConfigVars.UpdateConfigVars(as(a), app.Name, p)
			if code := bulut.ErrorCode(err); code != bulut.EINVALID {
				t.Errorf("UpdateConfigVars(%q): code %q, want %q (err: %v)", key, code, bulut.EINVALID, err)
			} else if vars != nil || r != nil {
				t.Errorf("UpdateConfigVars(%q) failed but returned %v, %+v", key, vars, r)
			}
		}
	}
	assertVars(t, "config after bad keys", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"A": "1"})
	assertVersions(t, s, as(a), app.Name, 1, 2)
}

func testUpdateConfigVarsSizeLimit(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	// Exactly the limit is allowed.
	big := strings.Repeat("x", bulut.MaxConfigVarsSize-len("BIG")-len("A")-1)
	vars, _ := mustUpdateConfig(t, s, as(a), app.Name, patch("BIG", big, "A", "1"))
	if n := bulut.ConfigVarsSize(vars); n != bulut.MaxConfigVarsSize {
		t.Fatalf("config size = %d, want %d", n, bulut.MaxConfigVarsSize)
	}
	assertVars(t, "FindConfigVars", mustFindConfigVars(t, s, as(a), app.Name), vars)
	// Replacing a value by one of the same size stays within it.
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "2"))
}

func testUpdateConfigVarsErrTooBig(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	half := strings.Repeat("x", bulut.MaxConfigVarsSize/2)
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", half))
	for _, p := range []map[string]*string{
		patch("B", half), // the total is over
		patch("C", strings.Repeat("y", bulut.MaxConfigVarsSize)), // one value is over
		patch("A", half+"x", "D", half),
	} {
		vars, r, err := s.ConfigVars.UpdateConfigVars(as(a), app.Name, p)
		assertCode(t, err, bulut.EINVALID)
		if vars != nil || r != nil {
			t.Fatalf("UpdateConfigVars failed but returned %d vars, %+v", len(vars), r)
		}
	}
	assertVars(t, "config after refused patches", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"A": half})
	assertVersions(t, s, as(a), app.Name, 1, 2)
	// Freeing space in the same patch makes room.
	vars, _ := mustUpdateConfig(t, s, as(a), app.Name, patch("A", nil, "B", half))
	assertVars(t, "after swap", vars, map[string]string{"B": half})
}

func testUpdateConfigVarsErrOtherAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	mallory := mustCreateAccount(t, s, "mallory@example.com")
	app := mustCreateApp(t, s, as(a), "alices-app")
	mustUpdateConfig(t, s, as(a), app.Name, patch("A", "1"))
	for _, idOrName := range []string{app.Name, app.ID} {
		vars, r, err := s.ConfigVars.UpdateConfigVars(as(mallory), idOrName, patch("A", "pwned", "B", "2"))
		assertCode(t, err, bulut.ENOTFOUND)
		if vars != nil || r != nil {
			t.Fatalf("UpdateConfigVars failed but returned %v, %+v", vars, r)
		}
	}
	assertVars(t, "alice's config", mustFindConfigVars(t, s, as(a), app.Name), map[string]string{"A": "1"})
	assertVersions(t, s, as(a), app.Name, 1, 2)
}

func testUpdateConfigVarsErrNoAccount(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	_, _, err := s.ConfigVars.UpdateConfigVars(context.Background(), app.Name, patch("A", "1"))
	assertCode(t, err, bulut.EUNAUTHORIZED)
	assertVars(t, "config", mustFindConfigVars(t, s, as(a), app.Name), nil)
}

func testUpdateConfigVarsSystemContext(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	vars, r := mustUpdateConfig(t, s, system(), app.Name, patch("A", "1"))
	assertVars(t, "config", vars, map[string]string{"A": "1"})
	if r.UserID != a.ID || r.UserEmail != a.Email {
		t.Errorf("system release by %s (%s), want the owner", r.UserID, r.UserEmail)
	}
	assertVars(t, "alice's view", mustFindConfigVars(t, s, as(a), app.Name), vars)
}

// testUpdateConfigVarsConcurrent checks that racing patches of different
// keys all land, each in its own release.
func testUpdateConfigVarsConcurrent(t *testing.T, s Services) {
	a := mustCreateAccount(t, s, "alice@example.com")
	app := mustCreateApp(t, s, as(a), "my-app")
	const n = 8
	want := map[string]string{}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		k, v := fmt.Sprintf("K%d", i), fmt.Sprint(i)
		want[k] = v
		wg.Go(func() { _, _, errs[i] = s.ConfigVars.UpdateConfigVars(as(a), app.Name, patch(k, v)) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent UpdateConfigVars: %v", err)
		}
	}
	assertVars(t, "config", mustFindConfigVars(t, s, as(a), app.Name), want)
	rs := allReleases(t, s, as(a), app.Name)
	assertVersions(t, s, as(a), app.Name, seq(1, n+1)...)
	// The last release holds every var.
	assertVars(t, "last release config", rs[len(rs)-1].ConfigVars, want)
	// Each release has one more var than the one before.
	for i, r := range rs {
		if len(r.ConfigVars) != i {
			t.Fatalf("v%d has %d vars, want %d", r.Version, len(r.ConfigVars), i)
		}
		if i == 0 {
			continue
		}
		for k, v := range rs[i-1].ConfigVars {
			if got, ok := r.ConfigVars[k]; !ok || got != v {
				t.Fatalf("v%d lost v%d's %s=%s", r.Version, rs[i-1].Version, k, v)
			}
		}
	}
}
