// Package buildpacks holds the built-in buildpacks (Python, Node.js, Go and
// a Procfile-only fallback), classic-API buildpack directories of bash
// scripts embedded in the binary, and writes them out to disk for builds.
package buildpacks

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// The buildpack directories. Names starting with "." or "_" (caches such
// as __pycache__) are left out.
//
//go:embed python nodejs go procfile
var files embed.FS

// Buildpack is a built-in buildpack.
type Buildpack struct {
	Name string // "heroku/python": what users set and builds record
	Dir  string // its directory in the embedded tree, "python"
}

// order is the detection order.
var order = []Buildpack{
	{Name: "heroku/python", Dir: "python"},
	{Name: "heroku/nodejs", Dir: "nodejs"},
	{Name: "heroku/go", Dir: "go"},
	{Name: "heroku/procfile", Dir: "procfile"},
}

// Builtin returns the built-in buildpacks in detection order.
func Builtin() []Buildpack {
	var bps []Buildpack
	for _, bp := range order {
		if _, err := fs.Stat(files, bp.Dir+"/bin/detect"); err == nil {
			bps = append(bps, bp)
		}
	}
	return bps
}

// Lookup finds a built-in buildpack by its name ("heroku/python"), its
// short name ("python") or the URL of the Heroku buildpack it stands for
// ("https://github.com/heroku/heroku-buildpack-python").
func Lookup(name string) (Buildpack, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimSuffix(strings.TrimSuffix(n, "/"), ".git")
	for _, prefix := range []string{"https://github.com/heroku/heroku-buildpack-", "http://github.com/heroku/heroku-buildpack-",
		"https://buildpack-registry.s3.amazonaws.com/buildpacks/heroku/", "heroku/", "heroku-buildpack-"} {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			n = strings.TrimSuffix(rest, ".tgz")
			break
		}
	}
	if n == "node" {
		n = "nodejs"
	}
	for _, bp := range Builtin() {
		if bp.Dir == n {
			return bp, true
		}
	}
	return Buildpack{}, false
}

var (
	hashMu sync.Mutex
	hashes = map[string]string{}
)

// hash returns a short digest of a buildpack directory's files.
func hash(dir string) (string, error) {
	hashMu.Lock()
	defer hashMu.Unlock()
	if h, ok := hashes[dir]; ok {
		return h, nil
	}
	sum := sha256.New()
	err := fs.WalkDir(files, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(sum, "%s %o %d\n", p, fileMode(p, b), len(b))
		sum.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	h := hex.EncodeToString(sum.Sum(nil))[:16]
	hashes[dir] = h
	return h, nil
}

// fileMode is the mode a buildpack file is written with: executable for
// bin/* and scripts with a #! line.
func fileMode(p string, b []byte) fs.FileMode {
	parts := strings.Split(p, "/")
	if (len(parts) == 3 && parts[1] == "bin") || bytes.HasPrefix(b, []byte("#!")) {
		return 0o755
	}
	return 0o644
}

// Extract writes a built-in buildpack (by name, see Lookup) under destRoot
// and returns its directory, destRoot/DIR-HASH. A directory already
// written for the same contents is reused as it is; callers must not
// change it (copy it to give a build a writable buildpack dir).
func Extract(name, destRoot string) (string, error) {
	bp, ok := Lookup(name)
	if !ok {
		return "", fmt.Errorf("buildpacks: no built-in buildpack %q", name)
	}
	h, err := hash(bp.Dir)
	if err != nil {
		return "", err
	}
	dest := filepath.Join(destRoot, bp.Dir+"-"+h)
	if _, err := os.Stat(filepath.Join(dest, "bin", "detect")); err == nil {
		return dest, nil
	}
	if err := os.MkdirAll(destRoot, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(destRoot, ".extract-"+bp.Dir+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	err = fs.WalkDir(files, bp.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, bp.Dir), "/")
		target := filepath.Join(tmp, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, fileMode(path.Clean(p), b))
	})
	if err != nil {
		return "", fmt.Errorf("buildpacks: extract %s: %w", bp.Name, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dest); err != nil {
		// Another build wrote the same contents first.
		if _, statErr := os.Stat(filepath.Join(dest, "bin", "detect")); statErr == nil {
			return dest, nil
		}
		return "", fmt.Errorf("buildpacks: extract %s: %w", bp.Name, err)
	}
	return dest, nil
}
