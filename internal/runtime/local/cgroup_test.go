package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut/internal/runtime"
	"github.com/bulut-bulut/bulut/internal/sandbox"
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

// TestCgroupV2Dyno runs a dyno in a cgroup v2 made as on a v2 host, on
// this machine's unified hierarchy if it has one without controllers
// (hybrid mode: so no memory files, but the dyno is born in its cgroup,
// found there, killed through cgroup.kill and removed).
func TestCgroupV2Dyno(t *testing.T) {
	if os.Geteuid() != 0 || sandbox.Mode() != sandbox.ModeNamespace {
		t.Skip("needs root")
	}
	const unified = "/sys/fs/cgroup/unified"
	b, _ := os.ReadFile("/proc/self/cgroup")
	ctrl, err := os.ReadFile(filepath.Join(unified, "cgroup.subtree_control"))
	if err != nil || len(strings.TrimSpace(string(ctrl))) != 0 || !strings.Contains("\n"+string(b), "\n0::/\n") {
		t.Skip("no controller-less cgroup v2 hierarchy here")
	}
	exe, _ := os.Executable()
	rt, err := New(Config{DataDir: filepath.Join(t.TempDir(), "data"), InitCommand: []string{"env", "BULUT_TEST_DYNOINIT=1", exe}})
	if err != nil {
		t.Fatal(err)
	}
	rt.cg = &cgroups{v2: true, base: unified}
	var out lockedBuffer
	inst, err := rt.Start(context.Background(), runtime.Spec{ID: fmt.Sprintf("lt%d-v2", os.Getpid()), Name: "web.1",
		Command: "cat /proc/self/cgroup; echo ready; exec sleep 100", Env: []string{"PATH=/usr/bin:/bin"}, Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	i := inst.(*instance)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "ready") {
		if time.Now().After(deadline) {
			inst.Stop(0)
			t.Fatalf("not ready: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if want := "0::/" + filepath.Base(i.cgroup.path) + "\n"; !strings.Contains(out.String(), want) {
		t.Errorf("the dyno's cgroups: %q, want %q", out.String(), want)
	}
	if err := i.cgroup.killAll(); err != nil {
		t.Error(err)
	}
	<-inst.Done()
	if exit := inst.Exit(); exit.Signal != "KILL" {
		t.Errorf("exit %+v, want killed", exit)
	}
	if exists(i.cgroup.path) {
		t.Errorf("cgroup %s left", i.cgroup.path)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
