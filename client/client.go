// Package client is a Go client of bulut's Heroku-compatible Platform API.
// It turns the API's error bodies ({"id","message","resource"}) back into
// *bulut.Error, so callers can test codes with bulut.ErrorCode.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// DefaultBaseURL is the API of a `bulut server` run with its defaults.
const DefaultBaseURL = "http://api.localhost:5000"

// acceptHeader asks for version 3 of the Platform API.
const acceptHeader = "application/vnd.heroku+json; version=3"

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// Client calls the Platform API at BaseURL, authenticated with Token.
type Client struct {
	BaseURL    string // e.g. "http://api.localhost:5000", without a trailing slash
	Token      string // API token sent as a Bearer token; empty for none
	HTTPClient *http.Client
	UserAgent  string
}

// New returns a client of the API at baseURL using token, with an HTTP
// client that dials *.localhost names on the loopback interface.
func New(baseURL, token string) *Client {
	return &Client{
		BaseURL:    strings.TrimRight(baseURL, "/"),
		Token:      token,
		HTTPClient: NewHTTPClient(),
		UserAgent:  "bulut-cli/" + bulut.Version,
	}
}

// NetworkError is returned when the server can't be reached at all.
type NetworkError struct {
	URL string
	Err error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("Could not reach the bulut server at %s: %v. Is `bulut server` running?", e.URL, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// requestOption adjusts a request before it is sent.
type requestOption func(*http.Request)

// withoutAuth sends no credentials (public endpoints).
func withoutAuth() requestOption {
	return func(r *http.Request) { r.Header.Del("Authorization") }
}

// withBasicAuth sends an e-mail and password instead of the token.
func withBasicAuth(user, password string) requestOption {
	return func(r *http.Request) { r.SetBasicAuth(user, password) }
}

// withBearer sends token instead of the client's token.
func withBearer(token string) requestOption {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// withHeader sets a request header.
func withHeader(key, value string) requestOption {
	return func(r *http.Request) { r.Header.Set(key, value) }
}

// call sends a request to path (relative to BaseURL) with in as its JSON
// body (nil for none) and decodes a 2xx answer's body into out (nil to
// ignore it). A non-2xx answer is returned as a *bulut.Error. The returned
// response's body is already closed; callers may read its status and headers.
func (c *Client) call(ctx context.Context, method, path string, in, out any, opts ...requestOption) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, in)
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		opt(req)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NetworkError{URL: c.BaseURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, decodeError(resp)
	}
	if out == nil {
		return resp, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp, fmt.Errorf("decode %s %s response: %w", method, path, err)
	}
	return resp, nil
}

// callFor is call for endpoints answering one JSON object of type T.
func callFor[T any](ctx context.Context, c *Client, method, path string, in any, opts ...requestOption) (*T, error) {
	var out T
	if _, err := c.call(ctx, method, path, in, &out, opts...); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) newRequest(ctx context.Context, method, path string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// unwrapURLError drops the "Get URL:" prefix of *url.Error: NetworkError
// names the server already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errorBody is the Platform API's error shape.
type errorBody struct {
	ID       string `json:"id"`
	Message  string `json:"message"`
	Resource string `json:"resource,omitempty"`
}

// decodeError turns a non-2xx response into a *bulut.Error. A body that
// isn't the API's error shape (a proxy's page, say) gets a code from the
// status and a message naming it.
func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	if json.Unmarshal(raw, &body) == nil && body.ID != "" && body.Message != "" {
		return &bulut.Error{Code: body.ID, Message: body.Message, Resource: body.Resource}
	}
	return &bulut.Error{
		Code:    bulut.ErrorCodeForStatus(resp.StatusCode),
		Message: fmt.Sprintf("Unexpected response from the server: %s.", resp.Status),
	}
}

// NewHTTPClient returns an HTTP client that dials "localhost" and names
// under ".localhost" on 127.0.0.1 (Go's resolver may not resolve them)
// and never sends them through a proxy.
func NewHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, loopbackAddr(addr))
	}
	transport.Proxy = func(req *http.Request) (*url.URL, error) {
		if IsLocalhost(req.URL.Hostname()) {
			return nil, nil
		}
		return http.ProxyFromEnvironment(req)
	}
	return &http.Client{Transport: transport}
}

// loopbackAddr rewrites a host:port address naming a localhost host to
// 127.0.0.1:port and leaves any other address alone.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !IsLocalhost(host) {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}

// IsLocalhost reports whether host is "localhost" or a name under
// ".localhost", which always mean the loopback interface (RFC 6761).
func IsLocalhost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
