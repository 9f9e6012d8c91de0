package scheduler_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/dynoinit"
	"github.com/bulut-bulut/bulut/internal/runtime"
	"github.com/bulut-bulut/bulut/internal/runtime/local"
	"github.com/bulut-bulut/bulut/internal/scheduler"
	"github.com/bulut-bulut/bulut/internal/store/fsblob"
)

// TestMain lets the test binary be the dyno's init (`bulut dyno-init`)
// for the local runtime.
// It also checks that no process of this run's dynos is left.
func TestMain(m *testing.M) {
	if os.Getenv("BULUT_TEST_DYNOINIT") == "1" {
		os.Exit(dynoinit.Main(os.Args[1:]))
	}
	code := m.Run()
	if leanInitDir != "" {
		os.RemoveAll(leanInitDir)
	}
	if left := leftovers(); code == 0 && len(left) > 0 {
		fmt.Fprintf(os.Stderr, "processes of this run's dynos are left: %v\n", left)
		code = 1
	}
	os.Exit(code)
}

// runMarker is in the environment of every process of this test run's
// real dynos.
var runMarker = "BULUT_TEST_RUN=" + strconv.Itoa(os.Getpid())

// leftovers returns the PIDs of processes with runMarker in their
// environment.
func leftovers() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + ent.Name() + "/environ")
		if err == nil && slices.Contains(strings.Split(string(env), "\x00"), runMarker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// localEnv is a scheduler with the real local runtime: real processes,
// isolated as well as this machine allows.
func localEnv(t testing.TB, timings scheduler.Timings) (*env, *fsblob.Store) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return localEnvInit(t, timings, []string{"env", "BULUT_TEST_DYNOINIT=1", runMarker, exe})
}

// localEnvInit is localEnv with another init command.
func localEnvInit(t testing.TB, timings scheduler.Timings, initCommand []string) (*env, *fsblob.Store) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs real dynos")
	}
	dir := t.TempDir()
	blobs := fsblob.New(filepath.Join(dir, "blobs"))
	var logs syncBuffer
	e := newEnvWith(t, timings, func(e *env) runtime.Runtime {
		rt, err := local.New(local.Config{Blobs: blobs, DataDir: filepath.Join(dir, "data"),
			InitCommand: initCommand, HiddenPaths: []string{dir},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return rt
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runtime log:\n%s", logs.String())
		}
	})
	return e, blobs
}

