package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/sandbox"
	"github.com/bulut-bulut/bulut/internal/testenv"
	"github.com/bulut-bulut/bulut/internal/testwheels"
)

// bulutBinary is a link named "bulut" to this test binary, which acts as
// bulut when called by that name (see TestMain): git's hooks run it.
func bulutBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "bulut")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// deployEnv is a real server whose git hooks run bulut, building Python
// apps from the wheelhouse.
type deployEnv struct {
	*testenv.Env
	t     *testing.T
	token string
}

func newDeployEnv(t *testing.T) *deployEnv {
	t.Helper()
	return newDeployEnvWith(t)
}

func newDeployEnvWith(t *testing.T, opts ...func(*config.Server)) *deployEnv {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	wheels := testwheels.Dir(t)
	opts = append([]func(*config.Server){testenv.WithExecutable(bulutBinary(t)), func(c *config.Server) {
		c.Environ = append(os.Environ(), "PIP_FIND_LINKS="+wheels, "PIP_NO_INDEX=1")
	}}, opts...)
	env := testenv.New(t, opts...)
	return &deployEnv{Env: env, t: t, token: env.Signup(t, "deployer@example.com", "deploy-password")}
}

// push creates app name, commits files to a new repository and pushes it
// to main; it returns git's output and whether the push succeeded.
func (e *deployEnv) push(name string, files map[string]string) (string, bool) {
	e.t.Helper()
	e.Do(e.t, "POST", "/apps", e.token, map[string]string{"name": name}, 201, nil)
	dir := e.t.TempDir()
	e.git(dir, "init", "-q", "-b", "main")
	return e.commitAndPush(dir, name, files)
}

func (e *deployEnv) commitAndPush(dir, name string, files map[string]string) (string, bool) {
	e.t.Helper()
	for path, body := range files {
		full := filepath.Join(dir, path)
		os.MkdirAll(filepath.Dir(full), 0o755)
		mode := os.FileMode(0o644)
		if strings.HasPrefix(body, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			e.t.Fatal(err)
		}
	}
	e.git(dir, "add", "-A")
	e.git(dir, "commit", "-q", "-m", "deploy "+name)
	remote := fmt.Sprintf("http://git:%s@git.localhost:%s/%s.git", e.token, e.Port(), name)
	out, err := e.tryGit(dir, "push", remote, "main")
	return out, err == nil
}

func (e *deployEnv) git(dir string, args ...string) string {
	e.t.Helper()
	out, err := e.tryGit(dir, args...)
	if err != nil {
		e.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return out
}

func (e *deployEnv) tryGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+e.t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// releases returns the app's release descriptions, oldest first.
func (e *deployEnv) releases(app string) []string {
	e.t.Helper()
	var rels []struct {
		Version     int
		Description string
	}
	e.Do(e.t, "GET", "/apps/"+app+"/releases", e.token, nil, 200, &rels)
	var out []string
	for _, r := range rels {
		out = append(out, fmt.Sprintf("v%d %s", r.Version, r.Description))
	}
	return out
}

func wantOutput(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("push output lacks %q:\n%s", w, out)
		}
	}
}

// unpackSlug extracts an app's current slug into a new directory.
func (e *deployEnv) unpackSlug(app string) string {
	e.t.Helper()
	ctx := bulut.NewSystemContext(context.Background())
	rel, err := e.Store.Releases.FindRelease(ctx, app, "v2")
	if err != nil {
		e.t.Fatal(err)
	}
	blobs := filepath.Join(e.Config.DataDir, "blobs", bulut.SlugBlobKey(rel.SlugID))
	f, err := os.Open(blobs)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		e.t.Fatal(err)
	}
	dir := e.t.TempDir()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			e.t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(target, 0o755)
		case tar.TypeSymlink:
			os.MkdirAll(filepath.Dir(target), 0o755)
			os.Symlink(h.Linkname, target)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(target), 0o755)
			w, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				e.t.Fatal(err)
			}
			io.Copy(w, tr)
			w.Close()
		}
	}
	return dir
}

