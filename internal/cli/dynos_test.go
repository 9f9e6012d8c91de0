package cli_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/server"
)

// fakeDynoService stands in for the scheduler until it is wired into
// the server: dynos in memory, apps (and accounts) checked against the
// real store, calls recorded. An attached one-off reports its terminal,
// echoes its input, reports resizes and signals, and ends at the end of
// its input or on a line "exit N", with status N (0 by default).
type fakeDynoService struct {
	apps bulut.AppService

	mu    sync.Mutex
	dynos []*bulut.Dyno
	calls []string
	runs  []bulut.DynoRun
}

var _ bulut.DynoService = (*fakeDynoService)(nil)

func (f *fakeDynoService) add(app *bulut.App, name, command, state string, age time.Duration) {
	typ, _, _ := strings.Cut(name, ".")
	at := time.Now().Add(-age)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dynos = append(f.dynos, &bulut.Dyno{ID: bulut.NewID(), AppID: app.ID, AppName: app.Name, Name: name, Type: typ,
		Command: command, Size: bulut.SizeFree, State: state, CreatedAt: at, UpdatedAt: at})
}

func (f *fakeDynoService) record(call string) {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	f.mu.Unlock()
}

func (f *fakeDynoService) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeDynoService) lastRun() bulut.DynoRun {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[len(f.runs)-1]
}

func (f *fakeDynoService) FindDynos(ctx context.Context, app string) ([]*bulut.Dyno, error) {
	a, err := f.apps.FindApp(ctx, app)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*bulut.Dyno
	for _, d := range f.dynos {
		if d.AppID == a.ID {
			c := *d
			out = append(out, &c)
		}
	}
	return out, nil
}

func (f *fakeDynoService) FindDyno(ctx context.Context, app, idOrName string) (*bulut.Dyno, error) {
	ds, err := f.FindDynos(ctx, app)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.ID == idOrName || d.Name == idOrName {
			return d, nil
		}
	}
	return nil, bulut.NotFound("dyno")
}

func (f *fakeDynoService) RestartDynos(ctx context.Context, app, target string) error {
	a, err := f.apps.FindApp(ctx, app)
	if err != nil {
		return err
	}
	if strings.Contains(target, ".") {
		if _, err := f.FindDyno(ctx, app, target); err != nil {
			return err
		}
	}
	f.record(strings.TrimSpace("restart " + a.Name + " " + target))
	return nil
}

func (f *fakeDynoService) StopDyno(ctx context.Context, app, idOrName string) error {
	d, err := f.FindDyno(ctx, app, idOrName)
	if err != nil {
		return err
	}
	f.record("stop " + d.AppName + " " + d.Name)
	return nil
}

func (f *fakeDynoService) RunDyno(ctx context.Context, app string, r bulut.DynoRun) (*bulut.Dyno, error) {
	a, err := f.apps.FindApp(ctx, app)
	if err != nil {
		return nil, err
	}
	size := r.Size
	if size == "" {
		size = bulut.SizeFree
	}
	if _, ok := bulut.Sizes[size]; !ok {
		return nil, bulut.Errorf(bulut.EINVALID, "No such dyno size %q.", size)
	}
	typ := r.Type
	if typ == "" {
		typ = "run"
	}
	now := time.Now()
	d := &bulut.Dyno{ID: bulut.NewID(), AppID: a.ID, AppName: a.Name, Name: fmt.Sprintf("%s.%d", typ, 1000+rand.IntN(9000)),
		Type: typ, Command: r.Command, Size: size, State: bulut.DynoStarting, CreatedAt: now, UpdatedAt: now}
	if r.Attach {
		d.AttachURL = "pending"
	}
	f.mu.Lock()
	f.dynos = append(f.dynos, d)
	f.runs = append(f.runs, r)
	f.mu.Unlock()
	c := *d
	return &c, nil
}

func (f *fakeDynoService) AttachDyno(_ context.Context, id string, dio bulut.DynoIO) (int, error) {
	f.mu.Lock()
	var d *bulut.Dyno
	for _, x := range f.dynos {
		if x.ID == id && x.AttachURL != "" {
			d = x
			x.AttachURL = ""
		}
	}
	f.mu.Unlock()
	if d == nil {
		return -1, bulut.NotFound("dyno")
	}
	fmt.Fprintf(dio.Stdout, "tty=%v size=%dx%d\n", dio.TTY, dio.Size.Rows, dio.Size.Cols)
	lines := make(chan string)
	go func() {
		defer close(lines)
		var line []byte
		buf := make([]byte, 1)
		for {
			if _, err := dio.Stdin.Read(buf); err != nil {
				return
			}
			if buf[0] == '\r' { // a terminal's Enter
				buf[0] = '\n'
			}
			if line = append(line, buf[0]); buf[0] == '\n' {
				lines <- string(line)
				line = nil
			}
		}
	}()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return 0, nil
			}
			if n, found := strings.CutPrefix(strings.TrimSpace(line), "exit "); found {
				return strconv.Atoi(n)
			}
			fmt.Fprintf(dio.Stdout, "echo: %s", line)
		case ws := <-dio.Resize:
			fmt.Fprintf(dio.Stdout, "resize %dx%d\n", ws.Rows, ws.Cols)
		case sig := <-dio.Signal:
			fmt.Fprintf(dio.Stdout, "signal %s\n", sig)
		}
	}
}

