package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// onDiscardedThread runs f on an OS thread of its own that exits after f
// (so whatever f changes in the thread, such as its mount namespace, never
// reaches another goroutine), and returns f's error.
func onDiscardedThread(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if syscall.Gettid() == syscall.Getpid() {
			// The main thread can't exit: the runtime would park it, in
			// f's namespace, for good. Hold it (so the next goroutine
			// can't land on it) and use another thread.
			errc <- onDiscardedThread(f)
			runtime.UnlockOSThread()
			return
		}
		errc <- f()
		// Not unlocked: the thread exits with this goroutine.
	}()
	return <-errc
}

// probeNamespace checks that this process may make a private mount
// namespace and mount a tmpfs in it.
func probeNamespace() error {
	return onDiscardedThread(func() error {
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			return err
		}
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_SLAVE, ""); err != nil {
			return err
		}
		return syscall.Mount("bulut-probe", os.TempDir(), "tmpfs", 0, "size=4k")
	})
}

// startNamespace prepares the sandbox's mount namespace on a locked OS
// thread and starts the command from that thread, so the child is born in
// the namespace. The thread is discarded afterwards: no other goroutine
// ever runs with its view of the file system.
func (c *Cmd) startNamespace() error {
	if err := onDiscardedThread(c.setupNamespace); err != nil {
		return err
	}
	if !c.pinNamespace(c.newNS) {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		return errors.New("the command is in a host mount namespace")
	}
	c.newNS = nil
	return nil
}

// Host top-level directories that stay writable inside (device nodes, proc
// files).
var writableTop = []string{"dev", "proc"}

