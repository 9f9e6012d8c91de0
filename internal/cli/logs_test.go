package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/cli"
)

// memoryLogs is a test double of the log router (bulut.LogService): lines
// in memory per app, tails fed as lines are logged, the filters asked
// for recorded.
type memoryLogs struct {
	mu      sync.Mutex
	lines   map[string][]bulut.LogLine
	tails   map[*memoryTail]bool
	filters []bulut.LogFilter
	last    time.Time
}

type memoryTail struct {
	appID string
	f     bulut.LogFilter
	ch    chan bulut.LogLine
}

var _ bulut.LogService = (*memoryLogs)(nil)

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
	m.filters = append(m.filters, f)
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

// log logs `SOURCE[PROCESS]: TEXT` lines, each a millisecond after the
// last.
func (m *memoryLogs) log(appID string, lines ...string) {
	for _, s := range lines {
		source, rest, _ := strings.Cut(s, "[")
		process, text, _ := strings.Cut(rest, "]: ")
		m.mu.Lock()
		if m.last.IsZero() {
			m.last = time.Date(2026, 12, 1, 13, 22, 0, 123456000, time.UTC)
		}
		m.last = m.last.Add(time.Millisecond)
		at := m.last
		m.mu.Unlock()
		m.Log(appID, bulut.LogLine{Time: at, Source: source, Process: process, Text: text})
	}
}

func (m *memoryLogs) lastFilter() bulut.LogFilter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.filters[len(m.filters)-1]
}

func (m *memoryLogs) openTails() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tails)
}

// logsTest is the CLI against the API on the real store with memoryLogs,
// logged in as ayse@example.com with app demo.
type logsTest struct {
	*cliTest
	logs   *memoryLogs
	server *httptest.Server
	app    *bulut.App

	mu     sync.Mutex
	offset time.Duration
}

