package api_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

func TestAPI_LogDrains(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	token := env.Signup(t, "ayse@example.com", "correct horse")
	h := herokuClient(env, token)
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("demo")})
	if err != nil {
		t.Fatal(err)
	}

	if ds, err := h.LogDrainList(ctx, "demo", nil); err != nil || ds == nil || len(ds) != 0 {
		t.Fatalf("LogDrainList = %#v, %v", ds, err)
	}

	before := time.Now().Add(-time.Second)
	syslog, err := h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: "syslog+tls://logs.example.com:6514"})
	if err != nil {
		t.Fatal(err)
	}
	if !bulut.IsID(syslog.ID) || syslog.URL != "syslog+tls://logs.example.com:6514" || !strings.HasPrefix(syslog.Token, "d.") ||
		!bulut.IsID(syslog.Token[2:]) || syslog.Addon != nil || syslog.CreatedAt.Before(before) || !syslog.UpdatedAt.Equal(syslog.CreatedAt) {
		t.Fatalf("created drain = %+v", syslog)
	}
	httpsDrain, err := h.LogDrainCreate(ctx, app.ID, heroku.LogDrainCreateOpts{URL: "https://user:pass@logs.example.com/drain"})
	if err != nil {
		t.Fatal(err)
	}

	// The raw JSON has addon: null, as Heroku's.
	var raw map[string]any
	env.Do(t, "GET", "/apps/demo/log-drains/"+syslog.ID, token, nil, 200, &raw)
	if v, ok := raw["addon"]; !ok || v != nil || len(raw) != 6 {
		t.Fatalf("drain JSON = %v", raw)
	}

	t.Run("List", func(t *testing.T) {
		ds, err := h.LogDrainList(ctx, "demo", nil)
		if err != nil || len(ds) != 2 || ds[0].ID != syslog.ID || ds[1].ID != httpsDrain.ID || ds[1].Token != httpsDrain.Token {
			t.Fatalf("LogDrainList = %+v, %v", ds, err)
		}
	})

	t.Run("Info", func(t *testing.T) {
		// By ID, token and URL; heroku-go sends a URL unescaped, the
		// heroku CLI escaped.
		for _, key := range []string{syslog.ID, strings.ToUpper(syslog.ID), syslog.Token, syslog.URL, url.PathEscape(syslog.URL)} {
			d, err := h.LogDrainInfo(ctx, app.ID, key)
			if err != nil || d.ID != syslog.ID || d.URL != syslog.URL || d.Token != syslog.Token {
				t.Fatalf("LogDrainInfo(%s) = %+v, %v", key, d, err)
			}
		}
		for _, key := range []string{bulut.NewID(), "d." + bulut.NewID(), "https://logs.example.com/other", "nope"} {
			_, err := h.LogDrainInfo(ctx, "demo", key)
			wantHerokuError(t, err, 404, "not_found")
		}
		_, err := h.LogDrainInfo(ctx, "missing", syslog.ID)
		wantHerokuError(t, err, 404, "not_found")
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, u := range []string{"", "http://logs.example.com/", "ftp://logs.example.com", "syslog://logs.example.com",
			"logs.example.com:514", "udp://logs.example.com:514"} {
			_, err := h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: u})
			wantHerokuError(t, err, 422, "invalid_params")
		}
		var e struct{ ID, Message string }
		env.Do(t, "POST", "/apps/demo/log-drains", token, map[string]string{"url": "http://x.example.com/"}, 422, &e)
		if !strings.Contains(e.Message, "syslog://HOST:PORT") {
			t.Fatalf("message %q", e.Message)
		}
		env.Do(t, "POST", "/apps/demo/log-drains", token, map[string]any{}, 422, nil)
		env.Do(t, "POST", "/apps/demo/log-drains", token, map[string]any{"url": 5}, 422, nil)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		_, err := h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: syslog.URL})
		wantHerokuError(t, err, 409, "conflict")
	})

	t.Run("ErrTooMany", func(t *testing.T) {
		for i := 2; i < bulut.MaxLogDrains; i++ {
			if _, err := h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: fmt.Sprintf("syslog://logs.example.com:%d", 1000+i)}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: "https://logs.example.com/sixth"})
		wantHerokuError(t, err, 422, "invalid_params")
		if ds, _ := h.LogDrainList(ctx, "demo", nil); len(ds) != bulut.MaxLogDrains {
			t.Fatalf("%d drains", len(ds))
		}
	})

	t.Run("OtherAccount", func(t *testing.T) {
		m := herokuClient(env, env.Signup(t, "mallory@example.com", "password-m"))
		for _, key := range []string{"demo", app.ID} {
			_, err := m.LogDrainList(ctx, key, nil)
			wantHerokuError(t, err, 404, "not_found")
			_, err = m.LogDrainCreate(ctx, key, heroku.LogDrainCreateOpts{URL: "https://evil.example.com/"})
			wantHerokuError(t, err, 404, "not_found")
			_, err = m.LogDrainInfo(ctx, key, syslog.ID)
			wantHerokuError(t, err, 404, "not_found")
			_, err = m.LogDrainDelete(ctx, key, syslog.Token)
			wantHerokuError(t, err, 404, "not_found")
		}
		// Mallory's own app can't reach Ayse's drains either.
		if _, err := m.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("mallorys")}); err != nil {
			t.Fatal(err)
		}
		_, err := m.LogDrainDelete(ctx, "mallorys", syslog.ID)
		wantHerokuError(t, err, 404, "not_found")
		env.Do(t, "GET", "/apps/demo/log-drains", "", nil, 401, nil)
	})

	t.Run("Delete", func(t *testing.T) {
		d, err := h.LogDrainDelete(ctx, "demo", syslog.URL)
		if err != nil || d.ID != syslog.ID || d.Token != syslog.Token {
			t.Fatalf("LogDrainDelete by URL = %+v, %v", d, err)
		}
		_, err = h.LogDrainDelete(ctx, "demo", syslog.URL)
		wantHerokuError(t, err, 404, "not_found")
		if d, err := h.LogDrainDelete(ctx, "demo", httpsDrain.Token); err != nil || d.ID != httpsDrain.ID {
			t.Fatalf("LogDrainDelete by token = %+v, %v", d, err)
		}
		ds, _ := h.LogDrainList(ctx, "demo", nil)
		for _, d := range ds {
			if _, err := h.LogDrainDelete(ctx, app.ID, d.ID); err != nil {
				t.Fatal(err)
			}
		}
		if ds, _ := h.LogDrainList(ctx, "demo", nil); len(ds) != 0 {
			t.Fatalf("left: %+v", ds)
		}
		// An escaped URL, as the heroku CLI's drains:remove sends it.
		d, err = h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: "https://logs.example.com/in?token=a%2Fb"})
		if err != nil {
			t.Fatal(err)
		}
		env.Do(t, "DELETE", "/apps/demo/log-drains/"+url.PathEscape(d.URL), token, nil, 200, nil)
	})
}

func TestAPI_LogDrainsChanged(t *testing.T) {
	env := newLogEnv(t, false)
	ctx := context.Background()
	h := herokuClient(env.Env, env.Signup(t, "ayse@example.com", "correct horse"))
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("demo")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: "syslog://logs.example.com:514"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.LogDrainCreate(ctx, "demo", heroku.LogDrainCreateOpts{URL: "syslog://logs.example.com:514"}); err == nil {
		t.Fatal("duplicate accepted")
	}
	if _, err := h.LogDrainList(ctx, "demo", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.LogDrainDelete(ctx, "demo", d.ID); err != nil {
		t.Fatal(err)
	}
	if got := env.drainsChanged(); !slices.Equal(got, []string{app.ID, app.ID}) {
		t.Fatalf("DrainsChanged calls = %q, want the app's ID twice (create, delete)", got)
	}
}
