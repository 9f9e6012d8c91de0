package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut/internal/testenv"
)

// formationSummary writes a formation as "web=1:Free worker=0:Free".
func formationSummary(fs []heroku.Formation) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s=%d:%s", f.Type, f.Quantity, f.Size))
	}
	return strings.Join(parts, " ")
}

// batchUpdate is one entry of heroku-go's FormationBatchUpdateOpts.
type batchUpdate = struct {
	Quantity *int    `json:"quantity,omitempty" url:"quantity,omitempty,key"`
	Size     *string `json:"size,omitempty" url:"size,omitempty,key"`
	Type     string  `json:"type" url:"type,key"`
}

func TestAPI_FormationScale(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	token := env.Signup(t, "scale@example.com", "scale-me")
	actx := accountContext(t, env, "scale@example.com", "scale-me")
	h := herokuClient(env, token)
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("scaler")})
	if err != nil {
		t.Fatal(err)
	}
	slug := createSlug(t, env, actx, "scaler", "0123456789abcdef", map[string]string{"web": "./web", "worker": "./worker", "clock": "./clock"})
	if _, err := h.ReleaseCreate(ctx, "scaler", heroku.ReleaseCreateOpts{Slug: slug.ID}); err != nil {
		t.Fatal(err)
	}
	current := func() string {
		t.Helper()
		fs, err := h.FormationList(ctx, "scaler", nil)
		if err != nil {
			t.Fatal(err)
		}
		return formationSummary(fs)
	}
	if got := current(); got != "clock=0:Free web=1:Free worker=0:Free" {
		t.Fatalf("formation after the first deploy = %s", got)
	}

	t.Run("BatchUpdate", func(t *testing.T) {
		fs, err := h.FormationBatchUpdate(ctx, "scaler", heroku.FormationBatchUpdateOpts{Updates: []batchUpdate{
			{Type: "web", Quantity: ptr(2)},
			{Type: "worker", Quantity: ptr(1), Size: ptr("Standard-2X")},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if got := formationSummary(fs); got != "web=2:Free worker=1:Standard-2X" {
			t.Fatalf("FormationBatchUpdate = %s, want only the changed types", got)
		}
		if fs[0].App.ID != app.ID || fs[0].App.Name != "scaler" || fs[0].Command != "./web" || fs[0].ID == "" || fs[0].UpdatedAt.IsZero() {
			t.Fatalf("formation JSON = %+v", fs[0])
		}
		if got := current(); got != "clock=0:Free web=2:Free worker=1:Standard-2X" {
			t.Fatalf("formation = %s", got)
		}
	})

	t.Run("Update", func(t *testing.T) {
		f, err := h.FormationUpdate(ctx, "scaler", "web", heroku.FormationUpdateOpts{Quantity: ptr(3)})
		if err != nil || f.Type != "web" || f.Quantity != 3 || f.Size != "Free" {
			t.Fatalf("FormationUpdate = %+v, %v", f, err)
		}
		// By formation ID, the size alone, in any case.
		f, err = h.FormationUpdate(ctx, app.ID, f.ID, heroku.FormationUpdateOpts{Size: ptr("performance-M")})
		if err != nil || f.Type != "web" || f.Quantity != 3 || f.Size != "Performance-M" {
			t.Fatalf("FormationUpdate by ID = %+v, %v", f, err)
		}
		f, err = h.FormationUpdate(ctx, "scaler", "web", heroku.FormationUpdateOpts{Quantity: ptr(1), Size: ptr("free")})
		if err != nil || f.Quantity != 1 || f.Size != "Free" {
			t.Fatalf("FormationUpdate = %+v, %v", f, err)
		}
	})

	t.Run("StringAndRelativeQuantities", func(t *testing.T) {
		// The heroku CLI's ps:scale sends quantities as strings.
		var fs []map[string]any
		env.Do(t, "PATCH", "/apps/scaler/formation", token,
			`{"updates":[{"type":"web","quantity":"2"},{"type":"worker","quantity":"+2","size":"standard-1x"}]}`, 200, &fs)
		if len(fs) != 2 || fs[0]["quantity"] != 2.0 || fs[1]["quantity"] != 3.0 || fs[1]["size"] != "Standard-1X" {
			t.Fatalf("string quantities = %v", fs)
		}
		env.Do(t, "PATCH", "/apps/scaler/formation", token, `{"updates":[{"type":"worker","quantity":"-1"},{"type":"web","quantity":"+1"}]}`, 200, &fs)
		if got := current(); got != "clock=0:Free web=3:Free worker=2:Standard-1X" {
			t.Fatalf("after relative updates: %s", got)
		}
		var f map[string]any
		env.Do(t, "PATCH", "/apps/scaler/formation/worker", token, `{"quantity":" -2 "}`, 200, &f)
		if f["type"] != "worker" || f["quantity"] != 0.0 {
			t.Fatalf("relative per-type update = %v", f)
		}
		// heroku-go v6 names the size as an object.
		env.Do(t, "PATCH", "/apps/scaler/formation/clock", token, `{"quantity":1,"dyno_size":{"name":"Basic"}}`, 200, &f)
		if f["quantity"] != 1.0 || f["size"] != "Basic" {
			t.Fatalf("v6 dyno_size = %v", f)
		}
		env.Do(t, "PATCH", "/apps/scaler/formation", token, `{"updates":[{"type":"clock","quantity":0,"size":"FREE"}]}`, 200, &fs)
		if got := current(); got != "clock=0:Free web=3:Free worker=0:Standard-1X" {
			t.Fatalf("formation = %s", got)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		before := current()
		_, err := h.FormationBatchUpdate(ctx, "scaler", heroku.FormationBatchUpdateOpts{Updates: []batchUpdate{
			{Type: "web", Quantity: ptr(5)}, {Type: "nope", Quantity: ptr(1)},
		}})
		wantHerokuError(t, err, 404, "not_found")
		if msg := err.Error(); !strings.HasSuffix(msg, ": Couldn't find that process type (nope).") {
			t.Fatalf("message = %q", msg)
		}
		_, err = h.FormationUpdate(ctx, "scaler", "release", heroku.FormationUpdateOpts{Quantity: ptr(1)})
		wantHerokuError(t, err, 404, "not_found")
		_, err = h.FormationUpdate(ctx, "scaler", "web", heroku.FormationUpdateOpts{Quantity: ptr(-1)})
		wantHerokuError(t, err, 422, "invalid_params")
		_, err = h.FormationBatchUpdate(ctx, "scaler", heroku.FormationBatchUpdateOpts{Updates: []batchUpdate{
			{Type: "web", Quantity: ptr(5)}, {Type: "worker", Size: ptr("huge")},
		}})
		wantHerokuError(t, err, 422, "invalid_params")
		for _, body := range []string{
			`{"updates":[{"type":"web","quantity":"-9"}]}`,
			`{"updates":[{"type":"web","quantity":"two"}]}`,
			`{"updates":[{"type":"web","quantity":"+"}]}`,
			`{"updates":[{"type":"web","quantity":1.5}]}`,
			`{"updates":[{"type":"web","quantity":true}]}`,
			`{"updates":[{"quantity":1}]}`,
			`{"updates":[]}`,
			`{}`,
		} {
			var e struct{ ID, Message string }
			env.Do(t, "PATCH", "/apps/scaler/formation", token, body, 422, &e)
			if e.ID != "invalid_params" || e.Message == "" {
				t.Errorf("%s: %+v", body, e)
			}
		}
		env.Do(t, "PATCH", "/apps/scaler/formation", token, `{"updates":[`, 400, nil)
		if got := current(); got != before {
			t.Fatalf("failed updates changed the formation: %s, was %s", got, before)
		}
	})

	t.Run("AnotherAccount", func(t *testing.T) {
		other := env.Signup(t, "other@example.com", "other-pass")
		o := herokuClient(env, other)
		before := current()
		for _, key := range []string{"scaler", app.ID} {
			_, err := o.FormationBatchUpdate(ctx, key, heroku.FormationBatchUpdateOpts{Updates: []batchUpdate{{Type: "web", Quantity: ptr(0)}}})
			wantHerokuError(t, err, 404, "not_found")
			_, err = o.FormationUpdate(ctx, key, "web", heroku.FormationUpdateOpts{Quantity: ptr(0)})
			wantHerokuError(t, err, 404, "not_found")
		}
		if got := current(); got != before {
			t.Fatalf("another account changed the formation: %s", got)
		}
	})
}
