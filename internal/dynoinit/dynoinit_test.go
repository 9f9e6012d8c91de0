package dynoinit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The test binary is the init when run with BULUT_TEST_DYNOINIT=1.
func TestMain(m *testing.M) {
	if os.Getenv("BULUT_TEST_DYNOINIT") == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func TestExecCommand(t *testing.T) {
	for in, want := range map[string]string{
		"gunicorn app:app --bind 0.0.0.0:$PORT": "exec gunicorn app:app --bind 0.0.0.0:$PORT",
		"  bin/web":                             "exec bin/web",
		"FOO=bar BAZ='a b' node server.js":      "FOO=bar BAZ='a b' exec node server.js",
		"python app.py 2>&1 >log":               "exec python app.py 2>&1 >log",
		"echo 'a;b' \"c|d\" $(date +%s)":        "exec echo 'a;b' \"c|d\" $(date +%s)",
		"bin/x # comment":                       "bin/x # comment",
		"a && b":                                "a && b",
		"a; b":                                  "a; b",
		"a | b":                                 "a | b",
		"a &":                                   "a &",
		"(a)":                                   "(a)",
		"cd x":                                  "cd x",
		"exit 3":                                "exit 3",
		"exec foo":                              "exec foo",
		"if true; then x; fi":                   "if true; then x; fi",
		"FOO=bar":                               "FOO=bar",
		"a\nb":                                  "a\nb",
		"echo 'unclosed":                        "echo 'unclosed",
		"ls a#b":                                "exec ls a#b",
	} {
		if got := execCommand(in); got != want {
			t.Errorf("execCommand(%q) = %q, want %q", in, got, want)
		}
	}
}

// runInit runs the init in place (no namespaces) with command.
func runInit(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"-subreaper", "-dir", dir, "--"}, args...)...)
	cmd.Env = []string{"BULUT_TEST_DYNOINIT=1", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir}
	return cmd
}

func TestProfileAndStatus(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".profile.d"), 0o755)
	os.WriteFile(filepath.Join(dir, ".profile.d", "1.sh"), []byte("export A=1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".profile.d", "2.sh"), []byte("export B=$A-2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".profile"), []byte("export C=$B-3\n"), 0o644)
	cmd := runInit(t, dir, `echo "$C $(pwd)"; exit 5`)
	out, err := cmd.Output()
	if want := "1-2-3 " + dir + "\n"; string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if cmd.ProcessState.ExitCode() != 5 {
		t.Errorf("exit %v, want 5", err)
	}
	cmd = runInit(t, dir, `kill -USR1 $$`)
	cmd.Run()
	if got := cmd.ProcessState.ExitCode(); got != 128+int(syscall.SIGUSR1) {
		t.Errorf("killed by SIGUSR1: exit %d", got)
	}
	cmd = runInit(t, dir, `exec /no/such/program`)
	cmd.Run()
	if got := cmd.ProcessState.ExitCode(); got != 127 {
		t.Errorf("missing program: exit %d", got)
	}
}

func TestSignalsAndOrphans(t *testing.T) {
	dir := t.TempDir()
	marker := "4471" + strconv.Itoa(os.Getpid()%1000)
	// A daemon (setsid, double fork) that ignores SIGTERM, and a command
	// that exits on SIGTERM.
	var out syncBuffer
	cmd := runInit(t, dir, `(setsid sh -c 'trap "" TERM; exec sleep 9`+marker+`' &); trap 'echo term; exit 0' TERM; echo ready; while :; do sleep 0.02; done`)
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "ready") || len(sleepers(marker)) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("not ready: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The daemon was adopted by the init (-subreaper).
	if ppid := parentOf(sleepers(marker)[0]); ppid != cmd.Process.Pid {
		t.Errorf("the daemon's parent is %d, not the init %d", ppid, cmd.Process.Pid)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if err != nil || !strings.Contains(out.String(), "term") {
		t.Errorf("exit %v, output %q", err, out.String())
	}
	if left := sleepers(marker); len(left) > 0 {
		for _, p := range left {
			syscall.Kill(p, syscall.SIGKILL)
		}
		t.Errorf("the daemon outlived the init: %v", left)
	}
}

func TestUsage(t *testing.T) {
	exe, _ := os.Executable()
	for _, args := range [][]string{{}, {"-uid", "1", "--", "true"}, {"-nope", "--", "true"}, {"--", "a", "b"}} {
		cmd := exec.Command(exe, args...)
		cmd.Env = []string{"BULUT_TEST_DYNOINIT=1"}
		cmd.Run()
		if got := cmd.ProcessState.ExitCode(); got != StatusInitFailed {
			t.Errorf("%q: exit %d, want %d", args, got, StatusInitFailed)
		}
	}
	// -proc and -hostname outside a PID namespace would change the host.
	cmd := exec.Command(exe, "-hostname", "x", "--", "true")
	cmd.Env = []string{"BULUT_TEST_DYNOINIT=1"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	if cmd.ProcessState.ExitCode() != StatusInitFailed || !strings.Contains(stderr.String(), "PID namespace") {
		t.Errorf("-hostname outside a namespace: %v %q", cmd.ProcessState, stderr.String())
	}
}

func sleepers(marker string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(b), "sleep\x00") && strings.Contains(string(b), marker) {
			if _, state, ok := statOf(atoi(e.Name())); ok && state != 'Z' {
				pids = append(pids, atoi(e.Name()))
			}
		}
	}
	return pids
}

func parentOf(pid int) int {
	ppid, _, _ := statOf(pid)
	return ppid
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
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