// deploySlug stores a slug with files (paths under /app; bin/* are
// executable) and releases it.
func (e *env) deploySlug(ctx context.Context, blobs bulut.BlobStore, app *bulut.App, types map[string]string, files map[string]string) *bulut.Release {
	e.t.Helper()
	slug := &bulut.Slug{ProcessTypes: types, Commit: "0123456789abcdef0123456789abcdef01234567"}
	if err := e.svc.Slugs.CreateSlug(ctx, app.ID, slug); err != nil {
		e.t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, name := range slices.Sorted(maps.Keys(files)) {
		body := files[name]
		mode := int64(0o644)
		if strings.HasPrefix(name, "bin/") {
			mode = 0o755
		}
		tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	if _, err := blobs.PutBlob(context.Background(), bulut.SlugBlobKey(slug.ID), &buf); err != nil {
		e.t.Fatal(err)
	}
	rel, err := e.svc.Releases.CreateRelease(ctx, app.ID, slug.ID, "Deploy 01234567")
	if err != nil {
		e.t.Fatal(err)
	}
	e.s.Reconcile(app.ID)
	return rel
}

// echoApp answers every request with its $DYNO and a config var.
const echoApp = `import http.server, os

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (os.environ["DYNO"] + " " + os.environ.get("GREETING", "") + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

print("listening on", os.environ["PORT"], flush=True)
http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), Handler).serve_forever()
`

func TestLocalWebDynos(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.DrainDelay = 200 * time.Millisecond
	e, blobs := localEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.setConfig(ctx, app, "GREETING", "hello")
	e.deploySlug(ctx, blobs, app, map[string]string{"web": "python3 app.py"}, map[string]string{"app.py": echoApp})

	// web.1 goes up, is routed, and answers.
	e.waitPS(ctx, app, "web.1:up")
	rt := e.waitRoute(app, "web.1 routed", func(r bulut.Route) bool { return len(r.Backends) == 1 })
	if got := get(t, rt.Backends[0]); got != "web.1 hello\n" {
		t.Fatalf("web.1 answers %q", got)
	}
	e.waitOutput(app, "web.1", "Starting process with command `python3 app.py`", "State changed from starting to up")
	e.waitOutput(app, "web.1", "app[web.1]: listening on")

	// web=3: three distinct dynos answer.
	e.scale(ctx, app, "web=3")
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "web.3:up")
	rt = e.waitRoute(app, "three backends", func(r bulut.Route) bool { return len(r.Backends) == 3 })
	answers := map[string]bool{}
	for _, b := range rt.Backends {
		answers[get(t, b)] = true
	}
	if want := map[string]bool{"web.1 hello\n": true, "web.2 hello\n": true, "web.3 hello\n": true}; !maps.Equal(answers, want) {
		t.Fatalf("answers %v, want %v", answers, want)
	}
	// (The leftover check of TestMain sees them.)
	if n := len(leftovers()); n < 3 {
		t.Fatalf("%d processes with the run's marker, want at least 3", n)
	}

	// A config change rolls them without a failed request.
	tr := e.traffic(app)
	e.setConfig(ctx, app, "GREETING", "bonjour")
	waitFor(t, "the new config to serve", func() bool {
		rt, _ := e.routes.route(app.ID)
		if len(rt.Backends) != 3 {
			return false
		}
		for _, b := range rt.Backends {
			if !strings.HasSuffix(get(t, b), " bonjour\n") {
				return false
			}
		}
		return true
	}, nil)
	e.waitPS(ctx, app, "web.1:up", "web.2:up", "web.3:up")
	tr.end(t)

	// web=0: nothing left.
	e.scale(ctx, app, "web=0")
	e.waitPS(ctx, app)
	e.waitOutput(app, "web.3", "Stopping all processes with SIGTERM", "State changed from up to down")
}

func TestLocalCrashAndExitTimeout(t *testing.T) {
	t.Parallel()
	timings := testTimings()
	timings.StopGrace = 300 * time.Millisecond
	timings.BootTimeout = 500 * time.Millisecond
	e, blobs := localEnv(t, timings)
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploySlug(ctx, blobs, app, map[string]string{
		"web":    "sleep 600",
		"worker": "echo about to fail; exit 3",
		"stuck":  "trap '' TERM; echo ready; sleep 600",
	}, map[string]string{"README": "a test app\n"})
	e.scale(ctx, app, "worker=1", "stuck=1")
	// A web dyno that never binds: R10.
	e.waitOutput(app, "web.1", "Error R10 (Boot timeout)", "Stopping process with SIGKILL", "State changed from starting to crashed")
	// A crash: restarted at once, then cooling off.
	e.waitOutput(app, "worker.1", "app[worker.1]: about to fail", "Process exited with status 3", "State changed from up to crashed",
		"State changed from crashed to starting", "app[worker.1]: about to fail", "Process exited with status 3")
	e.waitOutput(app, "stuck.1", "app[stuck.1]: ready")
	e.waitPS(ctx, app, "stuck.1:up", "web.1:crashed", "worker.1:crashed")
	// A process that ignores SIGTERM: R12.
	e.scale(ctx, app, "stuck=0")
	e.waitOutput(app, "stuck.1", "Stopping all processes with SIGTERM", "Error R12 (Exit timeout)",
		"Stopping remaining processes with SIGKILL", "State changed from up to down")
	e.waitPS(ctx, app, "web.1:crashed", "worker.1:crashed")
}

func TestLocalRun(t *testing.T) {
	t.Parallel()
	e, blobs := localEnv(t, testTimings())
	ctx := e.account("alice@example.com")
	app := e.app(ctx, "my-app")
	e.deploySlug(ctx, blobs, app, map[string]string{"web": "python3 app.py", "hello": "echo hello from"}, map[string]string{"app.py": echoApp})
	e.waitPS(ctx, app, "web.1:up")
	d, err := e.s.RunDyno(ctx, app.Name, bulut.DynoRun{Command: "hello $DYNO; cat; exit 5", Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	code, err := e.s.AttachDyno(context.Background(), d.ID, bulut.DynoIO{Stdin: strings.NewReader("typed\n"), Stdout: &out})
	if err != nil || code != 5 {
		t.Fatalf("AttachDyno = %d, %v", code, err)
	}
	if want := "hello from " + d.Name + "\ntyped\n"; out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
	e.waitPS(ctx, app, "web.1:up")
}
