package local

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupPrefix starts the name of every dyno's cgroup: only directories
// named so are ever killed or removed.
const cgroupPrefix = "bulut-dyno-"

// cgroups makes the dynos' memory cgroups: cgroup v1's memory controller,
// or v2 when it has the memory controller. Each dyno's cgroup is a child
// of this process's own (so that the server's own limits still apply).
type cgroups struct {
	v2   bool
	base string // the directory dyno cgroups are made in
	// freezer is where v1 freezer cgroups are made ("" for none; v2
	// freezes with cgroup.freeze in the dyno's own cgroup).
	freezer string
}

type mountInfo struct {
	root, point, fstype, superOpts string
}

func cgroupMounts() ([]mountInfo, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountInfo
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 5 || len(b) < 3 || (b[0] != "cgroup" && b[0] != "cgroup2") {
			continue
		}
		out = append(out, mountInfo{root: unescapeMount(a[3]), point: unescapeMount(a[4]), fstype: b[0], superOpts: b[2]})
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroupDirs returns the directories of pid's cgroups, in every mounted
// hierarchy ("self" for this process).
func cgroupDirs(pid string, mounts []mountInfo) ([]string, error) {
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls := strings.Split(parts[1], ",")
		for _, m := range mounts {
			var match bool
			if parts[0] == "0" && parts[1] == "" {
				match = m.fstype == "cgroup2"
			} else if m.fstype == "cgroup" {
				match = true
				for _, c := range ctrls {
					if !hasOpt(m.superOpts, c) {
						match = false
					}
				}
			}
			if !match {
				continue
			}
			if d, ok := inMount(m, parts[2]); ok {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs, nil
}

// inMount returns the directory showing cgroup path p in mount m.
func inMount(m mountInfo, p string) (string, bool) {
	root := filepath.Clean(m.root)
	p = filepath.Clean(p)
	if root != "/" {
		if p != root && !strings.HasPrefix(p, root+"/") {
			return "", false
		}
		p = strings.TrimPrefix(p, root)
	}
	return filepath.Join(m.point, p), true
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// detectCgroups finds where dyno cgroups can be made, or says why not.
func detectCgroups() (*cgroups, error) {
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	var v2Path string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2Path = parts[2]
			continue
		}
		if !hasOpt(parts[1], "memory") {
			continue
		}
		// cgroup v1 with the memory controller.
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasOpt(m.superOpts, "memory") {
				if d, ok := inMount(m, parts[2]); ok && exists(filepath.Join(d, "memory.limit_in_bytes")) {
					return &cgroups{base: d, freezer: v1Freezer(mounts, string(b))}, nil
				}
			}
		}
		return nil, errors.New("the cgroup v1 memory controller is not mounted")
	}
	if v2Path == "" {
		return nil, errors.New("no memory cgroup controller")
	}
	for _, m := range mounts {
		if m.fstype != "cgroup2" {
			continue
		}
		d, ok := inMount(m, v2Path)
		if !ok {
			continue
		}
		ctrl, err := os.ReadFile(filepath.Join(d, "cgroup.controllers"))
		if err != nil || !hasOpt(strings.ReplaceAll(strings.TrimSpace(string(ctrl)), " ", ","), "memory") {
			return nil, errors.New("cgroup v2 without the memory controller")
		}
		sub, _ := os.ReadFile(filepath.Join(d, "cgroup.subtree_control"))
		if hasOpt(strings.ReplaceAll(strings.TrimSpace(string(sub)), " ", ","), "memory") {
			return &cgroups{v2: true, base: d}, nil
		}
		// Fails (EBUSY) when this cgroup has processes and is not the
		// root ("no internal processes").
		err = os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+memory"), 0)
		if err == nil {
			return &cgroups{v2: true, base: d}, nil
		}
		// Then dyno cgroups are siblings of this process's: the parent
		// gives its children the memory controller (this cgroup has it).
		if parent := filepath.Dir(d); d != filepath.Clean(m.point) && exists(filepath.Join(parent, "cgroup.subtree_control")) {
			return &cgroups{v2: true, base: parent}, nil
		}
		return nil, fmt.Errorf("cgroup v2: can't enable the memory controller for children of %s: %w", d, err)
	}
	return nil, errors.New("cgroup v2 is not mounted")
}

// v1Freezer finds this process's cgroup in the v1 freezer hierarchy ("" if
// it is not mounted).
func v1Freezer(mounts []mountInfo, self string) string {
	for _, line := range strings.Split(strings.TrimSpace(self), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || !hasOpt(parts[1], "freezer") {
			continue
		}
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasOpt(m.superOpts, "freezer") {
				if d, ok := inMount(m, parts[2]); ok && exists(filepath.Join(d, "cgroup.procs")) {
					return d
				}
			}
		}
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// cgroup is one dyno's.
type cgroup struct {
	v2      bool
	path    string
	freezer string // v1: the dyno's freezer cgroup ("" for none)
}

// create makes a dyno's cgroup with its hard limit (0: none).
func (c *cgroups) create(name string, limit int64) (*cgroup, error) {
	g := &cgroup{v2: c.v2, path: filepath.Join(c.base, name)}
	if err := os.Mkdir(g.path, 0o755); err != nil {
		return nil, err
	}
	if !c.v2 && c.freezer != "" {
		if err := os.Mkdir(filepath.Join(c.freezer, name), 0o755); err == nil {
			g.freezer = filepath.Join(c.freezer, name)
		}
	}
	if limit > 0 {
		var err error
		if c.v2 {
			err = g.write("memory.max", strconv.FormatInt(limit, 10))
			g.write("memory.swap.max", "0")
		} else {
			err = g.write("memory.limit_in_bytes", strconv.FormatInt(limit, 10))
			g.write("memory.memsw.limit_in_bytes", strconv.FormatInt(limit, 10))
		}
		if err != nil {
			g.remove()
			return nil, err
		}
	}
	return g, nil
}

func (g *cgroup) write(file, value string) error {
	return os.WriteFile(filepath.Join(g.path, file), []byte(value), 0)
}

func (g *cgroup) add(pid int) error {
	if g.freezer != "" {
		if err := os.WriteFile(filepath.Join(g.freezer, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return err
		}
	}
	return g.write("cgroup.procs", strconv.Itoa(pid))
}

var errNoFreezer = errors.New("no cgroup freezer for this dyno")

// freeze freezes (or thaws) every process in the cgroup and, freezing,
// waits until they are all frozen.
func (g *cgroup) freeze(on bool) error {
	var file, state, want string
	switch {
	case g.v2:
		file, state, want = filepath.Join(g.path, "cgroup.freeze"), "0", "frozen 1"
		if on {
			state = "1"
		}
	case g.freezer != "":
		file, state, want = filepath.Join(g.freezer, "freezer.state"), "THAWED", "FROZEN"
		if on {
			state = "FROZEN"
		}
	default:
		return errNoFreezer
	}
	if err := os.WriteFile(file, []byte(state), 0); err != nil {
		return err
	}
	if !on {
		return nil
	}
	check, events := file, filepath.Join(g.path, "cgroup.events")
	if g.v2 {
		check = events
	}
	for i := 0; ; i++ {
		b, err := os.ReadFile(check)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), want) {
			return nil
		}
		if i == 5000 {
			return fmt.Errorf("cgroup %s: not frozen after 5 s", g.path)
		}
		time.Sleep(time.Millisecond)
	}
}

// usage is the memory in use (page cache that can be dropped excluded).
func (g *cgroup) usage() int64 {
	cur, stat := "memory.usage_in_bytes", "total_inactive_file"
	if g.v2 {
		cur, stat = "memory.current", "inactive_file"
	}
	b, err := os.ReadFile(filepath.Join(g.path, cur))
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if inactive := g.stat("memory.stat", stat); inactive < n {
		n -= inactive
	}
	return n
}

// stat reads a "key value" line of a cgroup file.
func (g *cgroup) stat(file, key string) int64 {
	b, err := os.ReadFile(filepath.Join(g.path, file))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// oomKills counts the processes the kernel killed for the limit.
func (g *cgroup) oomKills() int64 {
	if g.v2 {
		return g.stat("memory.events", "oom_kill")
	}
	return g.stat("memory.oom_control", "oom_kill")
}

// kill SIGKILLs every process in the cgroup until it is empty, and
// removes it. It refuses cgroups that are not dyno cgroups or that hold
// this process or PID 1.
func (g *cgroup) killAndRemove() error {
	if err := g.killAll(); err != nil {
		return err
	}
	return g.remove()
}

// killAll SIGKILLs every process in the cgroup until it is empty.
func (g *cgroup) killAll() error {
	if err := checkDynoCgroup(g.path); err != nil {
		return err
	}
	if g.v2 || g.freezer != "" {
		g.freeze(false) // frozen processes end only once thawed
	}
	if g.v2 && exists(filepath.Join(g.path, "cgroup.kill")) {
		g.write("cgroup.kill", "1")
	}
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(g.path, "cgroup.procs"))
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENODEV) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		pids := strings.Fields(string(b))
		if len(pids) == 0 {
			break
		}
		if i == 1000 {
			return fmt.Errorf("cgroup %s: processes left after SIGKILL", g.path)
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				signalIf(pid, syscall.SIGKILL, func() bool { return g.holds(pid) })
			}
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// holds reports whether the process pid is in the cgroup.
func (g *cgroup) holds(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return false
	}
	name := "/" + filepath.Base(g.path)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, name) || strings.Contains(line, name+"/") {
			return true
		}
	}
	return false
}

