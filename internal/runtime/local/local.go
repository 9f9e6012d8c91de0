// Package local runs dynos as processes of this machine: the embedded
// default runtime.Runtime.
//
// As root ("namespace" mode) every dyno gets its own mount, PID, UTS
// (hostname = the dyno's name) and IPC namespaces; a root file system
// that is a read-only view of the host with a copy-on-write /app (an
// overlay of the release's slug, unpacked once per release), a private
// /tmp and /dev/shm, the data dirs hidden, /root reduced to
// /root/.pyenv and an /etc/hosts that resolves its name; its command runs as an unprivileged user (65534 by
// default) under our init (package dynoinit) as PID 1; and a memory
// cgroup (v1 or v2) limits it to twice its quota.
//
// Not root, dynos run in unprivileged user namespaces when the kernel
// allows them ("user-namespace": the same view, PID and UTS namespaces,
// as the server's user, no memory limit), else as plain processes in
// per-dyno directories ("none").
//
// Every dyno's files live under DataDir/dynos/ID (its /tmp, the overlay's
// upper and work directories, a state file naming its init process and
// cgroup) and are removed when it ends; Cleanup finds what a killed server
// left there.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
	"github.com/bulut-bulut/bulut/internal/sandbox"
)

// DefaultUID and DefaultGID are the dyno user's (nobody) when Config
// leaves them 0.
const (
	DefaultUID = 65534
	DefaultGID = 65534
)

// Config configures a Runtime.
type Config struct {
	// Blobs holds the slugs (runtime.Spec.SlugKey).
	Blobs bulut.BlobStore
	// DataDir holds the unpacked slugs and the dynos' files. Dynos never
	// see it.
	DataDir string
	// InitCommand runs dynoinit.Main with the arguments appended, e.g.
	// [/usr/local/bin/bulut, dyno-init]. Absolute paths in it are handed
	// to the dyno as open files, so they need not be visible inside.
	InitCommand []string
	// HiddenPaths are host paths dynos must not read (the server's data
	// dir, say): empty inside.
	HiddenPaths []string
	// UID and GID run dynos' commands as root ("namespace" mode, or root
	// in mode "none"); 0 means DefaultUID and DefaultGID.
	UID, GID int
	Logger   *slog.Logger
	// Mode forces "namespace", "user-namespace" or "none" (tests); ""
	// picks the best this machine allows.
	Mode string
}

