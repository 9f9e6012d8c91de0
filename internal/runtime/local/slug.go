package local

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// slugs unpacks each release's slug once, under DataDir/slugs/RELEASE.
type slugs struct {
	dir        string
	uid, gid   int
	chown      bool
	mu         sync.Mutex
	unpacking  map[string]*sync.Mutex
	unpackedOK sync.Map // name -> true once known to be there
}

// safeName turns an ID into a file name (IDs are UUIDs; anything else is
// made safe).
func safeName(id string) string {
	var b strings.Builder
	for _, c := range id {
		if c == '-' || c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = s[:100]
	}
	if s == "" || s[0] == '.' {
		s = "_" + s
	}
	return s
}

// get returns the directory holding the release's unpacked slug,
// unpacking it from the blob store first if needed.
func (s *slugs) get(ctx context.Context, blobs interface {
	OpenBlob(context.Context, string) (io.ReadCloser, error)
}, release, key string) (string, error) {
	name := safeName(release)
	if release == "" {
		name = "key-" + safeName(key)
	}
	dst := filepath.Join(s.dir, name)
	if _, ok := s.unpackedOK.Load(name); ok {
		return dst, nil
	}
	s.mu.Lock()
	m := s.unpacking[name]
	if m == nil {
		m = &sync.Mutex{}
		s.unpacking[name] = m
	}
	s.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	if _, err := os.Lstat(dst); err == nil {
		s.unpackedOK.Store(name, true)
		return dst, nil
	}
	if blobs == nil {
		return "", errors.New("no blob store to read slugs from")
	}
	rc, err := blobs.OpenBlob(ctx, key)
	if err != nil {
		return "", fmt.Errorf("open slug %s: %w", key, err)
	}
	defer rc.Close()
	tmp, err := os.MkdirTemp(s.dir, ".unpack-")
	if err != nil {
		return "", err
	}
	if err := s.unpack(ctx, rc, tmp); err != nil {
		removeAll(tmp)
		return "", fmt.Errorf("unpack slug %s: %w", key, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		removeAll(tmp)
		return "", err
	}
	s.unpackedOK.Store(name, true)
	return dst, nil
}

// forget removes a release's unpacked slug.
func (s *slugs) forget(release string) error {
	name := safeName(release)
	s.unpackedOK.Delete(name)
	dst := filepath.Join(s.dir, name)
	trash := filepath.Join(s.dir, ".trash-"+name+"-"+randomHex())
	if err := os.Rename(dst, trash); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return removeAll(trash)
}

// unpack extracts a gzipped tar (paths relative to /app) into dir, never
// writing outside it, with the dyno user as the owner of everything.
func (s *slugs) unpack(ctx context.Context, r io.Reader, dir string) error {
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 256<<10))
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	type dirTimes struct {
		name  string
		mode  fs.FileMode
		mtime time.Time
	}
	var dirs []dirTimes
	rootMode := fs.FileMode(0o755)
	tr := tar.NewReader(zr)
	buf := make([]byte, 256<<10)
	for n := 0; ; n++ {
		if n%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		if name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("bad path %q", h.Name)
		}
		mode := fs.FileMode(h.Mode).Perm()
		if name == "." {
			if h.Typeflag == tar.TypeDir {
				rootMode = mode | 0o700
			}
			continue
		}
		if parent := path.Dir(name); parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return err
			}
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			dirs = append(dirs, dirTimes{name, mode | 0o700, h.ModTime})
		case tar.TypeReg:
			root.Remove(name) // a repeated entry wins
			f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.CopyBuffer(f, tr, buf)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := root.Chmod(name, mode); err != nil {
				return err
			}
			if err := root.Chtimes(name, h.ModTime, h.ModTime); err != nil {
				return err
			}
		case tar.TypeSymlink:
			root.Remove(name)
			if err := root.Symlink(h.Linkname, name); err != nil {
				return err
			}
		case tar.TypeLink:
			target := path.Clean(strings.TrimPrefix(h.Linkname, "/"))
			if target == ".." || strings.HasPrefix(target, "../") {
				return fmt.Errorf("bad link %q", h.Linkname)
			}
			root.Remove(name)
			if err := root.Link(target, name); err != nil {
				return err
			}
		default:
			continue // devices, fifos: not in slugs
		}
		if s.chown {
			if err := root.Lchown(name, s.uid, s.gid); err != nil {
				return err
			}
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if err := root.Chmod(d.name, d.mode); err != nil {
			return err
		}
		root.Chtimes(d.name, d.mtime, d.mtime)
		if s.chown {
			if err := root.Lchown(d.name, s.uid, s.gid); err != nil {
				return err
			}
		}
	}
	if err := os.Chmod(dir, rootMode); err != nil {
		return err
	}
	if s.chown {
		return os.Lchown(dir, s.uid, s.gid)
	}
	return nil
}

// copyTree copies an unpacked slug to dst (which must not exist), for
// when /app can't be an overlay.
func copyTree(src, dst string, chown bool, uid, gid int) error {
	buf := make([]byte, 256<<10)
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, strings.TrimPrefix(p, src))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch t := info.Mode().Type(); {
		case t.IsDir():
			// Unpacked slugs' directories are all writable by their owner.
			if err := os.Mkdir(target, info.Mode().Perm()|0o700); err != nil {
				return err
			}
			os.Chmod(target, info.Mode().Perm()|0o700) // past the umask
		case t.IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
			if err != nil {
				in.Close()
				return err
			}
			_, err = io.CopyBuffer(out, in, buf)
			in.Close()
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			os.Chmod(target, info.Mode().Perm()) // past the umask
			os.Chtimes(target, info.ModTime(), info.ModTime())
		case t&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		default:
			return nil
		}
		if chown {
			return os.Lchown(target, uid, gid)
		}
		return nil
	})
}

// removeAll removes a tree, making directories writable first if needed
// (overlayfs leaves a mode 000 "work" directory, which a non-root owner
// can't list).
func removeAll(p string) error {
	err := os.RemoveAll(p)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		return err
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	// A second walk: directories that could not be listed before.
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}
