package local_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/dynoinit"
	"github.com/bulut-bulut/bulut/internal/runtime"
	"github.com/bulut-bulut/bulut/internal/runtime/local"
	"github.com/bulut-bulut/bulut/internal/sandbox"
)

// The test binary doubles as the dyno init (`bulut dyno-init`) when run
// with BULUT_TEST_DYNOINIT=1, and as a server that gets killed with
// BULUT_TEST_CRASHER=1 (see TestCleanupAfterCrash).
func TestMain(m *testing.M) {
	if os.Getenv("BULUT_TEST_DYNOINIT") == "1" {
		os.Exit(dynoinit.Main(os.Args[1:]))
	}
	if os.Getenv("BULUT_TEST_CRASHER") == "1" {
		os.Exit(crasher())
	}
	before := hostState()
	code := m.Run()
	if after := hostState(); code == 0 && after != before {
		fmt.Fprintf(os.Stderr, "the tests left something on the host:\nbefore:\n%s\nafter:\n%s\n", before, after)
		code = 1
	}
	os.Exit(code)
}

// idPrefix marks this run's dynos (and so their cgroups).
var idPrefix = fmt.Sprintf("lt%d-", os.Getpid())

// hostState describes what the tests must not change: the top-level
// directories, this process's mounts and the cgroups of this run's dynos.
func hostState() string {
	var b strings.Builder
	ents, _ := os.ReadDir("/")
	for _, e := range ents {
		b.WriteString(e.Name() + " ")
	}
	b.WriteString("\n")
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			b.WriteString(f[4] + " ")
		}
	}
	b.WriteString("\n")
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Contains(d.Name(), idPrefix) {
			b.WriteString("cgroup " + p + "\n")
			return filepath.SkipDir
		}
		return nil
	})
	return b.String()
}

func initCommand(t testing.TB) []string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{"env", "BULUT_TEST_DYNOINIT=1", exe}
}

// memBlobs is a BlobStore in memory.
type memBlobs struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (b *memBlobs) PutBlob(ctx context.Context, key string, r io.Reader) (int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string][]byte{}
	}
	b.m[key] = data
	return int64(len(data)), nil
}

