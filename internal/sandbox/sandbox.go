// Package sandbox runs a command with a chosen view of the file system: the
// host's directories read-only, one directory read-write at /app, a private
// /tmp and extra bind mounts, so that what a buildpack (or a dyno) writes
// under /app has the paths it will have at run time.
//
// Three modes, chosen once per process (Mode):
//
//   - "namespace" (root): a private mount namespace prepared on a locked OS
//     thread: a small tmpfs becomes the new root, the host's top-level
//     directories are bind-mounted into it read-only, then the command is
//     started chrooted into it. It costs a few system calls, no helper
//     processes.
//   - "user-namespace" (not root, unprivileged user namespaces allowed): the
//     same view, prepared by a short shell script (util-linux mount) started
//     in new user and mount namespaces.
//   - "none": the command runs in place, in the host directories themselves;
//     callers translate paths with Spec.Path and warn once.
//
// Nothing is created on the host: the tmpfs is mounted (inside the private
// namespace only) over Spec.TmpDir, and the mounts vanish with the
// namespace when its last process exits.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Modes of running commands.
const (
	ModeNamespace     = "namespace"
	ModeUserNamespace = "user-namespace"
	ModeNone          = "none"
)

// Bind mounts a host path (directory or file) at a path inside the sandbox.
type Bind struct {
	Source   string // host path
	Target   string // absolute path inside the sandbox
	ReadOnly bool
}

// Spec describes a command and the file system it sees.
type Spec struct {
	// AppDir is the host directory mounted read-write at /app.
	AppDir string
	// TmpDir is an existing host directory backing the private /tmp (e.g.
	// a scratch directory inside the data dir). Required.
	TmpDir string
	// RootDir, if set, is a host directory used as the sandbox's root
	// instead of a fresh tmpfs; AppDir and TmpDir must then be its
	// subdirectories app and tmp. /app and /tmp (and what is under them,
	// not bound elsewhere) are then one mount, so hard links between them
	// work (a build cache under /tmp and the build dir, say). Mount points
	// for the host's directories are made in it (and left there), and the
	// root stays writable.
	RootDir string
	// Binds are extra mounts; targets may not be /, /app or under it, or
	// /tmp itself. A target under /tmp makes its mount point in TmpDir.
	Binds []Bind
	// Env is the command's whole environment.
	Env []string
	// Dir is the working directory inside the sandbox; default /app.
	Dir string
	// Args is the command and its arguments. A command without a slash is
	// looked up in Env's PATH as the sandbox sees it.
	Args []string

	// Overlay, if set, makes /app an overlay file system instead of a bind
	// of AppDir (which is then unused): the files of Lower, read-only,
	// with every change going to Upper. Work is overlayfs's scratch
	// directory, on Upper's file system. None may be under TmpDir, nor
	// contain ',', ':', '\\' or white space. Not with RootDir.
	Overlay *Overlay
	// Tmpfs mounts empty file systems (hiding what is there in the
	// host's view), e.g. to hide a directory or give a private /dev/shm.
	// Binds may go under them.
	Tmpfs []Tmpfs
	// Isolate runs the command in its own PID, UTS and IPC namespaces
	// too: it is PID 1 there (and should mount /proc itself: the host's
	// stays mounted underneath). Ignored in mode "none".
	Isolate bool
	// ExtraFiles are given to the command as descriptors 3, 4...
	ExtraFiles []*os.File
	// Cgroup, if set, is an open cgroup v2 directory the command is
	// started in (clone3's CLONE_INTO_CGROUP: no migration afterwards).
	Cgroup *os.File
	// Mode, if set, overrides Mode() for this command (tests).
	Mode string
}

// Overlay is a copy-on-write /app.
type Overlay struct {
	Lower, Upper, Work string
}

// Tmpfs is an empty file system mounted at Target.
type Tmpfs struct {
	Target   string
	Mode     os.FileMode // of its root; 0 means 0755
	Size     int64       // bytes; 0 means 1 MiB
	ReadOnly bool        // made read-only once what goes under it is mounted
}

func (t Tmpfs) options() string {
	mode, size := t.Mode, t.Size
	if mode == 0 {
		mode = 0o755
	}
	if size <= 0 {
		size = 1 << 20
	}
	return fmt.Sprintf("mode=%04o,size=%d", uint32(mode.Perm())|modeBits(mode), size)
}