// Runtime is the local runtime.Runtime.
type Runtime struct {
	cfg      Config
	log      *slog.Logger
	mode     string
	root     bool // running as root
	dropUser bool // the command runs as cfg.UID
	cg       *cgroups
	overlay  bool
	slugs    *slugs
	dynosDir string

	initArgs  []string   // InitCommand with absolute paths as descriptors
	initFiles []*os.File // those descriptors, given as 4, 5...
	tmpfs     []sandbox.Tmpfs
	binds     []sandbox.Bind

	hostsOnce sync.Once
	hosts     []byte // the host's /etc/hosts

	mu      sync.Mutex
	running map[string]*instance
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns a Runtime, logging one warning when dynos can't be isolated
// as they would be as root.
func New(cfg Config) (*Runtime, error) {
	if cfg.DataDir == "" || len(cfg.InitCommand) == 0 {
		return nil, errors.New("local runtime: DataDir and InitCommand are required")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	cfg.DataDir = dataDir
	if cfg.UID == 0 {
		cfg.UID = DefaultUID
	}
	if cfg.GID == 0 {
		cfg.GID = DefaultGID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "runtime"),
		mode:     cfg.Mode,
		root:     os.Geteuid() == 0,
		dynosDir: filepath.Join(dataDir, "dynos"),
		running:  map[string]*instance{},
	}
	if r.mode == "" {
		r.mode = sandbox.Mode()
	}
	switch r.mode {
	case sandbox.ModeNamespace, sandbox.ModeUserNamespace, sandbox.ModeNone:
	default:
		return nil, fmt.Errorf("local runtime: unknown mode %q", r.mode)
	}
	r.dropUser = r.root && r.mode == sandbox.ModeNamespace
	for _, d := range []string{dataDir, r.dynosDir, filepath.Join(dataDir, "slugs")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	r.slugs = &slugs{dir: filepath.Join(dataDir, "slugs"), uid: cfg.UID, gid: cfg.GID, chown: r.dropUser,
		unpacking: map[string]*sync.Mutex{}}

	// Absolute paths of the init command become descriptors (fd 3 is the
	// start signal): the dyno's view may not show them (a test binary
	// under /tmp, a binary under a hidden path).
	for _, a := range cfg.InitCommand {
		if filepath.IsAbs(a) {
			if fi, err := os.Stat(a); err == nil && fi.Mode().IsRegular() {
				f, err := os.Open(a)
				if err != nil {
					return nil, err
				}
				r.initFiles = append(r.initFiles, f)
				a = "/proc/self/fd/" + strconv.Itoa(3+len(r.initFiles))
			}
		}
		r.initArgs = append(r.initArgs, a)
	}

	if r.mode != sandbox.ModeNone {
		r.viewMounts()
	}
	var cgErr error
	if r.root {
		r.cg, cgErr = detectCgroups()
	}
	if r.mode != sandbox.ModeNone {
		if err := r.probeOverlay(); err != nil {
			r.log.Warn("dynos get a copy of their slug at every start: overlayfs is not available", "err", err)
		} else {
			r.overlay = true
		}
	}
	switch {
	case r.mode == sandbox.ModeUserNamespace:
		r.log.Warn("not running as root: dynos run in user namespaces (their own /app, /tmp, processes and hostname) but as this user and without memory limits")
	case r.mode == sandbox.ModeNone && !r.root:
		r.log.Warn("not running as root and no user namespaces here: dynos run as plain processes of this user in per-dyno directories (HOME and working directory), not isolated, without memory limits")
	case r.mode == sandbox.ModeNone:
		r.log.Warn("dynos run as plain processes of root in per-dyno directories, not isolated (no mount namespaces here)")
	}
	if r.root && r.cg == nil {
		r.log.Warn("dyno memory limits are not enforced", "err", cgErr)
	}
	cgroupInfo := "none"
	if r.cg != nil {
		cgroupInfo = r.cg.base
	}
	r.log.Info("dyno runtime", "mode", r.mode, "overlay", r.overlay, "cgroups", cgroupInfo, "user", r.dropUser)
	return r, nil
}

// Mode is how dynos are isolated: "namespace" (as root), "user-namespace"
// or "none".
func (r *Runtime) Mode() string { return r.mode }

// viewMounts computes the mounts every dyno's view of the host gets.
func (r *Runtime) viewMounts() {
	hidden := append([]string{r.cfg.DataDir}, r.cfg.HiddenPaths...)
	if r.root {
		if fi, err := os.Stat("/root"); err == nil && fi.IsDir() {
			// Only what interpreters need (Python venvs in slugs link to
			// pyenv's interpreters).
			r.tmpfs = append(r.tmpfs, sandbox.Tmpfs{Target: "/root", Mode: 0o755, ReadOnly: true})
			if fi, err := os.Stat("/root/.pyenv"); err == nil && fi.IsDir() {
				r.binds = append(r.binds, sandbox.Bind{Source: "/root/.pyenv", Target: "/root/.pyenv", ReadOnly: true})
			}
		}
	}
	for _, h := range hidden {
		p, err := filepath.Abs(h)
		if err != nil {
			continue
		}
		if q, err := filepath.EvalSymlinks(p); err == nil {
			p = q
		}
		fi, err := os.Stat(p)
		if err != nil || p == "/" || p == "/tmp" || strings.HasPrefix(p, "/tmp/") || p == "/root" || strings.HasPrefix(p, "/root/") && r.root {
			continue // not there, or not in the view anyway
		}
		if fi.IsDir() {
			r.tmpfs = append(r.tmpfs, sandbox.Tmpfs{Target: p, Mode: 0o755, Size: 4096, ReadOnly: true})
		} else {
			r.binds = append(r.binds, sandbox.Bind{Source: os.DevNull, Target: p, ReadOnly: true})
		}
	}
}

// probeOverlay checks that an overlay /app can be mounted under DataDir.
func (r *Runtime) probeOverlay() error {
	d, err := os.MkdirTemp(r.cfg.DataDir, ".probe-")
	if err != nil {
		return err
	}
	defer removeAll(d)
	o := &sandbox.Overlay{Lower: filepath.Join(d, "lower"), Upper: filepath.Join(d, "upper"), Work: filepath.Join(d, "work")}
	tmp := filepath.Join(d, "tmp")
	for _, p := range []string{o.Lower, o.Upper, o.Work, tmp} {
		if err := os.Mkdir(p, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(o.Lower, "x"), []byte("x"), 0o644); err != nil {
		return err
	}
	var out strings.Builder
	err = sandbox.Run(context.Background(), sandbox.Spec{Overlay: o, TmpDir: tmp, Mode: r.mode,
		Env:  []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		Args: []string{"sh", "-c", "cat /app/x && echo y > /app/x"}}, &out, &out)
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
	}
	if b, _ := os.ReadFile(filepath.Join(o.Upper, "x")); string(b) != "y\n" {
		return errors.New("writes to the overlay did not reach its upper directory")
	}
	return nil
}

// state is what Cleanup needs to end a dyno a killed server left behind.
type state struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid,omitempty"`   // init's, as seen on the host
	Start  uint64 `json:"start,omitempty"` // its start time (/proc/PID/stat)
	PIDNS  bool   `json:"pidns,omitempty"` // init is PID 1 of the dyno's PID namespace
	Cgroup string `json:"cgroup,omitempty"`
	// Freezer is the dyno's v1 freezer cgroup (it may be frozen).
	Freezer string `json:"freezer,omitempty"`
}

const stateFile = "state.json"

func writeState(dir string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}

// Start starts a dyno: see the package documentation.
func (r *Runtime) Start(ctx context.Context, s runtime.Spec) (_ runtime.Instance, err error) {
	if s.ID == "" || s.Command == "" {
		return nil, errors.New("local runtime: a dyno needs an ID and a command")
	}
	var lower string
	if s.SlugKey != "" {
		if lower, err = r.slugs.get(ctx, r.cfg.Blobs, s.Release, s.SlugKey); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	i := &instance{r: r, id: s.ID, name: s.Name, done: make(chan struct{}), spec: s}
	i.dir = filepath.Join(r.dynosDir, safeName(s.ID))
	if err := os.Mkdir(i.dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("local runtime: dyno %s already exists", s.ID)
		}
		return nil, err
	}
	r.mu.Lock()
	r.running[filepath.Base(i.dir)] = i
	r.mu.Unlock()
	defer func() {
		if err != nil {
			i.teardown()
			r.forgetDyno(i)
		}
	}()
	st := state{ID: s.ID}
	if r.cg != nil {
		st.Cgroup = filepath.Join(r.cg.base, cgroupPrefix+safeName(s.ID)+"-"+randomHex())
		if !r.cg.v2 && r.cg.freezer != "" {
			st.Freezer = filepath.Join(r.cg.freezer, filepath.Base(st.Cgroup))
		}
	}
	// Recorded before anything Cleanup would have to undo is made.
	if err := writeState(i.dir, st); err != nil {
		return nil, err
	}

	spec, err := r.sandboxSpec(i, s, lower)
	if err != nil {
		return nil, err
	}
	if r.cg != nil {
		if i.cgroup, err = r.cg.create(filepath.Base(st.Cgroup), 2*s.Memory); err != nil {
			return nil, fmt.Errorf("local runtime: make the dyno's cgroup: %w", err)
		}
		if i.cgroup.v2 {
			// Born in it: a migration (cgroup.procs) waits for an RCU
			// grace period, milliseconds.
			if spec.Cgroup, err = os.Open(i.cgroup.path); err != nil {
				return nil, err
			}
			defer spec.Cgroup.Close()
		}
	}

	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer syncW.Close() // EOF: init gives up (if it was not told to go)
	spec.ExtraFiles = append([]*os.File{syncR}, r.initFiles...)
	cmd := sandbox.Command(context.Background(), spec)
	if err := i.setupIO(cmd, s); err != nil {
		syncR.Close()
		return nil, err
	}
	err = cmd.Start()
	syncR.Close()
	i.afterStart(err == nil)
	if err != nil {
		i.closeIO()
		return nil, fmt.Errorf("local runtime: start dyno %s: %w", s.Name, err)
	}
	i.cmd = cmd
	go i.wait()
	// From here on, failing means killing what runs.
	fail := func(err error) (runtime.Instance, error) {
		i.kill()
		<-i.done
		return nil, err
	}
	pid := cmd.Process().Pid
	init, err := openPidfd(pid)
	if err != nil {
		return fail(err)
	}
	i.mu.Lock()
	if i.ended {
		init.close() // already gone: wait() won't close it
	} else {
		i.init = init
	}
	i.mu.Unlock()
	if i.cgroup != nil && spec.Cgroup == nil {
		// cgroup v1: moved in while init waits for the start signal, and
		// prepares its Go runtime meanwhile.
		if err := i.cgroup.add(pid); err != nil {
			return fail(fmt.Errorf("local runtime: put dyno %s in its cgroup: %w", s.Name, err))
		}
	}
	st.Pid, st.Start, st.PIDNS = pid, init.start, r.mode != sandbox.ModeNone
	if err := writeState(i.dir, st); err != nil {
		return fail(err)
	}
	if _, err := syncW.Write([]byte{'g'}); err != nil {
		return fail(fmt.Errorf("local runtime: dyno %s's init: %w", s.Name, err))
	}
	i.startIO()
	return i, nil
}

// forgetDyno drops an ended dyno (whose files are gone).
func (r *Runtime) forgetDyno(i *instance) {
	r.mu.Lock()
	delete(r.running, filepath.Base(i.dir))
	r.mu.Unlock()
}

// sandboxSpec prepares the dyno's directories and describes its view.
func (r *Runtime) sandboxSpec(i *instance, s runtime.Spec, lower string) (sandbox.Spec, error) {
	spec := sandbox.Spec{
		TmpDir: filepath.Join(i.dir, "tmp"),
		Dir:    "/app",
		Mode:   r.mode,
	}
	owner := func(p string) error {
		if r.dropUser {
			return os.Lchown(p, r.cfg.UID, r.cfg.GID)
		}
		return nil
	}
	if err := os.Mkdir(spec.TmpDir, 0o700); err != nil {
		return spec, err
	}
	if err := os.Chmod(spec.TmpDir, 0o1777); err != nil {
		return spec, err
	}
	appMode := os.FileMode(0o755)
	if lower != "" {
		if fi, err := os.Stat(lower); err == nil {
			appMode = fi.Mode().Perm()
		}
	}
	switch {
	case r.overlay && lower != "":
		o := &sandbox.Overlay{Lower: lower, Upper: filepath.Join(i.dir, "upper"), Work: filepath.Join(i.dir, "work")}
		if err := os.Mkdir(o.Upper, appMode); err != nil {
			return spec, err
		}
		if err := os.Chmod(o.Upper, appMode); err != nil {
			return spec, err
		}
		if err := owner(o.Upper); err != nil {
			return spec, err
		}
		if err := os.Mkdir(o.Work, 0o700); err != nil {
			return spec, err
		}
		spec.Overlay = o
	case lower != "":
		spec.AppDir = filepath.Join(i.dir, "app")
		if err := copyTree(lower, spec.AppDir, r.dropUser, r.cfg.UID, r.cfg.GID); err != nil {
			return spec, fmt.Errorf("local runtime: copy the slug: %w", err)
		}
	default:
		spec.AppDir = filepath.Join(i.dir, "app")
		if err := os.Mkdir(spec.AppDir, 0o755); err != nil {
			return spec, err
		}
		if err := owner(spec.AppDir); err != nil {
			return spec, err
		}
	}

	appDir := "/app" // as the command sees it
	if r.mode == sandbox.ModeNone {
		appDir = spec.AppDir // spec.Dir /app is AppDir there too
	}
	env := make([]string, 0, len(s.Env)+2)
	hasPath := false
	for _, kv := range s.Env {
		if strings.HasPrefix(kv, "HOME=") {
			continue
		}
		hasPath = hasPath || strings.HasPrefix(kv, "PATH=")
		env = append(env, kv)
	}
	env = append(env, "HOME="+appDir)
	if !hasPath {
		env = append(env, "PATH=/usr/local/bin:/usr/bin:/bin")
	}
	spec.Env = env

	args := append(append([]string(nil), r.initArgs...), "-sync", "3")
	if r.mode == sandbox.ModeNone {
		args = append(args, "-subreaper", "-dir", appDir)
	} else {
		spec.Isolate = true
		spec.Tmpfs = append(append([]sandbox.Tmpfs(nil), r.tmpfs...), r.devShm(s.Memory)...)
		spec.Binds = r.binds
		if s.Name != "" {
			// The hostname resolves (Java's getLocalHost, hostname -f...).
			hosts := filepath.Join(i.dir, "hosts")
			if err := os.WriteFile(hosts, r.hostsFile(s.Name), 0o644); err != nil {
				return spec, err
			}
			spec.Binds = append(slices.Clip(spec.Binds), sandbox.Bind{Source: hosts, Target: "/etc/hosts", ReadOnly: true})
		}
		args = append(args, "-proc")
		if s.Name != "" {
			args = append(args, "-hostname", s.Name)
		}
	}
	if r.dropUser {
		args = append(args, "-uid", strconv.Itoa(r.cfg.UID), "-gid", strconv.Itoa(r.cfg.GID))
	}
	spec.Args = append(args, "--", s.Command)
	return spec, nil
}

// hostsFile is the host's /etc/hosts with the dyno's name for the
// loopback addresses.
func (r *Runtime) hostsFile(name string) []byte {
	r.hostsOnce.Do(func() { r.hosts, _ = os.ReadFile("/etc/hosts") })
	b := []byte("127.0.0.1\tlocalhost " + name + "\n::1\tlocalhost ip6-localhost ip6-loopback " + name + "\n")
	return append(b, r.hosts...)
}

// devShm gives the dyno a private /dev/shm (the host's is shared by
// every process of the machine).
func (r *Runtime) devShm(memory int64) []sandbox.Tmpfs {
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		return nil
	}
	size := memory
	if size <= 0 {
		size = 64 << 20
	}
	return []sandbox.Tmpfs{{Target: "/dev/shm", Mode: 0o777 | os.ModeSticky, Size: size}}
}

