package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// tools are the absolute paths of the commands the user-namespace script
// runs, found once.
var tools map[string]string

func findTools() error {
	if tools != nil {
		return nil
	}
	m := map[string]string{}
	for _, name := range []string{"mount", "mkdir", "chroot", "env", "sh"} {
		p, err := exec.LookPath(name)
		if err != nil {
			for _, dir := range []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"} {
				if q := filepath.Join(dir, name); isExecutable(q) {
					p, err = q, nil
					break
				}
			}
		}
		if err != nil {
			return err
		}
		if !filepath.IsAbs(p) {
			if p, err = filepath.Abs(p); err != nil {
				return err
			}
		}
		m[name] = p
	}
	tools = m
	return nil
}

// probeUserNamespace checks that unprivileged user and mount namespaces
// work here.
func probeUserNamespace() error {
	if err := findTools(); err != nil {
		return err
	}
	cmd := exec.Command(tools["sh"], "-c", tools["mount"]+" -t tmpfs bulut-probe /tmp || "+tools["mount"]+" -t tmpfs bulut-probe /")
	cmd.SysProcAttr = userNamespaceAttr(syscall.CLONE_NEWPID)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("user namespace: %v: %s", err, out)
	}
	return nil
}

// userNamespaceAttr starts a process in new user and mount namespaces
// (plus those of extra), as root there standing for this process's user.
func userNamespaceAttr(extra uintptr) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | extra,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
}

// shq quotes s for the shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fstabEscape escapes a path for an fstab field.
func fstabEscape(p string) string {
	return strings.NewReplacer("\\", `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`).Replace(p)
}