// modeBits returns the setuid, setgid and sticky bits of m as chmod's.
func modeBits(m os.FileMode) uint32 {
	var b uint32
	if m&os.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

func (o *Overlay) options() string {
	return "lowerdir=" + filepath.Clean(o.Lower) + ",upperdir=" + filepath.Clean(o.Upper) + ",workdir=" + filepath.Clean(o.Work)
}

func (o *Overlay) check(tmpDir string) error {
	for _, p := range []string{o.Lower, o.Upper, o.Work} {
		if !filepath.IsAbs(p) || strings.ContainsAny(p, ",:\\ \t\n") {
			return fmt.Errorf("sandbox: bad overlay directory %q", p)
		}
		if p = filepath.Clean(p); p == tmpDir || strings.HasPrefix(p, tmpDir+"/") {
			return fmt.Errorf("sandbox: overlay directory %s is under TmpDir", p)
		}
	}
	return nil
}

// badTarget reports whether t may not be a bind or tmpfs target.
func badTarget(t string) bool {
	t = path.Clean(t)
	return !path.IsAbs(t) || t == "/" || t == "/app" || strings.HasPrefix(t, "/app/") || t == "/tmp"
}

// Path returns the path a command must be given for p, a path as seen
// inside the sandbox (/app/..., /tmp/..., a bind target): p itself, or in
// mode "none" the host path that stands for it.
func (s Spec) Path(p string) string {
	if Mode() != ModeNone {
		return p
	}
	return s.hostPath(p)
}

// hostPath maps a path inside the sandbox to the host path it shows.
func (s Spec) hostPath(p string) string {
	p = path.Clean(p)
	best, bestSrc := "", ""
	consider := func(target, src string) {
		target = path.Clean(target)
		if (p == target || strings.HasPrefix(p, target+"/") || target == "/") && len(target) > len(best) {
			best, bestSrc = target, src
		}
	}
	consider("/app", s.AppDir)
	consider("/tmp", s.TmpDir)
	for _, b := range s.Binds {
		consider(b.Target, b.Source)
	}
	if best == "" {
		return p
	}
	return filepath.Join(bestSrc, strings.TrimPrefix(p, best))
}

var (
	modeOnce sync.Once
	mode     string
)

// Mode returns how commands are isolated in this process: "namespace",
// "user-namespace" or "none". The environment variable BULUT_SANDBOX may
// force one of them (for tests and for hosts where probing misleads).
func Mode() string {
	modeOnce.Do(func() { mode = detectMode() })
	return mode
}

func detectMode() string {
	switch m := os.Getenv("BULUT_SANDBOX"); m {
	case ModeNamespace, ModeUserNamespace, ModeNone:
		return m
	}
	if os.Geteuid() == 0 && probeNamespace() == nil {
		return ModeNamespace
	}
	if probeUserNamespace() == nil {
		return ModeUserNamespace
	}
	return ModeNone
}

// Cmd is a command to run in a sandbox. Set the I/O fields before Start.
type Cmd struct {
	Stdin  io.Reader // nil: /dev/null
	Stdout io.Writer // nil: discarded
	Stderr io.Writer // nil: discarded; may be the same writer as Stdout

	ctx  context.Context
	spec Spec
	mode string
	cmd  *exec.Cmd

	nsFound    chan struct{} // closed once mntNS is known (or never will be)
	childEnds  []*os.File
	extraFiles []*os.File // closed after Start
	parentEnds []*os.File
	copiers    []func()
	copying    sync.WaitGroup
	done       chan struct{}
	waited     bool

	// mu keeps Kill from acting on a process Wait reaped (its PID, and so
	// its process group, may be another's by then).
	mu     sync.Mutex
	reaped bool
	mntNS  string   // "mnt:[inode]" of the sandbox's mount namespace
	mntPin *os.File // holds that namespace (so its inode number is not reused) while mntNS is set
	newNS  *os.File // the namespace setupNamespace made, until pinned
}

// Command returns a Cmd running s. When ctx is done the whole process tree
// is killed.
func Command(ctx context.Context, s Spec) *Cmd {
	m := s.Mode
	if m == "" {
		m = Mode()
	}
	return &Cmd{ctx: ctx, spec: s, mode: m}
}

// Run starts the command and waits for it.
func Run(ctx context.Context, s Spec, stdout, stderr io.Writer) error {
	c := Command(ctx, s)
	c.Stdout, c.Stderr = stdout, stderr
	return c.Run()
}

// Run starts the command and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Process returns the started process (nil before Start).
func (c *Cmd) Process() *os.Process {
	if c.cmd == nil {
		return nil
	}
	return c.cmd.Process
}

// Start starts the command.
func (c *Cmd) Start() error {
	s := &c.spec
	if len(s.Args) == 0 {
		return errors.New("sandbox: no command")
	}
	if (s.AppDir == "" && s.Overlay == nil) || s.TmpDir == "" {
		return errors.New("sandbox: AppDir (or Overlay) and TmpDir are required")
	}
	if s.Overlay != nil {
		if s.RootDir != "" {
			return errors.New("sandbox: Overlay and RootDir together")
		}
		if err := s.Overlay.check(filepath.Clean(s.TmpDir)); err != nil {
			return err
		}
	}
	for _, t := range s.Tmpfs {
		if badTarget(t.Target) {
			return fmt.Errorf("sandbox: bad tmpfs target %q", t.Target)
		}
	}
	if s.RootDir != "" && (filepath.Clean(s.AppDir) != filepath.Join(s.RootDir, "app") || filepath.Clean(s.TmpDir) != filepath.Join(s.RootDir, "tmp")) {
		return errors.New("sandbox: with a RootDir, AppDir and TmpDir must be RootDir/app and RootDir/tmp")
	}
	for _, b := range s.Binds {
		if badTarget(b.Target) {
			return fmt.Errorf("sandbox: bad bind target %q", b.Target)
		}
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	argv0, err := c.lookPath(s.Args[0])
	if err != nil {
		return err
	}
	dir := s.Dir
	if dir == "" {
		dir = "/app"
	}

	var cmd *exec.Cmd
	switch c.mode {
	case ModeUserNamespace:
		cmd, err = c.userNamespaceCmd(argv0, dir)
		if err != nil {
			return err
		}
	case ModeNone:
		if s.Overlay != nil {
			return errors.New("sandbox: an overlay /app needs a mount namespace")
		}
		cmd = exec.Command(s.Args[0])
		cmd.Path = s.hostPath(argv0)
		cmd.Args = append([]string{s.Args[0]}, s.Args[1:]...)
		cmd.Dir = s.hostPath(dir)
		cmd.Env = append(append([]string(nil), s.Env...), "TMPDIR="+s.TmpDir)
		cmd.ExtraFiles = s.ExtraFiles
	default:
		cmd = exec.Command(s.Args[0])
		cmd.Path = argv0
		cmd.Args = append([]string{s.Args[0]}, s.Args[1:]...)
		cmd.Dir = dir
		cmd.Env = append([]string(nil), s.Env...)
		cmd.ExtraFiles = s.ExtraFiles
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if s.Isolate && c.mode == ModeNamespace {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC
	}
	if s.Cgroup != nil {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(s.Cgroup.Fd())
	}
	if err := c.setupIO(cmd); err != nil {
		return err
	}
	c.cmd = cmd

	if c.mode == ModeNamespace {
		err = c.startNamespace()
	} else {
		err = cmd.Start()
	}
	c.closeChildEnds(cmd)
	for _, f := range c.extraFiles {
		f.Close()
	}
	if err != nil {
		c.closeParentEnds()
		return fmt.Errorf("sandbox: start %s: %w", s.Args[0], err)
	}
	c.startCopying()
	c.done = make(chan struct{})
	if c.mode == ModeUserNamespace {
		c.nsFound = make(chan struct{})
		go c.findNamespace()
	}
	if c.ctx.Done() != nil {
		go func() {
			select {
			case <-c.ctx.Done():
				c.Kill()
			case <-c.done:
			}
		}()
	}
	return nil
}

// Wait waits for the command to exit, kills whatever it left running in
// the sandbox, and waits for its output to be copied. When ctx ended the
// command, the error wraps ctx.Err().
func (c *Cmd) Wait() error {
	if c.cmd == nil || c.waited {
		return errors.New("sandbox: not started or already waited")
	}
	c.waited = true
	if c.nsFound != nil {
		<-c.nsFound
	}
	// The leftovers are killed while the exited process is a zombie: its
	// PID (the process group's ID) can't be anyone else's yet.
	waitExited(c.cmd.Process.Pid)
	c.mu.Lock()
	c.killRest()
	err := c.cmd.Wait()
	c.reaped = true
	c.unpinNamespace()
	c.mu.Unlock()
	close(c.done)
	c.waitCopying()
	if ctxErr := c.ctx.Err(); ctxErr != nil && err != nil {
		return fmt.Errorf("sandbox: %s: %w", c.spec.Args[0], ctxErr)
	}
	return err
}

// waitExited waits until the child pid has exited, without reaping it.
func waitExited(pid int) {
	const pPID = 1
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid), uintptr(unsafe.Pointer(&info[0])),
			syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			return
		}
	}
}