// Cleanup ends every dyno a previous run left behind (by its state file:
// its init, checked by start time, and its cgroup) and removes their
// files. Call it before the first Start.
func (r *Runtime) Cleanup(ctx context.Context) error {
	ents, err := os.ReadDir(r.dynosDir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := filepath.Join(r.dynosDir, e.Name())
		r.mu.Lock()
		_, mine := r.running[e.Name()]
		r.mu.Unlock()
		if mine {
			continue
		}
		var st state
		if b, err := os.ReadFile(filepath.Join(dir, stateFile)); err == nil {
			if err := json.Unmarshal(b, &st); err != nil {
				r.log.Warn("unreadable dyno state", "dir", dir, "err", err)
			}
		}
		if err := endLeftover(st); err != nil {
			errs = append(errs, fmt.Errorf("dyno %s: %w", st.ID, err))
			continue // its files may still be in use
		}
		if err := removeAll(dir); err != nil {
			errs = append(errs, err)
		}
		if st.Pid > 0 {
			r.log.Info("ended a dyno of a previous run", "dyno", st.ID, "pid", st.Pid)
		}
	}
	// Slugs half unpacked by a killed server.
	if ents, err := os.ReadDir(r.slugs.dir); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".unpack-") || strings.HasPrefix(e.Name(), ".trash-") {
				removeAll(filepath.Join(r.slugs.dir, e.Name()))
			}
		}
	}
	return errors.Join(errs...)
}

