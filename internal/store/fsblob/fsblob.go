// Package fsblob keeps blobs (slugs) as files in a directory on one
// machine, implementing bulut.BlobStore.
//
// A key is a relative slash-separated path ("slugs/<id>.tar.gz") and names
// the file at that path under the directory. Blobs are written to a
// temporary file beside their final place, synced and renamed over it, so
// that readers see a whole blob or none, and a crash leaves at worst a
// stray temporary file (named ".<name>.tmp-*"), never a partial blob.
package fsblob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/bulut-bulut/bulut"
)

// Store is a BlobStore in a directory, created on the first write.
type Store struct {
	dir string
}

var _ bulut.BlobStore = (*Store)(nil)

// New returns a Store keeping blobs under dir.
func New(dir string) *Store { return &Store{dir: dir} }

// Dir returns the directory blobs are kept in.
func (s *Store) Dir() string { return s.dir }

// tmpMarker is in the names of files being written, which keys can't
// name: their segments can't start with a dot.
const tmpMarker = ".tmp-"

// ValidateKey returns an EINVALID error unless key is a relative,
// clean, slash-separated path whose segments don't start with a dot (no
// "..", no hidden or temporary files).
func ValidateKey(key string) error {
	invalid := &bulut.Error{Code: bulut.EINVALID, Resource: "blob",
		Message: "Invalid blob key " + quote(key) + ": keys are relative slash-separated paths."}
	if key == "" || len(key) > 1024 || strings.ContainsAny(key, "\\\x00") || path.Clean(key) != key || path.IsAbs(key) {
		return invalid
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return invalid
		}
	}
	return nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}

// path returns the file of a key.
func (s *Store) path(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// isMissing reports whether err says a path does not exist, including
// when one of its parents is a file.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// PutBlob implements bulut.BlobStore: it writes r to a temporary file in
// the blob's directory, syncs it and renames it into place. On any error,
// including ctx ending or r failing, the temporary file is removed and an
// earlier blob of the key is left as it was.
func (s *Store) PutBlob(ctx context.Context, key string, r io.Reader) (n int64, err error) {
	p, err := s.path(key)
	if err != nil {
		return 0, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(p)+tmpMarker+"*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if n, err = io.Copy(f, ctxReader{ctx, r}); err != nil {
		return 0, err
	}
	if err = f.Sync(); err != nil {
		return 0, err
	}
	if err = f.Close(); err != nil {
		return 0, err
	}
	if err = ctx.Err(); err != nil {
		return 0, err
	}
	if err = os.Rename(tmp, p); err != nil {
		return 0, err
	}
	// Make the rename itself durable. It has happened whatever this says,
	// so a failure here does not undo it.
	syncDir(dir)
	return n, nil
}

// syncDir fsyncs a directory, so that renames in it survive a crash.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// OpenBlob implements bulut.BlobStore.
func (s *Store) OpenBlob(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if isMissing(err) {
		return nil, bulut.NotFound("blob")
	} else if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil {
		f.Close()
		return nil, err
	} else if !fi.Mode().IsRegular() { // a directory of other blobs
		f.Close()
		return nil, bulut.NotFound("blob")
	}
	return f, nil
}

// DeleteBlob implements bulut.BlobStore. A key that names a directory of
// other blobs is no blob: nothing is deleted.
func (s *Store) DeleteBlob(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(p)
	if isMissing(err) {
		return nil
	} else if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil
	}
	if err := os.Remove(p); err != nil && !isMissing(err) {
		return err
	}
	syncDir(filepath.Dir(p))
	return nil
}
