package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/client"
)

// newServer starts an httptest server answering with handler and returns
// a client of it using token.
func newServer(t *testing.T, token string, handler http.HandlerFunc) *client.Client {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return client.New(srv.URL, token)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestClient_Headers(t *testing.T) {
	var got http.Header
	c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		writeJSON(w, 201, map[string]string{"name": "demo"})
	})
	if _, err := c.CreateApp(context.Background(), "demo"); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Accept":        "application/vnd.heroku+json; version=3",
		"Authorization": "Bearer tok",
		"Content-Type":  "application/json",
		"User-Agent":    "bulut-cli/" + bulut.Version,
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
}

func TestClient_PublicEndpointsSendNoToken(t *testing.T) {
	c := newServer(t, "stale-token", func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "" {
			t.Errorf("%s %s sent Authorization %q", r.Method, r.URL.Path, auth)
		}
		writeJSON(w, 200, map[string]string{})
	})
	ctx := context.Background()
	c.Info(ctx)
	c.Signup(ctx, "a@example.com", "password")
	c.CreateLoginSession(ctx, "test")
}

func TestClient_CreateAuthorizationUsesBasicAuth(t *testing.T) {
	c := newServer(t, "", func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "a@example.com" || pass != "secret-pw" {
			writeJSON(w, 401, map[string]string{"id": "unauthorized", "message": "Invalid credentials provided."})
			return
		}
		writeJSON(w, 201, map[string]any{"access_token": map[string]string{"token": "new-token"}, "user": map[string]string{"email": user}})
	})
	a, err := c.CreateAuthorization(context.Background(), "a@example.com", "secret-pw", "test")
	if err != nil || a.AccessToken.Token != "new-token" || a.User.Email != "a@example.com" {
		t.Fatalf("got %+v, %v", a, err)
	}
	_, err = c.CreateAuthorization(context.Background(), "a@example.com", "wrong", "test")
	if bulut.ErrorCode(err) != bulut.EUNAUTHORIZED {
		t.Fatalf("wrong password: err = %v", err)
	}
}

func TestClient_ErrorDecoding(t *testing.T) {
	t.Run("APIError", func(t *testing.T) {
		c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 404, map[string]string{"id": "not_found", "message": "Couldn't find that app.", "resource": "app"})
		})
		app, err := c.App(context.Background(), "nope")
		var e *bulut.Error
		if app != nil || !errors.As(err, &e) {
			t.Fatalf("got %v, %v", app, err)
		}
		want := bulut.Error{Code: "not_found", Message: "Couldn't find that app.", Resource: "app"}
		if *e != want {
			t.Fatalf("error = %+v, want %+v", *e, want)
		}
	})
	t.Run("NotJSON", func(t *testing.T) {
		c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
		})
		_, err := c.App(context.Background(), "demo")
		if bulut.ErrorCode(err) != bulut.EINTERNAL || !strings.Contains(bulut.ErrorMessage(err), "502") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("StatusGivesCode", func(t *testing.T) {
		c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
		})
		if _, err := c.Account(context.Background()); bulut.ErrorCode(err) != bulut.EUNAUTHORIZED {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + l.Addr().String()
		l.Close()
		_, err = client.New(url, "tok").Account(context.Background())
		var netErr *client.NetworkError
		if !errors.As(err, &netErr) {
			t.Fatalf("err = %T %v, want *client.NetworkError", err, err)
		}
		if msg := err.Error(); !strings.Contains(msg, url) || !strings.Contains(msg, "Is `bulut server` running?") {
			t.Fatalf("message = %q", msg)
		}
	})
}

