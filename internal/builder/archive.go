package builder

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// unpack extracts a tar stream (the commit's tree) into dir. Entries must
// stay inside dir and never go through a symbolic link; only directories,
// regular files and symbolic links are written, with at most 0755
// permissions.
func unpack(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	links := map[string]bool{}
	buf := make([]byte, 128<<10)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read source archive: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		if name == "." || h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("source archive: %q leaves the build dir", h.Name)
		}
		for p := path.Dir(name); p != "."; p = path.Dir(p) {
			if links[p] {
				return fmt.Errorf("source archive: %q goes through a symbolic link", h.Name)
			}
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			os.Remove(target) // never write through what was there
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, fs.FileMode(h.Mode)&0o755|0o600)
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
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			os.Remove(target)
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
			links[name] = true
		}
	}
}

// errSlugTooLarge is returned by packSlug when the slug outgrows the limit.
var errSlugTooLarge = errors.New("slug too large")

// limitWriter counts what is written and stops passing it on past max
// bytes (to measure the whole size all the same).
type limitWriter struct {
	w   io.Writer
	n   int64
	max int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	l.n += int64(len(p))
	if l.max > 0 && l.n > l.max {
		return len(p), nil
	}
	return l.w.Write(p)
}

// packSlug writes dir as a gzipped tar (paths "./..." relative to dir,
// owned by root, hard links as plain files) to w, and returns its size and
// "SHA256:<hex>" checksum. Past max bytes it stops writing to w and
// returns the whole size with errSlugTooLarge.
func packSlug(dir string, w io.Writer, max int64) (int64, string, error) {
	sum := sha256.New()
	lw := &limitWriter{w: io.MultiWriter(w, sum), max: max}
	bw := bufio.NewWriterSize(lw, 256<<10)
	zw, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return 0, "", err
	}
	if err := writeTar(dir, zw); err != nil {
		return 0, "", err
	}
	if err := zw.Close(); err != nil {
		return 0, "", err
	}
	if err := bw.Flush(); err != nil {
		return 0, "", err
	}
	if max > 0 && lw.n > max {
		return lw.n, "", errSlugTooLarge
	}
	return lw.n, checksum(sum), nil
}

func checksum(h hash.Hash) string { return "SHA256:" + hex.EncodeToString(h.Sum(nil)) }

func writeTar(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, 256<<10)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "."
		if p != dir {
			rel = "./" + filepath.ToSlash(p[len(dir)+1:])
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := &tar.Header{
			Name:    rel,
			Mode:    int64(info.Mode().Perm()),
			ModTime: info.ModTime().Truncate(1e9),
			Uname:   "root",
			Gname:   "root",
		}
		switch t := info.Mode().Type(); {
		case t.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, rel+"/"
			if rel == "." {
				h.Name = "./"
			}
		case t.IsRegular():
			h.Typeflag, h.Size = tar.TypeReg, info.Size()
		case t&fs.ModeSymlink != 0:
			if h.Linkname, err = os.Readlink(p); err != nil {
				return err
			}
			h.Typeflag = tar.TypeSymlink
		default:
			return nil // sockets, devices, pipes
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := io.CopyBuffer(tw, io.LimitReader(f, h.Size), buf)
		if err == nil && n != h.Size {
			err = fmt.Errorf("%s changed size while packing", rel)
		}
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
