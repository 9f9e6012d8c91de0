package buildpacks_test

// Tests of the built-in Python buildpack (python/bin/*), run for real: the scripts use the
// machine's Python interpreters, and pip installs from a local wheelhouse made by
// ../shared/tools/make-wheelhouse (PyPI is not reachable). Tests that install packages are
// skipped when the wheelhouse can't be made (see pyWheelhouse for the Debian packages).

import (
	"github.com/bulut-bulut/bulut/internal/testwheels"

	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

const pyBuildpack = "python"

// pyResult is one run of a buildpack script.
type pyResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r pyResult) String() string {
	return fmt.Sprintf("exit %d after %v\n--- stdout:\n%s--- stderr:\n%s", r.code, r.took, r.stdout, r.stderr)
}

// pyEnv is the environment the scripts run with: the test's own, without pip settings that
// would reach for an index, plus extra.
func pyEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PIP_") || strings.HasPrefix(kv, "PYTHON") || strings.HasPrefix(kv, "VIRTUAL_ENV=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

func pyRun(t *testing.T, env []string, script string, args ...string) pyResult {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(pyBuildpack, "bin", script))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := pyResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s: %v", script, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// pyCompile runs bin/compile BUILD CACHE ENV.
func pyCompile(t *testing.T, build, cache, envDir string, env []string) pyResult {
	t.Helper()
	return pyRun(t, env, "compile", build, cache, envDir)
}

func pyWriteFiles(t *testing.T, dir string, files map[string]string) {
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

func pyMustSucceed(t *testing.T, r pyResult) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("compile failed:\n%s", r)
	}
}

func pyMustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// TestPythonBuildpack holds the tests that install packages, sharing one wheelhouse.
func TestPythonBuildpack(t *testing.T) {
	wh := testwheels.Dir(t)
	t.Run("FlaskTutorialApp", func(t *testing.T) { pyTestFlaskTutorialApp(t, wh) })
	t.Run("RequirementsTxt", func(t *testing.T) { pyTestRequirementsTxt(t, wh) })
	t.Run("PipfileLock", func(t *testing.T) { pyTestPipfileLock(t, wh) })
	t.Run("EnvDirIndexSettings", func(t *testing.T) { pyTestEnvDirIndexSettings(t, wh) })
}

// pyHasMinor reports whether a Python of minor ("3.9") is in pyenv's versions, /usr/bin or
// /usr/local/bin.
func pyHasMinor(minor string) bool {
	home, _ := os.UserHomeDir()
	var globs []string
	for _, root := range []string{os.Getenv("PYENV_ROOT"), filepath.Join(home, ".pyenv"), "/root/.pyenv"} {
		if root != "" {
			globs = append(globs, filepath.Join(root, "versions", minor+".*", "bin", "python"+minor))
		}
	}
	globs = append(globs, "/usr/bin/python"+minor, "/usr/local/bin/python"+minor)
	for _, g := range globs {
		if m, _ := filepath.Glob(g); len(m) > 0 {
			return true
		}
	}
	return false
}

func TestPythonDetect(t *testing.T) {
	env := pyEnv()
	for _, f := range []string{".python-version", "__init__.py", "app.py", "main.py", "manage.py", "pdm.lock",
		"Pipfile", "Pipfile.lock", "poetry.lock", "pyproject.toml", "requirements.txt", "runtime.txt",
		"server.py", "setup.cfg", "setup.py", "uv.lock", "requirement.txt", "Requirements.txt",
		"requirements.text", "requirements.txt.txt", "requirments.txt",
		"__pycache__/x.pyc", ".venv/bin/python", "venv/pyvenv.cfg"} {
		dir := t.TempDir()
		pyWriteFiles(t, dir, map[string]string{f: ""})
		r := pyRun(t, env, "detect", dir)
		if r.code != 0 || r.stdout != "Python\n" {
			t.Errorf("detect with %s: %s", f, r)
		}
	}
	for _, files := range []map[string]string{{}, {"package.json": "{}"}, {"go.mod": "module x\n"}, {"README.md": "x"}, {"lib/app.py": ""}} {
		dir := t.TempDir()
		pyWriteFiles(t, dir, files)
		if r := pyRun(t, env, "detect", dir); r.code != 1 || r.stdout != "" {
			t.Errorf("detect with %v: %s", files, r)
		}
	}
}