// dynoTest is the CLI against the API on the real store with a
// fakeDynoService, logged in as ayse@example.com with app demo.
type dynoTest struct {
	*cliTest
	dynos *fakeDynoService
	store *server.Store
	app   *bulut.App
	ctx   context.Context // acting as ayse
}

func newDynoTest(t *testing.T) *dynoTest {
	t.Helper()
	store := openStore(t)
	services := store.Services()
	fake := &fakeDynoService{apps: services.Apps}
	services.Dynos = fake
	ct, _ := newAPITest(t, api.Config{Services: services, SignupOpen: true})
	const email, password = "ayse@example.com", "correct-horse"
	ct.signup(email, password)
	ct.gitInit()
	ct.mustRun("apps:create", "demo")
	ctx := context.Background()
	acct, err := store.Accounts.Authenticate(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	ctx = bulut.NewContextWithAccount(ctx, acct)
	app, err := store.Apps.FindApp(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	return &dynoTest{cliTest: ct, dynos: fake, store: store, app: app, ctx: ctx}
}

// deploy releases a slug with process types, as a push would.
func (dt *dynoTest) deploy(types map[string]string) {
	dt.t.Helper()
	slug := &bulut.Slug{ProcessTypes: types, Commit: "0123456789abcdef", Stack: bulut.DefaultStack}
	release(dt.t, dt.store.Services(), dt.ctx, slug, "")
}

// quotaPattern is the first line of ps for an app with free dynos.
const quotaPattern = `Free dyno hours quota remaining this month: \d+h \d+m \(\d+%\)`

func TestPs(t *testing.T) {
	dt := newDynoTest(t)
	if got := dt.mustRun("ps").stdout; got != "No dynos on ⬢ demo\n" {
		t.Fatalf("ps = %q", got)
	}
	dt.dynos.add(dt.app, "web.10", "gunicorn app:app", "up", 2*time.Second)
	dt.dynos.add(dt.app, "web.2", "gunicorn app:app", "crashed", 3*time.Second)
	dt.dynos.add(dt.app, "worker.1", "python worker.py", "starting", 0)
	dt.dynos.add(dt.app, "run.4821", "bash", "up", time.Second)
	wantLines(t, dt.mustRun("ps").stdout,
		quotaPattern, ``,
		`=== run: one-off processes \(1\)`,
		`run.4821 \(Free\): up `+agoPattern+`: bash`,
		``,
		`=== web \(Free\): gunicorn app:app \(2\)`,
		`web.2: crashed `+agoPattern,
		`web.10: up `+agoPattern,
		``,
		`=== worker \(Free\): python worker.py \(1\)`,
		`worker.1: starting `+agoPattern,
	)
	wantLines(t, dt.mustRun("ps", "worker", "-a", "demo").stdout, quotaPattern, ``,
		`=== worker \(Free\): python worker.py \(1\)`,
		`worker.1: starting `+agoPattern,
	)
	if got := dt.mustRun("ps", "clock").stdout; got != "No clock dynos on ⬢ demo\n" {
		t.Fatalf("ps clock = %q", got)
	}
	out := dt.mustRun("ps", "web", "--json").stdout
	if !strings.HasPrefix(out, "[\n") || strings.Count(out, `"name": "web.`) != 2 || !strings.Contains(out, `"size": "Free"`) {
		t.Fatalf("ps --json = %s", out)
	}
	dt.run("", "ps", "-a", "nope").wantError(t, 1, "Couldn't find that app.")
}

func TestPsRestartAndStop(t *testing.T) {
	dt := newDynoTest(t)
	dt.deploy(map[string]string{"web": "./web", "worker": "./worker"})
	dt.dynos.add(dt.app, "web.1", "./web", "up", 0)
	dt.dynos.add(dt.app, "worker.1", "./worker", "up", 0)
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"ps:restart"}, "Restarting dynos on ⬢ demo... done\n"},
		{[]string{"restart", "web.1"}, "Restarting web.1 dyno on ⬢ demo... done\n"},
		{[]string{"ps:restart", "web"}, "Restarting web dynos on ⬢ demo... done\n"},
		{[]string{"ps", "restart", "--process-type", "worker"}, "Restarting worker dynos on ⬢ demo... done\n"},
		{[]string{"ps:restart", "-d", "worker.1"}, "Restarting worker.1 dyno on ⬢ demo... done\n"},
		{[]string{"ps:stop", "web.1"}, "Stopping web.1 dyno on ⬢ demo... done\n"},
		{[]string{"ps:stop", "worker"}, "Stopping worker dynos on ⬢ demo... done\n"},
		{[]string{"stop", "-p", "web"}, "Stopping web dynos on ⬢ demo... done\n"},
	} {
		if r := dt.mustRun(c.args...); r.stderr != c.stderr || r.stdout != "" {
			t.Errorf("bulut %s: stderr %q, stdout %q; want stderr %q", strings.Join(c.args, " "), r.stderr, r.stdout, c.stderr)
		}
	}
	want := []string{"restart demo", "restart demo web.1", "restart demo web", "restart demo worker", "restart demo worker.1",
		"stop demo web.1", "stop demo worker.1", "stop demo web.1"}
	if got := dt.dynos.log(); !slices.Equal(got, want) {
		t.Fatalf("calls =\n%q\nwant\n%q", got, want)
	}
	r := dt.run("", "ps:stop", "web.9")
	r.wantError(t, 1, "Couldn't find that dyno.")
	if !strings.HasPrefix(r.stderr, "Stopping web.9 dyno on ⬢ demo... !\n") {
		t.Fatalf("stderr = %q", r.stderr)
	}
	dt.run("", "ps:restart", "clock").wantError(t, 1, "Couldn't find that process type (clock).")
	dt.run("", "ps:stop").wantError(t, 2, "Give the dyno (web.1) or process type (web) to stop.")
	dt.run("", "ps:restart", "web", "-d", "web.1").wantError(t, 2, "not both")
	if got := dt.dynos.log(); len(got) != len(want) {
		t.Fatalf("failed commands made calls: %q", got[len(want):])
	}
}

