package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/server"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

// memoryLogs is a test double of the log router (bulut.LogService): lines
// in memory per app, tails fed as lines are logged, calls recorded. It
// has no RecentAndTail, so the API starts tails first and drops the
// repeats itself.
type memoryLogs struct {
	mu    sync.Mutex
	lines map[string][]bulut.LogLine
	tails map[*memoryTail]bool
	calls []string
}

type memoryTail struct {
	appID string
	f     bulut.LogFilter
	ch    chan bulut.LogLine
}

var _ bulut.LogService = (*memoryLogs)(nil)

func newMemoryLogs() *memoryLogs {
	return &memoryLogs{lines: map[string][]bulut.LogLine{}, tails: map[*memoryTail]bool{}}
}

func (m *memoryLogs) Log(appID string, l bulut.LogLine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines[appID] = append(m.lines[appID], l)
	for t := range m.tails {
		if t.appID == appID && t.f.Match(l) {
			select {
			case t.ch <- l:
			default:
			}
		}
	}
}

func (m *memoryLogs) Recent(appID string, n int, f bulut.LogFilter) []bulut.LogLine {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("recent %d %+v", n, f))
	var out []bulut.LogLine
	for _, l := range m.lines[appID] {
		if f.Match(l) {
			out = append(out, l)
		}
	}
	return out[max(0, len(out)-n):]
}

func (m *memoryLogs) Tail(ctx context.Context, appID string, f bulut.LogFilter) <-chan bulut.LogLine {
	t := &memoryTail{appID: appID, f: f, ch: make(chan bulut.LogLine, 100)}
	m.mu.Lock()
	m.calls = append(m.calls, fmt.Sprintf("tail %+v", f))
	m.tails[t] = true
	m.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		delete(m.tails, t)
		close(t.ch)
		m.mu.Unlock()
	})
	return t.ch
}

// log logs lines of app at consecutive microseconds from now.
func (m *memoryLogs) log(appID string, lines ...string) {
	for _, s := range lines {
		source, rest, _ := strings.Cut(s, "[")
		process, text, _ := strings.Cut(rest, "]: ")
		m.Log(appID, bulut.LogLine{Time: time.Now(), Source: source, Process: process, Text: text})
		time.Sleep(time.Microsecond)
	}
}

func (m *memoryLogs) takeCalls() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls
	m.calls = nil
	return c
}

func (m *memoryLogs) openTails() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tails)
}

// logEnv is the API on the real store with memoryLogs, served on
// 127.0.0.1 with api.localhost URLs and a clock the test may move.
type logEnv struct {
	*testenv.Env // URL and Client only
	handler      *api.Handler
	logs         *memoryLogs
	store        *server.Store

	mu      sync.Mutex
	offset  time.Duration // added to the clock
	changed []string      // DrainsChanged calls
}

func newLogEnv(t *testing.T, withLogs bool) *logEnv {
	t.Helper()
	cfg := config.DefaultServer(t.TempDir())
	cfg.DataDir = t.TempDir()
	store := server.NewStore(cfg)
	if err := store.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &logEnv{logs: newMemoryLogs(), store: store}
	services := store.Services()
	if withLogs {
		services.Logs = e.logs
	}
	ts := httptest.NewUnstartedServer(nil)
	urls := bulut.URLs{Scheme: "http", Domain: "localhost", Port: ts.Listener.Addr().(*net.TCPAddr).Port}
	e.handler = api.New(api.Config{Services: services, URLs: urls, SignupOpen: true, SigningKey: []byte("test key"),
		Now: func() time.Time {
			e.mu.Lock()
			defer e.mu.Unlock()
			return time.Now().Add(e.offset)
		},
		DrainsChanged: func(appID string) {
			e.mu.Lock()
			e.changed = append(e.changed, appID)
			e.mu.Unlock()
		}})
	ts.Config.Handler = e.handler
	ts.Start()
	t.Cleanup(ts.Close)
	e.Env = &testenv.Env{URL: ts.URL, Client: testenv.LoopbackClient()}
	return e
}

func (e *logEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.offset += d
	e.mu.Unlock()
}

func (e *logEnv) drainsChanged() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.changed)
}

// session creates a log session with body and returns its logplex_url.
func (e *logEnv) session(t *testing.T, token, app string, body map[string]any) string {
	t.Helper()
	var s struct {
		LogplexURL string `json:"logplex_url"`
	}
	e.Do(t, "POST", "/apps/"+app+"/log-sessions", token, body, http.StatusCreated, &s)
	return s.LogplexURL
}