// pyServe runs the Procfile-style command in dir the way a dyno does (.profile.d sourced,
// PORT set) and returns the body of GET /.
func pyServe(t *testing.T, dir, command string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("bash", "-c", "for f in .profile.d/*.sh; do . \"$f\"; done; exec "+command)
	cmd.Dir = dir
	cmd.Env = append(pyEnv(), fmt.Sprintf("PORT=%d", port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("GET / = %d: %s", resp.StatusCode, body)
			}
			return string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered on port %d: %v\n%s", command, port, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var pyFlaskApp = map[string]string{
	"app.py": `from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello World!"
`,
	"Pipfile": `[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
flask = "*"
gunicorn = "*"

[dev-packages]
pytest = "*"

[requires]
python_version = "3.9"
`,
	"runtime.txt": "python-3.9.0\n",
	"Procfile":    "web: gunicorn app:app\n",
}

// pyTestFlaskTutorialApp: the tutorial-shaped app (Pipfile without a lock, runtime.txt
// python-3.9.0) builds on the machine's newest 3.9 and serves from the build; a second build
// with the same cache restores the environment without pip.
func pyTestFlaskTutorialApp(t *testing.T, wh string) {
	if !pyHasMinor("3.9") {
		t.Skip("no Python 3.9 on this machine")
	}
	build, cache, envDir := t.TempDir(), t.TempDir(), t.TempDir()
	pyWriteFiles(t, build, pyFlaskApp)
	env := pyEnv("PIP_FIND_LINKS="+wh, "PIP_NO_INDEX=1")

	cold := pyCompile(t, build, cache, envDir, env)
	pyMustSucceed(t, cold)
	t.Logf("cold compile: %v", cold.took)
	pyMustContain(t, "stdout", cold.stdout,
		"-----> Using Python 3.9.0 specified in runtime.txt\n",
		"-----> Installing Python 3.9.",
		"-----> Installing dependencies from Pipfile [packages] using pip\n",
		"       Successfully installed ")
	if !regexp.MustCompile(`(?m)^ !     Python 3\.9\.0 is not installed here; using 3\.9\.\d+, the newest 3\.9\.$`).MatchString(cold.stderr) {
		t.Errorf("no fallback warning on stderr:\n%s", cold)
	}
	for _, line := range strings.Split(strings.TrimSuffix(cold.stdout, "\n"), "\n") {
		if !strings.HasPrefix(line, "-----> ") && !strings.HasPrefix(line, "       ") {
			t.Errorf("line neither a step nor a 7-space detail: %q", line)
		}
	}
	if strings.Contains(cold.stdout, "pytest") {
		t.Errorf("[dev-packages] installed:\n%s", cold)
	}
	for _, f := range []string{".heroku/python/bin/gunicorn", ".heroku/python/bin/python", ".profile.d/python.sh"} {
		if _, err := os.Stat(filepath.Join(build, f)); err != nil {
			t.Error(err)
		}
	}
	profile, _ := os.ReadFile(filepath.Join(build, ".profile.d/python.sh"))
	pyMustContain(t, ".profile.d/python.sh", string(profile),
		filepath.Join(build, ".heroku/python/bin"), "PYTHONUNBUFFERED=1", "LANG=\"${LANG:-en_US.UTF-8}\"",
		"WEB_CONCURRENCY=\"${WEB_CONCURRENCY:-2}\"", "FORWARDED_ALLOW_IPS", "--access-logfile -")
	if body := pyServe(t, build, "gunicorn app:app"); body != "Hello World!" {
		t.Errorf("GET / = %q", body)
	}
	if r := pyRun(t, env, "release", build); r.code != 0 || r.stdout != "--- {}\n" {
		t.Errorf("release: %s", r)
	}

	// The same commit again (a fresh checkout, as the builder does).
	os.RemoveAll(build)
	os.MkdirAll(build, 0o755)
	pyWriteFiles(t, build, pyFlaskApp)
	warm := pyCompile(t, build, cache, envDir, env)
	pyMustSucceed(t, warm)
	t.Logf("warm compile: %v", warm.took)
	pyMustContain(t, "stdout", warm.stdout, "-----> Restoring cached environment (Python 3.9.", "skipping pip install")
	if strings.Contains(warm.stdout, "Installing dependencies") || strings.Contains(warm.stdout, "Successfully installed") {
		t.Errorf("the warm build ran pip:\n%s", warm)
	}
	if body := pyServe(t, build, "gunicorn app:app"); body != "Hello World!" {
		t.Errorf("GET / after the warm build = %q", body)
	}

	// A changed dependency file builds a new environment.
	pyWriteFiles(t, build, map[string]string{"Pipfile": strings.Replace(pyFlaskApp["Pipfile"], "gunicorn = \"*\"", "gunicorn = \">=20\"\nblinker = \"*\"", 1)})
	again := pyCompile(t, build, cache, envDir, env)
	pyMustSucceed(t, again)
	pyMustContain(t, "stdout", again.stdout, "Installing dependencies", "blinker")
}

func pyTestRequirementsTxt(t *testing.T, wh string) {
	build, cache := t.TempDir(), t.TempDir()
	pyWriteFiles(t, build, map[string]string{
		"requirements.txt": "# the app's packages\nflask==2.2.2\ngunicorn\n",
		".python-version":  "# pinned for the app\n3.11\n",
	})
	r := pyCompile(t, build, cache, t.TempDir(), pyEnv("PIP_FIND_LINKS="+wh, "PIP_NO_INDEX=1"))
	pyMustSucceed(t, r)
	pyMustContain(t, "stdout", r.stdout,
		"-----> Using Python 3.11 specified in .python-version\n",
		"-----> Installing Python 3.11.",
		"-----> Installing dependencies using 'pip install -r requirements.txt'\n")
	if r.stderr != "" {
		t.Errorf("unexpected stderr:\n%s", r)
	}
	out, err := exec.Command(filepath.Join(build, ".heroku/python/bin/python"), "-c",
		"import flask, gunicorn, sys; print(flask.__version__, sys.version_info[:2])").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "2.2.2 (3, 11)") {
		t.Errorf("installed environment: %v %s", err, out)
	}
}