func (b *memBlobs) OpenBlob(ctx context.Context, key string) (io.ReadCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.m[key]
	if !ok {
		return nil, bulut.Errorf(bulut.ENOTFOUND, "no blob %s", key)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (b *memBlobs) DeleteBlob(ctx context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
	return nil
}

// slugFile is a file of a test slug: content, or a symlink target with
// link set.
type slugFile struct {
	body string
	mode int64
	link bool
}

// makeSlug stores a slug as the builder makes them (paths relative to
// /app) and returns its key.
func makeSlug(t testing.TB, blobs *memBlobs, key string, files map[string]slugFile) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		f := files[n]
		for d := filepath.Dir(n); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
			tw.WriteHeader(&tar.Header{Name: "./" + d + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		if f.link {
			tw.WriteHeader(&tar.Header{Name: "./" + n, Typeflag: tar.TypeSymlink, Linkname: f.body})
			continue
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		tw.WriteHeader(&tar.Header{Name: "./" + n, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(f.body)), ModTime: time.Unix(1700000000, 0)})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	if _, err := blobs.PutBlob(context.Background(), key, &buf); err != nil {
		t.Fatal(err)
	}
	return key
}

type fixture struct {
	rt    *local.Runtime
	blobs *memBlobs
	data  string
	logs  *syncBuffer
}

// modes are the modes this machine can test.
func modes(t testing.TB) []string {
	var ms []string
	if os.Geteuid() == 0 && sandbox.Mode() == sandbox.ModeNamespace {
		ms = append(ms, sandbox.ModeNamespace)
	}
	if userNamespaces() {
		ms = append(ms, sandbox.ModeUserNamespace)
	}
	return append(ms, sandbox.ModeNone)
}

var userNamespaces = sync.OnceValue(func() bool {
	return exec.Command("unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "true").Run() == nil
})

func newFixture(t testing.TB, mode string, hidden ...string) *fixture {
	t.Helper()
	f := &fixture{blobs: &memBlobs{}, data: filepath.Join(t.TempDir(), "data"), logs: &syncBuffer{}}
	rt, err := local.New(local.Config{Blobs: f.blobs, DataDir: f.data, InitCommand: initCommand(t), HiddenPaths: hidden,
		Mode: mode, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.rt = rt
	return f
}

var seq struct {
	sync.Mutex
	n int
}

func newID() string {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return idPrefix + strconv.Itoa(seq.n)
}

var testEnv = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/app"}

func (f *fixture) spec(name, command, slug string) runtime.Spec {
	return runtime.Spec{ID: newID(), Name: name, AppID: "app1", Release: "rel-" + slug, SlugKey: slug, Command: command,
		Env: append(slices.Clone(testEnv), "DYNO="+name)}
}

// start starts a dyno whose output goes to the returned buffer.
func (f *fixture) start(t testing.TB, s runtime.Spec) (runtime.Instance, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	if s.Output == nil && s.IO == nil {
		s.Output = out
	}
	inst, err := f.rt.Start(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		inst.Stop(0)
		<-inst.Done()
	})
	return inst, out
}

// run runs a dyno to its end.
func (f *fixture) run(t testing.TB, s runtime.Spec) (string, runtime.Exit) {
	t.Helper()
	inst, out := f.start(t, s)
	select {
	case <-inst.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("dyno %q still runs: %s", s.Command, out.String())
	}
	return out.String(), inst.Exit()
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

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

// marked lists the host's sleep processes whose command line holds marker.
func marked(marker string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(b), "sleep\x00") && strings.Contains(string(b), marker) {
			stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
				continue
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

func waitNoMarked(t testing.TB, marker string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(marked(marker)) > 0 {
		if time.Now().After(deadline) {
			pids := marked(marker)
			for _, p := range pids {
				syscall.Kill(p, syscall.SIGKILL)
			}
			t.Fatalf("processes left running: %v", pids)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func forModes(t *testing.T, f func(t *testing.T, mode string)) {
	for _, mode := range modes(t) {
		t.Run(mode, func(t *testing.T) { f(t, mode) })
	}
}

func TestEphemeralFilesystem(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		slug := makeSlug(t, f.blobs, "slugs/eph.tgz", map[string]slugFile{"hello": {body: "hello\n"}, "bin/run": {body: "#!/bin/sh\necho ran\n", mode: 0o755}})
		write := `cat hello; bin/run; echo changed > hello; echo new > new; echo tmp > "${TMPDIR:-/tmp}/t"; mkdir -p d && echo x > d/x; cat hello new; pwd; echo "$HOME"`
		out, exit := f.run(t, f.spec("run.1", write, slug))
		home := "/app"
		if mode == sandbox.ModeNone {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			home = lines[len(lines)-1]
		}
		if want := "hello\nran\nchanged\nnew\n" + home + "\n" + home + "\n"; out != want || exit.Code != 0 {
			t.Fatalf("first dyno: %q %+v, want %q", out, exit, want)
		}
		check := `cat hello; ls; ls "${TMPDIR:-/tmp}" 2>/dev/null | grep -c '^t$' || true`
		out, exit = f.run(t, f.spec("run.2", check, slug))
		if want := "hello\nbin\nhello\n0\n"; out != want || exit.Code != 0 {
			t.Errorf("second dyno saw %q %+v, want %q", out, exit, want)
		}
		// Two dynos at once don't see each other's writes.
		a, aOut := f.start(t, f.spec("web.1", `echo a > mine-a; echo a > "${TMPDIR:-/tmp}/mine-a"; echo ready; exec sleep 100`, slug))
		waitFor(t, "dyno a", func() bool { return strings.Contains(aOut.String(), "ready") })
		out, _ = f.run(t, f.spec("web.2", `ls . "${TMPDIR:-/tmp}" 2>/dev/null | grep -c mine-a || true`, slug))
		if out != "0\n" {
			t.Errorf("another dyno sees the first one's files: %q", out)
		}
		a.Stop(time.Second)
		<-a.Done()
		if ents, _ := os.ReadDir(filepath.Join(f.data, "dynos")); len(ents) != 0 {
			t.Errorf("dyno directories left: %v", ents)
		}
	})
}

func TestProfileAndEnvironment(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		slug := makeSlug(t, f.blobs, "slugs/env.tgz", map[string]slugFile{
			".profile.d/a.sh": {body: "export FROM_PROFILE_D=one\n"},
			".profile.d/b.sh": {body: "export ORDER=\"$FROM_PROFILE_D-two\"\n"},
			".profile":        {body: "export FROM_PROFILE=\"$ORDER-three\"\n"},
		})
		s := f.spec("worker.3", `echo "$FROM_PROFILE $DYNO $CONFIG"`, slug)
		s.Env = append(s.Env, "CONFIG=cfg")
		out, exit := f.run(t, s)
		if out != "one-two-three worker.3 cfg\n" || exit.Code != 0 {
			t.Errorf("got %q %+v", out, exit)
		}
	})
}

func TestExitCodes(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		for _, c := range []struct {
			cmd  string
			code int
		}{
			{"true", 0},
			{"exit 3", 3},
			{"false", 1},
			{"sh -c 'kill -TERM $$'", 128 + 15},
			{"no-such-command-here", 127},
			{"FOO=bar sh -c 'exit 7'", 7},
		} {
			_, exit := f.run(t, f.spec("run.9", c.cmd, ""))
			if exit.Code != c.code || exit.Err != nil || exit.OOM {
				t.Errorf("%q: %+v, want code %d", c.cmd, exit, c.code)
			}
		}
	})
}

func TestAttachedPipes(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		var out syncBuffer
		s := f.spec("run.2", `tr a-z A-Z; echo err >&2; test -t 0 || echo no-tty`, "")
		s.IO = &bulut.DynoIO{Stdin: strings.NewReader("hello\n"), Stdout: &out}
		inst, _ := f.start(t, s)
		<-inst.Done()
		if got := out.String(); got != "HELLO\nerr\nno-tty\n" || inst.Exit().Code != 0 {
			t.Errorf("got %q %+v", got, inst.Exit())
		}
	})
}

func TestTerminal(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		var out syncBuffer
		inR, inW := io.Pipe()
		defer inW.Close()
		resize := make(chan bulut.WindowSize, 1)
		s := f.spec("run.3", `test -t 0 && test -t 1 && echo is-a-tty; stty size; trap 'stty size; exit 4' WINCH; echo ready; while :; do sleep 0.02; done`, "")
		s.IO = &bulut.DynoIO{Stdin: inR, Stdout: &out, TTY: true, Size: bulut.WindowSize{Rows: 24, Cols: 80}, Resize: resize}
		inst, _ := f.start(t, s)
		waitFor(t, "ready", func() bool { return strings.Contains(out.String(), "ready") })
		resize <- bulut.WindowSize{Rows: 30, Cols: 100}
		select {
		case <-inst.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("no exit after the resize: %q", out.String())
		}
		got := strings.ReplaceAll(out.String(), "\r\n", "\n")
		if !strings.Contains(got, "is-a-tty\n24 80\nready\n30 100\n") || inst.Exit().Code != 4 {
			t.Errorf("got %q %+v", got, inst.Exit())
		}

		// Input typed at the terminal, and a signal.
		out = syncBuffer{}
		sigs := make(chan string, 1)
		inR2, inW2 := io.Pipe()
		defer inW2.Close()
		s = f.spec("run.4", `read -r line; echo "got $line"; trap 'echo got-int; exit 3' INT; echo ready; while :; do sleep 0.02; done`, "")
		s.IO = &bulut.DynoIO{Stdin: inR2, Stdout: &out, TTY: true, Signal: sigs}
		inst, _ = f.start(t, s)
		io.WriteString(inW2, "typed\n")
		waitFor(t, "ready", func() bool { return strings.Contains(out.String(), "ready") })
		sigs <- "INT"
		<-inst.Done()
		got = strings.ReplaceAll(out.String(), "\r\n", "\n")
		if !strings.Contains(got, "got typed\n") || !strings.Contains(got, "got-int\n") || inst.Exit().Code != 3 {
			t.Errorf("got %q %+v", got, inst.Exit())
		}
	})
}