// stream is an open logplex_url.
type stream struct {
	resp *http.Response
	r    *bufio.Reader
}

// open fetches a logplex_url, without a token, with accept as the Accept
// header (if any) and headers.
func (e *logEnv) open(t *testing.T, ctx context.Context, u, accept string, headers ...string) *stream {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	c := *e.Client
	c.Timeout = 0
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &stream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// lines reads n lines (without their line endings), failing the test
// if they take more than a second.
func (s *stream) lines(t *testing.T, n int) []string {
	t.Helper()
	out := make(chan []string, 1)
	go func() {
		var got []string
		for len(got) < n {
			line, err := s.r.ReadString('\n')
			if err != nil {
				break
			}
			got = append(got, strings.TrimSuffix(line, "\n"))
		}
		out <- got
	}()
	select {
	case got := <-out:
		if len(got) != n {
			t.Fatalf("stream ended after %d of %d lines: %q", len(got), n, got)
		}
		return got
	case <-time.After(time.Second):
		s.resp.Body.Close()
		t.Fatalf("%d lines not there within a second; got %q", n, <-out)
		return nil
	}
}

// rest reads the stream to its end.
func (s *stream) rest(t *testing.T) string {
	t.Helper()
	b, err := io.ReadAll(s.r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// texts strips the timestamps of formatted lines.
func texts(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		_, out[i], _ = strings.Cut(l, " ")
	}
	return out
}

func wantTexts(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(texts(got), want) {
		t.Fatalf("lines:\n%s\nwant (after the time):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// waitFor waits up to a second for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAPI_LogSessions(t *testing.T) {
	env := newLogEnv(t, true)
	ctx := context.Background()
	token := env.Signup(t, "ayse@example.com", "correct horse")
	h := herokuClient(env.Env, token)
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("demo")})
	if err != nil {
		t.Fatal(err)
	}
	env.logs.log(app.ID,
		"app[web.1]: one",
		"bulut[router]: at=info method=GET path=\"/\"",
		"app[worker.1]: two",
		"app[web.2]: three",
		"bulut[web.1]: State changed from starting to up",
		"app[api]: Release v2 created by user ayse@example.com",
	)

	t.Run("Create", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		s, err := h.LogSessionCreate(ctx, "demo", heroku.LogSessionCreateOpts{Dyno: ptr("web.1"), Lines: ptr(10),
			Source: ptr("app"), Tail: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if !bulut.IsID(s.ID) || s.CreatedAt.Before(before) || !s.UpdatedAt.Equal(s.CreatedAt) {
			t.Fatalf("session = %+v", s)
		}
		u, err := url.Parse(s.LogplexURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if u.Host != "api.localhost:"+env.port() || u.Path != "/log-stream/"+s.ID || q.Get("app") != app.ID ||
			q.Get("dyno") != "web.1" || q.Get("source") != "app" || q.Get("lines") != "10" || q.Get("tail") != "1" ||
			q.Get("sig") == "" || q.Get("exp") == "" {
			t.Fatalf("logplex_url = %s", s.LogplexURL)
		}
	})

	t.Run("Recent", func(t *testing.T) {
		s := env.open(t, ctx, env.session(t, token, "demo", nil), "")
		if ct := s.resp.Header.Get("Content-Type"); s.resp.StatusCode != 200 || ct != "text/plain; charset=utf-8" {
			t.Fatalf("status %d, Content-Type %q", s.resp.StatusCode, ct)
		}
		body := s.rest(t)
		got := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		wantTexts(t, got,
			"app[web.1]: one",
			"bulut[router]: at=info method=GET path=\"/\"",
			"app[worker.1]: two",
			"app[web.2]: three",
			"bulut[web.1]: State changed from starting to up",
			"app[api]: Release v2 created by user ayse@example.com")
		if _, err := time.Parse(bulut.LogTimeFormat, strings.Fields(got[0])[0]); err != nil {
			t.Fatalf("line %q: %v", got[0], err)
		}
		if calls := env.logs.takeCalls(); !slices.Equal(calls, []string{"recent 100 {Dyno: ProcessType: Source:}"}) {
			t.Fatalf("calls = %q", calls)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		for _, tc := range []struct {
			body map[string]any
			call string
			want []string
		}{
			{map[string]any{"lines": 2}, "recent 2 {Dyno: ProcessType: Source:}",
				[]string{"bulut[web.1]: State changed from starting to up", "app[api]: Release v2 created by user ayse@example.com"}},
			{map[string]any{"dyno": "web"}, "recent 100 {Dyno:web ProcessType: Source:}",
				[]string{"app[web.1]: one", "app[web.2]: three", "bulut[web.1]: State changed from starting to up"}},
			{map[string]any{"dyno": "web.1", "source": "app"}, "recent 100 {Dyno:web.1 ProcessType: Source:app}",
				[]string{"app[web.1]: one"}},
			{map[string]any{"source": "bulut"}, "recent 100 {Dyno: ProcessType: Source:bulut}",
				[]string{"bulut[router]: at=info method=GET path=\"/\"", "bulut[web.1]: State changed from starting to up"}},
			// Heroku's CLI: -s heroku, -p TYPE as "type".
			{map[string]any{"source": "heroku", "dyno": "router"}, "recent 100 {Dyno:router ProcessType: Source:bulut}",
				[]string{"bulut[router]: at=info method=GET path=\"/\""}},
			{map[string]any{"type": "worker", "lines": 1}, "recent 1 {Dyno: ProcessType:worker Source:}",
				[]string{"app[worker.1]: two"}},
			{map[string]any{"lines": 5000, "source": "app", "dyno": "api"}, "recent 1500 {Dyno:api ProcessType: Source:app}",
				[]string{"app[api]: Release v2 created by user ayse@example.com"}},
			{map[string]any{"lines": 0}, "recent 0 {Dyno: ProcessType: Source:}", nil},
		} {
			body := env.open(t, ctx, env.session(t, token, app.ID, tc.body), "").rest(t)
			var got []string
			if body != "" {
				got = strings.Split(strings.TrimSuffix(body, "\n"), "\n")
			}
			wantTexts(t, got, tc.want...)
			if calls := env.logs.takeCalls(); !slices.Equal(calls, []string{tc.call}) {
				t.Fatalf("%v: calls = %q, want %q", tc.body, calls, tc.call)
			}
		}
	})

	t.Run("Tail", func(t *testing.T) {
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s := env.open(t, tctx, env.session(t, token, "demo", map[string]any{"tail": true, "lines": 2, "dyno": "web"}), "")
		wantTexts(t, s.lines(t, 2), "app[web.2]: three", "bulut[web.1]: State changed from starting to up")
		if calls := env.logs.takeCalls(); !slices.Equal(calls, []string{"tail {Dyno:web ProcessType: Source:}", "recent 2 {Dyno:web ProcessType: Source:}"}) {
			t.Fatalf("calls = %q", calls)
		}
		env.logs.log(app.ID, "app[worker.1]: not this one", "app[web.3]: four")
		wantTexts(t, s.lines(t, 1), "app[web.3]: four")
		env.logs.log(app.ID, "app[web.1]: five", "app[web.1]: six")
		wantTexts(t, s.lines(t, 2), "app[web.1]: five", "app[web.1]: six")
		// The client going away ends the tail.
		cancel()
		waitFor(t, "the tail to end", func() bool { return env.logs.openTails() == 0 })
	})

	t.Run("TailRepeatsNothing", func(t *testing.T) {
		// Lines logged between the start of the tail and the recent lines
		// come once: memoryLogs hands them to both.
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		other, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("other")})
		if err != nil {
			t.Fatal(err)
		}
		u := env.session(t, token, "other", map[string]any{"tail": true})
		// Log while the stream opens: whatever the interleaving, every
		// line comes exactly once, in order.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 50 {
				env.logs.log(other.ID, fmt.Sprintf("app[web.1]: line %d", i))
			}
		}()
		s := env.open(t, tctx, u, "")
		<-done
		got := texts(s.lines(t, 50))
		for i, l := range got {
			if want := fmt.Sprintf("app[web.1]: line %d", i); l != want {
				t.Fatalf("line %d = %q, want %q (all: %q)", i, l, want, got)
			}
		}
		env.logs.log(other.ID, "app[web.1]: after")
		wantTexts(t, s.lines(t, 1), "app[web.1]: after")
	})

	t.Run("EventStream", func(t *testing.T) {
		u := env.session(t, token, "demo", map[string]any{"lines": 2, "source": "app"})
		s := env.open(t, ctx, u, "text/event-stream")
		if ct := s.resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		events := parseEvents(t, s.rest(t))
		if len(events) != 2 {
			t.Fatalf("events = %q", events)
		}
		wantTexts(t, []string{events[0].data, events[1].data}, "app[web.1]: five", "app[web.1]: six")
		if events[0].id == "" || events[1].id == "" || events[0].id == events[1].id {
			t.Fatalf("event ids %q %q", events[0].id, events[1].id)
		}

		// Another Accept with text/event-stream among others still asks
		// for events.
		s = env.open(t, ctx, u, "application/json, text/event-stream;q=0.9")
		if n := len(parseEvents(t, s.rest(t))); n != 2 {
			t.Fatalf("%d events", n)
		}

		// A reconnecting client resumes after its last event.
		s = env.open(t, ctx, env.session(t, token, "demo", map[string]any{"lines": 1}), "text/event-stream",
			"Last-Event-ID", events[0].id)
		events = parseEvents(t, s.rest(t))
		if len(events) != 1 {
			t.Fatalf("events after resuming = %q", events)
		}
		wantTexts(t, []string{events[0].data}, "app[web.1]: six")
	})

	t.Run("EventStreamTail", func(t *testing.T) {
		tctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s := env.open(t, tctx, env.session(t, token, "demo", map[string]any{"lines": 1, "tail": true}), "text/event-stream")
		// id, data, blank line per event.
		got := s.lines(t, 3)
		if !strings.HasPrefix(got[0], "id: ") || !strings.HasSuffix(got[1], " app[web.1]: six") ||
			!strings.HasPrefix(got[1], "data: ") || got[2] != "" {
			t.Fatalf("event = %q", got)
		}
		env.logs.log(app.ID, "app[web.1]: carriage\rreturn")
		got = s.lines(t, 4)
		if !strings.HasPrefix(got[0], "id: ") || !strings.HasSuffix(got[1], " app[web.1]: carriage") ||
			got[2] != "data: return" || got[3] != "" {
			t.Fatalf("event = %q", got)
		}
	})

	t.Run("ErrBadSession", func(t *testing.T) {
		for _, body := range []map[string]any{
			{"source": "router"}, {"dyno": "web 1"}, {"dyno": "../x"}, {"lines": -1}, {"type": "w;b"},
		} {
			req := env.Request(t, "POST", "/apps/demo/log-sessions", token, body)
			var e struct{ ID, Message string }
			env.Send(t, req, 422, &e)
			if e.ID != "invalid_params" || e.Message == "" {
				t.Fatalf("%v: %+v", body, e)
			}
		}
		env.Do(t, "POST", "/apps/demo/log-sessions", token, `{"lines": "many"}`, 422, nil)
		_, err := h.LogSessionCreate(ctx, "missing", heroku.LogSessionCreateOpts{})
		wantHerokuError(t, err, 404, "not_found")
		env.Do(t, "POST", "/apps/demo/log-sessions", "", nil, 401, nil)
	})

	t.Run("OtherAccount", func(t *testing.T) {
		other := herokuClient(env.Env, env.Signup(t, "mallory@example.com", "password-m"))
		for _, key := range []string{"demo", app.ID} {
			_, err := other.LogSessionCreate(ctx, key, heroku.LogSessionCreateOpts{})
			wantHerokuError(t, err, 404, "not_found")
		}
	})

	t.Run("ErrBadURL", func(t *testing.T) {
		good := env.session(t, token, "demo", map[string]any{"dyno": "web.1"})
		other, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("third")})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(good)
		bad := []string{}
		for _, change := range []func(q url.Values){
			func(q url.Values) { q.Set("sig", strings.Repeat("0", 64)) },
			func(q url.Values) { q.Set("sig", "zz") },
			func(q url.Values) { q.Del("sig") },
			func(q url.Values) { q.Set("app", other.ID) },
			func(q url.Values) { q.Del("dyno") },
			func(q url.Values) { q.Set("lines", "1500") },
			func(q url.Values) { q.Set("tail", "1") },
			func(q url.Values) { q.Set("exp", "99999999999") },
			func(q url.Values) { q.Add("source", "app") },
		} {
			v := *u
			q := v.Query()
			change(q)
			v.RawQuery = q.Encode()
			bad = append(bad, v.String())
		}
		v := *u
		v.Path = "/log-stream/" + bulut.NewID()
		bad = append(bad, v.String())
		for _, b := range bad {
			s := env.open(t, ctx, b, "text/event-stream")
			body := s.rest(t)
			if s.resp.StatusCode != 404 || !strings.Contains(body, `"id":"not_found"`) {
				t.Fatalf("%s: %d %s", b, s.resp.StatusCode, body)
			}
		}
		if s := env.open(t, ctx, good, ""); s.resp.StatusCode != 200 {
			t.Fatalf("the good URL: %d", s.resp.StatusCode)
		}
	})

	t.Run("AppDeleted", func(t *testing.T) {
		gone, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("gone")})
		if err != nil {
			t.Fatal(err)
		}
		u := env.session(t, token, "gone", nil)
		if _, err := h.AppDelete(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		if s := env.open(t, ctx, u, ""); s.resp.StatusCode != 404 {
			t.Fatalf("a deleted app's stream: %d", s.resp.StatusCode)
		}
	})

	t.Run("Close", func(t *testing.T) {
		s := env.open(t, ctx, env.session(t, token, "demo", map[string]any{"tail": true, "lines": 0}), "")
		waitFor(t, "the tail", func() bool { return env.logs.openTails() == 1 })
		env.handler.Close()
		if body := s.rest(t); body != "" {
			t.Fatalf("body = %q", body)
		}
		waitFor(t, "the tail to end", func() bool { return env.logs.openTails() == 0 })
	})
}

