package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var testEnv = []string{"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG=C.UTF-8"}

// modes returns the modes this machine can test.
func modes(t *testing.T) []string {
	ms := []string{}
	if os.Geteuid() == 0 && probeNamespace() == nil {
		ms = append(ms, ModeNamespace)
	}
	if probeUserNamespace() == nil {
		ms = append(ms, ModeUserNamespace)
	}
	if len(ms) == 0 {
		t.Log("no namespaces here: only mode none is tested")
	}
	return ms
}

type fixture struct {
	app, tmp, data string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	d := t.TempDir()
	f := fixture{app: filepath.Join(d, "app"), tmp: filepath.Join(d, "tmp"), data: filepath.Join(d, "data")}
	for _, p := range []string{f.app, f.tmp, f.data} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func run(t *testing.T, mode string, s Spec) (string, error) {
	t.Helper()
	if s.Env == nil {
		s.Env = testEnv
	}
	c := Command(context.Background(), s)
	c.mode = mode
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}

func listRoot(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestSandbox_View(t *testing.T) {
	for _, mode := range modes(t) {
		t.Run(mode, func(t *testing.T) {
			before := listRoot(t)
			f := newFixture(t)
			os.WriteFile(filepath.Join(f.app, "hello"), []byte("hi from app\n"), 0o644)
			os.WriteFile(filepath.Join(f.data, "ro.txt"), []byte("ro data\n"), 0o644)
			rw := t.TempDir()
			script := `set -u
cat /app/hello
pwd
echo written > /app/written
echo tmpfile > /tmp/private
cat /data/ro.txt
(echo x > /data/nope) 2>/dev/null && echo DATA-WRITABLE
echo y > /cache/yes
cat /tmp/cache/yes
touch /usr/bulut-test 2>/dev/null && echo USR-WRITABLE
mkdir /bulut-stray 2>/dev/null && echo ROOT-WRITABLE
echo z > /dev/null && echo devnull-ok
test -d /proc/self && echo proc-ok
cd /app && pwd -P
`
			out, err := run(t, mode, Spec{
				AppDir: f.app, TmpDir: f.tmp,
				Binds: []Bind{{Source: f.data, Target: "/data", ReadOnly: true}, {Source: rw, Target: "/cache"}, {Source: rw, Target: "/tmp/cache"}},
				Args:  []string{"bash", "-c", script},
			})
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			want := "hi from app\n/app\nro data\ny\ndevnull-ok\nproc-ok\n/app\n"
			if out != want {
				t.Errorf("output:\n%s\nwant:\n%s", out, want)
			}
			if b, _ := os.ReadFile(filepath.Join(f.app, "written")); string(b) != "written\n" {
				t.Errorf("write to /app did not land in the app dir: %q", b)
			}
			if b, _ := os.ReadFile(filepath.Join(f.tmp, "private")); string(b) != "tmpfile\n" {
				t.Errorf("/tmp is not TmpDir: %q", b)
			}
			if _, err := os.Stat("/tmp/private"); err == nil {
				t.Errorf("/tmp/private appeared on the host")
			}
			if b, _ := os.ReadFile(filepath.Join(rw, "yes")); string(b) != "y\n" {
				t.Errorf("rw bind: %q", b)
			}
			if _, err := os.Stat("/usr/bulut-test"); err == nil {
				os.Remove("/usr/bulut-test")
				t.Errorf("/usr/bulut-test appeared on the host")
			}
			if after := listRoot(t); !slices.Equal(before, after) {
				t.Errorf("host / changed:\nbefore %q\nafter  %q", before, after)
			}
			// The tmpfs root was mounted over TmpDir only inside.
			if ents, _ := os.ReadDir(f.tmp); len(ents) != 2 {
				t.Errorf("TmpDir holds %d entries, want 2 (private, cache)", len(ents))
			}
		})
	}
}

func TestSandbox_None(t *testing.T) {
	f := newFixture(t)
	s := Spec{AppDir: f.app, TmpDir: f.tmp, Binds: []Bind{{Source: f.data, Target: "/data"}}}
	if got := s.hostPath("/app/bin/x"); got != filepath.Join(f.app, "bin/x") {
		t.Errorf("hostPath /app/bin/x = %s", got)
	}
	if got := s.hostPath("/data"); got != f.data {
		t.Errorf("hostPath /data = %s", got)
	}
	if got := s.hostPath("/usr/bin"); got != "/usr/bin" {
		t.Errorf("hostPath /usr/bin = %s", got)
	}
	s.Args = []string{"sh", "-c", `pwd; echo "$TMPDIR"; echo w > written`}
	out, err := run(t, ModeNone, s)
	if err != nil {
		t.Fatal(err, out)
	}
	if want := f.app + "\n" + f.tmp + "\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if _, err := os.Stat(filepath.Join(f.app, "written")); err != nil {
		t.Error(err)
	}
}

// marked reports the pids whose command line holds marker.
func marked(marker string) []string {
	var pids []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), marker) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func waitGone(t *testing.T, marker string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(marked(marker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes left running: %v", marked(marker))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSandbox_CancelKillsTree(t *testing.T) {
	for _, mode := range append(modes(t), ModeNone) {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t)
			marker := "731" + strconv.Itoa(len(mode))
			ctx, cancel := context.WithCancel(context.Background())
			c := Command(ctx, Spec{AppDir: f.app, TmpDir: f.tmp, Env: testEnv,
				Args: []string{"bash", "-c", "sleep 1" + marker + " & (sleep 2" + marker + " &) ; echo started; wait"}})
			c.mode = mode
			var out syncBuffer
			c.Stdout = &out
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(out.String(), "started") || len(marked(marker)) < 2 {
				if time.Now().After(deadline) {
					c.Kill()
					t.Fatalf("not started: %q", out.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			start := time.Now()
			cancel()
			err := c.Wait()
			if err == nil || !strings.Contains(err.Error(), "context canceled") {
				t.Errorf("Wait = %v, want a context error", err)
			}
			if d := time.Since(start); d > 10*time.Second { // the command sleeps for hours
				t.Errorf("Wait took %v after cancel: the command was not killed", d)
			}
			waitGone(t, marker)
		})
	}
}

func TestSandbox_LeftoversKilled(t *testing.T) {
	for _, mode := range modes(t) {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t)
			marker := "842" + strconv.Itoa(len(mode))
			start := time.Now()
			// setsid leaves the process group: only the namespace finds it.
			out, err := run(t, mode, Spec{AppDir: f.app, TmpDir: f.tmp,
				Args: []string{"bash", "-c", "setsid sleep 3" + marker + " & echo bye"}})
			if err != nil || out != "bye\n" {
				t.Fatalf("run = %q, %v", out, err)
			}
			if d := time.Since(start); d > 10*time.Second { // the leftover sleeps for hours
				t.Errorf("run took %v: a background process held it", d)
			}
			waitGone(t, marker)
		})
	}
}