func TestStopGraceThenKill(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		marker := "6172" + strconv.Itoa(len(mode))
		inst, out := f.start(t, f.spec("web.1", `trap '' TERM; sleep 9`+marker+` & echo ready; while :; do sleep 0.02; done`, ""))
		waitFor(t, "ready", func() bool { return strings.Contains(out.String(), "ready") })
		start := time.Now()
		inst.Stop(300 * time.Millisecond)
		<-inst.Done()
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("ended after %v, before the grace period", d)
		}
		if exit := inst.Exit(); exit.Code != -1 || exit.Signal != "KILL" {
			t.Errorf("exit %+v, want SIGKILL", exit)
		}
		waitNoMarked(t, marker)
	})
}

func TestStopForwardsTERM(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		port := freePort(t)
		s := f.spec("web.1", "python3 -m http.server $PORT", "")
		s.Port = port
		s.Env = append(s.Env, "PORT="+strconv.Itoa(port))
		inst, out := f.start(t, s)
		waitFor(t, "the server", func() bool {
			c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		start := time.Now()
		inst.Stop(10 * time.Second)
		<-inst.Done()
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v to stop: SIGTERM was not delivered", d)
		}
		if exit := inst.Exit(); exit.Signal == "KILL" {
			t.Errorf("exit %+v: killed, not terminated (%s)", exit, out.String())
		}
	})
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestDaemonsEndWithTheDyno(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		f := newFixture(t, mode)
		// The command leaves a daemon (setsid, double fork) and exits: the
		// dyno ends, and the daemon with it.
		marker := "7291" + strconv.Itoa(len(mode))
		out, exit := f.run(t, f.spec("run.1", `(setsid sh -c 'sleep 8`+marker+` & exit 0' &) ; sleep 0.1; echo bye`, ""))
		if out != "bye\n" || exit.Code != 0 {
			t.Errorf("got %q %+v", out, exit)
		}
		waitNoMarked(t, marker)

		// Stopped while the daemon runs.
		marker = "7292" + strconv.Itoa(len(mode))
		inst, o := f.start(t, f.spec("web.1", `(setsid sh -c 'trap "" TERM; sleep 8`+marker+` & exit 0' &); echo ready; exec sleep 7`+marker, ""))
		waitFor(t, "ready", func() bool { return strings.Contains(o.String(), "ready") && len(marked(marker)) == 2 })
		inst.Stop(200 * time.Millisecond)
		<-inst.Done()
		waitNoMarked(t, marker)
	})
}