func (c *Cmd) setupNamespace() error {
	s := &c.spec
	root, tmpfsRoot := filepath.Clean(s.TmpDir), s.RootDir == ""
	if !tmpfsRoot {
		root = filepath.Clean(s.RootDir)
	}

	if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	// Mounts from the host still reach us; ours never reach the host.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	// Open every source (in the new namespace: mount(2) binds only mounts
	// of the caller's namespace) before the tmpfs root covers TmpDir, and
	// bind them through their descriptors.
	var fds []int
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	open := func(p string) (string, bool, error) {
		fd, err := syscall.Open(p, oPath|syscall.O_CLOEXEC, 0)
		if err != nil {
			return "", false, &os.PathError{Op: "open", Path: p, Err: err}
		}
		fds = append(fds, fd)
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return "", false, err
		}
		return "/proc/self/fd/" + strconv.Itoa(fd), st.Mode&syscall.S_IFMT == syscall.S_IFDIR, nil
	}
	var appSrc, tmpSrc string
	if tmpfsRoot {
		var isDir bool
		var err error
		if s.Overlay == nil {
			if appSrc, isDir, err = open(s.AppDir); err != nil {
				return err
			} else if !isDir {
				return fmt.Errorf("%s is not a directory", s.AppDir)
			}
		}
		if tmpSrc, isDir, err = open(root); err != nil {
			return err
		} else if !isDir {
			return fmt.Errorf("%s is not a directory", root)
		}
	}
	// Binds and tmpfs mounts, shallowest first (a tmpfs before a bind at
	// the same depth), so that one may go under another.
	type mountSrc struct {
		Bind
		src   string
		isDir bool
		tmpfs *Tmpfs
	}
	var mounts []mountSrc
	for i := range s.Tmpfs {
		t := &s.Tmpfs[i]
		mounts = append(mounts, mountSrc{Bind: Bind{Target: path.Clean(t.Target)}, tmpfs: t})
	}
	for _, b := range s.Binds {
		src, isDir, err := open(b.Source)
		if err != nil {
			return err
		}
		mounts = append(mounts, mountSrc{Bind{b.Source, path.Clean(b.Target), b.ReadOnly}, src, isDir, nil})
	}
	slices.SortStableFunc(mounts, func(a, b mountSrc) int {
		return strings.Count(a.Target, "/") - strings.Count(b.Target, "/")
	})
	top, err := os.ReadDir("/")
	if err != nil {
		return err
	}
	// The host directory holding the root (if any) first: binding it
	// later would copy the mounts made below the root so far.
	slices.SortStableFunc(top, func(a, b os.DirEntry) int {
		return boolInt(!strings.HasPrefix(root, "/"+a.Name()+"/")) - boolInt(!strings.HasPrefix(root, "/"+b.Name()+"/"))
	})

	const rootFlags = syscall.MS_NOSUID | syscall.MS_NODEV
	if tmpfsRoot {
		if err := syscall.Mount("bulut-sandbox", root, "tmpfs", rootFlags, "mode=0755,size=1m,nr_inodes=4096"); err != nil {
			return fmt.Errorf("mount tmpfs root: %w", err)
		}
	}
	for _, e := range top {
		name := e.Name()
		if name == "app" || name == "tmp" || "/"+name == root {
			continue
		}
		hostPath, inside := "/"+name, filepath.Join(root, name)
		switch t := e.Type(); {
		case t&os.ModeSymlink != 0:
			target, err := os.Readlink(hostPath)
			if err != nil {
				continue
			}
			if err := os.Symlink(target, inside); err != nil && !(os.IsExist(err) && !tmpfsRoot) {
				return err
			}
		case t.IsDir():
			if err := bind(hostPath, inside, true, !slices.Contains(writableTop, name)); err != nil {
				return err
			}
		case t.IsRegular():
			if err := bind(hostPath, inside, false, true); err != nil {
				return err
			}
		}
	}
	if tmpfsRoot {
		if o := s.Overlay; o != nil {
			target := filepath.Join(root, "app")
			if err := os.Mkdir(target, 0o755); err != nil {
				return err
			}
			if err := syscall.Mount("overlay", target, "overlay", syscall.MS_NOSUID|syscall.MS_NODEV, o.options()); err != nil {
				return fmt.Errorf("mount the overlay /app: %w", err)
			}
		} else if err := bind(appSrc, filepath.Join(root, "app"), true, false); err != nil {
			return err
		}
		// Not recursive: the tmpfs root covering TmpDir would come along.
		if err := os.Mkdir(filepath.Join(root, "tmp"), 0o755); err != nil {
			return err
		}
		if err := syscall.Mount(tmpSrc, filepath.Join(root, "tmp"), "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind mount /tmp: %w", err)
		}
	}
	const tmpfsFlags = syscall.MS_NOSUID | syscall.MS_NODEV
	for _, m := range mounts {
		target := filepath.Join(root, m.Target)
		if m.tmpfs != nil {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			if err := syscall.Mount("bulut-tmpfs", target, "tmpfs", tmpfsFlags, m.tmpfs.options()); err != nil {
				return fmt.Errorf("mount a tmpfs at %s: %w", m.Target, err)
			}
			continue
		}
		if err := bind(m.src, target, m.isDir, m.ReadOnly); err != nil {
			return fmt.Errorf("bind %s at %s: %w", m.Source, m.Target, err)
		}
	}
	for _, t := range s.Tmpfs {
		if t.ReadOnly {
			target := filepath.Join(root, path.Clean(t.Target))
			if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|tmpfsFlags, ""); err != nil {
				return fmt.Errorf("make the tmpfs at %s read-only: %w", t.Target, err)
			}
		}
	}
	if tmpfsRoot {
		// Nothing may be added to the root itself.
		if err := syscall.Mount("", root, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|rootFlags, ""); err != nil {
			return fmt.Errorf("remount root read-only: %w", err)
		}
	}
	ns, err := os.Open("/proc/thread-self/ns/mnt")
	if err != nil {
		return err
	}
	c.cmd.SysProcAttr.Chroot = root
	if err := c.cmd.Start(); err != nil {
		ns.Close()
		return err
	}
	c.newNS = ns // pinned by startNamespace, from a thread in the host's namespace
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bind mounts src (recursively) at target, creating the mount point, and
// makes it read-only (with everything under it) if asked.
func bind(src, target string, isDir, readOnly bool) error {
	if isDir {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	} else if _, err := os.Lstat(target); err != nil {
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
	}
	if err := syscall.Mount(src, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount %s: %w", target, err)
	}
	if readOnly {
		return setReadOnly(target)
	}
	return nil
}

const oPath = 0x200000 // O_PATH

// mount_setattr(2) (Linux 5.12): the same number on every architecture.
const (
	sysMountSetattr = 442
	atRecursive     = 0x8000
	mountAttrRdonly = 0x1
)

type mountAttr struct {
	attrSet, attrClr, propagation, usernsFD uint64
}

// setReadOnly makes the mount at p and every mount below it read-only.
func setReadOnly(p string) error {
	pb, err := syscall.BytePtrFromString(p)
	if err != nil {
		return err
	}
	attr := mountAttr{attrSet: mountAttrRdonly}
	atFDCWD := -100
	_, _, errno := syscall.Syscall6(sysMountSetattr, uintptr(atFDCWD), uintptr(unsafe.Pointer(pb)), atRecursive,
		uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	runtime.KeepAlive(pb)
	if errno == 0 {
		return nil
	}
	if !errors.Is(errno, syscall.ENOSYS) {
		return fmt.Errorf("make %s read-only: %w", p, errno)
	}
	// Older kernels: the top mount only.
	if err := syscall.Mount("", p, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("make %s read-only: %w", p, err)
	}
	return nil
}
