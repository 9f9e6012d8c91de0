package scheduler_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

var runName = regexp.MustCompile(`^run\.[1-9][0-9]{3}$`)

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestRunDetached(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	rel := e.setConfig(ctx, app, "FOO", "bar")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.waitPS(ctx, app, "web.1:up")

	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "print hello; env; sleep 200ms; exit 3", Env: map[string]string{"TERM": "xterm"}})
	if err != nil {
		t.Fatal(err)
	}
	if !runName.MatchString(d.Name) || d.Type != "run" || d.State != bulut.DynoStarting || !bulut.IsID(d.ID) ||
		d.AttachURL != "" || d.AppName != app.Name || d.Size != bulut.SizeFree || d.ReleaseVersion != rel.Version+1 ||
		d.Command != "print hello; env; sleep 200ms; exit 3" {
		t.Fatalf("RunDyno = %+v", d)
	}
	e.waitPS(ctx, app, d.Name+":up", "web.1:up")
	lines := e.waitOutput(app, d.Name, "Starting process with command `print hello; env; sleep 200ms; exit 3`",
		"State changed from starting to up", "app["+d.Name+"]: hello", "app["+d.Name+"]: DYNO="+d.Name,
		"app["+d.Name+"]: FOO=bar", "app["+d.Name+"]: TERM=xterm",
		"Process exited with status 3", "State changed from up to complete")
	if count(lines, "PORT=") > 0 {
		t.Errorf("a one-off has a PORT:\n%s", strings.Join(lines, "\n"))
	}
	// Done: gone, never restarted; its output stays, also by ID.
	e.waitPS(ctx, app, "web.1:up")
	never(t, "the one-off restarted", 100*time.Millisecond, func() bool { return len(e.host.byName(d.Name)) > 1 })
	if got := e.output(app, d.ID); !containsInOrder(got, "hello", "State changed from up to complete") {
		t.Fatalf("output by ID:\n%s", strings.Join(got, "\n"))
	}
	_, err = e.s.FindDyno(ctx, app.Name, d.Name)
	assertCode(t, err, bulut.ENOTFOUND)
	// A crash is no different.
	d, err = e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "exit 1"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitOutput(app, d.Name, "Process exited with status 1", "State changed from up to complete")
	e.waitPS(ctx, app, "web.1:up")
	if len(e.host.byName(d.Name)) != 1 {
		t.Fatal("the one-off was restarted")
	}
}

func TestRunAttached(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.waitPS(ctx, app, "web.1:up")

	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "tty; cat; exit 7", Attach: true, Env: map[string]string{"COLUMNS": "80"}})
	if err != nil {
		t.Fatal(err)
	}
	if !runName.MatchString(d.Name) || d.State != bulut.DynoStarting || d.AttachURL != "" {
		t.Fatalf("RunDyno = %+v", d)
	}
	// Waiting for its terminal: nothing runs yet.
	never(t, "an attached dyno started before its terminal", 50*time.Millisecond, func() bool { return len(e.host.byName(d.Name)) > 0 })
	if got := e.ps(ctx, app); len(got) != 2 || got[0] != d.Name+":starting" {
		t.Fatalf("ps: %q", got)
	}
	var out syncBuffer
	resize := make(chan bulut.WindowSize)
	code, err := e.s.AttachDyno(context.Background(), d.ID, bulut.DynoIO{Stdin: strings.NewReader("some input\n"), Stdout: &out,
		TTY: true, Size: bulut.WindowSize{Rows: 24, Cols: 80}, Resize: resize})
	if err != nil || code != 7 {
		t.Fatalf("AttachDyno = %d, %v", code, err)
	}
	if out.String() != "tty\nsome input\n" {
		t.Fatalf("terminal output %q", out.String())
	}
	i := e.host.byName(d.Name)[0]
	if i.spec.IO == nil || !i.spec.IO.TTY || i.spec.IO.Size.Cols != 80 || i.spec.IO.Resize != resize || i.spec.Output != nil || i.env["COLUMNS"] != "80" {
		t.Fatalf("spec %+v", i.spec)
	}
	// Only the dyno manager's lines are in its output, as on Heroku.
	lines := e.waitOutput(app, d.Name, "Starting process with command `tty; cat; exit 7`", "State changed from starting to up",
		"Process exited with status 7", "State changed from up to complete")
	if count(lines, "app[") > 0 {
		t.Errorf("output:\n%s", strings.Join(lines, "\n"))
	}
	e.waitPS(ctx, app, "web.1:up")
	// Once only.
	_, err = e.s.AttachDyno(context.Background(), d.ID, bulut.DynoIO{Stdin: strings.NewReader(""), Stdout: &out})
	assertCode(t, err, bulut.ENOTFOUND)
	_, err = e.s.AttachDyno(context.Background(), bulut.NewID(), bulut.DynoIO{Stdin: strings.NewReader(""), Stdout: &out})
	assertCode(t, err, bulut.ENOTFOUND)
	// A formation dyno can't be attached to.
	_, err = e.s.AttachDyno(context.Background(), e.dynos(ctx, app)[0].ID, bulut.DynoIO{Stdin: strings.NewReader(""), Stdout: &out})
	assertCode(t, err, bulut.ENOTFOUND)
	// Nor can a detached one-off.
	det, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "run"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.AttachDyno(context.Background(), det.ID, bulut.DynoIO{Stdin: strings.NewReader(""), Stdout: &out})
	assertCode(t, err, bulut.ENOTFOUND)
}

