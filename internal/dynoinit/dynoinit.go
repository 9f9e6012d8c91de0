// Package dynoinit is the first process of a dyno (`bulut dyno-init`), as
// tini or `docker run --init` are for containers.
//
// In the dyno's own PID namespace it is PID 1, which the kernel gives no
// default signal handlers (`python3 -m http.server` as PID 1 ignores
// SIGTERM) and which inherits every orphan. So the app never is PID 1:
// this init starts it, forwards signals to it, reaps zombies, and exits
// with the app's status once the app exits (which, in a PID namespace,
// ends every other process of the dyno).
//
// Usage (every flag is optional):
//
//	dyno-init [-sync FD] [-proc] [-hostname NAME] [-uid N -gid N]
//	          [-subreaper] [-dir DIR] -- COMMAND
//
// Flags:
//
//   - -sync FD: first wait for one byte on descriptor FD (the runtime
//     places the process in its cgroup and records it meanwhile); EOF
//     aborts with status 125.
//   - -proc: mount a fresh /proc (for the PID namespace); -hostname: set
//     the hostname (in the UTS namespace). Both only as PID 1, i.e. in
//     namespaces of the dyno's own.
//   - -uid, -gid: run the command as this user and group (no
//     supplementary groups, no new privileges: setuid binaries don't
//     elevate).
//   - -subreaper: without a PID namespace, adopt orphans (daemonized
//     children) so that they can be found and ended with the dyno.
//   - -dir: the app's directory (default /app): the working directory and
//     where .profile.d/*.sh and .profile are sourced from.
//   - COMMAND (one argument) is run by `bash -c` after the profile
//     scripts are sourced, through `exec` when it is a simple command
//     (so the app itself, not bash, gets the signals).
//
// The command's environment is init's own. Init forwards SIGTERM to every
// process of the dyno (kill(-1) in its PID namespace; its descendants
// otherwise) and SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH
// to the command. It exits with the command's status, 128+N when a signal
// N killed it, 125 when init itself failed and 127 when bash could not be
// run.
package dynoinit

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Exit statuses of init's own failures.
const (
	StatusInitFailed = 125
	StatusNoShell    = 127
)

// forwarded are the signals passed on to the command.
var forwarded = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// Main runs init with args (what follows `dyno-init` on the command line)
// and returns its exit status.
func Main(args []string) int {
	fs := flag.NewFlagSet("dyno-init", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	syncFD := fs.Int("sync", -1, "wait for a byte on this descriptor first")
	mountProc := fs.Bool("proc", false, "mount /proc (as PID 1 only)")
	hostname := fs.String("hostname", "", "set the hostname (as PID 1 only)")
	uid := fs.Int("uid", -1, "run the command as this user")
	gid := fs.Int("gid", -1, "run the command with this group")
	subreaper := fs.Bool("subreaper", false, "adopt orphaned descendants")
	dir := fs.String("dir", "/app", "the app's directory")
	if err := fs.Parse(args); err != nil {
		return StatusInitFailed
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "dyno-init: usage: dyno-init [flags] -- COMMAND")
		return StatusInitFailed
	}
	if (*uid < 0) != (*gid < 0) {
		fmt.Fprintln(os.Stderr, "dyno-init: -uid and -gid go together")
		return StatusInitFailed
	}
	i := &initProc{pid1: os.Getpid() == 1}
	return i.run(*syncFD, *mountProc, *hostname, *uid, *gid, *subreaper, *dir, fs.Arg(0))
}

type initProc struct {
	pid1  bool
	child int
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "dyno-init: "+format+"\n", args...)
	return StatusInitFailed
}

