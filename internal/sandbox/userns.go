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
)

// tools are the absolute paths of the commands the user-namespace script
// runs, found once.
var tools map[string]string

func findTools() error {
	if tools != nil {
		return nil
	}
	m := map[string]string{}
	for _, name := range []string{"unshare", "mount", "mkdir", "chroot", "env", "sh"} {
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
	out, err := exec.Command(tools["unshare"], "--user", "--map-root-user", "--mount", tools["sh"], "-c",
		tools["mount"]+" -t tmpfs bulut-probe /tmp || "+tools["mount"]+" -t tmpfs bulut-probe /").CombinedOutput()
	if err != nil {
		return fmt.Errorf("unshare: %v: %s", err, out)
	}
	return nil
}

// shq quotes s for the shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// fstabEscape escapes a path for an fstab field.
func fstabEscape(p string) string {
	return strings.NewReplacer("\\", `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`).Replace(p)
}

// userNamespaceCmd returns the unshare command that builds the sandbox's
// root as setupNamespace does, with one util-linux `mount -a` over an fstab
// (handed over as an unlinked file on descriptor 3), and execs the command
// chrooted into it.
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
	// Sources are opened after unshare (mount(2) binds only mounts of the
	// caller's namespace) and before the root covers TmpDir.
	fd := 4
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
		openSrc(s.AppDir)
		openSrc(root)
	}
	binds := slices.Clone(s.Binds)
	slices.SortStableFunc(binds, func(a, b Bind) int {
		return strings.Count(path.Clean(a.Target), "/") - strings.Count(path.Clean(b.Target), "/")
	})
	for _, b := range binds {
		openSrc(b.Source)
	}
	if tmpfsRoot {
		line(srcs[s.AppDir], "/app", "none", "rbind,X-mount.mkdir")
		line(srcs[root], "/tmp", "none", "bind,X-mount.mkdir") // not rbind: the root covers TmpDir
	}
	var fileBinds []Bind
	for _, b := range binds {
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
	fmt.Fprintf(&script, "%s -a -T /proc/self/fd/3\n", t("mount"))
	for _, b := range fileBinds {
		target := filepath.Join(root, path.Clean(b.Target))
		fmt.Fprintf(&script, "%s -p %s; : > %s\n", t("mkdir"), shq(filepath.Dir(target)), shq(target))
		opts := "bind"
		if b.ReadOnly {
			opts = "bind,ro"
		}
		fmt.Fprintf(&script, "%s -o %s %s %s\n", t("mount"), opts, srcs[b.Source], shq(target))
	}
	if tmpfsRoot {
		fmt.Fprintf(&script, "%s -o remount,bind,ro %s\n", t("mount"), shq(root))
	}
	for i := 3; i < fd; i++ {
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
	args := []string{"--user", "--map-root-user", "--mount", "--propagation", "slave", tools["sh"], "-c", script.String(), "sandbox", argv0}
	cmd := exec.Command(tools["unshare"], args...)
	cmd.Args = append(cmd.Args, s.Args[1:]...)
	cmd.Env = append([]string(nil), s.Env...)
	cmd.ExtraFiles = []*os.File{f}
	return cmd, nil
}
