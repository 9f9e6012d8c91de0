package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LogSession is a short-lived URL streaming an app's log.
type LogSession struct {
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	// LogplexURL streams the log (see StreamLogs); it needs no token and
	// is good for an hour.
	LogplexURL string    `json:"logplex_url"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// LogSessionCreate selects what a log session streams. Empty fields
// select everything.
type LogSessionCreate struct {
	// Dyno is a dyno name (web.1) or a process type (web); Type a process
	// type.
	Dyno string `json:"dyno,omitempty"`
	Type string `json:"type,omitempty"`
	// Lines is how many recent lines come first (the server's default,
	// 100, when nil; at most 1500).
	Lines *int `json:"lines,omitempty"`
	// Source is "app" (the app's output) or "bulut" (the platform's).
	Source string `json:"source,omitempty"`
	// Tail keeps the stream open for new lines.
	Tail bool `json:"tail,omitempty"`
}

// CreateLogSession asks for a log session of an app.
func (c *Client) CreateLogSession(ctx context.Context, app string, in LogSessionCreate) (*LogSession, error) {
	return callFor[LogSession](ctx, c, http.MethodPost, appPath(app)+"/log-sessions", in)
}

// LogEvent is one line of a log stream and the ID that resumes the stream
// after it.
type LogEvent struct {
	ID   string
	Line string
}

// ErrLogStreamCut is returned (wrapped) by StreamLogs when the connection
// ended in the middle of the stream.
var ErrLogStreamCut = errors.New("the log stream was cut")

// StreamLogs reads a log session's LogplexURL as server-sent events,
// without credentials, and calls fn for each line. lastEventID, when not
// empty, resumes a stream after the event of that ID. It returns nil when
// the server ends the stream, fn's error if fn fails, a *bulut.Error if
// the URL is refused (not_found once it expired), and otherwise an error
// wrapping ErrLogStreamCut or a *NetworkError.
func (c *Client) StreamLogs(ctx context.Context, streamURL, lastEventID string, fn func(LogEvent) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, streamURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &NetworkError{URL: streamURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	var id string
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) && line == "" && data == nil {
				return nil
			}
			return fmt.Errorf("%w: %v", ErrLogStreamCut, err)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if data != nil {
				if err := fn(LogEvent{ID: id, Line: strings.Join(data, "\n")}); err != nil {
					return err
				}
			}
			data = nil
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			data = append(data, value)
		case "id":
			id = value
		}
	}
}

// LogDrain sends an app's log to a syslog or HTTPS endpoint.
type LogDrain struct {
	Addon     *NamedRef `json:"addon"`
	CreatedAt time.Time `json:"created_at"`
	ID        string    `json:"id"`
	// Token identifies the drain to the receiver (d.<uuid>).
	Token     string    `json:"token"`
	UpdatedAt time.Time `json:"updated_at"`
	URL       string    `json:"url"`
}

// LogDrains lists an app's log drains.
func (c *Client) LogDrains(ctx context.Context, app string) ([]*LogDrain, error) {
	var out []*LogDrain
	_, err := c.call(ctx, http.MethodGet, appPath(app)+"/log-drains", nil, &out)
	return out, err
}

// AddLogDrain adds a drain (syslog://, syslog+tls:// or https:// URL).
func (c *Client) AddLogDrain(ctx context.Context, app, drainURL string) (*LogDrain, error) {
	in := struct {
		URL string `json:"url"`
	}{drainURL}
	return callFor[LogDrain](ctx, c, http.MethodPost, appPath(app)+"/log-drains", in)
}

// RemoveLogDrain removes a drain named by its ID, URL or token, and
// returns it.
func (c *Client) RemoveLogDrain(ctx context.Context, app, idURLOrToken string) (*LogDrain, error) {
	return callFor[LogDrain](ctx, c, http.MethodDelete, appPath(app)+"/log-drains/"+url.PathEscape(idURLOrToken), nil)
}