// remove removes the (empty) cgroup, retrying while the kernel finishes
// with its exited processes.
func (g *cgroup) remove() error {
	if g.freezer != "" && strings.HasPrefix(filepath.Base(g.freezer), cgroupPrefix) {
		g.freeze(false)
		for i := 0; i < 500; i++ {
			if err := syscall.Rmdir(g.freezer); err == nil || errors.Is(err, syscall.ENOENT) || !errors.Is(err, syscall.EBUSY) {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	var err error
	for i := 0; i < 500; i++ {
		err = syscall.Rmdir(g.path)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", g.path, err)
}

// checkDynoCgroup makes sure p is a dyno cgroup: named so, inside a
// cgroup mount, and neither holding nor above this process's or PID 1's
// cgroups.
func checkDynoCgroup(p string) error {
	p = filepath.Clean(p)
	if !filepath.IsAbs(p) || !strings.HasPrefix(filepath.Base(p), cgroupPrefix) {
		return fmt.Errorf("%s is not a dyno cgroup", p)
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return err
	}
	inside := false
	for _, m := range mounts {
		if strings.HasPrefix(p, filepath.Clean(m.point)+"/") {
			inside = true
		}
	}
	if !inside {
		return fmt.Errorf("%s is not in a cgroup file system", p)
	}
	for _, pid := range []string{"self", "1"} {
		dirs, err := cgroupDirs(pid, mounts)
		if err != nil {
			return fmt.Errorf("can't check %s: %w", p, err)
		}
		for _, d := range dirs {
			if d == p || strings.HasPrefix(d, p+"/") {
				return fmt.Errorf("%s holds process %s", p, pid)
			}
		}
	}
	return nil
}