func TestRunAttachedCanceled(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.StopGrace = 100 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.waitPS(ctx, app, "web.1:up")
	for _, cmd := range []string{"run", "ignore-term"} {
		d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: cmd, Attach: true})
		if err != nil {
			t.Fatal(err)
		}
		actx, cancel := context.WithCancel(context.Background())
		go func() {
			waitFor(t, "the one-off to run", func() bool { return len(e.host.byName(d.Name)) == 1 }, nil)
			cancel()
		}()
		code, err := e.s.AttachDyno(actx, d.ID, bulut.DynoIO{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}})
		want := 143 // SIGTERM
		if cmd == "ignore-term" {
			want = 137 // SIGKILL after the grace
		}
		if err != nil || code != want {
			t.Fatalf("%s: AttachDyno after cancel = %d, %v; want %d", cmd, code, err, want)
		}
		if i := e.host.byName(d.Name)[0]; !i.ended() {
			t.Fatalf("%s still runs", d.Name)
		}
		e.waitPS(ctx, app, "web.1:up")
	}
}

func TestRunAttachTimeout(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.AttachTimeout = 100 * time.Millisecond
	e := newEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	e.waitPS(ctx, app, "web.1:up")
	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "bash", Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	e.waitPS(ctx, app, "web.1:up")
	e.waitOutput(app, d.Name, "Error R13 (Attach error) -> Failed to attach to process")
	_, err = e.s.AttachDyno(context.Background(), d.ID, bulut.DynoIO{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}})
	assertCode(t, err, bulut.ENOTFOUND)
	if len(e.host.byName(d.Name)) != 0 {
		t.Fatal("a dropped one-off ran")
	}
}

func TestRunCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")

	// Before any deploy: an empty /app.
	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "print hi; exit 0"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitOutput(app, d.Name, "app["+d.Name+"]: hi", "State changed from up to complete")
	if i := e.host.byName(d.Name)[0]; i.spec.SlugKey != "" || i.spec.Release == "" {
		t.Fatalf("spec %+v", i.spec)
	}

	e.deploy(ctx, app, map[string]string{"web": "listen", "worker": "print working"})
	e.scale(ctx, app, "web:standard-2x")
	// A process type as the first word is replaced by its command, the
	// other words appended ("worker;" is not the word "worker").
	d, err = e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "worker; exit 4"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Command != "worker; exit 4" {
		t.Fatalf("command %q", d.Command)
	}
	d, err = e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "worker 42"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Command != "print working 42" {
		t.Fatalf("command %q, want the worker's with the argument", d.Command)
	}
	e.waitOutput(app, d.Name, "app["+d.Name+"]: working 42")
	// The size defaults to web's; it may be given, in any case.
	if d.Size != bulut.SizeStandard2X {
		t.Fatalf("size %q, want web's", d.Size)
	}
	d, err = e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "exit 0", Size: "Performance-M", Type: "release"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Size != bulut.SizePerformance || !regexp.MustCompile(`^release\.\d{4}$`).MatchString(d.Name) || d.Type != "release" {
		t.Fatalf("%+v", d)
	}
	waitFor(t, "the release dyno to run", func() bool { return len(e.host.byName(d.Name)) == 1 }, nil)
	if i := e.host.byName(d.Name)[0]; i.spec.Memory != 2560<<20 {
		t.Fatalf("memory %d", i.spec.Memory)
	}

	for _, r := range []bulut.DynoRun{{Command: ""}, {Command: "  "}, {Command: "x", Size: "huge"}, {Command: "x", Type: "Bad Type"}} {
		_, err := e.s.RunDyno(ctx, app.Name, r)
		assertCode(t, err, bulut.EINVALID)
	}
	_, err = e.s.RunDyno(ctx, "no-such-app", bulut.DynoRun{Command: "x"})
	assertCode(t, err, bulut.ENOTFOUND)
}

func TestRunNamesUnique(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploy(ctx, app, map[string]string{"web": "listen"})
	names := map[string]bool{}
	for range 100 {
		d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "run", Attach: true})
		if err != nil {
			t.Fatal(err)
		}
		if names[d.Name] {
			t.Fatalf("%s given twice", d.Name)
		}
		names[d.Name] = true
	}
}
