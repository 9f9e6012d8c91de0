//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"github.com/bulut-bulut/bulut/internal/cli"
)

// openPTY opens a pseudo-terminal: the test plays the user on master,
// the CLI gets slave as its terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	var unlock int32
	if err := ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatal(err)
	}
	var n uint32
	if err := ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open the pty's slave: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func ioctl(f *os.File, req uint, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(req), uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

// setWindowSize sets the terminal's size, as a terminal emulator does.
func setWindowSize(t *testing.T, f *os.File, rows, cols uint16) {
	t.Helper()
	ws := [4]uint16{rows, cols, 0, 0}
	if err := ioctl(f, syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		t.Fatal(err)
	}
}

func termios(t *testing.T, f *os.File) syscall.Termios {
	t.Helper()
	var tio syscall.Termios
	if err := ioctl(f, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatal(err)
	}
	return tio
}

// ptyOutput collects what the CLI writes to the terminal.
type ptyOutput struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newPTYOutput() *ptyOutput { return &ptyOutput{changed: make(chan struct{})} }

func (p *ptyOutput) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.b.Write(b)
	close(p.changed)
	p.changed = make(chan struct{})
	return len(b), nil
}

func (p *ptyOutput) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.String()
}

func (p *ptyOutput) waitFor(t *testing.T, want string) {
	t.Helper()
	for {
		p.mu.Lock()
		got, changed := p.b.String(), p.changed
		p.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		<-changed
	}
}

func TestRunWithTerminal(t *testing.T) {
	dt := newDynoTest(t)
	master, slave := openPTY(t)
	setWindowSize(t, slave, 40, 120)
	before := termios(t, slave)

	out := startPTYReader(master)

	var sigs chan<- os.Signal
	notified := make(chan struct{})
	var stderr bytes.Buffer
	env := cli.Env{
		Stdin: slave, Stdout: slave, Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "TERM" {
				return "xterm"
			}
			return dt.env[k]
		},
		Dir: dt.dir,
		Notify: func(c chan<- os.Signal, _ ...os.Signal) func() {
			sigs = c
			close(notified)
			return func() {}
		},
	}
	done := make(chan int, 1)
	go func() { done <- cli.Run(context.Background(), env, []string{"run", "bash"}) }()

	out.waitFor(t, "tty=true size=40x120\n")
	<-notified
	// Raw mode: what the user types goes through unechoed, Enter as \r.
	master.WriteString("ls\r")
	out.waitFor(t, "echo: ls\n")
	if shown := out.String(); strings.Count(shown, "ls") != 1 {
		t.Fatalf("the local terminal echoed the input: %q", shown)
	}
	setWindowSize(t, slave, 50, 132)
	sigs <- syscall.SIGWINCH
	out.waitFor(t, "resize 50x132\n")
	sigs <- syscall.SIGINT
	out.waitFor(t, "signal INT\n")
	sigs <- syscall.SIGTERM
	out.waitFor(t, "signal TERM\n")
	master.WriteString("exit 42\r")
	if code := <-done; code != 42 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "Running bash on ⬢ demo... up, run.") {
		t.Fatalf("stderr = %q", stderr.String())
	}
	run := dt.dynos.lastRun()
	if fmt.Sprint(run.Env) != "map[COLUMNS:120 LINES:40 TERM:xterm]" {
		t.Fatalf("env = %v", run.Env)
	}
	if after := termios(t, slave); after != before {
		t.Fatalf("the terminal wasn't restored: %+v, was %+v", after, before)
	}
}

// startPTYReader copies what the CLI writes to the terminal into a
// ptyOutput.
func startPTYReader(master *os.File) *ptyOutput {
	out := newPTYOutput()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	return out
}

func TestAgainstServer_RunWithTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real dynos")
	}
	ct, _, _ := newDeployTest(t)
	master, slave := openPTY(t)
	setWindowSize(t, slave, 40, 120)
	out := startPTYReader(master)
	var stderr bytes.Buffer
	notified := make(chan chan<- os.Signal, 1)
	env := cli.Env{
		Stdin: slave, Stdout: slave, Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "TERM" {
				return "xterm"
			}
			return ct.env[k]
		},
		Dir:    ct.dir,
		Notify: func(c chan<- os.Signal, _ ...os.Signal) func() { notified <- c; return func() {} },
	}
	done := make(chan int, 1)
	script := `test -t 0 && echo "in a terminal: $TERM $COLUMNS $LINES"; stty size; ` +
		`while [ "$(stty size)" = "40 120" ]; do sleep 0.01; done; echo "resized to $(stty size)"; ` +
		`read x; echo "got $x"; trap 'echo caught INT; exit 7' INT; echo ready; while :; do sleep 0.05; done`
	go func() { done <- cli.Run(context.Background(), env, []string{"run", script}) }()
	sigs := <-notified
	out.waitFor(t, "in a terminal: xterm 120 40")
	out.waitFor(t, "40 120")
	setWindowSize(t, slave, 50, 132)
	sigs <- syscall.SIGWINCH
	out.waitFor(t, "resized to 50 132")
	// The dyno's terminal echoes, and turns Enter into a new line and
	// Ctrl-C into SIGINT.
	master.WriteString("hi\r")
	out.waitFor(t, "hi\r\ngot hi")
	out.waitFor(t, "ready")
	master.WriteString("\x03")
	out.waitFor(t, "caught INT")
	if code := <-done; code != 7 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestAgainstServer_RunSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real dynos")
	}
	ct, _, _ := newDeployTest(t)
	// run starts the CLI with piped input and output and returns the
	// channel it receives signals on.
	run := func(out *ptyOutput, script string) (chan<- os.Signal, <-chan int) {
		notified := make(chan chan<- os.Signal, 1)
		env := cli.Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, Getenv: func(k string) string { return ct.env[k] },
			Dir: ct.dir, Notify: func(c chan<- os.Signal, _ ...os.Signal) func() { notified <- c; return func() {} }}
		done := make(chan int, 1)
		go func() { done <- cli.Run(context.Background(), env, []string{"run", script}) }()
		return <-notified, done
	}

	// Without a terminal, signals are sent to the command.
	out := newPTYOutput()
	sigs, done := run(out, `trap 'echo caught INT' INT; trap 'echo caught TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
	out.waitFor(t, "ready\n")
	sigs <- syscall.SIGINT
	out.waitFor(t, "caught INT\n")
	sigs <- syscall.SIGTERM
	out.waitFor(t, "caught TERM\n")
	if code := <-done; code != 7 {
		t.Fatalf("exit %d, output %q", code, out.String())
	}

	// A command that ignores interrupts: the third one hangs up, which
	// ends it with SIGHUP.
	out = newPTYOutput()
	sigs, done = run(out, `trap '' INT; echo ready; sleep 600`)
	out.waitFor(t, "ready\n")
	for range 3 {
		sigs <- syscall.SIGINT
	}
	if code := <-done; code != 130 || !strings.Contains(out.String(), "Error: Interrupted.") {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
	ct.waitOutput(`^No dynos on ⬢ demo\n$`, "ps")
}