// pyLock writes a Pipfile.lock pinning every wheel of wh with its sha256.
func pyLock(t *testing.T, wh string, tamper string) string {
	t.Helper()
	wheels, _ := filepath.Glob(filepath.Join(wh, "*.whl"))
	def := map[string]any{}
	for _, w := range wheels {
		parts := strings.SplitN(filepath.Base(w), "-", 3)
		data, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])
		name := strings.ToLower(parts[0])
		if name == tamper {
			h = strings.Repeat("0", 64)
		}
		def[name] = map[string]any{"hashes": []string{"sha256:" + h}, "index": "pypi", "version": "==" + parts[1],
			"markers": "python_version >= '3.7'"}
	}
	lock := map[string]any{
		"_meta": map[string]any{"hash": map[string]string{"sha256": "0"}, "pipfile-spec": 6,
			"requires": map[string]string{"python_version": "3.11"},
			"sources":  []map[string]any{{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true}}},
		"default": def,
		"develop": map[string]any{"pytest": map[string]any{"hashes": []string{"sha256:" + strings.Repeat("1", 64)}, "version": "==7.4.0"}},
	}
	b, _ := json.MarshalIndent(lock, "", "    ")
	return string(b)
}

func pyTestPipfileLock(t *testing.T, wh string) {
	env := pyEnv("PIP_FIND_LINKS="+wh, "PIP_NO_INDEX=1")
	build := t.TempDir()
	pyWriteFiles(t, build, map[string]string{
		"Pipfile":      "[packages]\nflask = \"*\"\ngunicorn = \"*\"\n[dev-packages]\npytest = \"*\"\n",
		"Pipfile.lock": pyLock(t, wh, ""),
		"app.py":       pyFlaskApp["app.py"],
	})
	r := pyCompile(t, build, t.TempDir(), t.TempDir(), env)
	pyMustSucceed(t, r)
	pyMustContain(t, "stdout", r.stdout,
		"-----> Using Python 3.11 specified in Pipfile.lock\n",
		"-----> Installing dependencies from Pipfile.lock using 'pip install --require-hashes'\n",
		"flask-2.2.2", "gunicorn-20.1.0")
	if strings.Contains(r.stdout, "pytest") {
		t.Errorf("develop packages installed:\n%s", r)
	}

	// A hash that doesn't match fails the build.
	build = t.TempDir()
	pyWriteFiles(t, build, map[string]string{"Pipfile": "[packages]\nflask = \"*\"\n", "Pipfile.lock": pyLock(t, wh, "flask")})
	r = pyCompile(t, build, t.TempDir(), t.TempDir(), env)
	if r.code == 0 {
		t.Fatalf("a tampered lock built:\n%s", r)
	}
	pyMustContain(t, "output", r.stdout+r.stderr, "DO NOT MATCH THE HASHES", " !     Failed to install the dependencies from Pipfile.lock", "pipenv lock")
}