func TestRun(t *testing.T) {
	dt := newDynoTest(t)
	dt.env["TERM"] = "xterm-256color"

	r := dt.run("hello\nworld\n", "run", "python", "manage.py", "shell")
	if r.code != 0 || r.stdout != "tty=false size=0x0\necho: hello\necho: world\n" {
		t.Fatalf("run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	wantLines(t, r.stderr, `Running python manage.py shell on ⬢ demo\.\.\. up, run\.\d{4}`)
	run := dt.dynos.lastRun()
	if run.Command != "python manage.py shell" || !run.Attach || run.Type != "" || run.Size != "" ||
		fmt.Sprint(run.Env) != "map[TERM:xterm-256color]" {
		t.Fatalf("run = %+v", run)
	}

	// The command's exit status is bulut's, without a message.
	r = dt.run("one\nexit 3\nnever read\n", "run", "bash")
	if r.code != 3 || r.stdout != "tty=false size=0x0\necho: one\n" || strings.Contains(r.stderr, "Error") {
		t.Fatalf("run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// Flags before the command, a trailing -a, --env lists, quoting.
	r = dt.run("", "run", "-e", "A=1;B=x=y", "--env", "C=", "--size", "Standard-2X", "-x", "echo", "a b", `say "hi"`, "-a", "demo")
	if r.code != 0 {
		t.Fatalf("run: exit %d, stderr %q", r.code, r.stderr)
	}
	run = dt.dynos.lastRun()
	if run.Command != `echo "a b" "say \"hi\""` || run.Size != "standard-2x" ||
		fmt.Sprint(run.Env) != "map[A:1 B:x=y C: TERM:xterm-256color]" {
		t.Fatalf("run = %+v", run)
	}
	// After --, the command's own flags stay its own; without it, those
	// after the command's first word too.
	dt.mustRun("run", "--", "ls", "-a", "x")
	if got := dt.dynos.lastRun().Command; got != "ls -a x" {
		t.Fatalf("command = %q", got)
	}
	dt.mustRun("run", "grep", "-e", "x", "--size", "huge")
	if got := dt.dynos.lastRun().Command; got != "grep -e x --size huge" {
		t.Fatalf("command = %q", got)
	}

	dt.run("", "run", "--size", "huge", "bash").wantError(t, 1, `No such dyno size "huge".`)
	dt.run("", "run", "-e", "novalue", "bash").wantError(t, 2, "--env takes KEY=VALUE pairs")
	dt.run("", "run").wantError(t, 2, "requires at least 1 arg")
	dt.run("", "run", "bash", "-a", "nope").wantError(t, 1, "Couldn't find that app.")
}

func TestRunDetached(t *testing.T) {
	dt := newDynoTest(t)
	r := dt.mustRun("run:detached", "--size", "basic", "python", "worker.py", "-a", "demo")
	wantLines(t, r.stderr, `Running python worker.py on ⬢ demo\.\.\. done, run\.\d{4} \(Basic\)`)
	wantLines(t, r.stdout, `Run bulut logs --app demo --dyno run\.\d{4} to view the output\.`)
	if name := strings.Fields(r.stdout)[6]; !strings.Contains(r.stderr, name) {
		t.Fatalf("dyno names differ: %q, %q", r.stderr, r.stdout)
	}
	if run := dt.dynos.lastRun(); run.Attach || run.Command != "python worker.py" || run.Size != "basic" {
		t.Fatalf("run = %+v", run)
	}
}
