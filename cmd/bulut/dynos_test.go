package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut/internal/config"
)

// echoApp answers with its $DYNO (and GREETING, and a mark that changes
// with each deploy); /write and /read use a file in /app. On SIGTERM it
// stops accepting and finishes the requests in flight, as a well-behaved
// web process does.
func echoApp(mark string) map[string]string {
	return map[string]string{
		"Procfile": "web: python3 echo.py\n",
		"mark.txt": mark,
		"echo.py": `import http.server, os, signal, threading

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = "/app/scratch.txt"
        if self.path == "/write":
            with open(path, "w") as f:
                f.write(os.environ["DYNO"])
            body = "wrote"
        elif self.path == "/read":
            body = open(path).read() if os.path.exists(path) else "none"
        else:
            body = "%s %s %s" % (os.environ["DYNO"], os.environ.get("GREETING", "-"), open("mark.txt").read())
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False

server = Server(("127.0.0.1", int(os.environ["PORT"])), Handler)
signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
server.serve_forever()
server.server_close()
`,
	}
}

func newDynoEnv(t *testing.T) *deployEnv {
	return newDeployEnvWith(t, func(c *config.Server) { c.StopGrace = 3 * time.Second })
}

// appGet requests path from an app through the router.
func (e *deployEnv) appGet(app, path string) (int, string, error) {
	resp, err := e.Client.Get(fmt.Sprintf("http://%s.localhost:%s%s", app, e.Port(), path))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitFor polls until cond holds (30 s at most).
func (e *deployEnv) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// upWebDynos returns the names of an app's up web dynos.
func (e *deployEnv) upWebDynos(app string) []string {
	var dynos []struct{ Name, State, Type string }
	e.Do(e.t, "GET", "/apps/"+app+"/dynos", e.token, nil, 200, &dynos)
	var up []string
	for _, d := range dynos {
		if d.Type == "web" && d.State == "up" {
			up = append(up, d.Name)
		}
	}
	return up
}

func (e *deployEnv) scale(app string, quantity int) {
	e.t.Helper()
	e.Do(e.t, "PATCH", "/apps/"+app+"/formation", e.token,
		map[string]any{"updates": []map[string]any{{"type": "web", "quantity": quantity}}}, 200, nil)
}

func TestDynos_ScaleAndRoute(t *testing.T) {
	e := newDynoEnv(t)
	if out, ok := e.push("echo", echoApp("one")); !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	e.waitFor("web.1 up", func() bool { return len(e.upWebDynos("echo")) == 1 })
	if code, body, err := e.appGet("echo", "/"); err != nil || code != 200 || body != "web.1 - one" {
		t.Fatalf("GET / = %d %q %v", code, body, err)
	}

	e.scale("echo", 3)
	e.waitFor("three web dynos up", func() bool { return len(e.upWebDynos("echo")) == 3 })
	seen := map[string]bool{}
	e.waitFor("requests reaching web.1, web.2 and web.3", func() bool {
		_, body, _ := e.appGet("echo", "/")
		seen[strings.Fields(body + " ")[0]] = true
		return seen["web.1"] && seen["web.2"] && seen["web.3"]
	})

	e.scale("echo", 0)
	e.waitFor("no web dynos", func() bool { return len(e.upWebDynos("echo")) == 0 })
	e.waitFor("H14 page", func() bool {
		code, body, _ := e.appGet("echo", "/")
		return code == 503 && strings.Contains(body, "Application Error")
	})
	e.waitFor("H14 line", func() bool {
		return strings.Contains(e.logs("echo"), `bulut[router]: at=error code=H14 desc="No web processes running" method=GET path="/"`)
	})
}

// logs returns an app's last log lines, as a log session gives them.
func (e *deployEnv) logs(app string) string {
	e.t.Helper()
	var session struct {
		LogplexURL string `json:"logplex_url"`
	}
	e.Do(e.t, "POST", "/apps/"+app+"/log-sessions", e.token, map[string]any{"lines": 100}, 201, &session)
	res, err := e.Client.Get(session.LogplexURL) // its dialer resolves *.localhost
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestDynos_EphemeralFilesystem(t *testing.T) {
	e := newDynoEnv(t)
	if out, ok := e.push("scratch", echoApp("fs")); !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	e.waitFor("web.1 up", func() bool { return len(e.upWebDynos("scratch")) == 1 })
	if _, body, _ := e.appGet("scratch", "/write"); body != "wrote" {
		t.Fatalf("/write = %q", body)
	}
	if _, body, _ := e.appGet("scratch", "/read"); body != "web.1" {
		t.Fatalf("/read = %q", body)
	}
	// Another dyno never sees it.
	e.scale("scratch", 2)
	e.waitFor("web.2 up", func() bool { return len(e.upWebDynos("scratch")) == 2 })
	e.waitFor("web.2 answering without the file", func() bool {
		_, body, _ := e.appGet("scratch", "/")
		if !strings.HasPrefix(body, "web.2") {
			return false
		}
		for range 20 {
			if _, read, _ := e.appGet("scratch", "/read"); read != "web.1" && read != "none" {
				t.Fatalf("/read = %q", read)
			}
		}
		return true
	})
	// A restart gives fresh dynos: the file is gone.
	before := e.webDynoIDs("scratch")
	e.Do(t, "DELETE", "/apps/scratch/dynos", e.token, nil, 202, nil)
	e.waitFor("two new web dynos up", func() bool {
		after := e.webDynoIDs("scratch")
		if len(after) != 2 || len(e.upWebDynos("scratch")) != 2 {
			return false
		}
		for id := range after {
			if before[id] {
				return false
			}
		}
		return true
	})
	e.waitFor("the old dynos out of the route", func() bool {
		_, body, _ := e.appGet("scratch", "/read")
		return body == "none"
	})
	for range 20 {
		if _, body, _ := e.appGet("scratch", "/read"); body != "none" {
			t.Fatalf("after the restart /read = %q", body)
		}
	}
}

// webDynoIDs returns the IDs of an app's web dynos.
func (e *deployEnv) webDynoIDs(app string) map[string]bool {
	var dynos []struct{ ID, Type string }
	e.Do(e.t, "GET", "/apps/"+app+"/dynos", e.token, nil, 200, &dynos)
	ids := map[string]bool{}
	for _, d := range dynos {
		if d.Type == "web" {
			ids[d.ID] = true
		}
	}
	return ids
}

// TestDynos_ZeroDowntime keeps requests flowing while the app is deployed
// five times and its config changed twice: not one may fail.
func TestDynos_ZeroDowntime(t *testing.T) {
	e := newDynoEnv(t)
	e.Do(t, "POST", "/apps", e.token, map[string]string{"name": "steady"}, 201, nil)
	dir := t.TempDir()
	e.git(dir, "init", "-q", "-b", "main")
	if out, ok := e.commitAndPush(dir, "steady", echoApp("v0")); !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	e.waitFor("web.1 up", func() bool { return len(e.upWebDynos("steady")) == 1 })
	e.scale("steady", 2)
	e.waitFor("web.2 up", func() bool { return len(e.upWebDynos("steady")) == 2 })

	var stop atomic.Bool
	var requests, failures atomic.Int64
	var mu sync.Mutex
	var failed []string
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				code, body, err := e.appGet("steady", "/")
				requests.Add(1)
				if err != nil || code != 200 {
					failures.Add(1)
					mu.Lock()
					failed = append(failed, fmt.Sprintf("%d %v %.80s", code, err, body))
					mu.Unlock()
				}
			}
		}()
	}
	for i := 1; i <= 5; i++ {
		mark := fmt.Sprintf("v%d", i)
		if out, ok := e.commitAndPush(dir, "steady", map[string]string{"mark.txt": mark}); !ok {
			t.Fatalf("deploy %d failed:\n%s", i, out)
		}
		e.waitFor("deploy "+mark+" serving", func() bool {
			_, body, _ := e.appGet("steady", "/")
			return strings.HasSuffix(body, mark)
		})
		if i == 2 || i == 4 {
			e.Do(t, "PATCH", "/apps/steady/config-vars", e.token, map[string]string{"GREETING": "merhaba-" + mark}, 200, nil)
			e.waitFor("config "+mark+" serving", func() bool {
				_, body, _ := e.appGet("steady", "/")
				return strings.Contains(body, "merhaba-"+mark)
			})
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d requests during 5 deploys and 2 config changes", requests.Load())
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed, e.g. %v", n, requests.Load(), failed[:min(len(failed), 5)])
	}
}

func TestDynos_Crashed(t *testing.T) {
	e := newDynoEnv(t)
	if out, ok := e.push("crashy", map[string]string{"Procfile": "web: echo starting; exit 3\n"}); !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	e.waitFor("a crashed web dyno", func() bool {
		var dynos []struct{ State string }
		e.Do(t, "GET", "/apps/crashy/dynos", e.token, nil, 200, &dynos)
		return len(dynos) == 1 && dynos[0].State == "crashed"
	})
	e.waitFor("H10 page", func() bool {
		code, body, _ := e.appGet("crashy", "/")
		return code == 503 && strings.Contains(body, "Application Error")
	})
}