func TestIsolation(t *testing.T) {
	if os.Geteuid() != 0 || sandbox.Mode() != sandbox.ModeNamespace {
		t.Skip("needs root")
	}
	// Under /var/tmp, not /tmp: dynos don't see the host's /tmp at all.
	host, err := os.MkdirTemp("/var/tmp", "bulut-isolation-test-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(host)
	secret, secretFile, data := filepath.Join(host, "secret"), filepath.Join(host, "secret-file"), filepath.Join(host, "data")
	os.Chmod(host, 0o755)
	os.Mkdir(secret, 0o755)
	os.WriteFile(filepath.Join(secret, "s"), []byte("s3cret"), 0o644)
	os.WriteFile(secretFile, []byte("s3cret"), 0o644)
	os.WriteFile(filepath.Join(host, "visible"), []byte("v"), 0o644)
	f := &fixture{blobs: &memBlobs{}, data: data, logs: &syncBuffer{}}
	f.rt, err = local.New(local.Config{Blobs: f.blobs, DataDir: data, InitCommand: initCommand(t), HiddenPaths: []string{secret, secretFile}})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755) // even if the data dir could be read
	os.WriteFile(filepath.Join(data, "x"), []byte("x"), 0o644)

	marker := "5318"
	other, otherOut := f.start(t, f.spec("web.7", "echo ready; exec sleep 6"+marker, ""))
	waitFor(t, "the other dyno", func() bool { return strings.Contains(otherOut.String(), "ready") })

	script := `hostname; id -u; id -G
getent ahostsv4 web.3 | grep -q 127.0.0.1 || echo unresolved
ls /proc | grep -c '^[0-9]'
m=53; for p in /proc/[0-9]*; do cat $p/cmdline; echo; done | tr '\0' ' ' | grep -c "sleep 6${m}1[8]" || true
cat ` + host + `/visible; echo
ls -A ` + secret + ` | wc -l
cat ` + secret + `/s 2>/dev/null || echo no-secret
cat ` + secretFile + ` | wc -c
ls -A ` + data + ` | wc -l
ls -A /root
touch /usr/x 2>/dev/null || echo usr-ro
echo hi > /dev/shm/x && cat /dev/shm/x
`
	out, exit := f.run(t, f.spec("web.3", script, ""))
	want := "web.3\n65534\n65534\n"
	if !strings.HasPrefix(out, want) || exit.Code != 0 {
		t.Fatalf("got %q %+v, want it to start with %q", out, exit, want)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")[3:]
	if n, _ := strconv.Atoi(lines[0]); n < 2 || n > 6 {
		t.Errorf("the dyno sees %s processes, want only its own few", lines[0])
	}
	pyenv := ""
	if _, err := os.Stat("/root/.pyenv"); err == nil {
		pyenv = ".pyenv\n"
	}
	rest := strings.Join(lines[1:], "\n") + "\n"
	if want := "0\nv\n0\nno-secret\n0\n0\n" + pyenv + "usr-ro\nhi\n"; rest != want {
		t.Errorf("got:\n%s\nwant:\n%s", rest, want)
	}
	if h, _ := os.Hostname(); h == "web.3" {
		t.Error("the host's hostname changed")
	}
	other.Stop(time.Second)
	<-other.Done()
}

func TestPyenvPython(t *testing.T) {
	if os.Geteuid() != 0 || sandbox.Mode() != sandbox.ModeNamespace {
		t.Skip("needs root")
	}
	vers, _ := filepath.Glob("/root/.pyenv/versions/3.*/bin/python3.*")
	var py string
	for _, v := range vers {
		if !strings.HasSuffix(v, "-config") && !strings.HasSuffix(v, "m") {
			py = v
			break
		}
	}
	if py == "" {
		t.Skip("no pyenv Python here")
	}
	f := newFixture(t, sandbox.ModeNamespace)
	// As in a venv made by the Python buildpack: a symlink into pyenv.
	slug := makeSlug(t, f.blobs, "slugs/py.tgz", map[string]slugFile{"venv/bin/python": {body: py, link: true}})
	out, exit := f.run(t, f.spec("run.1", `venv/bin/python -c 'import sys, json; print(sys.version_info[0])'`, slug))
	if out != "3\n" || exit.Code != 0 {
		t.Errorf("got %q %+v", out, exit)
	}
}

func TestMemoryLimit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	f := newFixture(t, "")
	if strings.Contains(f.logs.String(), "memory limits are not enforced") {
		t.Skip("no memory cgroup here")
	}
	const quota = 32 << 20
	s := f.spec("web.1", `python3 -c 'import time; a = b"x" * (40 << 20); print("ready", flush=True); time.sleep(100)'`, "")
	s.Memory = quota
	inst, out := f.start(t, s)
	waitFor(t, "allocation", func() bool { return strings.Contains(out.String(), "ready") })
	if u := inst.MemoryUsage(); u < 40<<20 || u > 2*quota {
		t.Errorf("MemoryUsage = %d, want at least 40 MiB", u)
	}
	inst.Stop(time.Second)
	<-inst.Done()
	if inst.Exit().OOM {
		t.Errorf("OOM under the hard limit: %+v", inst.Exit())
	}

	s = f.spec("web.2", `python3 -c 'a = b"x" * (100 << 20); print("survived")'`, "")
	s.Memory = quota
	got, exit := f.run(t, s)
	if !exit.OOM || strings.Contains(got, "survived") {
		t.Errorf("allocating past twice the quota: %q %+v, want an OOM kill", got, exit)
	}
}