func TestSandbox_ExitStatusAndStdin(t *testing.T) {
	for _, mode := range append(modes(t), ModeNone) {
		t.Run(mode, func(t *testing.T) {
			f := newFixture(t)
			c := Command(context.Background(), Spec{AppDir: f.app, TmpDir: f.tmp, Env: testEnv,
				Args: []string{"bash", "-c", "tr a-z A-Z; echo err >&2; exit 3"}})
			c.mode = mode
			var stdout, stderr bytes.Buffer
			c.Stdin, c.Stdout, c.Stderr = strings.NewReader("hello\n"), &stdout, &stderr
			err := c.Run()
			var ee *exec.ExitError
			if !errorsAs(err, &ee) || ee.ExitCode() != 3 {
				t.Errorf("Run = %v, want exit status 3", err)
			}
			if stdout.String() != "HELLO\n" || stderr.String() != "err\n" {
				t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}

func TestSandbox_Errors(t *testing.T) {
	f := newFixture(t)
	for _, s := range []Spec{
		{AppDir: f.app, TmpDir: f.tmp},
		{AppDir: f.app, Args: []string{"true"}},
		{AppDir: f.app, TmpDir: f.tmp, Args: []string{"true"}, Binds: []Bind{{Source: f.data, Target: "/app/x"}}},
		{AppDir: f.app, TmpDir: f.tmp, Args: []string{"true"}, Binds: []Bind{{Source: f.data, Target: "/tmp"}}},
		{AppDir: f.app, TmpDir: f.tmp, Args: []string{"no-such-command-here"}, Env: testEnv},
	} {
		if err := Command(context.Background(), s).Run(); err == nil {
			t.Errorf("Run(%+v) succeeded", s)
		}
	}
	for _, mode := range modes(t) {
		_, err := run(t, mode, Spec{AppDir: f.app, TmpDir: f.tmp, Args: []string{"/app/missing"}})
		if err == nil {
			t.Errorf("%s: running a missing file succeeded", mode)
		}
	}
}

// TestSandbox_Overhead measures the cost of one sandboxed command.
func TestSandbox_Overhead(t *testing.T) {
	for _, mode := range append(modes(t), ModeNone) {
		f := newFixture(t)
		const n = 20
		start := time.Now()
		for range n {
			if out, err := run(t, mode, Spec{AppDir: f.app, TmpDir: f.tmp, Args: []string{"/bin/true"}}); err != nil {
				t.Fatal(err, out)
			}
		}
		per := time.Since(start) / n
		t.Logf("%s: %v per command", mode, per)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

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

// mainThreadTID is the thread onDiscardedThread's function ran on when
// called from the main thread (package init runs on it).
var mainThreadTID, mainThreadErr = func() (int, error) {
	tid := 0
	err := onDiscardedThread(func() error {
		tid = syscall.Gettid()
		return nil
	})
	return tid, err
}()

func TestOnDiscardedThread_NotMainThread(t *testing.T) {
	if mainThreadErr != nil || mainThreadTID == 0 || mainThreadTID == syscall.Getpid() {
		t.Errorf("ran on thread %d (pid %d): %v", mainThreadTID, syscall.Getpid(), mainThreadErr)
	}
}

func TestKillNamespace_NeverTheHost(t *testing.T) {
	host, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		t.Skip(err)
	}
	if !isHostNamespace(host) || !isHostNamespace("") {
		t.Fatal("the host namespace is not recognised")
	}
	sleeper := exec.Command("sleep", "61.25")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	pin, err := os.Open("/proc/self/ns/mnt")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cmd{}
	if c.pinNamespace(pin) {
		t.Error("the host namespace was pinned")
	}
	c.mntNS, c.mntPin = host, pin // as if it had been
	c.killNamespace()
	time.Sleep(20 * time.Millisecond)
	if err := sleeper.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("a host process was killed: %v", err)
	}
	// The main thread and this thread are still in the host namespace
	// after sandboxes ran.
	for _, mode := range modes(t) {
		f := newFixture(t)
		if out, err := run(t, mode, Spec{AppDir: f.app, TmpDir: f.tmp, Args: []string{"/bin/true"}}); err != nil {
			t.Fatal(err, out)
		}
	}
	for _, p := range []string{"/proc/self/ns/mnt", "/proc/thread-self/ns/mnt", fmt.Sprintf("/proc/self/task/%d/ns/mnt", os.Getpid())} {
		if ns, _ := os.Readlink(p); ns != host {
			t.Errorf("%s = %s, want %s", p, ns, host)
		}
	}
}

func TestSandbox_RootDir(t *testing.T) {
	for _, mode := range modes(t) {
		t.Run(mode, func(t *testing.T) {
			before := listRoot(t)
			root := filepath.Join(t.TempDir(), "root")
			app, tmp := filepath.Join(root, "app"), filepath.Join(root, "tmp")
			os.MkdirAll(app, 0o755)
			os.MkdirAll(filepath.Join(tmp, "cache"), 0o755)
			os.WriteFile(filepath.Join(tmp, "cache", "big"), []byte("cached"), 0o644)
			data := t.TempDir()
			os.WriteFile(filepath.Join(data, "d"), []byte("data\n"), 0o644)
			script := `ln /tmp/cache/big /app/big && echo linked
cat /app/big; echo
pwd
cat /data/d
touch /usr/bulut-test 2>/dev/null && echo USR-WRITABLE
test -x /bin/sh && echo bin-ok
`
			for i := range 2 { // twice: the mount points are there the second time
				os.Remove(filepath.Join(app, "big"))
				out, err := run(t, mode, Spec{RootDir: root, AppDir: app, TmpDir: tmp,
					Binds: []Bind{{Source: data, Target: "/data", ReadOnly: true}},
					Args:  []string{"bash", "-c", script}})
				if err != nil {
					t.Fatalf("run %d: %v\n%s", i, err, out)
				}
				if want := "linked\ncached\n/app\ndata\nbin-ok\n"; out != want {
					t.Errorf("run %d printed:\n%s\nwant:\n%s", i, out, want)
				}
			}
			if after := listRoot(t); !slices.Equal(before, after) {
				t.Errorf("host / changed:\nbefore %q\nafter  %q", before, after)
			}
			if _, err := os.Stat("/usr/bulut-test"); err == nil {
				os.Remove("/usr/bulut-test")
				t.Error("/usr/bulut-test appeared on the host")
			}
		})
	}
	f := newFixture(t)
	if err := Command(context.Background(), Spec{RootDir: t.TempDir(), AppDir: f.app, TmpDir: f.tmp, Args: []string{"true"}}).Run(); err == nil {
		t.Error("a RootDir that does not hold AppDir and TmpDir was accepted")
	}
}

func TestSandbox_OverlayTmpfsIsolate(t *testing.T) {
	for _, mode := range modes(t) {
		t.Run(mode, func(t *testing.T) {
			before := listRoot(t)
			d := t.TempDir()
			o := &Overlay{Lower: filepath.Join(d, "lower"), Upper: filepath.Join(d, "upper"), Work: filepath.Join(d, "work")}
			tmp, hidden, inner := filepath.Join(d, "tmp"), t.TempDir(), t.TempDir()
			for _, p := range []string{o.Lower, o.Upper, o.Work, tmp} {
				os.Mkdir(p, 0o755)
			}
			os.WriteFile(filepath.Join(o.Lower, "f"), []byte("lower\n"), 0o644)
			os.WriteFile(filepath.Join(hidden, "secret"), []byte("s"), 0o644)
			os.WriteFile(filepath.Join(inner, "in"), []byte("inner\n"), 0o644)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			script := `cat /app/f; echo upper > /app/f; cat /app/f
ls -A /hidden | wc -l; touch /hidden/x 2>/dev/null || echo hidden-ro
cat /hidden/inner/in
echo s > /shm/x && cat /shm/x
echo $$; hostname bulut-test-host && hostname
echo fd3 >&3
`
			out, err := run(t, mode, Spec{Overlay: o, TmpDir: tmp, Isolate: true, ExtraFiles: []*os.File{w},
				Tmpfs: []Tmpfs{{Target: "/hidden", ReadOnly: true}, {Target: "/shm", Mode: 0o1777}},
				Binds: []Bind{{Source: inner, Target: "/hidden/inner", ReadOnly: true}},
				Args:  []string{"bash", "-c", script}})
			w.Close()
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			if want := "lower\nupper\n1\nhidden-ro\ninner\ns\n1\nbulut-test-host\n"; out != want {
				t.Errorf("output:\n%s\nwant:\n%s", out, want)
			}
			if b, _ := os.ReadFile(filepath.Join(o.Lower, "f")); string(b) != "lower\n" {
				t.Errorf("the lower dir changed: %q", b)
			}
			if b, _ := os.ReadFile(filepath.Join(o.Upper, "f")); string(b) != "upper\n" {
				t.Errorf("the upper dir holds %q", b)
			}
			if b, _ := io.ReadAll(r); string(b) != "fd3\n" {
				t.Errorf("extra file got %q", b)
			}
			if h, _ := os.Hostname(); h == "bulut-test-host" {
				t.Error("the host's hostname changed")
			}
			if after := listRoot(t); !slices.Equal(before, after) {
				t.Errorf("host / changed:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

func TestSandbox_Cgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	// A cgroup v2 hierarchy this process is at the root of (hybrid mode
	// here: no controllers, so children may hold processes).
	var base string
	for _, p := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(p, "cgroup.procs")); err == nil {
			if b, _ := os.ReadFile("/proc/self/cgroup"); strings.Contains(string(b), "\n0::/\n") || strings.HasPrefix(string(b), "0::/\n") {
				if c, _ := os.ReadFile(filepath.Join(p, "cgroup.subtree_control")); len(strings.TrimSpace(string(c))) == 0 {
					base = p
				}
			}
			break
		}
	}
	if base == "" {
		t.Skip("no cgroup v2 hierarchy to test with")
	}
	cg := filepath.Join(base, "bulut-sandbox-test-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skip(err)
	}
	defer os.Remove(cg)
	dir, err := os.Open(cg)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	for _, mode := range append(modes(t), ModeNone) {
		f := newFixture(t)
		out, err := run(t, mode, Spec{AppDir: f.app, TmpDir: f.tmp, Cgroup: dir, Args: []string{"cat", "/proc/self/cgroup"}})
		if err != nil {
			t.Fatal(mode, err, out)
		}
		if !strings.Contains(out, "0::/"+filepath.Base(cg)+"\n") {
			t.Errorf("%s: the command is not in the cgroup: %q", mode, out)
		}
	}
}
