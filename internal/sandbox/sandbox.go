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
//     same view, prepared by a short shell script under util-linux
//     `unshare --user --map-root-user --mount`.
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

	mntNS      string        // "mnt:[inode]" of the sandbox's namespace
	nsFound    chan struct{} // closed once mntNS is known (or never will be)
	childEnds  []*os.File
	extraFiles []*os.File // closed after Start
	parentEnds []*os.File
	copiers    []func()
	copying    sync.WaitGroup
	done       chan struct{}
	waited     bool
}

// Command returns a Cmd running s. When ctx is done the whole process tree
// is killed.
func Command(ctx context.Context, s Spec) *Cmd {
	return &Cmd{ctx: ctx, spec: s, mode: Mode()}
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
	if s.AppDir == "" || s.TmpDir == "" {
		return errors.New("sandbox: AppDir and TmpDir are required")
	}
	if s.RootDir != "" && (filepath.Clean(s.AppDir) != filepath.Join(s.RootDir, "app") || filepath.Clean(s.TmpDir) != filepath.Join(s.RootDir, "tmp")) {
		return errors.New("sandbox: with a RootDir, AppDir and TmpDir must be RootDir/app and RootDir/tmp")
	}
	for _, b := range s.Binds {
		t := path.Clean(b.Target)
		if !path.IsAbs(t) || t == "/" || t == "/app" || strings.HasPrefix(t, "/app/") || t == "/tmp" {
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
		cmd = exec.Command(s.Args[0])
		cmd.Path = s.hostPath(argv0)
		cmd.Args = append([]string{s.Args[0]}, s.Args[1:]...)
		cmd.Dir = s.hostPath(dir)
		cmd.Env = append(append([]string(nil), s.Env...), "TMPDIR="+s.TmpDir)
	default:
		cmd = exec.Command(s.Args[0])
		cmd.Path = argv0
		cmd.Args = append([]string{s.Args[0]}, s.Args[1:]...)
		cmd.Dir = dir
		cmd.Env = append([]string(nil), s.Env...)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
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
	err := c.cmd.Wait()
	close(c.done)
	c.killRest()
	c.waitCopying()
	if ctxErr := c.ctx.Err(); ctxErr != nil && err != nil {
		return fmt.Errorf("sandbox: %s: %w", c.spec.Args[0], ctxErr)
	}
	return err
}

// Kill kills the command and every process it started in the sandbox.
func (c *Cmd) Kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	c.cmd.Process.Kill()
	if c.nsFound != nil {
		<-c.nsFound
	}
	c.killNamespace()
}

// killRest kills what the command left behind after it exited.
func (c *Cmd) killRest() {
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	c.killNamespace()
}

// findNamespace notes the mount namespace the command's process enters
// (unshare makes it and then execs the script), so that what the command
// leaves behind can be found even after leaving the process group.
func (c *Cmd) findNamespace() {
	defer close(c.nsFound)
	p := fmt.Sprintf("/proc/%d/ns/mnt", c.cmd.Process.Pid)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		ns, err := os.Readlink(p)
		if err != nil {
			return // gone (or a zombie) before we saw it
		}
		if !isHostNamespace(ns) {
			c.mntNS = ns
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
// including any that left the process group.
func (c *Cmd) killNamespace() {
	if isHostNamespace(c.mntNS) {
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
