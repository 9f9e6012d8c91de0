package local

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat is what this package reads from /proc/PID/stat.
type procStat struct {
	ppid  int
	state byte
	start uint64 // clock ticks after boot: with the PID, names a process
	rss   int64  // pages
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	k := strings.LastIndexByte(s, ')')
	if k < 0 {
		return procStat{}, false
	}
	// Fields from the third (state) on.
	f := strings.Fields(s[k+1:])
	if len(f) < 22 || len(f[0]) != 1 {
		return procStat{}, false
	}
	var st procStat
	var err1, err2, err3 error
	st.state = f[0][0]
	st.ppid, err1 = strconv.Atoi(f[1])
	st.start, err2 = strconv.ParseUint(f[19], 10, 64)
	st.rss, err3 = strconv.ParseInt(f[21], 10, 64)
	return st, err1 == nil && err2 == nil && err3 == nil
}

// alive reports whether the process pid started at start still runs (a
// zombie has ended).
func alive(pid int, start uint64) bool {
	st, ok := readStat(pid)
	return ok && st.start == start && st.state != 'Z' && st.state != 'X'
}

// safePid reports whether pid may ever be signalled by this package: not
// init, not this process, not a group or "everyone".
func safePid(pid int) bool {
	return pid > 1 && pid != os.Getpid()
}

// processTree returns pid's descendants (not pid), parents before
// children, skipping zombies.
func processTree(pid int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	children := map[int][]int{}
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		p, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		st, ok := readStat(p)
		if !ok || st.state == 'Z' {
			continue
		}
		children[st.ppid] = append(children[st.ppid], p)
	}
	var out []int
	queue := []int{pid}
	seen := map[int]bool{pid: true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// treeRSS is the resident memory of pid's descendants (the app's; not
// the init's own).
func treeRSS(pid int) int64 {
	var pages int64
	for _, p := range processTree(pid) {
		if st, ok := readStat(p); ok {
			pages += st.rss
		}
	}
	return pages * int64(os.Getpagesize())
}

// killTree SIGKILLs the descendants of the process pid started at start,
// then it. Used where there is no PID namespace to end.
func killTree(pid int, start uint64) {
	killDescendants(pid, start)
	signalIf(pid, syscall.SIGKILL, func() bool { return alive(pid, start) })
}

// killDescendants SIGKILLs the descendants of the process pid started at
// start until none are left (they may fork meanwhile).
func killDescendants(pid int, start uint64) {
	for range 100 {
		if !alive(pid, start) {
			return
		}
		left := processTree(pid)
		if len(left) == 0 {
			break
		}
		for _, p := range left {
			st, ok := readStat(p)
			if !ok {
				continue
			}
			// Still that process, still under the tree (its parent is
			// pid or another descendant; not reparented elsewhere).
			signalIf(p, syscall.SIGKILL, func() bool {
				now, ok := readStat(p)
				return ok && now.start == st.start && (now.ppid == pid || slices.Contains(left, now.ppid))
			})
		}
		time.Sleep(time.Millisecond)
	}
}

// signalIf sends sig to pid if, once the process is held by a pidfd (so
// that the PID can't go to another process meanwhile), check accepts it.
func signalIf(pid int, sig syscall.Signal, check func() bool) bool {
	if !safePid(pid) {
		return false
	}
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno == syscall.ENOSYS {
		return check() && syscall.Kill(pid, sig) == nil
	}
	if errno != 0 {
		return false
	}
	defer syscall.Close(int(fd))
	if !check() {
		return false
	}
	_, _, errno = syscall.Syscall6(sysPidfdSendSignal, fd, uintptr(sig), 0, 0, 0, 0)
	return errno == 0
}

// waitGone waits (up to d) until the process pid started at start is gone
// or a zombie.
func waitGone(pid int, start uint64, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(time.Millisecond) {
		if !alive(pid, start) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// pidfd is a process handle that can't be confused with a later process
// of the same PID (pidfd_open(2), Linux 5.3); a plain PID otherwise.
type pidfd struct {
	pid   int
	start uint64
	fd    int // -1 if unsupported
}

const (
	sysPidfdOpen       = 434 // the same on every architecture
	sysPidfdSendSignal = 424
)

func openPidfd(pid int) (*pidfd, error) {
	st, ok := readStat(pid)
	if !ok {
		return nil, errors.New("the dyno's init is gone")
	}
	p := &pidfd{pid: pid, start: st.start, fd: -1}
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno == 0 {
		syscall.CloseOnExec(int(fd))
		p.fd = int(fd)
	}
	return p, nil
}

func (p *pidfd) signal(sig syscall.Signal) error {
	if !safePid(p.pid) {
		return errors.New("refusing to signal that process")
	}
	if p.fd >= 0 {
		_, _, errno := syscall.Syscall6(sysPidfdSendSignal, uintptr(p.fd), uintptr(sig), 0, 0, 0, 0)
		if errno != 0 {
			return errno
		}
		return nil
	}
	if !alive(p.pid, p.start) {
		return syscall.ESRCH
	}
	return syscall.Kill(p.pid, sig)
}

func (p *pidfd) close() {
	if p.fd >= 0 {
		syscall.Close(p.fd)
		p.fd = -1
	}
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "HUP", syscall.SIGINT: "INT", syscall.SIGQUIT: "QUIT", syscall.SIGILL: "ILL",
	syscall.SIGTRAP: "TRAP", syscall.SIGABRT: "ABRT", syscall.SIGBUS: "BUS", syscall.SIGFPE: "FPE",
	syscall.SIGKILL: "KILL", syscall.SIGUSR1: "USR1", syscall.SIGSEGV: "SEGV", syscall.SIGUSR2: "USR2",
	syscall.SIGPIPE: "PIPE", syscall.SIGALRM: "ALRM", syscall.SIGTERM: "TERM", syscall.SIGXCPU: "XCPU",
	syscall.SIGXFSZ: "XFSZ", syscall.SIGWINCH: "WINCH", syscall.SIGSYS: "SYS",
}

func signalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return strconv.Itoa(int(s))
}

// signalByName parses "TERM", "SIGTERM" or "15".
func signalByName(name string) (syscall.Signal, bool) {
	name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG")
	for s, n := range signalNames {
		if n == name {
			return s, true
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), true
	}
	return 0, false
}
