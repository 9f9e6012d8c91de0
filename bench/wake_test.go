package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut/internal/testwheels"
)

// TestWakeThroughRouter measures (BULUT_WAKE_BENCH=1; bench/wake.sh) the
// wake time of sleeping apps end to end: a real `bulut server` (the built
// binary, short --idle-timeout and --deep-sleep-after), a Go app and a
// gunicorn Flask app deployed with git push, and the first byte of a
// request through the router on a new connection, as a visitor's. From
// each tier: frozen dynos (against the same request to the awake app),
// and stopped dynos (against the app's own boot: its command started
// directly on the host, until the first byte of an answer).
func TestWakeThroughRouter(t *testing.T) {
	if os.Getenv("BULUT_WAKE_BENCH") != "1" {
		t.Skip("a benchmark: BULUT_WAKE_BENCH=1")
	}
	rounds := 7
	if n, err := strconv.Atoi(os.Getenv("BULUT_WAKE_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	wheels := testwheels.Dir(t)
	tmp := t.TempDir()
	goFiles := map[string]string{"go.mod": "module example.com/wakego\n\ngo 1.22\n", "main.go": goApp, "Procfile": "web: wakego\n"}
	pyFiles := map[string]string{"requirements.txt": "flask\ngunicorn\n", "Procfile": "web: gunicorn wakeapp:app\n",
		"wakeapp.py": "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef index():\n    return 'hello'\n"}
	apps := []struct {
		name, marker string
		files        map[string]string
	}{
		{name: "wakego", marker: "wakego", files: goFiles},
		{name: "wakepy", marker: "wakeapp:app", files: pyFiles},
	}

	// The idle timeout must be longer than a wake: an app falls asleep
	// again that long after its last request began, even with that
	// request still waiting for its answer.
	const idle, deep = "3s", "3s"
	s := startServer(t, tmp, wheels, "--idle-timeout", idle, "--deep-sleep-after", deep)
	type result struct {
		app                         string
		awake, frozen, stopped, own []time.Duration
		ownNoPyc, cold              []time.Duration
	}
	var results []*result
	python := "" // the interpreter of the gunicorn dyno
	for _, ap := range apps {
		s.deploy(ap.name, ap.files)
		r := &result{app: ap.name}
		for range 2 * rounds {
			r.awake = append(r.awake, s.firstByte(ap.name))
		}
		if ps := pids(ap.marker); ap.name == "wakepy" && len(ps) > 0 {
			if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", ps[0])); err == nil {
				if _, err := os.Stat(exe); err == nil {
					python = exe
				}
			}
		}
		for range rounds {
			// Tier 1: asleep, the dyno frozen.
			s.waitIdle(ap.name)
			waitFor(t, ap.name+" frozen", func() bool { return frozen(ap.marker) })
			r.frozen = append(r.frozen, s.firstByte(ap.name))
			// Tier 2: asleep again, then the dyno stopped.
			s.waitIdle(ap.name)
			waitFor(t, ap.name+" stopped", func() bool { return len(pids(ap.marker)) == 0 })
			s.waitIdle(ap.name) // still listed idle
			r.stopped = append(r.stopped, s.firstByte(ap.name))
		}
		// A cold start in bulut, for comparison: ps:scale web=0 then
		// web=1, until the first byte of an answer through the router.
		for range rounds {
			r.cold = append(r.cold, s.coldStart(ap.name))
		}
		results = append(results, r)
	}
	s.stop()

	// The apps' own boot on the host, once no dyno runs: the Go binary
	// built by `go build`; gunicorn in a virtualenv of the same wheels and
	// interpreter, with the dyno's WEB_CONCURRENCY and GUNICORN_CMD_ARGS
	// (the Python buildpack's), with .pyc files as pip makes them, and
	// without (as the slug: its pip install has --no-compile).
	goSrc := filepath.Join(tmp, "go-src")
	writeFiles(t, goSrc, goFiles)
	goBin := filepath.Join(tmp, "wakego")
	run(t, goSrc, nil, "go", "build", "-o", goBin, ".")
	results[0].own = ownBoots(t, rounds, goSrc, nil, goBin)
	if python == "" {
		python = strings.TrimSpace(run(t, tmp, nil, "python3", "-c", "import sys; print(sys.executable)"))
	}
	pySrc := filepath.Join(tmp, "py-src")
	writeFiles(t, pySrc, pyFiles)
	pyEnv := []string{"WEB_CONCURRENCY=2", "GUNICORN_CMD_ARGS=--access-logfile -"}
	for _, compile := range []bool{true, false} {
		venv := filepath.Join(tmp, fmt.Sprintf("venv-%v", compile))
		run(t, tmp, nil, python, "-m", "venv", venv)
		args := []string{"install", "-q", "--no-index", "--find-links", wheels, "flask", "gunicorn"}
		env := pyEnv
		if !compile {
			args = append(args, "--no-compile")
			env = append(slices.Clone(pyEnv), "PYTHONDONTWRITEBYTECODE=1")
		}
		run(t, tmp, nil, filepath.Join(venv, "bin", "python"), append([]string{"-m", "pip"}, args...)...)
		boots := ownBoots(t, rounds, pySrc, env, filepath.Join(venv, "bin", "gunicorn"), "wakeapp:app")
		if compile {
			results[1].own = boots
		} else {
			results[1].ownNoPyc = boots
		}
	}

	fmt.Printf("Wake through the router (bulut server, --idle-timeout %s --deep-sleep-after %s), first byte on a new connection, %d rounds:\n", idle, deep, rounds)
	fmt.Printf("%-8s %-34s %9s %9s %12s %9s %8s  %s\n", "app", "request", "p50 ms", "max ms", "reference", "added", "ratio", "target")
	for _, r := range results {
		aw, own := p50(r.awake), p50(r.own)
		fr, st := p50(r.frozen), p50(r.stopped)
		fmt.Printf("%-8s %-34s %9.2f %9.2f %12s %9s %8s  %s\n", r.app, "awake (reference)", ms(aw), ms(slices.Max(r.awake)), "", "", "", "")
		fmt.Printf("%-8s %-34s %9.2f %9.2f %12s %9s %8s  %s\n", r.app, "own boot on the host (reference)", ms(own), ms(slices.Max(r.own)), "", "", "", "")
		if len(r.ownNoPyc) > 0 {
			fmt.Printf("%-8s %-34s %9.2f %9.2f %12s %9s %8s  %s\n", r.app, "own boot without .pyc (as a slug)", ms(p50(r.ownNoPyc)), ms(slices.Max(r.ownNoPyc)), "", "", "", "")
		}
		fmt.Printf("%-8s %-34s %9.2f %9.2f %9.2f ms %9.2f %7.1fx  %s\n", r.app, "wake, frozen", ms(fr), ms(slices.Max(r.frozen)),
			ms(aw), ms(fr-aw), float64(fr)/float64(aw), verdict(fr < 5*time.Millisecond, "< 5 ms first byte"))
		fmt.Printf("%-8s %-34s %9.2f %9.2f %9.2f ms %9.2f %7.2fx  %s\n", r.app, "wake, stopped", ms(st), ms(slices.Max(r.stopped)),
			ms(own), ms(st-own), float64(st)/float64(own), verdict(st-own < 300*time.Millisecond, "< 300 ms added to own boot"))
		cold := p50(r.cold)
		fmt.Printf("%-8s %-34s %9.2f %9.2f %9.2f ms %9.2f %7.2fx  %s\n", r.app, "cold start (ps:scale web=0->1)", ms(cold), ms(slices.Max(r.cold)),
			ms(own), ms(cold-own), float64(cold)/float64(own), "(for comparison)")
	}
	fmt.Printf("(gunicorn: %s)\n", python)
}

func verdict(ok bool, target string) string {
	if ok {
		return target + ": met"
	}
	return target + ": MISSED"
}

func p50(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// run runs a command and returns its standard output.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	return string(out)
}

// waitFor polls cond every 20 ms until it holds (for 2 minutes at most).
func waitFor(t *testing.T, what string, cond func() bool) {
	waitEvery(t, what, 20*time.Millisecond, cond)
}

func waitEvery(t *testing.T, what string, every time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(every)
	}
}

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ownBoots starts an app's command on the host n times (after one to
// warm the caches) and times each until the first byte of an answer.
func ownBoots(t *testing.T, n int, dir string, env []string, name string, args ...string) []time.Duration {
	t.Helper()
	var out []time.Duration
	for i := range n + 1 {
		port := freeTCPPort(t)
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), env...), "PORT="+strconv.Itoa(port), "DYNO=web.1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		for {
			resp, err := c.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Since(start) > 30*time.Second {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("%s never answered: %v", name, err)
			}
			time.Sleep(time.Millisecond)
		}
		if i > 0 {
			out = append(out, time.Since(start))
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	return out
}