// Kill kills the command and every process it started in the sandbox.
func (c *Cmd) Kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	if c.nsFound != nil {
		<-c.nsFound
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return
	}
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	c.cmd.Process.Kill()
	c.killNamespace()
}

// killRest kills what the command left behind after it exited.
func (c *Cmd) killRest() {
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	c.killNamespace()
}

// pinNamespace notes the mount namespace f (an open /proc/.../ns/mnt)
// stands for, keeping f open; it reports false (closing f) for a host
// namespace.
func (c *Cmd) pinNamespace(f *os.File) bool {
	ns, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil || isHostNamespace(ns) {
		f.Close()
		return false
	}
	c.mu.Lock()
	c.mntNS, c.mntPin = ns, f
	c.mu.Unlock()
	return true
}

// unpinNamespace forgets the namespace: its inode number may be reused.
// With c.mu held.
func (c *Cmd) unpinNamespace() {
	if c.mntPin != nil {
		c.mntPin.Close()
	}
	c.mntNS, c.mntPin = "", nil
}

// findNamespace notes the mount namespace the command's process is in
// (the script's, then the command's), so that what the command leaves
// behind can be found even after leaving the process group.
func (c *Cmd) findNamespace() {
	defer close(c.nsFound)
	p := fmt.Sprintf("/proc/%d/ns/mnt", c.cmd.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		// Not reaped before nsFound is closed: the PID is the command's.
		f, err := os.Open(p)
		if err != nil {
			return // gone (or a zombie) before we saw it
		}
		if c.pinNamespace(f) {
			return
		}
	}
}

