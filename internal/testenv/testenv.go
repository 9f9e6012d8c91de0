// Package testenv boots a whole bulut server inside a test: on
// 127.0.0.1:0, with its state in the test's temporary directory.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/server"
)

// Env is a running server.
type Env struct {
	*server.Server
	// URL is the API's base URL on the loopback address.
	URL string
	// Client dials 127.0.0.1 for every host, so requests for
	// APP.localhost, api.localhost... reach the server.
	Client *http.Client
}

// New starts a server for the duration of the test. Options adjust the
// configuration before it starts.
func New(tb testing.TB, opts ...func(*config.Server)) *Env {
	tb.Helper()
	cfg := config.DefaultServer(tb.TempDir())
	cfg.DataDir = tb.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.Environ = os.Environ()
	// The test binary stands in for bulut; pushes need WithExecutable.
	cfg.Executable, _ = os.Executable()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	s := server.New(cfg, nil)
	if err := s.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return &Env{Server: s, URL: "http://" + s.Addr(), Client: LoopbackClient()}
}

// WithExecutable makes the server's git hooks run path (a bulut binary,
// or a test binary that acts as one when called by that name).
func WithExecutable(path string) func(*config.Server) {
	return func(c *config.Server) { c.Executable = path }
}

// LoopbackClient returns an HTTP client that connects to 127.0.0.1 (on the
// URL's port) whatever the host name, as `*.localhost` names do in browsers.
func LoopbackClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
		MaxIdleConnsPerHost: 16,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// Signup creates an account through the API and returns a token for it.
func (e *Env) Signup(tb testing.TB, email, password string) string {
	tb.Helper()
	e.Do(tb, "POST", "/account", "", map[string]string{"email": email, "password": password}, http.StatusCreated, nil)
	req := e.Request(tb, "POST", "/oauth/authorizations", "", map[string]any{"description": "test"})
	req.SetBasicAuth(email, password)
	var out struct {
		AccessToken struct {
			Token string `json:"token"`
		} `json:"access_token"`
	}
	e.Send(tb, req, http.StatusCreated, &out)
	return out.AccessToken.Token
}

// Request builds an API request with the v3 Accept header, the token (if
// any) and body encoded as JSON (if not nil; a string is sent as is).
func (e *Env) Request(tb testing.TB, method, path, token string, body any) *http.Request {
	tb.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.heroku+json; version=3")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// Send sends req, checks the status and decodes the JSON answer into out
// (if not nil). It returns the response (body already read).
func (e *Env) Send(tb testing.TB, req *http.Request, status int, out any) *http.Response {
	tb.Helper()
	resp, err := e.Client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		tb.Fatalf("%s %s: status %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, status, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", req.Method, req.URL.Path, body, err)
		}
	}
	return resp
}

// Do is Request then Send.
func (e *Env) Do(tb testing.TB, method, path, token string, body any, status int, out any) *http.Response {
	tb.Helper()
	return e.Send(tb, e.Request(tb, method, path, token, body), status, out)
}