func TestMemoryUsageWithoutCgroup(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	f := newFixture(t, sandbox.ModeNone)
	inst, out := f.start(t, f.spec("web.1", `python3 -c 'import time; a = b"x" * (40 << 20); print("ready", flush=True); time.sleep(100)'`, ""))
	waitFor(t, "allocation", func() bool { return strings.Contains(out.String(), "ready") })
	if u := inst.MemoryUsage(); u < 40<<20 {
		t.Errorf("MemoryUsage = %d, want at least 40 MiB", u)
	}
}

func TestForgetAndUnpackOnce(t *testing.T) {
	f := newFixture(t, modes(t)[0])
	slug := makeSlug(t, f.blobs, "slugs/f.tgz", map[string]slugFile{"x": {body: "x"}})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, exit := f.run(t, f.spec("web."+strconv.Itoa(i+1), "cat x", slug))
			if out != "x" || exit.Code != 0 {
				t.Errorf("got %q %+v", out, exit)
			}
		}()
	}
	wg.Wait()
	ents, _ := os.ReadDir(filepath.Join(f.data, "slugs"))
	if len(ents) != 1 || ents[0].Name() != "rel-slugs_f.tgz" {
		t.Errorf("slugs dir holds %v", ents)
	}
	if err := f.rt.Forget("rel-slugs/f.tgz"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(f.data, "slugs")); len(ents) != 0 {
		t.Errorf("after Forget the slugs dir holds %v", ents)
	}
	// A bad slug fails the start.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.Close()
	zw.Close()
	f.blobs.PutBlob(context.Background(), "slugs/bad.tgz", &buf)
	if _, err := f.rt.Start(context.Background(), f.spec("web.1", "true", "slugs/bad.tgz")); err == nil {
		t.Error("a slug with ../ was unpacked")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.data), "escape")); err == nil {
		t.Error("the bad slug wrote outside its directory")
	}
}

