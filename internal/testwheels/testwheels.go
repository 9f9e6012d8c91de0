// Package testwheels gives tests a local wheelhouse of Flask, gunicorn and
// their dependencies, since PyPI is not reachable where the tests run. The
// wheels are repacked by the workplace's shared/tools/make-wheelhouse from
// Debian's python3-flask, python3-gunicorn, python3-importlib-metadata,
// python3-zipp and python3-packaging.
package testwheels

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Packages are the Debian packages the wheels are made from.
const Packages = "python3-flask python3-gunicorn python3-importlib-metadata python3-zipp python3-packaging"

var (
	once   sync.Once
	dir    string
	errDir error
)

// Dir returns the wheelhouse directory, building it on first use, or
// skips the test saying what is missing. The directory is not under /tmp:
// builds see a private /tmp of their own.
func Dir(tb testing.TB) string {
	tb.Helper()
	once.Do(func() { dir, errDir = build() })
	if errDir != nil {
		tb.Skipf("no wheelhouse: %v", errDir)
	}
	return dir
}

func build() (string, error) {
	tool, err := findTool()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	root := filepath.Join(cache, "bulut-test")
	final := filepath.Join(root, "wheels")
	if matches, _ := filepath.Glob(filepath.Join(final, "[Ff]lask-*.whl")); len(matches) > 0 {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, "wheels-")
	if err != nil {
		return "", err
	}
	if out, err := exec.Command(tool, "--out", tmp, "--seed-app").CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("%s --seed-app: %v (apt-get install -y %s)\n%s", tool, err, Packages, out)
	}
	os.Chmod(tmp, 0o755)
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp) // another test process made it meanwhile
		if _, statErr := os.Stat(final); statErr != nil {
			return "", err
		}
	}
	return final, nil
}

// findTool looks for shared/tools/make-wheelhouse beside the project (in
// the working directory's parents), or where BULUT_MAKE_WHEELHOUSE says.
func findTool() (string, error) {
	if p := os.Getenv("BULUT_MAKE_WHEELHOUSE"); p != "" {
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "tools", "make-wheelhouse")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if _, err := os.Stat("/work/shared/tools/make-wheelhouse"); err == nil {
		return "/work/shared/tools/make-wheelhouse", nil
	}
	return "", fmt.Errorf("shared/tools/make-wheelhouse not found above %s (set BULUT_MAKE_WHEELHOUSE)", wd)
}