func (i *initProc) run(syncFD int, mountProc bool, hostname string, uid, gid int, subreaper bool, dir, command string) int {
	// Handlers first: as PID 1, a signal without one is dropped.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, append([]os.Signal{syscall.SIGCHLD}, forwarded...)...)

	// Raw reads: an *os.File might start the runtime's poller, whose
	// descriptor must not be confused with the inherited ones.
	if syncFD >= 0 {
		if err := syscall.SetNonblock(syncFD, false); err != nil {
			return fail("bad -sync descriptor %d: %v", syncFD, err)
		}
		var b [1]byte
		n, err := syscall.Read(syncFD, b[:])
		for errors.Is(err, syscall.EINTR) {
			n, err = syscall.Read(syncFD, b[:])
		}
		syscall.Close(syncFD)
		if n != 1 {
			return StatusInitFailed // the runtime gave up on this dyno
		}
	}
	// Nothing else inherited reaches the app (init's own binary, say).
	cloexecFrom(3)
	if (mountProc || hostname != "") && !i.pid1 {
		// Never touch the host's /proc or hostname.
		return fail("-proc and -hostname need a PID namespace of the dyno's own")
	}
	if mountProc {
		if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
			return fail("mount /proc: %v", err)
		}
	}
	if hostname != "" {
		if err := syscall.Sethostname([]byte(hostname)); err != nil {
			return fail("set the hostname: %v", err)
		}
	}
	if subreaper {
		if err := prctl(prSetChildSubreaper, 1); err != nil {
			return fail("become a subreaper: %v", err)
		}
	}

	bash := lookBash()
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	}
	if isTerminal(0) {
		attr.Sys.Setctty, attr.Sys.Ctty = true, 0
	}
	// no_new_privs is per thread and inherited by the children it forks:
	// set it on the thread that forks.
	runtime.LockOSThread()
	if uid >= 0 {
		attr.Sys.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
		if err := prctl(prSetNoNewPrivs, 1); err != nil {
			return fail("set no_new_privs: %v", err)
		}
	}
	pid, err := syscall.ForkExec(bash, []string{"bash", "-c", Script(dir, command)}, attr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dyno-init: run %s: %v\n", bash, err)
		return StatusNoShell
	}
	i.child = pid
	if i.pid1 && uid >= 0 {
		// The OOM killer picks the app, not init (the child forked with
		// the default score).
		os.WriteFile("/proc/self/oom_score_adj", []byte("-1000"), 0)
	}

	for sig := range sigs {
		s := sig.(syscall.Signal)
		switch s {
		case syscall.SIGCHLD:
			if ws, done, none := i.reap(); done {
				if !none {
					i.finish()
				}
				return status(ws)
			}
		case syscall.SIGTERM:
			i.terminate()
		default:
			syscall.Kill(i.child, s)
		}
	}
	return StatusInitFailed
}

// reap collects every exited child, reporting the command's status once
// it has exited, and whether init has no children left at all (so no
// descendants either).
func (i *initProc) reap() (ws syscall.WaitStatus, done, none bool) {
	for {
		var w syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &w, syscall.WNOHANG, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return ws, done, errors.Is(err, syscall.ECHILD)
		}
		if pid == i.child {
			ws, done = w, true
		}
	}
}

// terminate sends SIGTERM to every process of the dyno.
func (i *initProc) terminate() {
	if i.pid1 {
		// In a PID namespace of our own: everyone but us.
		syscall.Kill(-1, syscall.SIGTERM)
		return
	}
	syscall.Kill(i.child, syscall.SIGTERM)
	signalDescendants(syscall.SIGTERM)
}

// finish ends what the command left behind. In a PID namespace the kernel
// does it when init exits; otherwise init kills its descendants (the
// orphans among them were adopted, see -subreaper).
func (i *initProc) finish() {
	if i.pid1 {
		return
	}
	for range 100 {
		if signalDescendants(syscall.SIGKILL) == 0 {
			return
		}
		if _, _, none := i.reap(); none {
			return
		}
		// Give the killed a moment to become zombies.
		syscall.Select(0, nil, nil, nil, &syscall.Timeval{Usec: 1000})
	}
}

func status(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return StatusInitFailed
}

// Script returns the bash script that runs command in dir after sourcing
// dir's .profile.d/*.sh and .profile, as Heroku does.
func Script(dir, command string) string {
	q := shellQuote(dir)
	return "for __bulut_f in " + q + "/.profile.d/*.sh; do if [ -r \"$__bulut_f\" ]; then . \"$__bulut_f\"; fi; done; unset __bulut_f\n" +
		"if [ -r " + q + "/.profile ]; then . " + q + "/.profile; fi\n" +
		execCommand(command) + "\n"
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// notExecutable are bash reserved words and builtins that `exec` can't
// run (or would change the meaning of).
var notExecutable = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`! [[ ]] { } case coproc do done elif else esac fi for function if in select then time until while
		. : alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown enable eval exec exit
		export fc fg getopts hash help history jobs let local logout mapfile popd pushd read readarray readonly return set shift shopt
		source suspend times trap type typeset ulimit umask unalias unset wait`) {
		notExecutable[w] = true
	}
}

