package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

// accountContext returns a context acting for the account email, to
// create through env.Store what only a push makes (slugs, builds).
func accountContext(t *testing.T, env *testenv.Env, email, password string) context.Context {
	t.Helper()
	ctx := context.Background()
	acct, err := env.Store.Accounts.Authenticate(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	return bulut.NewContextWithAccount(ctx, acct)
}

// createSlug records a slug of app as a build would.
func createSlug(t *testing.T, env *testenv.Env, ctx context.Context, app, commit string, types map[string]string) *bulut.Slug {
	t.Helper()
	s := &bulut.Slug{ProcessTypes: types, Commit: commit, CommitDescription: "the commit", BuildpackDescription: "Python",
		Stack: bulut.DefaultStack, Checksum: "SHA256:abcd", Size: 1234}
	if err := env.Store.Services().Slugs.CreateSlug(ctx, app, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func versions(rs []heroku.Release) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Version)
	}
	return out
}

func TestAPI_ReleasesAndConfigVars(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	token := env.Signup(t, "rel@example.com", "release-me")
	h := herokuClient(env, token)
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("relapp")})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("InitialRelease", func(t *testing.T) {
		rs, err := h.ReleaseList(ctx, "relapp", nil)
		if err != nil || len(rs) != 1 {
			t.Fatalf("ReleaseList = %+v, %v", rs, err)
		}
		r := rs[0]
		if r.Version != 1 || r.Description != "Initial release" || !r.Current || r.Slug != nil || r.Status != "succeeded" ||
			r.App.ID != app.ID || r.App.Name != "relapp" || r.User.Email != "rel@example.com" || r.User.ID == "" ||
			r.AddonPlanNames == nil || r.CreatedAt.IsZero() || r.OutputStreamURL != nil {
			t.Fatalf("v1 = %+v", r)
		}
		var raw []map[string]any
		env.Do(t, "GET", "/apps/relapp/releases", token, nil, 200, &raw)
		if a, ok := raw[0]["addon_plan_names"].([]any); !ok || len(a) != 0 {
			t.Fatalf("addon_plan_names = %#v", raw[0]["addon_plan_names"])
		}
		if v, ok := raw[0]["slug"]; !ok || v != nil {
			t.Fatalf("slug = %#v", v)
		}
		vars, err := h.ConfigVarInfoForApp(ctx, "relapp")
		if err != nil || vars == nil || len(vars) != 0 {
			t.Fatalf("config vars of a new app = %v, %v", vars, err)
		}
	})

	t.Run("SetAndUnset", func(t *testing.T) {
		got, err := h.ConfigVarUpdate(ctx, "relapp", map[string]*string{"B": ptr("2"), "A": ptr("x=y z")})
		if err != nil || len(got) != 2 || *got["A"] != "x=y z" || *got["B"] != "2" {
			t.Fatalf("set = %v, %v", got, err)
		}
		got, err = h.ConfigVarUpdate(ctx, app.ID, map[string]*string{"A": nil, "C": ptr("")})
		if err != nil || len(got) != 2 || got["A"] != nil || *got["B"] != "2" || *got["C"] != "" {
			t.Fatalf("unset = %v, %v", got, err)
		}
		got, err = h.ConfigVarUpdate(ctx, "relapp", map[string]*string{"C": nil})
		if err != nil || len(got) != 1 {
			t.Fatalf("unset = %v, %v", got, err)
		}
		rs, err := h.ReleaseList(ctx, "relapp", &heroku.ListRange{Field: "version", Max: 15, Descending: true})
		if err != nil || len(rs) != 4 {
			t.Fatalf("releases = %+v, %v", rs, err)
		}
		want := []string{"Remove C config vars", "Set C config vars and Remove A config vars", "Set A, B config vars", "Initial release"}
		for i, r := range rs {
			if r.Description != want[i] || r.Version != 4-i || r.Current != (i == 0) {
				t.Errorf("release %d = v%d %q current=%v, want v%d %q", i, r.Version, r.Description, r.Current, 4-i, want[i])
			}
		}
		snap, err := h.ConfigVarInfoForAppRelease(ctx, "relapp", "2")
		if err != nil || len(snap) != 2 || *snap["A"] != "x=y z" {
			t.Fatalf("v2 config = %v, %v", snap, err)
		}
		snap, err = h.ConfigVarInfoForAppRelease(ctx, "relapp", rs[3].ID)
		if err != nil || len(snap) != 0 {
			t.Fatalf("v1 config = %v, %v", snap, err)
		}
		for _, key := range []string{"3", "v3", rs[1].ID} {
			r, err := h.ReleaseInfo(ctx, "relapp", key)
			if err != nil || r.Version != 3 || r.Current {
				t.Fatalf("ReleaseInfo(%s) = %+v, %v", key, r, err)
			}
		}
		for _, key := range []string{"99", "v0", "nope", bulut.NewID()} {
			_, err = h.ReleaseInfo(ctx, "relapp", key)
			wantHerokuError(t, err, 404, "not_found")
			_, err = h.ConfigVarInfoForAppRelease(ctx, "relapp", key)
			wantHerokuError(t, err, 404, "not_found")
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		before, _ := h.ReleaseList(ctx, "relapp", nil)
		for _, key := range []string{"BAD-KEY", "has space", "", "ünï"} {
			_, err := h.ConfigVarUpdate(ctx, "relapp", map[string]*string{"OK": ptr("1"), key: ptr("v")})
			wantHerokuError(t, err, 422, "invalid_params")
		}
		for _, body := range []string{`{"N": 1}`, `{"O": {"a": "b"}}`, `{"L": ["x"]}`, `{"T": true}`, `{"OK":"1","N":2}`} {
			var e struct{ ID, Message string }
			env.Do(t, "PATCH", "/apps/relapp/config-vars", token, body, 422, &e)
			if e.ID != "invalid_params" || !strings.Contains(e.Message, "strings") {
				t.Errorf("%s: %+v", body, e)
			}
		}
		env.Do(t, "PATCH", "/apps/relapp/config-vars", token, `["A"]`, 400, nil)
		big := strings.Repeat("x", 32<<10)
		_, err := h.ConfigVarUpdate(ctx, "relapp", map[string]*string{"BIG": &big})
		wantHerokuError(t, err, 422, "invalid_params")
		// Just under the limit with what is there (B=2) is fine, and one
		// more byte is not.
		fits := strings.Repeat("x", 32<<10-len("B2")-len("BIG"))
		if _, err := h.ConfigVarUpdate(ctx, "relapp", map[string]*string{"BIG": &fits}); err != nil {
			t.Fatalf("a config of exactly 32 KB: %v", err)
		}
		_, err = h.ConfigVarUpdate(ctx, "relapp", map[string]*string{"Z": ptr("1")})
		wantHerokuError(t, err, 422, "invalid_params")
		if _, err := h.ConfigVarUpdate(ctx, "relapp", map[string]*string{"BIG": nil}); err != nil {
			t.Fatal(err)
		}
		vars, _ := h.ConfigVarInfoForApp(ctx, "relapp")
		if len(vars) != 1 || *vars["B"] != "2" {
			t.Fatalf("config after refused changes = %v", vars)
		}
		after, _ := h.ReleaseList(ctx, "relapp", nil)
		if len(after) != len(before)+2 {
			t.Fatalf("refused changes made releases: %d -> %d", len(before), len(after))
		}
	})

	t.Run("Range", func(t *testing.T) {
		page, err := h.ReleaseList(ctx, "relapp", &heroku.ListRange{Field: "version", Max: 2, Descending: true})
		if err != nil || len(page) != 2 || page[0].Version != 6 || page[1].Version != 5 {
			t.Fatalf("first page = %v, %v", versions(page), err)
		}
		var got []int
		rng := "version ..; max=4"
		for pages := 0; rng != ""; pages++ {
			req := env.Request(t, "GET", "/apps/relapp/releases", token, nil)
			req.Header.Set("Range", rng)
			var rs []struct{ Version int }
			status := http.StatusPartialContent
			if pages == 1 {
				status = http.StatusOK
			}
			resp := env.Send(t, req, status, &rs)
			for _, r := range rs {
				got = append(got, r.Version)
			}
			rng = resp.Header.Get("Next-Range")
		}
		if len(got) != 6 || got[0] != 1 || got[5] != 6 {
			t.Fatalf("paged versions = %v", got)
		}
		req := env.Request(t, "GET", "/apps/relapp/releases", token, nil)
		req.Header.Set("Range", "version ..; order=desc,max=1")
		var rs []struct{ Version int }
		env.Send(t, req, http.StatusPartialContent, &rs)
		if len(rs) != 1 || rs[0].Version != 6 {
			t.Fatalf("latest = %v", rs)
		}
		req = env.Request(t, "GET", "/apps/relapp/releases", token, nil)
		req.Header.Set("Range", "name ..")
		env.Send(t, req, http.StatusRequestedRangeNotSatisfiable, nil)
	})
}