func TestPythonUnavailableVersion(t *testing.T) {
	build := t.TempDir()
	pyWriteFiles(t, build, map[string]string{"requirements.txt": "", "runtime.txt": "python-2.5.0\n"})
	r := pyCompile(t, build, t.TempDir(), t.TempDir(), pyEnv("PIP_NO_INDEX=1"))
	if r.code == 0 {
		t.Fatalf("built with Python 2.5.0:\n%s", r)
	}
	pyMustContain(t, "stdout", r.stdout, "-----> Using Python 2.5.0 specified in runtime.txt\n")
	pyMustContain(t, "stderr", r.stderr, " !     Python 2.5.0 (from runtime.txt) is not available on this machine.\n",
		" !     Pythons installed here: 3.", "Change runtime.txt to one of them")
	if pyHasMinor("3.9") && !strings.Contains(r.stderr, "3.9.") {
		t.Errorf("3.9 not listed:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(build, ".heroku/python")); err == nil {
		t.Error("an environment was made anyway")
	}

	for body, want := range map[string]string{
		"python-three\n": "Invalid Python version in runtime.txt: 'python-three'",
		"3.11\n":         "Invalid Python version in runtime.txt: '3.11'",
	} {
		build := t.TempDir()
		pyWriteFiles(t, build, map[string]string{"requirements.txt": "", "runtime.txt": body})
		r := pyCompile(t, build, t.TempDir(), t.TempDir(), pyEnv("PIP_NO_INDEX=1"))
		if r.code == 0 || !strings.Contains(r.stderr, " !     "+want) {
			t.Errorf("runtime.txt %q: %s", body, r)
		}
	}
}

// TestPythonVersionSources: where the version comes from (no packages to install).
func TestPythonVersionSources(t *testing.T) {
	if !pyHasMinor("3.11") {
		t.Skip("no Python 3.11 on this machine")
	}
	for _, c := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"requirements.txt": "", "runtime.txt": "python-3.11\r\n", ".python-version": "3.9\n"}, "Using Python 3.11 specified in runtime.txt"},
		{map[string]string{"requirements.txt": "", ".python-version": "# comment\n\n  3.11  # trailing\n"}, "Using Python 3.11 specified in .python-version"},
		{map[string]string{"Pipfile": "[packages]\n\n[requires]\npython_version = \"3.11\"\n"}, "Using Python 3.11 specified in Pipfile"},
		{map[string]string{"Pipfile": "[packages]\n", "Pipfile.lock": `{"_meta": {"requires": {"python_full_version": "3.11.0"}}, "default": {}, "develop": {}}`}, "Using Python 3.11.0 specified in Pipfile.lock"},
		{map[string]string{"requirements.txt": ""}, "No Python version was specified. Using the newest installed here: Python 3.1"},
	} {
		build := t.TempDir()
		pyWriteFiles(t, build, c.files)
		r := pyCompile(t, build, t.TempDir(), t.TempDir(), pyEnv("PIP_NO_INDEX=1"))
		pyMustSucceed(t, r)
		pyMustContain(t, "stdout", r.stdout, "-----> "+c.want)
		if _, err := os.Stat(filepath.Join(build, ".heroku/python/bin/python")); err != nil {
			t.Error(err)
		}
	}
}