func newLogsTest(t *testing.T) *logsTest {
	t.Helper()
	store := openStore(t)
	lt := &logsTest{logs: &memoryLogs{lines: map[string][]bulut.LogLine{}, tails: map[*memoryTail]bool{}}}
	services := store.Services()
	services.Logs = lt.logs
	lt.cliTest, lt.server = newAPITest(t, api.Config{Services: services, SignupOpen: true, Now: func() time.Time {
		lt.mu.Lock()
		defer lt.mu.Unlock()
		return time.Now().Add(lt.offset)
	}})
	const email, password = "ayse@example.com", "correct-horse"
	lt.signup(email, password)
	lt.mustRun("apps:create", "demo", "--no-remote")
	lt.env["BULUT_APP"] = "demo"
	ctx := context.Background()
	acct, err := store.Accounts.Authenticate(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	if lt.app, err = store.Apps.FindApp(bulut.NewContextWithAccount(ctx, acct), "demo"); err != nil {
		t.Fatal(err)
	}
	return lt
}

func (lt *logsTest) advance(d time.Duration) {
	lt.mu.Lock()
	lt.offset += d
	lt.mu.Unlock()
}

// lockedBuffer is a bytes.Buffer safe for a CLI writing while the test
// reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitOutput waits up to a second for the buffer to hold want.
func waitOutput(t *testing.T, b *lockedBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); !strings.Contains(b.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("output without %q after a second:\n%s", want, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// background runs the CLI until ctx ends; wait returns its result.
func (ct *cliTest) background(ctx context.Context, args ...string) (stdout, stderr *lockedBuffer, wait func() int) {
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	env := cli.Env{Stdout: stdout, Stderr: stderr, Getenv: func(k string) string { return ct.env[k] }, Dir: ct.dir}
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, env, args) }()
	return stdout, stderr, func() int {
		select {
		case code := <-done:
			return code
		case <-time.After(5 * time.Second):
			ct.t.Fatal("the CLI didn't end")
			return 0
		}
	}
}

var demoLog = []string{
	"app[web.1]: Listening on :5000",
	`bulut[router]: at=info method=GET path="/" host=demo.localhost request_id=abc fwd="127.0.0.1" dyno=web.1 connect=0ms service=12ms status=200 bytes=20 protocol=http`,
	"app[worker.1]: working",
	"bulut[web.1]: State changed from starting to up",
	"app[api]: Release v2 created by ayse@example.com",
}

// stamped is what logs prints for lines logged by memoryLogs.log.
func stamped(lines ...string) string {
	at := time.Date(2026, 12, 1, 13, 22, 0, 123456000, time.UTC)
	var b strings.Builder
	for _, l := range lines {
		at = at.Add(time.Millisecond)
		b.WriteString(at.Format(bulut.LogTimeFormat) + " " + l + "\n")
	}
	return b.String()
}

func TestLogs(t *testing.T) {
	lt := newLogsTest(t)
	lt.logs.log(lt.app.ID, demoLog...)

	if got, want := lt.mustRun("logs").stdout, stamped(demoLog...); got != want {
		t.Fatalf("logs:\n%s\nwant:\n%s", got, want)
	}
	if f := lt.logs.lastFilter(); f != (bulut.LogFilter{}) {
		t.Fatalf("filter %+v", f)
	}
	if got := lt.mustRun("logs", "-n", "2").stdout; got != stamped(demoLog...)[strings.Index(stamped(demoLog...), "\n2026-12-01T13:22:00.127456")+1:] {
		t.Fatalf("logs -n 2:\n%s", got)
	}
	for _, tc := range []struct {
		args []string
		f    bulut.LogFilter
		n    int // lines printed
	}{
		{[]string{"--dyno", "web.1"}, bulut.LogFilter{Dyno: "web.1"}, 2},
		{[]string{"-d", "web", "-s", "app"}, bulut.LogFilter{Dyno: "web", Source: "app"}, 1},
		{[]string{"--source", "bulut"}, bulut.LogFilter{Source: "bulut"}, 2},
		{[]string{"-s", "heroku", "--dyno", "router"}, bulut.LogFilter{Source: "bulut", Dyno: "router"}, 1},
		{[]string{"-p", "worker"}, bulut.LogFilter{ProcessType: "worker"}, 1},
		{[]string{"--process-type", "web", "-n", "1500"}, bulut.LogFilter{ProcessType: "web"}, 2},
	} {
		out := lt.mustRun(append([]string{"logs"}, tc.args...)...).stdout
		if n := strings.Count(out, "\n"); n != tc.n || strings.Contains(out, "\x1b[") {
			t.Fatalf("logs %q printed:\n%s", tc.args, out)
		}
		if f := lt.logs.lastFilter(); f != tc.f {
			t.Fatalf("logs %q: filter %+v, want %+v", tc.args, f, tc.f)
		}
	}

	t.Run("ForceColors", func(t *testing.T) {
		out := lt.mustRun("logs", "--force-colors").stdout
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(demoLog) {
			t.Fatalf("lines:\n%s", out)
		}
		web := "\x1b[33mapp[web.1]:\x1b[0m"
		for i, want := range []string{
			"\x1b[2m2026-12-01T13:22:00.124456+00:00\x1b[0m " + web + " Listening on :5000",
			"\x1b[32mbulut[router]:\x1b[0m \x1b[2mat=\x1b[0m\x1b[2minfo\x1b[0m \x1b[2mmethod=\x1b[0m\x1b[1;35mGET\x1b[0m",
			"\x1b[36mapp[worker.1]:\x1b[0m working",
			"\x1b[33mbulut[web.1]:\x1b[0m State changed from \x1b[93mstarting\x1b[0m to \x1b[92mup\x1b[0m",
			"\x1b[35mapp[api]:\x1b[0m Release \x1b[35mv2\x1b[0m created by \x1b[32mayse@example.com\x1b[0m",
		} {
			if !strings.Contains(lines[i], want) {
				t.Fatalf("line %d = %q, want it to contain %q", i, lines[i], want)
			}
		}
		for _, want := range []string{"\x1b[2mdyno=\x1b[0m\x1b[33mweb.1\x1b[0m", "\x1b[2mstatus=\x1b[0m\x1b[32m200\x1b[0m",
			"\x1b[2mservice=\x1b[0m\x1b[92m12ms\x1b[0m"} {
			if !strings.Contains(lines[1], want) {
				t.Fatalf("router line %q, want it to contain %q", lines[1], want)
			}
		}
		// Without the escapes, the text is the same.
		plain := strings.NewReplacer("\x1b[0m", "", "\x1b[2m", "", "\x1b[33m", "", "\x1b[32m", "", "\x1b[36m", "", "\x1b[35m", "",
			"\x1b[1;35m", "", "\x1b[93m", "", "\x1b[92m", "").Replace(out)
		if plain != stamped(demoLog...) {
			t.Fatalf("colours changed the text:\n%q", plain)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		lt.run("", "logs", "-n", "0").wantError(t, 2, "--num must be between 1 and 1500.")
		lt.run("", "logs", "-n", "1501").wantError(t, 2, "--num must be between 1 and 1500.")
		lt.run("", "logs", "-s", "router").wantError(t, 2, `--source must be app or bulut, not "router".`)
		lt.run("", "logs", "-d", "web.1", "-p", "web").wantError(t, 2, "--dyno and --process-type can't be used together.")
		lt.run("", "logs", "-d", "web 1").wantError(t, 1, `Invalid dyno "web 1"`)
		lt.run("", "logs", "-a", "missing").wantError(t, 1, "Couldn't find that app.")
	})
}

func TestLogsTail(t *testing.T) {
	lt := newLogsTest(t)
	lt.logs.log(lt.app.ID, demoLog...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr, wait := lt.background(ctx, "logs", "--tail", "-a", "demo", "-n", "1", "--dyno", "web")
	waitOutput(t, stdout, stamped(demoLog...)[strings.Index(stamped(demoLog...), "\n2026-12-01T13:22:00.127456")+1:strings.Index(stamped(demoLog...), "\n2026-12-01T13:22:00.128456")+1])
	for lt.logs.openTails() == 0 {
		time.Sleep(time.Millisecond)
	}
	lt.logs.log(lt.app.ID, "app[worker.1]: not this", "app[web.2]: new line")
	waitOutput(t, stdout, " app[web.2]: new line\n")

	// The connection is lost: the CLI reconnects and goes on after the
	// last line it printed, repeating none.
	lt.server.CloseClientConnections()
	waitOutput(t, stderr, "Log stream interrupted, reconnecting...")
	lt.logs.log(lt.app.ID, "app[web.1]: while away")
	for lt.logs.openTails() == 0 {
		time.Sleep(time.Millisecond)
	}
	lt.logs.log(lt.app.ID, "app[web.1]: back")
	waitOutput(t, stdout, " app[web.1]: back\n")
	want := []string{"bulut[web.1]: State changed from starting to up", "app[web.2]: new line", "app[web.1]: while away", "app[web.1]: back"}
	if got := texts(stdout.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tail printed:\n%s", stdout.String())
	}

	// Ctrl-C ends it quietly.
	cancel()
	if code := wait(); code != 130 || strings.Contains(stderr.String(), "Error") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// texts strips the times of printed lines.
func texts(out string) []string {
	var lines []string
	for l := range strings.Lines(out) {
		_, text, _ := strings.Cut(strings.TrimSuffix(l, "\n"), " ")
		lines = append(lines, text)
	}
	return lines
}

func TestLogsTailExpiredSession(t *testing.T) {
	lt := newLogsTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, _, wait := lt.background(ctx, "logs", "-t", "-a", "demo")
	for lt.logs.openTails() == 0 {
		time.Sleep(time.Millisecond)
	}
	lt.logs.log(lt.app.ID, "app[web.1]: one")
	waitOutput(t, stdout, " app[web.1]: one\n")
	// Two hours later the connection is lost: the old URL is refused, the
	// CLI makes a new session and resumes.
	lt.advance(2 * time.Hour)
	lt.server.CloseClientConnections()
	lt.logs.log(lt.app.ID, "app[web.1]: two")
	waitOutput(t, stdout, " app[web.1]: two\n")
	if got := texts(stdout.String()); strings.Join(got, ",") != "app[web.1]: one,app[web.1]: two" {
		t.Fatalf("printed:\n%s", stdout.String())
	}
	cancel()
	wait()
}

func TestDrains(t *testing.T) {
	lt := newLogsTest(t)
	if got := lt.mustRun("drains", "-a", "demo").stdout; got != "⬢ demo has no log drains.\n" {
		t.Fatalf("drains = %q", got)
	}
	if got := lt.mustRun("drains:add", "syslog+tls://logs.example.com:6514", "-a", "demo").stdout; got != "Successfully added drain syslog+tls://logs.example.com:6514\n" {
		t.Fatalf("drains:add = %q", got)
	}
	lt.mustRun("drains:add", "https://user:pass@logs.example.com/in?x=1", "-a", "demo")
	var drains []struct{ ID, URL, Token string }
	if err := json.Unmarshal([]byte(lt.mustRun("drains", "--json", "-a", "demo").stdout), &drains); err != nil || len(drains) != 2 {
		t.Fatalf("drains --json: %v %+v", err, drains)
	}
	want := "=== Drains\n\n" +
		"syslog+tls://logs.example.com:6514 (" + drains[0].Token + ")\n" +
		"https://user:pass@logs.example.com/in?x=1 (" + drains[1].Token + ")\n"
	if got := lt.mustRun("drains", "-a", "demo").stdout; got != want {
		t.Fatalf("drains:\n%s\nwant:\n%s", got, want)
	}

	lt.run("", "drains:add", "http://logs.example.com/", "-a", "demo").wantError(t, 1, "syslog://HOST:PORT")
	lt.run("", "drains:add", "syslog+tls://logs.example.com:6514", "-a", "demo").wantError(t, 1, "already drains")
	lt.run("", "drains:add", "-a", "demo").wantError(t, 2, "accepts 1 arg")

	// By URL (with a path and a query), then by token.
	if got := lt.mustRun("drains:remove", "https://user:pass@logs.example.com/in?x=1", "-a", "demo").stdout; got != "Successfully removed drain https://user:pass@logs.example.com/in?x=1\n" {
		t.Fatalf("drains:remove = %q", got)
	}
	if got := lt.mustRun("drains:remove", drains[0].Token, "-a", "demo").stdout; got != "Successfully removed drain syslog+tls://logs.example.com:6514\n" {
		t.Fatalf("drains:remove = %q", got)
	}
	lt.run("", "drains:remove", drains[0].Token, "-a", "demo").wantError(t, 1, "Couldn't find that log drain.")
	if got := lt.mustRun("drains", "--json", "-a", "demo").stdout; got != "[]\n" {
		t.Fatalf("drains --json = %q", got)
	}
}

func TestAgainstServer_Logs(t *testing.T) {
	ct, _ := newServerTest(t)
	ct.signup("ayse@example.com", "correct-horse")
	ct.mustRun("apps:create", "demo", "--no-remote")
	ct.env["BULUT_APP"] = "demo"

	out := ct.mustRun("logs").stdout
	if !strings.Contains(out, " app[api]: Release v1 created by ayse@example.com\n") || strings.Contains(out, "\x1b") {
		t.Fatalf("logs:\n%s", out)
	}
	if out := ct.mustRun("logs", "-s", "bulut").stdout; strings.Contains(out, "app[api]") {
		t.Fatalf("logs -s bulut:\n%s", out)
	}
	if out := ct.mustRun("logs", "-n", "1", "-d", "api").stdout; strings.Count(out, "\n") != 1 || !strings.Contains(out, " app[api]: ") {
		t.Fatalf("logs -n 1 -d api:\n%s", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr, wait := ct.background(ctx, "logs", "--tail", "-n", "1")
	waitOutput(t, stdout, " app[api]: ")
	printed := len(stdout.String())
	start := time.Now()
	ct.mustRun("config:set", "FOO=bar")
	waitOutput(t, stdout, " app[api]: Set FOO config vars by ayse@example.com\n")
	t.Logf("tail latency (config:set included): %v", time.Since(start))
	if !strings.HasPrefix(stdout.String()[printed:], "20") {
		t.Fatalf("tail printed:\n%s", stdout.String())
	}
	cancel()
	if code := wait(); code != 130 || stderr.String() != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}