func TestAPI_LogStreamExpires(t *testing.T) {
	env := newLogEnv(t, true)
	ctx := context.Background()
	token := env.Signup(t, "ayse@example.com", "correct horse")
	env.Do(t, "POST", "/apps", token, map[string]string{"name": "demo"}, 201, nil)
	u := env.session(t, token, "demo", nil)
	env.advance(59 * time.Minute)
	if s := env.open(t, ctx, u, ""); s.resp.StatusCode != 200 {
		t.Fatalf("after 59 minutes: %d", s.resp.StatusCode)
	}
	// A tail opened in time goes on after the URL expires.
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tail := env.open(t, tctx, env.session(t, token, "demo", map[string]any{"tail": true}), "")
	env.advance(2 * time.Minute)
	if s := env.open(t, ctx, u, ""); s.resp.StatusCode != 404 {
		t.Fatalf("after 61 minutes: %d", s.resp.StatusCode)
	}
	waitFor(t, "the tail", func() bool { return env.logs.openTails() == 1 })
	var appID struct{ ID string }
	env.Do(t, "GET", "/apps/demo", token, nil, 200, &appID)
	env.logs.log(appID.ID, "app[web.1]: still here")
	wantTexts(t, tail.lines(t, 1), "app[web.1]: still here")
}