// userNamespaceCmd returns a shell started in new user and mount
// namespaces (and PID, UTS and IPC ones with Isolate: the shell, then the
// command it execs, is their PID 1) that builds the sandbox's root as
// setupNamespace does, with one util-linux `mount -a` over an fstab
// (handed over as an unlinked file after the caller's extra files), and
// execs the command chrooted into it.
func (c *Cmd) userNamespaceCmd(argv0, dir string) (*exec.Cmd, error) {
	if err := findTools(); err != nil {
		return nil, err
	}
	s := &c.spec
	if strings.Contains(argv0, "=") {
		return nil, errors.New("sandbox: command path contains '='")
	}
	t := func(name string) string { return shq(tools[name]) }
	root, tmpfsRoot := filepath.Clean(s.TmpDir), s.RootDir == ""
	if !tmpfsRoot {
		root = filepath.Clean(s.RootDir)
	}
	var fstab, script strings.Builder
	line := func(src, target, typ, opts string) {
		fmt.Fprintf(&fstab, "%s %s %s %s 0 0\n", fstabEscape(src), fstabEscape(filepath.Join(root, target)), typ, opts)
	}
	if tmpfsRoot {
		line("bulut-sandbox", "/", "tmpfs", "mode=0755,size=1m,nr_inodes=4096,nosuid,nodev")
	}
	top, err := os.ReadDir("/")
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(top, func(a, b os.DirEntry) int {
		return boolInt(!strings.HasPrefix(root, "/"+a.Name()+"/")) - boolInt(!strings.HasPrefix(root, "/"+b.Name()+"/"))
	})
	for _, e := range top {
		name := e.Name()
		hostPath := "/" + name
		if name == "app" || name == "tmp" || hostPath == root {
			continue
		}
		if e.Type()&os.ModeSymlink != 0 {
			// A bind of what the link points to stands in for the link.
			if hostPath, err = filepath.EvalSymlinks(hostPath); err != nil {
				continue
			}
		}
		if !isDir(hostPath) {
			continue
		}
		opts := "rbind,ro,X-mount.mkdir"
		if slices.Contains(writableTop, name) {
			opts = "rbind,X-mount.mkdir"
		}
		line(hostPath, "/"+name, "none", opts)
	}

	script.WriteString("set -e\n")
	// Mounts from the host still reach us; ours never reach the host.
	fmt.Fprintf(&script, "%s --make-rslave /\n", t("mount"))
	// Descriptors: the caller's extra files from 3, then the fstab, then
	// the sources, opened in the new namespace (mount(2) binds only mounts
	// of the caller's namespace) and before the root covers TmpDir.
	fstabFD := 3 + len(s.ExtraFiles)
	fd := fstabFD + 1
	srcs := map[string]string{}
	openSrc := func(p string) {
		if _, ok := srcs[p]; ok {
			return
		}
		fmt.Fprintf(&script, "exec %d<%s\n", fd, shq(p))
		srcs[p] = "/proc/self/fd/" + strconv.Itoa(fd)
		fd++
	}
	if tmpfsRoot {
		if s.Overlay == nil {
			openSrc(s.AppDir)
		}
		openSrc(root)
	}
	// Binds and tmpfs mounts (Bind.Source "" with tmpfs set), shallowest
	// first.
	type mount struct {
		Bind
		tmpfs *Tmpfs
	}
	var mounts []mount
	for i := range s.Tmpfs {
		mounts = append(mounts, mount{Bind{Target: s.Tmpfs[i].Target}, &s.Tmpfs[i]})
	}
	for _, b := range s.Binds {
		mounts = append(mounts, mount{Bind: b})
	}
	slices.SortStableFunc(mounts, func(a, b mount) int {
		return strings.Count(path.Clean(a.Target), "/") - strings.Count(path.Clean(b.Target), "/")
	})
	for _, m := range mounts {
		if m.tmpfs == nil {
			openSrc(m.Source)
		}
	}
	if tmpfsRoot {
		if o := s.Overlay; o != nil {
			line("overlay", "/app", "overlay", o.options()+",userxattr,nosuid,nodev,X-mount.mkdir")
		} else {
			line(srcs[s.AppDir], "/app", "none", "rbind,X-mount.mkdir")
		}
		line(srcs[root], "/tmp", "none", "bind,X-mount.mkdir") // not rbind: the root covers TmpDir
	}
	var fileBinds []Bind
	for _, m := range mounts {
		if m.tmpfs != nil {
			line("bulut-tmpfs", path.Clean(m.Target), "tmpfs", m.tmpfs.options()+",nosuid,nodev,X-mount.mkdir")
			continue
		}
		b := m.Bind
		if !isDir(b.Source) {
			fileBinds = append(fileBinds, b)
			continue
		}
		opts := "rbind,X-mount.mkdir"
		if b.ReadOnly {
			opts = "rbind,ro,X-mount.mkdir"
		}
		line(srcs[b.Source], path.Clean(b.Target), "none", opts)
	}
	fmt.Fprintf(&script, "%s -a -T /proc/self/fd/%d\n", t("mount"), fstabFD)
	for _, b := range fileBinds {
		target := filepath.Join(root, path.Clean(b.Target))
		fmt.Fprintf(&script, "%s -p %s; [ -e %s ] || : > %s\n", t("mkdir"), shq(filepath.Dir(target)), shq(target), shq(target))
		opts := "bind"
		if b.ReadOnly {
			opts = "bind,ro"
		}
		fmt.Fprintf(&script, "%s -o %s %s %s\n", t("mount"), opts, srcs[b.Source], shq(target))
	}
	for _, m := range s.Tmpfs {
		if m.ReadOnly {
			fmt.Fprintf(&script, "%s -o remount,bind,ro,nosuid,nodev %s\n", t("mount"), shq(filepath.Join(root, path.Clean(m.Target))))
		}
	}
	if tmpfsRoot {
		fmt.Fprintf(&script, "%s -o remount,bind,ro %s\n", t("mount"), shq(root))
	}
	for i := fstabFD; i < fd; i++ {
		fmt.Fprintf(&script, "exec %d<&-\n", i)
	}
	fmt.Fprintf(&script, "exec %s %s %s -C %s -- \"$@\"\n", t("chroot"), shq(root), t("env"), shq(dir))

	f, err := os.CreateTemp("", "bulut-fstab-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	if _, err := f.WriteString(fstab.String()); err != nil {
		f.Close()
		return nil, err
	}
	c.extraFiles = append(c.extraFiles, f)
	cmd := exec.Command(tools["sh"], "-c", script.String(), "sandbox", argv0)
	cmd.Args = append(cmd.Args, s.Args[1:]...)
	var extra uintptr
	if s.Isolate {
		extra = syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC
	}
	cmd.SysProcAttr = userNamespaceAttr(extra)
	cmd.Env = append([]string(nil), s.Env...)
	cmd.ExtraFiles = append(slices.Clip(s.ExtraFiles), f)
	return cmd, nil
}