// pyTestEnvDirIndexSettings: PIP_FIND_LINKS and PIP_NO_INDEX from the app's config vars
// (ENV_DIR) reach pip and win over the server's environment.
func pyTestEnvDirIndexSettings(t *testing.T, wh string) {
	app := map[string]string{"requirements.txt": "flask\n", ".python-version": "3.11\n"}
	// Without them pip finds nothing (and must not try an index).
	build := t.TempDir()
	pyWriteFiles(t, build, app)
	r := pyCompile(t, build, t.TempDir(), t.TempDir(), pyEnv("PIP_NO_INDEX=1", "PIP_FIND_LINKS="+t.TempDir()))
	if r.code == 0 {
		t.Fatalf("built without the wheelhouse:\n%s", r)
	}
	pyMustContain(t, "stderr", r.stderr, " !     Failed to install the dependencies from requirements.txt")

	envDir := t.TempDir()
	pyWriteFiles(t, envDir, map[string]string{"PIP_FIND_LINKS": wh, "PIP_NO_INDEX": "1", "SECRET": "not exported"})
	build = t.TempDir()
	pyWriteFiles(t, build, app)
	r = pyCompile(t, build, t.TempDir(), envDir, pyEnv("PIP_FIND_LINKS="+t.TempDir()))
	pyMustSucceed(t, r)
	pyMustContain(t, "stdout", r.stdout, "Looking in links: "+wh, "flask-2.2.2")
}

// pyFakeWheel writes a wheel holding the given files (a stand-in for a package that isn't in
// the wheelhouse).
func pyFakeWheel(t *testing.T, dir, name, version string, files map[string]string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-py3-none-any.whl", name, version)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	info := fmt.Sprintf("%s-%s.dist-info", name, version)
	all := map[string]string{
		info + "/METADATA": fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version),
		info + "/WHEEL":    "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
	}
	for k, v := range files {
		all[k] = v
	}
	var names []string
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	var record strings.Builder
	for _, k := range names {
		w, _ := z.Create(k)
		io.WriteString(w, all[k])
		fmt.Fprintf(&record, "%s,,\n", k)
	}
	fmt.Fprintf(&record, "%s/RECORD,,\n", info)
	w, _ := z.Create(info + "/RECORD")
	io.WriteString(w, record.String())
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPythonDjango: collectstatic runs when manage.py and django are there (with the app's
// config vars), is skipped with DISABLE_COLLECTSTATIC=1, and its failure fails the build;
// bin/release asks for Postgres when psycopg2 is installed too.
func TestPythonDjango(t *testing.T) {
	if !pyHasMinor("3.11") {
		t.Skip("no Python 3.11 on this machine")
	}
	links := t.TempDir()
	pyFakeWheel(t, links, "Django", "4.2", map[string]string{"django/__init__.py": "VERSION = (4, 2)\n"})
	pyFakeWheel(t, links, "psycopg2", "2.9", map[string]string{"psycopg2/__init__.py": ""})
	manage := `import os, sys
import django
assert sys.argv[1:] == ["collectstatic", "--noinput", "--traceback"], sys.argv
if os.environ.get("BREAK_COLLECTSTATIC"):
    raise SystemExit("Traceback: ImproperlyConfigured")
os.makedirs("staticfiles", exist_ok=True)
open("staticfiles/secret.txt", "w").write(os.environ["SECRET_KEY"])
print("1 static file copied to '%s'." % os.path.abspath("staticfiles"))
`
	env := pyEnv("PIP_FIND_LINKS="+links, "PIP_NO_INDEX=1")
	newApp := func(reqs string) string {
		build := t.TempDir()
		pyWriteFiles(t, build, map[string]string{"manage.py": manage, "requirements.txt": reqs, ".python-version": "3.11\n"})
		return build
	}
	build := newApp("django\npsycopg2\n")
	envDir := t.TempDir()
	pyWriteFiles(t, envDir, map[string]string{"SECRET_KEY": "s3cret"})
	r := pyCompile(t, build, t.TempDir(), envDir, env)
	pyMustSucceed(t, r)
	pyMustContain(t, "stdout", r.stdout, "-----> $ python manage.py collectstatic --noinput\n", "       1 static file copied to '")
	if b, _ := os.ReadFile(filepath.Join(build, "staticfiles/secret.txt")); string(b) != "s3cret" {
		t.Errorf("collectstatic saw SECRET_KEY=%q", b)
	}
	if r := pyRun(t, env, "release", build); r.code != 0 || r.stdout != "---\naddons:\n  - heroku-postgresql\n" {
		t.Errorf("release: %s", r)
	}

	build = newApp("django\n")
	pyWriteFiles(t, envDir, map[string]string{"DISABLE_COLLECTSTATIC": "1"})
	r = pyCompile(t, build, t.TempDir(), envDir, env)
	pyMustSucceed(t, r)
	pyMustContain(t, "stdout", r.stdout, "-----> Skipping Django collectstatic since the env var DISABLE_COLLECTSTATIC is set.\n")
	if r := pyRun(t, env, "release", build); r.stdout != "--- {}\n" {
		t.Errorf("release without psycopg2: %s", r)
	}

	build = newApp("django\n")
	envDir = t.TempDir()
	pyWriteFiles(t, envDir, map[string]string{"SECRET_KEY": "x", "BREAK_COLLECTSTATIC": "1"})
	r = pyCompile(t, build, t.TempDir(), envDir, env)
	if r.code == 0 {
		t.Fatalf("a failing collectstatic passed:\n%s", r)
	}
	pyMustContain(t, "output", r.stdout+r.stderr, "ImproperlyConfigured",
		" !     Error while running '$ python manage.py collectstatic --noinput'.", "DISABLE_COLLECTSTATIC=1")

	// No Django installed: no collectstatic.
	build = newApp("psycopg2\n")
	r = pyCompile(t, build, t.TempDir(), t.TempDir(), env)
	pyMustSucceed(t, r)
	if strings.Contains(r.stdout, "collectstatic") {
		t.Errorf("collectstatic without Django:\n%s", r)
	}
}

// TestPythonPackageManagerErrors: exactly one package manager file decides.
func TestPythonPackageManagerErrors(t *testing.T) {
	for _, c := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"app.py": "", "README": ""}, "No Python package manager file was found"},
		{map[string]string{"requirements.txt": "", "Pipfile": "", "Pipfile.lock": "{}"}, "Multiple Python package manager files were found: requirements.txt Pipfile.lock"},
		{map[string]string{"requirement.txt": "flask\n"}, "Found 'requirement.txt' but no 'requirements.txt'"},
		{map[string]string{"pyproject.toml": "[project]\nname='x'\n"}, "    -e ."},
		{map[string]string{"poetry.lock": ""}, "poetry export"},
		{map[string]string{"Pipfile": "[packages\nflask = "}, "Pipfile is not valid TOML"},
	} {
		build := t.TempDir()
		pyWriteFiles(t, build, c.files)
		r := pyCompile(t, build, t.TempDir(), t.TempDir(), pyEnv("PIP_NO_INDEX=1"))
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || !strings.HasPrefix(r.stderr, " !     ") {
			t.Errorf("%v: want a failure with %q: %s", c.files, c.want, r)
		}
	}
}

