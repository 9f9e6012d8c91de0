package local

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMountParsing(t *testing.T) {
	if got := unescapeMount(`/a\040b\\c`); got != `/a b\\c` {
		t.Errorf("unescapeMount = %q", got)
	}
	m := mountInfo{root: "/", point: "/sys/fs/cgroup/memory"}
	if d, ok := inMount(m, "/process_api/x"); !ok || d != "/sys/fs/cgroup/memory/process_api/x" {
		t.Errorf("inMount = %q %v", d, ok)
	}
	m = mountInfo{root: "/docker/abc", point: "/sys/fs/cgroup"}
	if d, ok := inMount(m, "/docker/abc/sub"); !ok || d != "/sys/fs/cgroup/sub" {
		t.Errorf("inMount with a root = %q %v", d, ok)
	}
	if _, ok := inMount(m, "/other"); ok {
		t.Error("a cgroup outside the mount's root was placed in it")
	}
}

// TestCgroupFiles reads usage and OOM kills as cgroup v1 and v2 lay them
// out (in a plain directory: this machine may have only one of them).
func TestCgroupFiles(t *testing.T) {
	v1 := t.TempDir()
	os.WriteFile(filepath.Join(v1, "memory.usage_in_bytes"), []byte("50000000\n"), 0o644)
	os.WriteFile(filepath.Join(v1, "memory.stat"), []byte("cache 100\ntotal_inactive_file 10000000\ninactive_file 3\n"), 0o644)
	os.WriteFile(filepath.Join(v1, "memory.oom_control"), []byte("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"), 0o644)
	g := &cgroup{path: v1}
	if u := g.usage(); u != 40000000 {
		t.Errorf("v1 usage = %d", u)
	}
	if n := g.oomKills(); n != 2 {
		t.Errorf("v1 oom kills = %d", n)
	}
	v2 := t.TempDir()
	os.WriteFile(filepath.Join(v2, "memory.current"), []byte("30000000\n"), 0o644)
	os.WriteFile(filepath.Join(v2, "memory.stat"), []byte("anon 1\ninactive_file 5000000\n"), 0o644)
	os.WriteFile(filepath.Join(v2, "memory.events"), []byte("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n"), 0o644)
	g = &cgroup{v2: true, path: v2}
	if u := g.usage(); u != 25000000 {
		t.Errorf("v2 usage = %d", u)
	}
	if n := g.oomKills(); n != 1 {
		t.Errorf("v2 oom kills = %d", n)
	}
}

func TestCheckDynoCgroup(t *testing.T) {
	mounts, err := cgroupMounts()
	if err != nil || len(mounts) == 0 {
		t.Skip("no cgroup file systems here")
	}
	own, err := cgroupDirs("self", mounts)
	if err != nil || len(own) == 0 {
		t.Skip("no cgroups here")
	}
	for _, d := range own {
		if checkDynoCgroup(d) == nil {
			t.Errorf("this process's cgroup %s passed", d)
		}
		if p := filepath.Dir(d); checkDynoCgroup(p) == nil {
			t.Errorf("the parent %s of this process's cgroup passed", p)
		}
	}
	for _, p := range []string{"/tmp/" + cgroupPrefix + "x", "relative/" + cgroupPrefix + "x", mounts[0].point + "/not-a-dyno"} {
		if checkDynoCgroup(p) == nil {
			t.Errorf("%s passed", p)
		}
	}
	if checkDynoCgroup(filepath.Join(own[0], cgroupPrefix+"abc")) != nil {
		t.Errorf("a dyno cgroup under this process's was refused")
	}
}
