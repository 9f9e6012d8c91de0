package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/dynoinit"
	"github.com/bulut-bulut/bulut/internal/gitreceive"
	"github.com/bulut-bulut/bulut/internal/testenv"
	"github.com/bulut-bulut/bulut/internal/testwheels"
)

// The test binary doubles as bulut's git hook and dyno init.
func TestMain(m *testing.M) {
	switch {
	case len(os.Args) > 1 && os.Args[1] == "dyno-init":
		os.Exit(dynoinit.Main(os.Args[2:]))
	case len(os.Args) > 2 && os.Args[1] == "hook" && os.Args[2] == "pre-receive":
		os.Exit(gitreceive.RunPreReceiveHook(context.Background(), os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}

const goApp = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(os.Getenv("DYNO"))) })
	http.ListenAndServe(":"+os.Getenv("PORT"), nil)
}
`

type benchEnv struct {
	*testenv.Env
	t     *testing.T
	token string
}

func newBenchEnv(t *testing.T) *benchEnv {
	exe, _ := os.Executable()
	wheels := testwheels.Dir(t)
	env := testenv.New(t, testenv.WithExecutable(exe), func(c *config.Server) {
		c.Environ = append(os.Environ(), "PIP_FIND_LINKS="+wheels, "PIP_NO_INDEX=1")
		c.StopGrace = 2 * time.Second
	})
	return &benchEnv{Env: env, t: t, token: env.Signup(t, "bench@example.com", "bench-password")}
}

func (e *benchEnv) git(dir string, args ...string) {
	e.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com", "GIT_COMMITTER_NAME=b",
		"GIT_COMMITTER_EMAIL=b@example.com", "GIT_TERMINAL_PROMPT=0", "HOME="+e.t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		e.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// deploy creates app and pushes files; it returns the repository.
func (e *benchEnv) deploy(app string, files map[string]string) string {
	e.Do(e.t, "POST", "/apps", e.token, map[string]string{"name": app}, 201, nil)
	dir := e.t.TempDir()
	e.git(dir, "init", "-q", "-b", "main")
	e.commitPush(dir, app, files)
	return dir
}

func (e *benchEnv) commitPush(dir, app string, files map[string]string) {
	for name, body := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	e.git(dir, "add", "-A")
	e.git(dir, "commit", "-q", "-m", "deploy")
	e.git(dir, "push", "-q", fmt.Sprintf("http://b:%s@git.localhost:%s/%s.git", e.token, e.Port(), app), "main")
}

func (e *benchEnv) scale(app string, n int) {
	e.Do(e.t, "PATCH", "/apps/"+app+"/formation", e.token,
		map[string]any{"updates": []map[string]any{{"type": "web", "quantity": n}}}, 200, nil)
}

// upCount polls the API for the number of up web dynos.
func (e *benchEnv) upCount(app string) int {
	var dynos []struct{ State string }
	e.Do(e.t, "GET", "/apps/"+app+"/dynos", e.token, nil, 200, &dynos)
	n := 0
	for _, d := range dynos {
		if d.State == "up" {
			n++
		}
	}
	return n
}

// timeUntil polls cond and returns how long it took to hold: every
// millisecond at first, then less often (the API's rate limit counts).
func timeUntil(t *testing.T, cond func() bool) time.Duration {
	start := time.Now()
	for !cond() {
		waited := time.Since(start)
		if waited > 120*time.Second {
			t.Fatal("timed out")
		}
		time.Sleep(min(time.Millisecond+waited/10, 100*time.Millisecond))
	}
	return time.Since(start)
}

func rss() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// directStart is the reference: the same binary started as a plain
// process, timed until it accepts a connection.
func directStart(t *testing.T, binary string) time.Duration {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(binary)
	cmd.Env = []string{"PORT=" + strconv.Itoa(port), "DYNO=web.1"}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	timeUntil(t, func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return time.Since(start)
}

func pcts(d []time.Duration) (time.Duration, time.Duration) {
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*95/100]
}

// TestDynoStart measures a dyno's start until up (Go app and gunicorn
// app), web=0->10, the server's memory per dyno, and a warm Flask deploy
// until the new code answers.
func TestDynoStart(t *testing.T) {
	requireBench(t)
	e := newBenchEnv(t)
	e.deploy("go-bench", map[string]string{"go.mod": "module example.com/gobench\n\ngo 1.22\n", "main.go": goApp, "Procfile": "web: gobench\n"})
	timeUntil(t, func() bool { return e.upCount("go-bench") == 1 })

	measure := func(app string, n int) []time.Duration {
		var d []time.Duration
		for range n {
			e.scale(app, 0)
			timeUntil(t, func() bool { return e.upCount(app) == 0 })
			e.scale(app, 1)
			d = append(d, timeUntil(t, func() bool { return e.upCount(app) == 1 }))
		}
		return d
	}
	goStarts := measure("go-bench", 20)

	// The reference: the built binary started directly, no isolation.
	bin := filepath.Join(t.TempDir(), "gobench")
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module example.com/gobench\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte(goApp), 0o644)
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var direct []time.Duration
	for range 20 {
		direct = append(direct, directStart(t, bin))
	}

	flaskDir := e.deploy("flask-bench", map[string]string{
		"requirements.txt": "flask\ngunicorn\n", "Procfile": "web: gunicorn app:app\n",
		"app.py": "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'v1'\n",
	})
	timeUntil(t, func() bool { return e.upCount("flask-bench") == 1 })
	pyStarts := measure("flask-bench", 10)

	e.scale("go-bench", 0)
	timeUntil(t, func() bool { return e.upCount("go-bench") == 0 })
	before := rss()
	e.scale("go-bench", 10)
	scale10 := timeUntil(t, func() bool { return e.upCount("go-bench") == 10 })
	time.Sleep(500 * time.Millisecond)
	perDyno := float64(rss()-before) / 10 / (1 << 20)

	// A warm deploy of the Flask app, until the new code answers.
	get := func() string {
		resp, err := e.Client.Get("http://flask-bench.localhost:" + e.Port() + "/")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b := make([]byte, 64)
		n, _ := resp.Body.Read(b)
		return string(b[:n])
	}
	start := time.Now()
	e.commitPush(flaskDir, "flask-bench", map[string]string{"app.py": "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'v2'\n"})
	timeUntil(t, func() bool { return get() == "v2" })
	warmDeploy := time.Since(start)

	gp50, gp95 := pcts(goStarts)
	dp50, dp95 := pcts(direct)
	pp50, pp95 := pcts(pyStarts)
	fmt.Printf("Go binary started directly (reference)  p50 %7.1f ms  p95 %7.1f ms\n", ms(dp50), ms(dp95))
	fmt.Printf("Go dyno, start to up                     p50 %7.1f ms  p95 %7.1f ms  (%.1fx the reference; target p50 < 50 ms)\n", ms(gp50), ms(gp95), float64(gp50)/float64(dp50))
	fmt.Printf("gunicorn Flask dyno, start to up         p50 %7.1f ms  p95 %7.1f ms\n", ms(pp50), ms(pp95))
	fmt.Printf("ps:scale web=0->10 (Go), all up          %7.1f ms  (target < 1000 ms)\n", ms(scale10))
	fmt.Printf("server memory per running dyno           %7.2f MB  (target < 1 MB)\n", perDyno)
	fmt.Printf("warm Flask git push until new code serves %6.1f ms  (target < 2000 ms)\n", ms(warmDeploy))

}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