func TestAPI_SlugReleaseRollbackFormation(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	token := env.Signup(t, "deploy@example.com", "deploy-me")
	actx := accountContext(t, env, "deploy@example.com", "deploy-me")
	h := herokuClient(env, token)
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("shop")})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := h.FormationList(ctx, "shop", nil)
	if err != nil || fs == nil || len(fs) != 0 {
		t.Fatalf("formation before a deploy = %+v, %v", fs, err)
	}
	_, err = h.FormationInfo(ctx, "shop", "web")
	wantHerokuError(t, err, 404, "not_found")

	// A release with no slug can't be rolled back to.
	_, err = h.ReleaseRollback(ctx, "shop", heroku.ReleaseRollbackOpts{Release: "1"})
	wantHerokuError(t, err, 422, "invalid_params")

	slug1 := createSlug(t, env, actx, "shop", "1111111122222222", map[string]string{"web": "gunicorn app:app", "worker": "python worker.py"})
	s, err := h.SlugInfo(ctx, "shop", slug1.ID)
	if err != nil || s.ID != slug1.ID || s.ProcessTypes["web"] != "gunicorn app:app" || s.Commit == nil || *s.Commit != "1111111122222222" ||
		s.CommitDescription == nil || s.Checksum == nil || *s.Checksum != "SHA256:abcd" || s.Size == nil || *s.Size != 1234 ||
		s.Stack.Name != "heroku-24" || s.Stack.ID == "" || s.Blob.Method != "get" ||
		!strings.HasPrefix(s.Blob.URL, "http://api.localhost:"+env.Port()+"/slug-blobs/"+slug1.ID+"?sig=") {
		t.Fatalf("SlugInfo = %+v, %v", s, err)
	}
	for _, key := range []string{bulut.NewID(), "nope"} {
		_, err = h.SlugInfo(ctx, "shop", key)
		wantHerokuError(t, err, 404, "not_found")
	}

	r2, err := h.ReleaseCreate(ctx, "shop", heroku.ReleaseCreateOpts{Slug: slug1.ID})
	if err != nil || r2.Version != 2 || r2.Description != "Deploy 11111111" || r2.Slug == nil || r2.Slug.ID != slug1.ID || !r2.Current {
		t.Fatalf("ReleaseCreate = %+v, %v", r2, err)
	}
	fs, err = h.FormationList(ctx, "shop", nil)
	if err != nil || len(fs) != 2 {
		t.Fatalf("formation = %+v, %v", fs, err)
	}
	web, worker := fs[0], fs[1]
	if web.Type != "web" || web.Quantity != 1 || web.Command != "gunicorn app:app" || web.Size != "Free" ||
		web.App.ID != app.ID || web.App.Name != "shop" || web.ID == "" || worker.Type != "worker" || worker.Quantity != 0 {
		t.Fatalf("formation = %+v", fs)
	}
	for _, key := range []string{"web", web.ID} {
		f, err := h.FormationInfo(ctx, "shop", key)
		if err != nil || f.ID != web.ID {
			t.Fatalf("FormationInfo(%s) = %+v, %v", key, f, err)
		}
	}

	if _, err := h.ConfigVarUpdate(ctx, "shop", map[string]*string{"MODE": ptr("one")}); err != nil {
		t.Fatal(err)
	}
	slug2 := createSlug(t, env, actx, "shop", "3333333344444444", map[string]string{"web": "gunicorn new:app"})
	r4, err := h.ReleaseCreate(ctx, "shop", heroku.ReleaseCreateOpts{Slug: slug2.ID, Description: ptr("Custom release")})
	if err != nil || r4.Version != 4 || r4.Description != "Custom release" {
		t.Fatalf("ReleaseCreate = %+v, %v", r4, err)
	}
	if _, err := h.ConfigVarUpdate(ctx, "shop", map[string]*string{"MODE": ptr("two"), "NEW": ptr("1")}); err != nil {
		t.Fatal(err)
	}

	// Roll back to v3: slug1 and MODE=one.
	r6, err := h.ReleaseRollback(ctx, "shop", heroku.ReleaseRollbackOpts{Release: "3"})
	if err != nil || r6.Version != 6 || r6.Description != "Rollback to v3" || r6.Slug == nil || r6.Slug.ID != slug1.ID || !r6.Current {
		t.Fatalf("ReleaseRollback = %+v, %v", r6, err)
	}
	vars, err := h.ConfigVarInfoForApp(ctx, "shop")
	if err != nil || len(vars) != 1 || *vars["MODE"] != "one" {
		t.Fatalf("config after rollback = %v, %v", vars, err)
	}
	// By ID, as Heroku's CLI sends it.
	r7, err := h.ReleaseRollback(ctx, "shop", heroku.ReleaseRollbackOpts{Release: r4.ID})
	if err != nil || r7.Version != 7 || r7.Description != "Rollback to v4" || r7.Slug.ID != slug2.ID {
		t.Fatalf("ReleaseRollback by ID = %+v, %v", r7, err)
	}
	_, err = h.ReleaseRollback(ctx, "shop", heroku.ReleaseRollbackOpts{Release: "v99"})
	wantHerokuError(t, err, 404, "not_found")
	_, err = h.ReleaseCreate(ctx, "shop", heroku.ReleaseCreateOpts{Slug: bulut.NewID()})
	wantHerokuError(t, err, 404, "not_found")
	for _, body := range []string{`{}`, `{"release":""}`, `{"slug":"not-an-id"}`, `{"release":"3","slug":"` + slug1.ID + `"}`} {
		env.Do(t, "POST", "/apps/shop/releases", token, body, 422, nil)
	}
	rs, _ := h.ReleaseList(ctx, "shop", nil)
	if len(rs) != 7 {
		t.Fatalf("%d releases, want 7", len(rs))
	}

	// The slug's blob URL needs no token but a valid signature; this
	// test server keeps no blob for it.
	resp, err := env.Client.Get(strings.Replace(s.Blob.URL, "sig=", "sig=00", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("bad signature: %d", resp.StatusCode)
	}
}