func TestClient_AppsFollowsNextRange(t *testing.T) {
	names := []string{"alpha", "bravo", "charlie", "delta", "echo"}
	var ranges []string
	c := newServer(t, "tok", func(w http.ResponseWriter, r *http.Request) {
		rng := r.Header.Get("Range")
		ranges = append(ranges, rng)
		first := 0
		if _, after, ok := strings.Cut(rng, "]"); ok {
			last, _, _ := strings.Cut(after, "..")
			for first < len(names) && names[first] <= last {
				first++
			}
		}
		end := min(first+2, len(names))
		var page []map[string]string
		for _, n := range names[first:end] {
			page = append(page, map[string]string{"name": n})
		}
		status := 200
		if end < len(names) {
			w.Header().Set("Next-Range", fmt.Sprintf("name ]%s..; max=2", names[end-1]))
			status = http.StatusPartialContent
		}
		writeJSON(w, status, page)
	})
	apps, err := c.Apps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range apps {
		got = append(got, a.Name)
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("apps = %v, want %v", got, names)
	}
	wantRanges := []string{"name ..; max=1000", "name ]bravo..; max=2", "name ]delta..; max=2"}
	if strings.Join(ranges, "|") != strings.Join(wantRanges, "|") {
		t.Fatalf("ranges = %q, want %q", ranges, wantRanges)
	}
}

func TestClient_DialsLocalhostNamesOnLoopback(t *testing.T) {
	var host string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		writeJSON(w, 200, map[string]string{"git_host": "git.localhost"})
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	base := "http://api.bulut-test.localhost:" + port
	info, err := client.New(base, "").Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.GitHost != "git.localhost" || host != "api.bulut-test.localhost:"+port {
		t.Fatalf("info = %+v, Host header = %q", info, host)
	}
}

func TestIsLocalhost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "api.localhost": true, "API.LocalHost.": true, "a.b.localhost": true,
		"localhost.com": false, "notlocalhost": false, "127.0.0.1": false, "example.com": false,
	} {
		if got := client.IsLocalhost(host); got != want {
			t.Errorf("IsLocalhost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestClient_PollLoginSession(t *testing.T) {
	var polls atomic.Int32
	c := newServer(t, "", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer poll-secret" || r.URL.Path != "/auth/cli/s1" {
			writeJSON(w, 401, map[string]string{"id": "unauthorized", "message": "Bad secret."})
			return
		}
		if polls.Add(1) < 3 {
			writeJSON(w, 202, map[string]string{"id": "authorization_pending", "message": "Waiting."})
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "granted", "user": map[string]string{"email": "a@example.com"}})
	})
	session := &client.LoginSession{ID: "s1", CLIURL: "/auth/cli/s1", Token: "poll-secret"}
	restore := client.SetMinPollInterval(time.Millisecond)
	defer restore()
	grant, err := c.PollLoginSession(context.Background(), session)
	if err != nil || grant.AccessToken != "granted" || grant.User.Email != "a@example.com" {
		t.Fatalf("got %+v, %v", grant, err)
	}
	if polls.Load() != 3 {
		t.Fatalf("polled %d times, want 3", polls.Load())
	}
}

func TestClient_PollLoginSessionStops(t *testing.T) {
	restore := client.SetMinPollInterval(time.Millisecond)
	defer restore()
	t.Run("Expired", func(t *testing.T) {
		c := newServer(t, "", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 410, map[string]string{"id": "expired", "message": "This login has expired."})
		})
		_, err := c.PollLoginSession(context.Background(), &client.LoginSession{CLIURL: "/auth/cli/x", Token: "s"})
		if bulut.ErrorCode(err) != bulut.EEXPIRED {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ContextDone", func(t *testing.T) {
		c := newServer(t, "", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 202, map[string]string{"id": "authorization_pending", "message": "Waiting."})
		})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.PollLoginSession(ctx, &client.LoginSession{CLIURL: "/auth/cli/x", Token: "s"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ServerErrorsRetriedThenReturned", func(t *testing.T) {
		var calls atomic.Int32
		c := newServer(t, "", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		})
		_, err := c.PollLoginSession(context.Background(), &client.LoginSession{CLIURL: "/auth/cli/x", Token: "s"})
		if bulut.ErrorCode(err) != bulut.EINTERNAL || calls.Load() != 3 {
			t.Fatalf("err = %v after %d calls", err, calls.Load())
		}
	})
}
