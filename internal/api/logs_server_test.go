package api_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut/internal/testenv"
)

// TestAPI_LogStreamOnServer: log sessions on a whole server, with the
// log router and the API's own app[api] lines.
func TestAPI_LogStreamOnServer(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	h := herokuClient(env, env.Signup(t, "ayse@example.com", "correct horse"))
	if _, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("demo")}); err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T, ctx context.Context, u, accept string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		c := *env.Client
		c.Timeout = 0
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
		}
		return resp
	}

	t.Run("Recent", func(t *testing.T) {
		s, err := h.LogSessionCreate(ctx, "demo", heroku.LogSessionCreateOpts{Source: ptr("app"), Dyno: ptr("api")})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(open(t, ctx, s.LogplexURL, "").Body)
		if !strings.Contains(string(b), " app[api]: Release v1 created by ayse@example.com\n") {
			t.Fatalf("log:\n%s", b)
		}
		s, err = h.LogSessionCreate(ctx, "demo", heroku.LogSessionCreateOpts{Source: ptr("bulut")})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(open(t, ctx, s.LogplexURL, "").Body); strings.Contains(string(b), "app[api]") {
			t.Fatalf("source bulut:\n%s", b)
		}
	})

	for _, accept := range []string{"text/plain", "text/event-stream"} {
		t.Run("Tail "+accept, func(t *testing.T) {
			tctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s, err := h.LogSessionCreate(ctx, "demo", heroku.LogSessionCreateOpts{Tail: ptr(true), Lines: ptr(0)})
			if err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(open(t, tctx, s.LogplexURL, accept).Body)
			start := time.Now()
			key := "FOO_" + strings.ToUpper(strings.ReplaceAll(accept, "/", "_"))
			key = strings.ReplaceAll(key, "-", "_")
			if _, err := h.ConfigVarUpdate(ctx, "demo", map[string]*string{key: ptr("bar")}); err != nil {
				t.Fatal(err)
			}
			want := "Set " + key + " config vars by ayse@example.com"
			got := make(chan string, 1)
			go func() {
				for {
					line, err := r.ReadString('\n')
					if err != nil || strings.Contains(line, want) {
						got <- line
						return
					}
				}
			}()
			select {
			case line := <-got:
				if !strings.Contains(line, " app[api]: "+want) {
					t.Fatalf("line %q", line)
				}
				if accept == "text/event-stream" && !strings.HasPrefix(line, "data: ") {
					t.Fatalf("event line %q", line)
				}
				t.Logf("tail latency: %v", time.Since(start))
			case <-time.After(time.Second):
				t.Fatalf("%q not in the tail within a second", want)
			}
		})
	}
}