// endLeftover kills what remains of a dyno of a previous run.
func endLeftover(st state) error {
	var fz *cgroup
	if st.Freezer != "" && strings.HasPrefix(filepath.Base(st.Freezer), cgroupPrefix) && exists(st.Freezer) {
		fz = &cgroup{path: st.Freezer, freezer: st.Freezer}
		fz.freeze(false) // frozen processes end only once thawed
		defer syscall.Rmdir(st.Freezer)
	}
	if st.Pid > 0 && safePid(st.Pid) && alive(st.Pid, st.Start) {
		if st.PIDNS {
			// PID 1 of the dyno's namespace: the kernel kills the rest.
			signalIf(st.Pid, syscall.SIGKILL, func() bool { return alive(st.Pid, st.Start) })
		} else {
			killTree(st.Pid, st.Start)
		}
		if !waitGone(st.Pid, st.Start, 5*time.Second) {
			return fmt.Errorf("process %d did not end", st.Pid)
		}
	}
	if st.Cgroup != "" && exists(st.Cgroup) {
		return (&cgroup{v2: exists(filepath.Join(st.Cgroup, "cgroup.kill")) || exists(filepath.Join(st.Cgroup, "memory.max")), path: st.Cgroup}).killAndRemove()
	}
	return nil
}

// Forget removes a release's unpacked slug.
func (r *Runtime) Forget(releaseID string) error {
	return r.slugs.forget(releaseID)
}

func randomHex() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// exitOf turns the init's end into the dyno's Exit.
func exitOf(err error) runtime.Exit {
	if err == nil {
		return runtime.Exit{}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			if ws.Signaled() {
				return runtime.Exit{Code: -1, Signal: signalName(ws.Signal())}
			}
			return runtime.Exit{Code: ws.ExitStatus()}
		}
		return runtime.Exit{Code: ee.ExitCode()}
	}
	return runtime.Exit{Code: -1, Err: err}
}