// crasher is a server that starts dynos and waits to be killed.
func crasher() int {
	rt, err := local.New(local.Config{DataDir: os.Getenv("BULUT_TEST_DATA"), InitCommand: initCommand(nil),
		Mode: os.Getenv("BULUT_TEST_MODE")})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	marker := os.Getenv("BULUT_TEST_MARKER")
	for i := range 2 {
		_, err := rt.Start(context.Background(), runtime.Spec{ID: os.Getenv("BULUT_TEST_ID") + strconv.Itoa(i), Name: "web." + strconv.Itoa(i+1),
			Command: `(setsid sh -c 'trap "" TERM; sleep 8` + marker + ` & exit 0' &); exec sleep 7` + marker,
			Env:     testEnv, Memory: 64 << 20, Output: io.Discard})
		if err != nil {
			fmt.Println(err)
			return 1
		}
	}
	fmt.Println("started")
	time.Sleep(time.Minute)
	return 0
}

func TestCleanupAfterCrash(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		data := filepath.Join(t.TempDir(), "data")
		marker := "8317" + strconv.Itoa(len(mode))
		exe, _ := os.Executable()
		server := exec.Command(exe)
		server.Env = append(os.Environ(), "BULUT_TEST_CRASHER=1", "BULUT_TEST_DATA="+data, "BULUT_TEST_MODE="+mode,
			"BULUT_TEST_MARKER="+marker, "BULUT_TEST_ID="+newID())
		var out syncBuffer
		server.Stdout, server.Stderr = &out, &out
		if err := server.Start(); err != nil {
			t.Fatal(err)
		}
		// Whatever happens, nothing stays behind.
		t.Cleanup(func() {
			server.Process.Kill()
			server.Wait()
			if rt, err := local.New(local.Config{DataDir: data, InitCommand: initCommand(t), Mode: mode}); err == nil {
				rt.Cleanup(context.Background())
			}
		})
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "started") || len(marked(marker)) != 4 {
			if time.Now().After(deadline) {
				server.Process.Kill()
				t.Fatalf("the dynos did not start: %q, processes %v", out.String(), marked(marker))
			}
			time.Sleep(5 * time.Millisecond)
		}
		server.Process.Kill()
		server.Wait()
		if n := len(marked(marker)); n != 4 {
			t.Fatalf("%d processes after the server was killed, want 4 (the dynos run on)", n)
		}

		rt, err := local.New(local.Config{DataDir: data, InitCommand: initCommand(t), Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Cleanup(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitNoMarked(t, marker)
		if ents, _ := os.ReadDir(filepath.Join(data, "dynos")); len(ents) != 0 {
			t.Errorf("dyno directories left: %v", ents)
		}
	})
}