// serveSlug runs command from an unpacked slug at /app (as a dyno will:
// .profile.d sourced, PORT set) and returns the body of GET /.
func serveSlug(t *testing.T, slugDir, command string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs strings.Builder
	cmd := sandbox.Command(ctx, sandbox.Spec{
		AppDir: slugDir, TmpDir: t.TempDir(), Dir: "/app",
		Env:  []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/app", fmt.Sprintf("PORT=%d", port)},
		Args: []string{"bash", "-c", `for f in /app/.profile.d/*.sh; do [ -f "$f" ] && . "$f"; done; exec ` + command},
	})
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process().Kill()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil {
			b, _ := io.ReadAll(bufio.NewReader(resp.Body))
			resp.Body.Close()
			return string(b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered on $PORT:\n%s", command, logs.String())
	return ""
}

// The classic Heroku tutorial's Flask app: a Pipfile without a lock,
// runtime.txt asking for 3.9.0 (the machine has another 3.9), gunicorn.
var flaskApp = map[string]string{
	"Pipfile":     "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n[packages]\nflask = \"*\"\ngunicorn = \"*\"\n\n[dev-packages]\n\n[requires]\npython_version = \"3.9\"\n",
	"runtime.txt": "python-3.9.0\n",
	"Procfile":    "web: gunicorn app:app\n",
	"app.py":      "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route(\"/\")\ndef index():\n    return \"Hello from Flask on bulut\"\n",
}

func TestDeploy_FlaskTutorialApp(t *testing.T) {
	e := newDeployEnv(t)
	out, ok := e.push("flask-tutorial", flaskApp)
	if !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	wantOutput(t, out,
		"remote: -----> Building on the heroku-24 stack",
		"remote: -----> Python app detected",
		"3.9.0",
		"remote: -----> Discovering process types",
		"remote:        Procfile declares types -> web",
		"remote:        Released v2",
		"deployed to bulut",
		"remote: Verifying deploy... done.",
	)
	if got := e.releases("flask-tutorial"); len(got) != 2 || !strings.HasPrefix(got[1], "v2 Deploy ") {
		t.Fatalf("releases = %v", got)
	}
	body := serveSlug(t, e.unpackSlug("flask-tutorial"), "gunicorn app:app")
	if body != "Hello from Flask on bulut" {
		t.Fatalf("GET / = %q", body)
	}
}

func TestDeploy_Languages(t *testing.T) {
	e := newDeployEnv(t)
	for _, c := range []struct {
		name     string
		files    map[string]string
		detected string
		command  string // run from the slug; "" to skip
		body     string
	}{
		{"reqs-app", map[string]string{
			"requirements.txt": "flask\ngunicorn\n",
			"Procfile":         "web: gunicorn app:app\n",
			"app.py":           "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef i():\n    return 'requirements'\n",
		}, "Python app detected", "gunicorn app:app", "requirements"},
		{"node-app", map[string]string{
			"package.json":      `{"name":"node-app","version":"1.0.0","scripts":{"start":"node server.js","heroku-postbuild":"echo built > built.txt"}}`,
			"package-lock.json": `{"name":"node-app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"node-app","version":"1.0.0"}}}`,
			"server.js":         "require('http').createServer((q, s) => s.end(require('fs').readFileSync('built.txt', 'utf8').trim())).listen(process.env.PORT)\n",
		}, "Node.js app detected", "npm start", "built"},
		{"go-app", map[string]string{
			"go.mod":   "module example.com/goapp\n\ngo 1.22\n",
			"main.go":  "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(\"gopher\")) })\n\thttp.ListenAndServe(\":\"+os.Getenv(\"PORT\"), nil)\n}\n",
			"Procfile": "web: goapp\n",
		}, "Go app detected", "goapp", "gopher"},
		{"procfile-app", map[string]string{
			"Procfile":   "web: python3 -m http.server $PORT\n",
			"index.html": "static",
		}, "Procfile app detected", "python3 -m http.server $PORT", "static"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, ok := e.push(c.name, c.files)
			if !ok {
				t.Fatalf("push failed:\n%s", out)
			}
			wantOutput(t, out, c.detected, "Released v2", "Verifying deploy... done.")
			if c.command != "" {
				if body := serveSlug(t, e.unpackSlug(c.name), c.command); body != c.body {
					t.Fatalf("GET / = %q, want %q", body, c.body)
				}
			}
		})
	}
}

func TestDeploy_PipfileLockAndCache(t *testing.T) {
	e := newDeployEnv(t)
	lock := pipfileLock(t, testwheels.Dir(t))
	files := map[string]string{"Pipfile.lock": lock, "Procfile": "web: gunicorn app:app\n",
		"app.py": "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\ndef i():\n    return 'locked'\n"}
	out, ok := e.push("locked-app", files)
	if !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	wantOutput(t, out, "Pipfile.lock", "Released v2")
	if body := serveSlug(t, e.unpackSlug("locked-app"), "gunicorn app:app"); body != "locked" {
		t.Fatalf("GET / = %q", body)
	}
}

// pipfileLock writes a Pipfile.lock pinning flask and gunicorn (and their
// dependencies) to the wheelhouse's versions, with their real hashes.
func pipfileLock(t *testing.T, wheels string) string {
	t.Helper()
	script := `
import hashlib, json, os, sys
d = sys.argv[1]
default = {}
for f in sorted(os.listdir(d)):
    if not f.endswith(".whl"): continue
    name, version = f.split("-")[:2]
    h = hashlib.sha256(open(os.path.join(d, f), "rb").read()).hexdigest()
    default[name.lower().replace("_", "-")] = {"version": "==" + version, "hashes": ["sha256:" + h]}
print(json.dumps({"_meta": {"requires": {"python_version": "3.11"}, "sources": []}, "default": default, "develop": {}}, indent=4))
`
	out, err := exec.Command("python3", "-c", script, wheels).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestDeploy_CustomBuildpackAndCache(t *testing.T) {
	e := newDeployEnv(t)
	bp := t.TempDir()
	for name, body := range map[string]string{
		"bin/detect":  "#!/bin/sh\necho Tiny\n",
		"bin/compile": "#!/bin/sh\nset -e\nif [ -f \"$2/seen\" ]; then echo '       cache was warm'; else echo '       cache was cold'; fi\ntouch \"$2/seen\"\necho \"tiny built\" > \"$1/tiny.txt\"\n",
		"bin/release": "#!/bin/sh\nprintf -- '---\\ndefault_process_types:\\n  web: cat tiny.txt\\n'\n",
	} {
		os.MkdirAll(filepath.Join(bp, "bin"), 0o755)
		os.WriteFile(filepath.Join(bp, name), []byte(body), 0o755)
	}
	e.Do(t, "POST", "/apps", e.token, map[string]string{"name": "tiny"}, 201, nil)
	e.Do(t, "PUT", "/apps/tiny/buildpack-installations", e.token, map[string]any{"updates": []map[string]string{{"buildpack": bp}}}, 200, nil)
	dir := t.TempDir()
	e.git(dir, "init", "-q", "-b", "main")
	out, ok := e.commitAndPush(dir, "tiny", map[string]string{"README": "tiny"})
	if !ok {
		t.Fatalf("push failed:\n%s", out)
	}
	wantOutput(t, out, "cache was cold", "Default types for buildpack -> web", "Released v2")
	out, ok = e.commitAndPush(dir, "tiny", map[string]string{"README": "tiny 2"})
	if !ok {
		t.Fatalf("second push failed:\n%s", out)
	}
	wantOutput(t, out, "cache was warm", "Released v3")
}

func TestDeploy_Failures(t *testing.T) {
	e := newDeployEnv(t)
	t.Run("FailingBuild", func(t *testing.T) {
		e.Do(t, "POST", "/apps", e.token, map[string]string{"name": "good-then-bad"}, 201, nil)
		dir := t.TempDir()
		e.git(dir, "init", "-q", "-b", "main")
		out, ok := e.commitAndPush(dir, "good-then-bad", map[string]string{"Procfile": "web: python3 -m http.server $PORT\n"})
		if !ok {
			t.Fatalf("first push failed:\n%s", out)
		}
		out, ok = e.commitAndPush(dir, "good-then-bad", map[string]string{"requirements.txt": "no-such-package-anywhere==1.0\n"})
		if ok {
			t.Fatalf("push of an uninstallable requirement succeeded:\n%s", out)
		}
		wantOutput(t, out, "pre-receive hook declined", "Push rejected to good-then-bad.")
		if got := e.releases("good-then-bad"); len(got) != 2 {
			t.Fatalf("releases after a failed build: %v", got)
		}
		var current struct {
			Version int
			Current bool
		}
		e.Do(t, "GET", "/apps/good-then-bad/releases/v2", e.token, nil, 200, &current)
		if !current.Current {
			t.Fatal("v2 is no longer current after a failed build")
		}
		var builds []struct{ Status string }
		e.Do(t, "GET", "/apps/good-then-bad/builds", e.token, nil, 200, &builds)
		if len(builds) != 2 || builds[1].Status != "failed" && builds[0].Status != "failed" {
			t.Fatalf("builds = %+v", builds)
		}
	})
	t.Run("UnavailablePython", func(t *testing.T) {
		out, ok := e.push("old-python", map[string]string{"runtime.txt": "python-2.5.0\n", "requirements.txt": ""})
		if ok {
			t.Fatalf("push succeeded:\n%s", out)
		}
		wantOutput(t, out, "3.9.", "3.11.", "pre-receive hook declined")
	})
	t.Run("MalformedProcfile", func(t *testing.T) {
		out, ok := e.push("bad-procfile", map[string]string{"Procfile": "web: ok\n\nthis is not a process\n"})
		if ok {
			t.Fatalf("push succeeded:\n%s", out)
		}
		wantOutput(t, out, "Procfile line 3", "pre-receive hook declined")
	})
	t.Run("NothingDetected", func(t *testing.T) {
		out, ok := e.push("nothing-here", map[string]string{"notes.txt": "just text"})
		if ok {
			t.Fatalf("push succeeded:\n%s", out)
		}
		wantOutput(t, out, "No default language could be detected", "pre-receive hook declined")
	})
}