// pids returns the processes whose command line contains marker as an
// argument (or whose program is named marker).
func pids(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if filepath.Base(args[0]) == marker || slices.Contains(args[1:], marker) {
			out = append(out, pid)
		}
	}
	return out
}

// frozen reports whether the app's processes exist and are all in a
// frozen cgroup v1 freezer.
func frozen(marker string) bool {
	ps := pids(marker)
	if len(ps) == 0 {
		return false
	}
	for _, pid := range ps {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			return false
		}
		path := ""
		for _, line := range strings.Split(string(b), "\n") {
			if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && slices.Contains(strings.Split(parts[1], ","), "freezer") {
				path = parts[2]
			}
		}
		if path == "" {
			return false
		}
		state, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/freezer", path, "freezer.state"))
		if err != nil || strings.TrimSpace(string(state)) != "FROZEN" {
			return false
		}
	}
	return true
}

// server is a `bulut server` started from the built binary.
type server struct {
	t     *testing.T
	cmd   *exec.Cmd
	port  string
	token string
	home  string
	log   string
	api   *http.Client
}

func startServer(t *testing.T, tmp, wheels string, flags ...string) *server {
	t.Helper()
	bin := filepath.Join(tmp, "bulut")
	run(t, "..", []string{"CGO_ENABLED=0"}, "go", "build", "-o", bin, "./cmd/bulut")
	s := &server{t: t, port: strconv.Itoa(freeTCPPort(t)), home: filepath.Join(tmp, "home"), log: filepath.Join(tmp, "server.log"),
		api: &http.Client{Timeout: 30 * time.Second}}
	os.MkdirAll(s.home, 0o700)
	logf, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"server", "--data-dir", filepath.Join(tmp, "data"), "--listen", "127.0.0.1:" + s.port}, flags...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = append(os.Environ(), "HOME="+s.home, "PIP_FIND_LINKS="+wheels, "PIP_NO_INDEX=1")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(s.log)
			lines := strings.Split(string(b), "\n")
			t.Logf("server log (end):\n%s", strings.Join(lines[max(0, len(lines)-30):], "\n"))
			for _, app := range []string{"wakego", "wakepy"} {
				cmd := exec.Command(bin, "logs", "-a", app, "-n", "150")
				cmd.Env = append(os.Environ(), "HOME="+s.home, "BULUT_API_URL=http://api.localhost:"+s.port, "BULUT_API_KEY="+s.token)
				out, _ := cmd.CombinedOutput()
				t.Logf("bulut logs -a %s:\n%s", app, out)
			}
		}
	})
	waitFor(t, "the server", func() bool {
		resp, err := s.api.Get("http://127.0.0.1:" + s.port + "/bulut/info")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	s.call("POST", "/account", map[string]string{"email": "bench@example.com", "password": "bench-password"}, 201, nil)
	var auth struct {
		AccessToken struct{ Token string } `json:"access_token"`
	}
	s.call("POST", "/oauth/authorizations", map[string]string{"description": "bench"}, 201, &auth)
	s.token = auth.AccessToken.Token
	return s
}

func (s *server) stop() {
	if s.cmd.ProcessState != nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// call makes an API request (the account's token, or basic auth before
// there is one).
func (s *server) call(method, path string, body any, status int, out any) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://127.0.0.1:"+s.port+path, r)
	req.Host = "api.localhost:" + s.port
	req.Header.Set("Accept", "application/vnd.heroku+json; version=3")
	req.Header.Set("Content-Type", "application/json")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	} else {
		req.SetBasicAuth("bench@example.com", "bench-password")
	}
	resp, err := s.api.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// deploy creates an app, pushes files with git and waits for an answer.
func (s *server) deploy(app string, files map[string]string) {
	s.t.Helper()
	s.call("POST", "/apps", map[string]string{"name": app}, 201, nil)
	dir := s.t.TempDir()
	writeFiles(s.t, dir, files)
	env := []string{"HOME=" + s.home, "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com", "GIT_COMMITTER_NAME=b",
		"GIT_COMMITTER_EMAIL=b@example.com", "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1"}
	run(s.t, dir, env, "git", "init", "-q", "-b", "main")
	run(s.t, dir, env, "git", "add", "-A")
	run(s.t, dir, env, "git", "commit", "-q", "-m", "deploy")
	run(s.t, dir, env, "git", "push", "-q", fmt.Sprintf("http://b:%s@git.localhost:%s/%s.git", s.token, s.port, app), "main")
	waitFor(s.t, app+" to answer", func() bool {
		resp, err := s.get(app, nil)
		if err != nil {
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// waitIdle waits until the API lists the app's web.1 idle.
func (s *server) waitIdle(app string) {
	s.t.Helper()
	// Every 100 ms: the API's rate limit counts.
	waitEvery(s.t, app+" idle", 100*time.Millisecond, func() bool {
		var dynos []struct{ Name, State string }
		s.call("GET", "/apps/"+app+"/dynos", nil, 200, &dynos)
		return len(dynos) > 0 && dynos[0].Name == "web.1" && dynos[0].State == "idle"
	})
}

// coldStart scales an app's web dynos to 0, then to 1, and times the
// scaling until the first byte of an answer through the router (asked
// every 2 ms).
func (s *server) coldStart(app string) time.Duration {
	s.t.Helper()
	scale := func(n int) {
		s.call("PATCH", "/apps/"+app+"/formation", map[string]any{"updates": []map[string]any{{"type": "web", "quantity": n}}}, 200, nil)
	}
	scale(0)
	waitEvery(s.t, app+" without dynos", 100*time.Millisecond, func() bool {
		var dynos []struct{ Name string }
		s.call("GET", "/apps/"+app+"/dynos", nil, 200, &dynos)
		return len(dynos) == 0
	})
	start := time.Now()
	scale(1)
	for {
		var first time.Time
		resp, err := s.get(app, &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }})
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return first.Sub(start)
			}
		}
		if time.Since(start) > 2*time.Minute {
			s.t.Fatalf("%s never answered after a scale to 1: %v", app, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// get sends a request to an app through the router, on a new connection.
func (s *server) get(app string, trace *httptrace.ClientTrace) (*http.Response, error) {
	ctx := context.Background()
	if trace != nil {
		ctx = httptrace.WithClientTrace(ctx, trace)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+s.port+"/", nil)
	req.Host = app + ".localhost:" + s.port
	return (&http.Transport{DisableKeepAlives: true}).RoundTrip(req)
}

// firstByte times a request to an app through the router, from its start
// (connection included) to the first byte of the answer, which must be a
// 200.
func (s *server) firstByte(app string) time.Duration {
	s.t.Helper()
	var first time.Time
	start := time.Now()
	resp, err := s.get(app, &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }})
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("%s: status %d: %s", app, resp.StatusCode, body)
	}
	return first.Sub(start)
}
