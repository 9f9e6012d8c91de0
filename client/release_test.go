package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/bulut-bulut/bulut"
)

func TestClient_ReleasesRange(t *testing.T) {
	var ranges []string
	c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
		ranges = append(ranges, r.Method+" "+r.URL.Path+" "+r.Header.Get("Range"))
		writeJSON(w, 206, []map[string]any{{"version": 7, "current": true}})
	})
	ctx := context.Background()
	rs, err := c.Releases(ctx, "demo", 15)
	if err != nil || len(rs) != 1 || rs[0].Version != 7 || !rs[0].Current {
		t.Fatalf("Releases = %+v, %v", rs, err)
	}
	if r, err := c.LatestRelease(ctx, "demo"); err != nil || r.Version != 7 {
		t.Fatalf("LatestRelease = %+v, %v", r, err)
	}
	c.Builds(ctx, "demo", 0)
	want := []string{
		"GET /apps/demo/releases version ..; max=15, order=desc",
		"GET /apps/demo/releases version ..; order=desc,max=1",
		"GET /apps/demo/builds created_at ..; max=1000, order=desc",
	}
	for i := range want {
		if i >= len(ranges) || ranges[i] != want[i] {
			t.Fatalf("requests = %q, want %q", ranges, want)
		}
	}
}

func TestClient_UpdateConfigVarsSendsNull(t *testing.T) {
	c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "PATCH" || r.URL.Path != "/apps/demo/config-vars" || string(b) != `{"A":"1","B":null}` {
			t.Errorf("%s %s %s", r.Method, r.URL.Path, b)
		}
		writeJSON(w, 200, map[string]string{"A": "1"})
	})
	one := "1"
	got, err := c.UpdateConfigVars(context.Background(), "demo", map[string]*string{"A": &one, "B": nil})
	if err != nil || len(got) != 1 || got["A"] != "1" {
		t.Fatalf("UpdateConfigVars = %v, %v", got, err)
	}
}

func TestClient_SetBuildpacks(t *testing.T) {
	var bodies []string
	c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		writeJSON(w, 200, []any{})
	})
	ctx := context.Background()
	c.SetBuildpacks(ctx, "demo", []string{"heroku/python", "https://example.com/bp.git"})
	c.SetBuildpacks(ctx, "demo", nil)
	want := []string{`{"updates":[{"buildpack":"heroku/python"},{"buildpack":"https://example.com/bp.git"}]}`, `{"updates":[]}`}
	for i := range want {
		if bodies[i] != want[i] {
			t.Errorf("body %d = %s, want %s", i, bodies[i], want[i])
		}
	}
}

func TestClient_OpenStreamSendsNoToken(t *testing.T) {
	c := newServer(t, "secret-token", func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "" {
			t.Errorf("sent Authorization %q", auth)
		}
		if r.URL.Query().Get("sig") != "good" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			json.NewEncoder(w).Encode(map[string]string{"id": "not_found", "message": "Couldn't find that stream."})
			return
		}
		w.Write([]byte("-----> Building\n"))
	})
	ctx := context.Background()
	rc, err := c.OpenStream(ctx, c.BaseURL+"/build-output/x?sig=good")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "-----> Building\n" {
		t.Fatalf("body %q", b)
	}
	_, err = c.OpenStream(ctx, c.BaseURL+"/build-output/x?sig=bad")
	if bulut.ErrorCode(err) != bulut.ENOTFOUND || bulut.ErrorMessage(err) != "Couldn't find that stream." {
		t.Fatalf("bad signature: %v", err)
	}
}