func TestAPI_Builds(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	token := env.Signup(t, "build@example.com", "build-me")
	actx := accountContext(t, env, "build@example.com", "build-me")
	h := herokuClient(env, token)
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("builder")})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := h.BuildList(ctx, "builder", nil)
	if err != nil || bs == nil || len(bs) != 0 {
		t.Fatalf("builds of a new app = %+v, %v", bs, err)
	}

	builds := env.Store.Services().Builds
	var ids []string
	for _, sha := range []string{"aaaaaaaa11", "bbbbbbbb22", "cccccccc33"} {
		b := &bulut.Build{SourceVersion: sha, Buildpacks: []string{"heroku/python"}}
		if err := builds.CreateBuild(actx, "builder", b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	slug := createSlug(t, env, actx, "builder", "cccccccc33", map[string]string{"web": "./web"})
	rel, err := h.ReleaseCreate(ctx, "builder", heroku.ReleaseCreateOpts{Slug: slug.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := builds.UpdateBuild(actx, ids[2], bulut.BuildUpdate{Status: ptr(bulut.BuildSucceeded), SlugID: &slug.ID, ReleaseID: &rel.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := builds.UpdateBuild(actx, ids[1], bulut.BuildUpdate{Status: ptr(bulut.BuildFailed)}); err != nil {
		t.Fatal(err)
	}

	b, err := h.BuildInfo(ctx, "builder", ids[2])
	if err != nil || b.ID != ids[2] || b.App.ID != app.ID || b.Status != "succeeded" || b.Slug == nil || b.Slug.ID != slug.ID ||
		b.Release == nil || b.Release.ID != rel.ID || b.SourceBlob.Version == nil || *b.SourceBlob.Version != "cccccccc33" ||
		b.SourceBlob.Checksum != nil || b.Stack != "heroku-24" || b.User.Email != "build@example.com" ||
		len(b.Buildpacks) != 1 || b.Buildpacks[0].Name != "heroku/python" || b.Buildpacks[0].URL != "heroku/python" ||
		!strings.HasPrefix(b.OutputStreamURL, "http://api.localhost:"+env.Port()+"/build-output/"+ids[2]+"?sig=") {
		t.Fatalf("BuildInfo = %+v, %v", b, err)
	}
	var raw map[string]any
	env.Do(t, "GET", "/apps/builder/builds/"+ids[0], token, nil, 200, &raw)
	sb, _ := raw["source_blob"].(map[string]any)
	if sb["checksum"] != nil || sb["url"] != "" || sb["version"] != "aaaaaaaa11" {
		t.Fatalf("source_blob = %#v", sb)
	}
	if raw["slug"] != nil || raw["release"] != nil || raw["status"] != "pending" {
		t.Fatalf("pending build = %#v", raw)
	}

	bs, err = h.BuildList(ctx, "builder", &heroku.ListRange{Field: "created_at", Max: 2, Descending: true})
	if err != nil || len(bs) != 2 || bs[0].ID != ids[2] || bs[1].ID != ids[1] || bs[1].Status != "failed" {
		t.Fatalf("BuildList desc = %+v, %v", bs, err)
	}
	// Heroku's CLI ranges builds by started_at.
	req := env.Request(t, "GET", "/apps/builder/builds", token, nil)
	req.Header.Set("Range", "started_at ..; max=2, order=desc")
	var page []struct{ ID string }
	resp := env.Send(t, req, http.StatusPartialContent, &page)
	if len(page) != 2 || page[0].ID != ids[2] || !strings.HasPrefix(resp.Header.Get("Next-Range"), "started_at ]") {
		t.Fatalf("started_at page = %v, Next-Range %q", page, resp.Header.Get("Next-Range"))
	}
	req = env.Request(t, "GET", "/apps/builder/builds", token, nil)
	req.Header.Set("Range", resp.Header.Get("Next-Range"))
	env.Send(t, req, http.StatusOK, &page)
	if len(page) != 1 || page[0].ID != ids[0] {
		t.Fatalf("second page = %v", page)
	}

	for _, key := range []string{bulut.NewID(), "nope"} {
		_, err = h.BuildInfo(ctx, "builder", key)
		wantHerokuError(t, err, 404, "not_found")
	}

	// The output URL needs no token; this test server has no output for a
	// build made without the builder, and a bad signature is refused alike.
	for _, u := range []string{b.OutputStreamURL, strings.Replace(b.OutputStreamURL, "sig=", "sig=0", 1), strings.Split(b.OutputStreamURL, "?")[0]} {
		resp, err := env.Client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
		}
	}

	if _, err := h.BuildDeleteCache(ctx, "builder"); err != nil {
		t.Fatalf("BuildDeleteCache: %v", err)
	}
	_, err = h.BuildDeleteCache(ctx, "nope")
	wantHerokuError(t, err, 404, "not_found")
}

func TestAPI_Buildpacks(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	h := herokuClient(env, env.Signup(t, "bp@example.com", "buildpacks"))
	if _, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("packs")}); err != nil {
		t.Fatal(err)
	}
	list, err := h.BuildpackInstallationList(ctx, "packs", nil)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("no buildpacks = %+v, %v", list, err)
	}
	update := func(bps ...string) (heroku.BuildpackInstallationUpdateResult, error) {
		var o heroku.BuildpackInstallationUpdateOpts
		for _, bp := range bps {
			o.Updates = append(o.Updates, struct {
				Buildpack string `json:"buildpack" url:"buildpack,key"`
			}{bp})
		}
		if o.Updates == nil {
			o.Updates = []struct {
				Buildpack string `json:"buildpack" url:"buildpack,key"`
			}{}
		}
		return h.BuildpackInstallationUpdate(ctx, "packs", o)
	}
	got, err := update("urn:buildpack:heroku/nodejs", "https://github.com/example/buildpack.git", "/srv/buildpacks/custom")
	if err != nil || len(got) != 3 {
		t.Fatalf("update = %+v, %v", got, err)
	}
	want := []string{"heroku/nodejs", "https://github.com/example/buildpack.git", "/srv/buildpacks/custom"}
	list, err = h.BuildpackInstallationList(ctx, "packs", nil)
	if err != nil || len(list) != 3 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	for i, bp := range list {
		if bp.Ordinal != i || bp.Buildpack.URL != want[i] || bp.Buildpack.Name != want[i] || got[i] != bp {
			t.Errorf("buildpack %d = %+v (update said %+v), want %s", i, bp, got[i], want[i])
		}
	}
	_, err = update("heroku/python", " ")
	wantHerokuError(t, err, 422, "invalid_params")
	env.Do(t, "PUT", "/apps/packs/buildpack-installations", "", `{}`, 401, nil)
	if list, _ = h.BuildpackInstallationList(ctx, "packs", nil); len(list) != 3 {
		t.Fatalf("a refused update changed the list: %+v", list)
	}
	if got, err = update(); err != nil || len(got) != 0 {
		t.Fatalf("clear = %+v, %v", got, err)
	}
	if list, _ = h.BuildpackInstallationList(ctx, "packs", nil); len(list) != 0 {
		t.Fatalf("after clear: %+v", list)
	}
}

// TestAPI_DeployResourcesOfOtherAccounts: every endpoint answers 404 for
// an app of another account, and changes nothing.
func TestAPI_DeployResourcesOfOtherAccounts(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	tokenA := env.Signup(t, "a@example.com", "password-a")
	tokenB := env.Signup(t, "b@example.com", "password-b")
	a := herokuClient(env, tokenA)
	app, err := a.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("mine")})
	if err != nil {
		t.Fatal(err)
	}
	actx := accountContext(t, env, "a@example.com", "password-a")
	slug := createSlug(t, env, actx, "mine", "abcdef0123", map[string]string{"web": "./web"})
	rel, err := a.ReleaseCreate(ctx, "mine", heroku.ReleaseCreateOpts{Slug: slug.ID})
	if err != nil {
		t.Fatal(err)
	}
	build := &bulut.Build{SourceVersion: "abcdef0123"}
	if err := env.Store.Services().Builds.CreateBuild(actx, "mine", build); err != nil {
		t.Fatal(err)
	}
	fs, err := a.FormationList(ctx, "mine", nil)
	if err != nil || len(fs) != 1 {
		t.Fatalf("formation = %+v, %v", fs, err)
	}
	if _, err := a.ConfigVarUpdate(ctx, "mine", map[string]*string{"SECRET": ptr("s3cret")}); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{app.Name, app.ID} {
		p := "/apps/" + key
		for _, c := range []struct{ method, path, body string }{
			{"GET", p + "/releases", ""},
			{"GET", p + "/releases/1", ""},
			{"GET", p + "/releases/" + rel.ID, ""},
			{"GET", p + "/releases/1/config-vars", ""},
			{"POST", p + "/releases", `{"release":"` + rel.ID + `"}`},
			{"POST", p + "/releases", `{"slug":"` + slug.ID + `"}`},
			{"GET", p + "/config-vars", ""},
			{"PATCH", p + "/config-vars", `{"SECRET":null}`},
			{"GET", p + "/builds", ""},
			{"GET", p + "/builds/" + build.ID, ""},
			{"DELETE", p + "/build-cache", ""},
			{"GET", p + "/slugs/" + slug.ID, ""},
			{"GET", p + "/formation", ""},
			{"GET", p + "/formation/web", ""},
			{"GET", p + "/formation/" + fs[0].ID, ""},
			{"GET", p + "/buildpack-installations", ""},
			{"PUT", p + "/buildpack-installations", `{"updates":[{"buildpack":"heroku/go"}]}`},
		} {
			var body any
			if c.body != "" {
				body = c.body
			}
			var e struct{ ID, Message string }
			env.Do(t, c.method, c.path, tokenB, body, 404, &e)
			if e.ID != "not_found" || e.Message != "Couldn't find that app." {
				t.Errorf("%s %s: %+v", c.method, c.path, e)
			}
		}
	}
	vars, _ := a.ConfigVarInfoForApp(ctx, "mine")
	rs, _ := a.ReleaseList(ctx, "mine", nil)
	bps, _ := a.BuildpackInstallationList(ctx, "mine", nil)
	if len(vars) != 1 || len(rs) != 3 || len(bps) != 0 {
		t.Fatalf("b changed a's app: vars %v, %d releases, buildpacks %v", vars, len(rs), bps)
	}
	// Check the JSON of a list is decodable as a whole, as clients do.
	var all []json.RawMessage
	env.Do(t, "GET", "/apps/mine/releases", tokenA, nil, 200, &all)
}