// execCommand returns command prefixed with `exec` (after any leading
// variable assignments) when it is one simple command, so that the app
// replaces bash; otherwise command as is.
func execCommand(command string) string {
	cmd := strings.TrimSpace(command)
	type word struct{ start, end int }
	var words []word
	start := -1
	var quote byte // ', " or `
	depth := 0     // inside $( )
	for j := 0; j < len(cmd); j++ {
		c := cmd[j]
		if start < 0 && !(c == ' ' || c == '\t') {
			start = j
		}
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
			continue
		case c == '\\':
			j++
			continue
		case quote != 0:
			if c == quote {
				quote = 0
			}
			continue
		case depth > 0:
			if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			}
			continue
		}
		switch c {
		case '\'', '"', '`':
			quote = c
		case '$':
			if j+1 < len(cmd) && cmd[j+1] == '(' {
				depth++
				j++
			}
		case ';', '\n', '|', '(', ')', '#':
			if c == '#' && start != j {
				continue // inside a word
			}
			return command
		case '&':
			// 2>&1, <&3 and &> are redirections; anything else is && or &.
			if !(j > 0 && (cmd[j-1] == '>' || cmd[j-1] == '<') || j+1 < len(cmd) && cmd[j+1] == '>') {
				return command
			}
		case ' ', '\t':
			if start >= 0 {
				words = append(words, word{start, j})
				start = -1
			}
		}
	}
	if quote != 0 || depth != 0 {
		return command
	}
	if start >= 0 {
		words = append(words, word{start, len(cmd)})
	}
	for _, w := range words {
		text := cmd[w.start:w.end]
		if isAssignment(text) {
			continue
		}
		if notExecutable[text] || strings.ContainsAny(text[:1], "<>0123456789") && strings.ContainsAny(text, "<>") {
			return command // a builtin, or a redirection first
		}
		return cmd[:w.start] + "exec " + cmd[w.start:]
	}
	return command
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for j, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func lookBash() string {
	for _, dir := range strings.Split(os.Getenv("PATH"), ":") {
		if strings.HasPrefix(dir, "/") {
			p := dir + "/bash"
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	return "/bin/bash"
}

// signalDescendants sends sig to init's descendants and returns how many
// there were. Each is held by a pidfd and checked to be still under init
// before it is signalled: a PID freed meanwhile may be another process's.
func signalDescendants(sig syscall.Signal) int {
	self := os.Getpid()
	left := descendants(self)
	for _, pid := range left {
		fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
		if errno != 0 {
			continue // gone (or pidfd_open unsupported: Linux < 5.3)
		}
		if ppid, state, ok := statOf(pid); ok && state != 'Z' && (ppid == self || slices.Contains(left, ppid)) {
			syscall.Syscall6(sysPidfdSendSignal, fd, uintptr(sig), 0, 0, 0, 0)
		}
		syscall.Close(int(fd))
	}
	return len(left)
}

// descendants returns the processes under pid (children first, pid
// itself excluded), skipping zombies.
func descendants(pid int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	children := map[int][]int{}
	for _, name := range names {
		p, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		ppid, state, ok := statOf(p)
		if !ok || state == 'Z' {
			continue
		}
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if c != pid {
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// statOf returns a process's parent and state from /proc/PID/stat.
func statOf(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	k := strings.LastIndexByte(s, ')')
	if k < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[k+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

const (
	prSetChildSubreaper = 36
	prSetNoNewPrivs     = 38
	sysCloseRange       = 436 // the same on every architecture
	sysPidfdOpen        = 434
	sysPidfdSendSignal  = 424
)

func prctl(option, arg uintptr) error {
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, option, arg, 0, 0, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// cloexecFrom marks every descriptor from fd up close-on-exec.
func cloexecFrom(fd int) {
	const closeRangeCloexec = 1 << 2
	if _, _, errno := syscall.Syscall(sysCloseRange, uintptr(fd), ^uintptr(0), closeRangeCloexec); errno == 0 {
		return
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && n >= fd {
			syscall.CloseOnExec(n)
		}
	}
}

func isTerminal(fd int) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