func TestAPI_LogStreamWithoutLogs(t *testing.T) {
	env := newLogEnv(t, false)
	token := env.Signup(t, "ayse@example.com", "correct horse")
	env.Do(t, "POST", "/apps", token, map[string]string{"name": "demo"}, 201, nil)
	s := env.open(t, context.Background(), env.session(t, token, "demo", nil), "")
	if s.resp.StatusCode != 404 {
		t.Fatalf("status %d", s.resp.StatusCode)
	}
}

type event struct{ id, data string }

// parseEvents reads a text/event-stream body.
func parseEvents(t *testing.T, body string) []event {
	t.Helper()
	var out []event
	var cur event
	var data []string
	for line := range strings.Lines(body) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data != nil {
				cur.data = strings.Join(data, "\n")
				out = append(out, cur)
			}
			cur, data = event{}, nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			cur.id = line[len("id: "):]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[len("data: "):])
		default:
			t.Fatalf("unexpected event stream line %q in:\n%s", line, body)
		}
	}
	if data != nil || !strings.HasSuffix(body, "\n\n") && body != "" {
		t.Fatalf("event stream ends mid-event:\n%s", body)
	}
	return out
}

func (e *logEnv) port() string {
	u, _ := url.Parse(e.URL)
	return u.Port()
}

// TestAPI_RateLimitClockBack: a clock set back doesn't empty the rate
// limit buckets.
func TestAPI_RateLimitClockBack(t *testing.T) {
	env := newLogEnv(t, false)
	env.Do(t, "GET", "/bulut/info", "", nil, 200, nil)
	env.advance(-time.Hour)
	for range 5 {
		env.Do(t, "GET", "/bulut/info", "", nil, 200, nil)
	}
}
