package buildpacks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut/internal/buildpacks"
)

func TestBuiltin_Order(t *testing.T) {
	var names []string
	for _, bp := range buildpacks.Builtin() {
		names = append(names, bp.Name)
	}
	want := []string{"heroku/python", "heroku/nodejs", "heroku/go", "heroku/procfile"}
	if !slices.Equal(names, want) {
		t.Errorf("Builtin() = %q, want %q", names, want)
	}
}

func TestLookup(t *testing.T) {
	for in, want := range map[string]string{
		"heroku/python": "heroku/python",
		"python":        "heroku/python",
		"https://github.com/heroku/heroku-buildpack-python":     "heroku/python",
		"https://github.com/heroku/heroku-buildpack-nodejs.git": "heroku/nodejs",
		"heroku/nodejs":              "heroku/nodejs",
		"heroku/go":                  "heroku/go",
		"heroku/procfile":            "heroku/procfile",
		"heroku/ruby":                "",
		"https://example.com/python": "",
		"/srv/buildpacks/go":         "",
	} {
		bp, ok := buildpacks.Lookup(in)
		if ok != (want != "") || bp.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, bp.Name, ok, want)
		}
	}
}

func TestExtract(t *testing.T) {
	root := t.TempDir()
	dir, err := buildpacks.Extract("heroku/nodejs", root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(dir), "nodejs-") {
		t.Errorf("dir = %s", dir)
	}
	for _, script := range []string{"detect", "compile", "release"} {
		fi, err := os.Stat(filepath.Join(dir, "bin", script))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("bin/%s mode %v", script, fi.Mode())
		}
	}
	// Python's sourced libraries are not executable; its helper isn't either.
	py, err := buildpacks.Extract("python", root)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(py, "lib", "output.sh")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("lib/output.sh: %v %v", fi, err)
	}
	// A second extraction reuses the directory untouched.
	marker := filepath.Join(dir, "marker")
	os.WriteFile(marker, nil, 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "bin", "compile"), old, old)
	again, err := buildpacks.Extract("heroku/nodejs", root)
	if err != nil || again != dir {
		t.Fatalf("Extract again = %s, %v", again, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "bin", "compile")); !fi.ModTime().Equal(old) {
		t.Errorf("bin/compile was rewritten")
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 2 {
		t.Errorf("%d entries under the root, want 2 (no temporary dirs left)", len(ents))
	}
	if _, err := buildpacks.Extract("heroku/ruby", root); err == nil {
		t.Error("Extract(heroku/ruby) succeeded")
	}
}

func TestDetect(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		buildpack, file, name string
	}{
		{"nodejs", "package.json", "Node.js"},
		{"go", "go.mod", "Go"},
		{"procfile", "Procfile", "Procfile"},
	} {
		dir, err := buildpacks.Extract(tc.buildpack, root)
		if err != nil {
			t.Fatal(err)
		}
		app := t.TempDir()
		if out, err := exec.Command(filepath.Join(dir, "bin", "detect"), app).Output(); err == nil {
			t.Errorf("%s detected an empty app: %q", tc.buildpack, out)
		}
		os.WriteFile(filepath.Join(app, tc.file), []byte("{}\n"), 0o644)
		out, err := exec.Command(filepath.Join(dir, "bin", "detect"), app).Output()
		if err != nil || strings.TrimSpace(string(out)) != tc.name {
			t.Errorf("%s detect = %q, %v; want %q", tc.buildpack, out, err, tc.name)
		}
		out, err = exec.Command(filepath.Join(dir, "bin", "release"), app).Output()
		if err != nil || !strings.HasPrefix(string(out), "---") {
			t.Errorf("%s release = %q, %v", tc.buildpack, out, err)
		}
	}
}