// isHostNamespace reports whether ns is (or may be) a mount namespace of
// processes outside any sandbox: this process's, its main thread's or
// init's. Only an ns known to be none of them is ever scanned for
// processes to kill.
func isHostNamespace(ns string) bool {
	if ns == "" {
		return true
	}
	for _, p := range []string{"/proc/self/ns/mnt", "/proc/thread-self/ns/mnt", "/proc/1/ns/mnt"} {
		if host, err := os.Readlink(p); err == nil && host == ns {
			return true
		}
	}
	self, err := os.Readlink("/proc/self/ns/mnt")
	return err != nil || self == ""
}

// killNamespace kills every process in the sandbox's mount namespace,
// including any that left the process group. With c.mu held.
func (c *Cmd) killNamespace() {
	if c.mntPin == nil || isHostNamespace(c.mntNS) {
		return
	}
	self := os.Getpid()
	for range 10 {
		found := false
		d, err := os.Open("/proc")
		if err != nil {
			return
		}
		names, _ := d.Readdirnames(-1)
		d.Close()
		for _, name := range names {
			if name[0] < '0' || name[0] > '9' {
				continue
			}
			if link, err := os.Readlink("/proc/" + name + "/ns/mnt"); err == nil && link == c.mntNS {
				var pid int
				fmt.Sscan(name, &pid)
				if pid != self && pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
					found = true
				}
			}
		}
		if !found {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (c *Cmd) lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	pathEnv := ""
	for _, kv := range c.spec.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	if pathEnv == "" {
		pathEnv = "/usr/local/bin:/usr/bin:/bin"
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" || !path.IsAbs(dir) {
			continue
		}
		p := path.Join(dir, name)
		if fi, err := os.Stat(c.spec.hostPath(p)); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("sandbox: %s: executable file not found in $PATH", name)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
