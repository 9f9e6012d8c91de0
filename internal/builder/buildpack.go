package builder

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut/internal/buildpacks"
)

// fetchTimeout bounds downloading a custom buildpack.
const fetchTimeout = 5 * time.Minute

// buildpack is one buildpack of a build.
type buildpack struct {
	url     string // as the app's list has it, or the built-in's name
	builtin bool
	source  string // host directory it is copied from
	dir     string // the build's own (writable) copy, on the host
	inside  string // that copy as the sandbox sees it
	name    string // what bin/detect printed
}

// userError is a build failure to show the pusher: lines (prefixed " !     ")
// and hint lines (as they are). Without lines, what failed already said why.
type userError struct{ lines, hint []string }

func (e *userError) Error() string {
	if len(e.lines) == 0 {
		return "see the build output"
	}
	return strings.Join(e.lines, " ")
}

func failf(format string, args ...any) *userError {
	return &userError{lines: []string{fmt.Sprintf(format, args...)}}
}

// resolveBuildpack finds (and fetches if needed) the directory of the
// buildpack url: a built-in's name, a local directory, a git URL (with an
// optional #ref) or a .tgz URL.
func (b *Builder) resolveBuildpack(ctx context.Context, url string) (dir string, builtin bool, err error) {
	if bp, ok := buildpacks.Lookup(url); ok {
		dir, err := buildpacks.Extract(bp.Name, filepath.Join(b.cfg.DataDir, "buildpacks", "builtin"))
		return dir, true, err
	}
	switch {
	case filepath.IsAbs(url):
		if _, err := os.Stat(filepath.Join(url, "bin", "compile")); err != nil {
			return "", false, failf("Buildpack %s has no bin/compile.", url)
		}
		return filepath.Clean(url), false, nil
	case (strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) &&
		(strings.HasSuffix(url, ".tgz") || strings.HasSuffix(url, ".tar.gz")):
		dir, err := b.fetchTarball(ctx, url)
		return dir, false, err
	case isGitURL(url):
		dir, err := b.fetchGit(ctx, url)
		return dir, false, err
	case strings.HasPrefix(url, "heroku/"):
		var names []string
		for _, bp := range buildpacks.Builtin() {
			names = append(names, bp.Name)
		}
		return "", false, &userError{lines: []string{
			fmt.Sprintf("Buildpack %s is not available here.", url),
			fmt.Sprintf("Built in: %s; others can be set by git URL or by a directory on the server.", strings.Join(names, ", ")),
		}}
	}
	return "", false, failf("Unsupported buildpack %q: use a built-in name (heroku/python), a git URL or a directory on the server.", url)
}

func isGitURL(u string) bool {
	for _, p := range []string{"https://", "http://", "git://", "ssh://", "file://", "git@"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// cacheDirFor returns where a fetched buildpack is kept, by its URL.
func (b *Builder) cacheDirFor(kind, url string) string {
	h := sha256.Sum256([]byte(url))
	return filepath.Join(b.cfg.DataDir, "buildpacks", kind, hex.EncodeToString(h[:8]))
}

// fetchGit clones a buildpack repository (`git clone --depth 1`, the
// branch or tag after "#", or any commit) once per URL and keeps it under
// the data dir.
func (b *Builder) fetchGit(ctx context.Context, url string) (string, error) {
	dest := b.cacheDirFor("git", url)
	b.fetchMu.Lock()
	defer b.fetchMu.Unlock()
	if _, err := os.Stat(dest); err == nil {
		return dest, nil
	}
	repo, ref, _ := strings.Cut(url, "#")
	if strings.HasPrefix(ref, "-") || strings.HasPrefix(repo, "-") {
		return "", failf("Invalid buildpack URL %q.", url)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".clone-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	work := filepath.Join(tmp, "repo")
	git := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Env = append(b.hostEnv(), "GIT_TERMINAL_PROMPT=0", "GIT_ALLOW_PROTOCOL=https:http:git:ssh:file", "GIT_ASKPASS=true")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
		}
		return nil
	}
	args := []string{"clone", "--quiet", "--depth", "1"}
	if ref != "" {
		args = append(args, "--branch", ref)
	}
	err = git(append(args, "--", repo, work)...)
	if err != nil && ref != "" {
		// Not a branch or tag: a commit, which needs the history.
		os.RemoveAll(work)
		if err = git("clone", "--quiet", "--", repo, work); err == nil {
			err = git("-C", work, "checkout", "--quiet", "--detach", ref, "--")
		}
	}
	if err != nil {
		b.log.Warn("fetch buildpack", "url", url, "err", err)
		return "", &userError{lines: []string{"Failed to fetch the buildpack " + url + ":", lastLine(err.Error())}}
	}
	os.RemoveAll(filepath.Join(work, ".git"))
	if err := os.Rename(work, dest); err != nil {
		return "", err
	}
	return dest, nil
}

// fetchTarball downloads and unpacks a .tgz buildpack once per URL.
func (b *Builder) fetchTarball(ctx context.Context, url string) (string, error) {
	dest := b.cacheDirFor("tgz", url)
	b.fetchMu.Lock()
	defer b.fetchMu.Unlock()
	if _, err := os.Stat(dest); err == nil {
		return dest, nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".download-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	fail := func(err error) (string, error) {
		b.log.Warn("fetch buildpack", "url", url, "err", err)
		return "", &userError{lines: []string{"Failed to download the buildpack " + url + ":", err.Error()}}
	}
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return fail(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fail(fmt.Errorf("HTTP %s", resp.Status))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return fail(err)
	}
	work := filepath.Join(tmp, "bp")
	if err := os.Mkdir(work, 0o755); err != nil {
		return "", err
	}
	if err := unpack(zr, work); err != nil {
		return fail(err)
	}
	// A tarball holding one top-level directory is that directory.
	if ents, _ := os.ReadDir(work); len(ents) == 1 && ents[0].IsDir() {
		if _, err := os.Stat(filepath.Join(work, "bin")); err != nil {
			work = filepath.Join(work, ents[0].Name())
		}
	}
	if err := os.Rename(work, dest); err != nil {
		return "", err
	}
	return dest, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// copyTree copies a buildpack directory (files, directories, symbolic
// links; not .git) to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" && p != src {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch t := info.Mode().Type(); {
		case t.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case t&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case t.IsRegular():
			return copyFile(p, target, info.Mode().Perm())
		}
		return nil
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