// TestPythonCompileHooks: the app's bin/pre_compile and bin/post_compile run, with its config
// vars, before anything else and at the end; a failing hook fails the build.
func TestPythonCompileHooks(t *testing.T) {
	build, envDir := t.TempDir(), t.TempDir()
	pyWriteFiles(t, build, map[string]string{
		"bin/pre_compile":  "#!/bin/sh\necho \"pre $GREETING\"\necho 'click' > later.txt\n",
		"bin/post_compile": "#!/bin/sh\necho post\npython -c 'import sys; print(sys.prefix)' > prefix.txt\n",
		"requirements.txt": "",
	})
	pyWriteFiles(t, envDir, map[string]string{"GREETING": "hello"})
	r := pyCompile(t, build, t.TempDir(), envDir, pyEnv("PIP_NO_INDEX=1"))
	pyMustSucceed(t, r)
	pyMustContain(t, "stdout", r.stdout, "-----> Running pre-compile hook\n       pre hello\n", "-----> Running post-compile hook\n       post\n")
	if strings.Index(r.stdout, "pre-compile") > strings.Index(r.stdout, "Installing Python") {
		t.Errorf("pre_compile ran late:\n%s", r)
	}
	if b, _ := os.ReadFile(filepath.Join(build, "prefix.txt")); strings.TrimSpace(string(b)) != filepath.Join(build, ".heroku/python") {
		t.Errorf("post_compile's python: %q", b)
	}

	pyWriteFiles(t, build, map[string]string{"bin/post_compile": "#!/bin/sh\nexit 3\n"})
	r = pyCompile(t, build, t.TempDir(), envDir, pyEnv("PIP_NO_INDEX=1"))
	if r.code == 0 || !strings.Contains(r.stderr, " !     The app's bin/post_compile hook failed") {
		t.Errorf("a failing hook: %s", r)
	}
}
