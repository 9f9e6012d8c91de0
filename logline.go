package bulut

import (
	"context"
	"strings"
	"time"
)

// Log sources: the app's own output, and the platform's lines (dyno
// manager, router). API events are app[api], as on Heroku.
const (
	SourceApp      = "app"
	SourcePlatform = "bulut"
)

// MaxLogLineSize is the longest log line; longer ones are split.
const MaxLogLineSize = 10000

// LogLine is one line of an app's log stream.
type LogLine struct {
	Time    time.Time
	Source  string // "app" or "bulut"
	Process string // "web.1", "router", "api", "run.4821"
	Text    string
}

// LogTimeFormat is the timestamp of log lines, as Heroku prints them.
const LogTimeFormat = "2006-01-02T15:04:05.000000-07:00"

// String formats a line as Heroku does:
// `2026-12-01T13:22:00.123456+00:00 app[web.1]: text`.
func (l LogLine) String() string {
	return l.Time.UTC().Format(LogTimeFormat) + " " + l.Source + "[" + l.Process + "]: " + l.Text
}

// LogFilter selects lines: by dyno name ("web.1") or process type ("web"),
// and by source ("app" or "bulut"). Empty fields match everything.
type LogFilter struct {
	Dyno        string
	ProcessType string
	Source      string
}

// Match reports whether a line passes the filter.
func (f LogFilter) Match(l LogLine) bool {
	if f.Source != "" && f.Source != l.Source {
		return false
	}
	if f.Dyno != "" && l.Process != f.Dyno && !strings.HasPrefix(l.Process, f.Dyno+".") {
		return false
	}
	if f.ProcessType != "" && l.Process != f.ProcessType && !strings.HasPrefix(l.Process, f.ProcessType+".") {
		return false
	}
	return true
}

// LogSink takes log lines. Log never blocks: a producer (a dyno, the
// router) must not wait on a slow consumer.
type LogSink interface {
	Log(appID string, line LogLine)
}

// LogService is the log router (Heroku's Logplex): it keeps the last
// lines of each app (across restarts), serves tails and feeds drains.
type LogService interface {
	LogSink

	// Recent returns up to n of an app's last lines that match f, oldest
	// first.
	Recent(appID string, n int, f LogFilter) []LogLine

	// Tail returns the lines that match f as they arrive, until ctx ends
	// (then the channel is closed). A tail that falls behind loses lines
	// and gets an L11 line saying so instead of slowing anything down.
	Tail(ctx context.Context, appID string, f LogFilter) <-chan LogLine
}

// LogDrain sends an app's log stream to a syslog or HTTPS endpoint.
type LogDrain struct {
	ID        string
	AppID     string
	URL       string // syslog://host:port, syslog+tls://host:port, https://...
	Token     string // d.<uuid>, identifies the drain to the receiver
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MaxLogDrains is how many drains an app may have.
const MaxLogDrains = 5

// LogDrainService records apps' log drains. Apps are named by ID or name
// and scoped to the context's account as in AppService.
type LogDrainService interface {
	// FindLogDrains lists an app's drains.
	FindLogDrains(ctx context.Context, app string) ([]*LogDrain, error)

	// CreateLogDrain adds a drain. EINVALID for a URL whose scheme is not
	// syslog, syslog+tls or https, or beyond MaxLogDrains; ECONFLICT for a
	// URL the app already drains to.
	CreateLogDrain(ctx context.Context, app, url string) (*LogDrain, error)

	// DeleteLogDrain removes a drain by ID, URL or token and returns it.
	DeleteLogDrain(ctx context.Context, app, idURLOrToken string) (*LogDrain, error)
}