// BenchmarkStart measures a dyno's start: Start of `echo` until Done
// (p50-ms), until Start returns (start-p50-ms) and until the command's
// output arrives (ready-p50-ms: what a web dyno's `up` waits for, less
// the app's own boot).
func BenchmarkStart(b *testing.B) {
	for _, mode := range modes(b) {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b, mode)
			slug := makeSlug(b, f.blobs, "slugs/bench.tgz", map[string]slugFile{"x": {body: "x"}})
			var starts, readies, totals []time.Duration
			for b.Loop() {
				t0 := time.Now()
				s := f.spec("web.1", "echo ready", slug)
				ready := &firstWrite{c: make(chan time.Time, 1)}
				s.Output = ready
				inst, err := f.rt.Start(context.Background(), s)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				<-inst.Done()
				t2 := time.Now()
				if inst.Exit().Code != 0 {
					b.Fatal(inst.Exit())
				}
				starts, readies, totals = append(starts, t1.Sub(t0)), append(readies, (<-ready.c).Sub(t0)), append(totals, t2.Sub(t0))
			}
			b.ReportMetric(ms(pct(totals, 50)), "p50-ms")
			b.ReportMetric(ms(pct(totals, 95)), "p95-ms")
			b.ReportMetric(ms(pct(starts, 50)), "start-p50-ms")
			b.ReportMetric(ms(pct(readies, 50)), "ready-p50-ms")
			b.ReportMetric(ms(pct(readies, 95)), "ready-p95-ms")
		})
	}
}

// BenchmarkStartGoWeb measures a Go web dyno from Start until it accepts
// connections on $PORT (what the scheduler's `up` waits for).
func BenchmarkStartGoWeb(b *testing.B) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skip("no go command")
	}
	src := b.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module web\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte(`package main

import (
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe(":"+os.Getenv("PORT"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
}
`), 0o644)
	build := exec.Command(goTool, "build", "-o", "web", ".")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	bin, _ := os.ReadFile(filepath.Join(src, "web"))
	for _, mode := range modes(b) {
		b.Run(mode, func(b *testing.B) {
			f := newFixture(b, mode)
			slug := makeSlug(b, f.blobs, "slugs/goweb.tgz", map[string]slugFile{"bin/web": {body: string(bin), mode: 0o755}})
			var ups []time.Duration
			for b.Loop() {
				port := freePort(b)
				s := f.spec("web.1", "bin/web", slug)
				s.Env = append(s.Env, "PORT="+strconv.Itoa(port))
				t0 := time.Now()
				inst, err := f.rt.Start(context.Background(), s)
				if err != nil {
					b.Fatal(err)
				}
				for {
					c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
					if err == nil {
						c.Close()
						break
					}
					if time.Since(t0) > 10*time.Second {
						b.Fatal("the web dyno did not listen")
					}
					time.Sleep(200 * time.Microsecond)
				}
				ups = append(ups, time.Since(t0))
				inst.Stop(time.Second)
				<-inst.Done()
			}
			b.ReportMetric(ms(pct(ups, 50)), "up-p50-ms")
			b.ReportMetric(ms(pct(ups, 95)), "up-p95-ms")
		})
	}
}

// firstWrite notes when the first byte arrives.
type firstWrite struct {
	once sync.Once
	c    chan time.Time
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { w.c <- time.Now() })
	return len(p), nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[(len(d)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestFreezeAndThaw freezes a dyno that writes a line every 10 ms: no
// line while frozen, lines again once thawed; a frozen dyno still stops.
func TestFreezeAndThaw(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	f := newFixture(t, "")
	if strings.Contains(f.logs.String(), "memory limits are not enforced") {
		t.Skip("no cgroups here")
	}
	inst, out := f.start(t, f.spec("web.1", `trap 'echo term; exit 0' TERM; while :; do echo tick; sleep 0.01; done`, ""))
	waitFor(t, "ticks", func() bool { return strings.Count(out.String(), "tick") > 2 })
	fz, ok := inst.(runtime.Freezer)
	if !ok {
		t.Fatal("the instance is not a runtime.Freezer")
	}
	start := time.Now()
	if err := fz.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Logf("froze in %v", time.Since(start))
	n := strings.Count(out.String(), "tick")
	time.Sleep(200 * time.Millisecond)
	if m := strings.Count(out.String(), "tick"); m > n+1 {
		t.Errorf("%d ticks while frozen", m-n)
	}
	start = time.Now()
	if err := fz.Thaw(); err != nil {
		t.Fatal(err)
	}
	t.Logf("thawed in %v", time.Since(start))
	waitFor(t, "ticks after thaw", func() bool { return strings.Count(out.String(), "tick") > n+3 })
	if err := fz.Freeze(); err != nil {
		t.Fatal(err)
	}
	inst.Stop(5 * time.Second)
	select {
	case <-inst.Done():
	case <-time.After(4 * time.Second):
		t.Fatal("a frozen dyno did not stop")
	}
}
