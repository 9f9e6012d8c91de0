package fsblob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/store/fsblob"
)

// newStore returns a store in a fresh directory (not yet created) inside
// a parent directory the test can inspect.
func newStore(t *testing.T) (*fsblob.Store, string) {
	t.Helper()
	parent := t.TempDir()
	return fsblob.New(filepath.Join(parent, "blobs")), parent
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPut(t *testing.T, s *fsblob.Store, key string, data []byte) {
	t.Helper()
	n, err := s.PutBlob(context.Background(), key, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("PutBlob(%q): %v", key, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("PutBlob(%q) = %d bytes, want %d", key, n, len(data))
	}
}

// assertBlob fails the test unless key holds exactly want.
func assertBlob(t *testing.T, s *fsblob.Store, key string, want []byte) {
	t.Helper()
	rc, err := s.OpenBlob(context.Background(), key)
	if err != nil {
		t.Fatalf("OpenBlob(%q): %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("blob %q has %d bytes, want the %d written", key, len(got), len(want))
	}
}

// assertNoBlob fails the test unless key is ENOTFOUND.
func assertNoBlob(t *testing.T, s *fsblob.Store, key string) {
	t.Helper()
	rc, err := s.OpenBlob(context.Background(), key)
	if err == nil {
		rc.Close()
		t.Fatalf("OpenBlob(%q) found a blob, want none", key)
	}
	if code := bulut.ErrorCode(err); code != bulut.ENOTFOUND {
		t.Fatalf("OpenBlob(%q): code %q, want %q (err: %v)", key, code, bulut.ENOTFOUND, err)
	}
}

// files lists the regular files under dir, relative, with slashes.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertFiles fails the test unless the files under dir are exactly want.
func assertFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := files(t, dir)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files under %s: %q, want %q", dir, got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	key := bulut.SlugBlobKey(bulut.NewID())
	data := randomBytes(t, 3<<20+17)
	mustPut(t, s, key, data)
	assertBlob(t, s, key, data)
	assertFiles(t, s.Dir(), key)

	// Overwriting replaces the whole blob, even with a shorter one.
	short := []byte("short")
	mustPut(t, s, key, short)
	assertBlob(t, s, key, short)
	// An empty blob is a blob.
	mustPut(t, s, "empty", nil)
	assertBlob(t, s, "empty", []byte{})
	assertFiles(t, s.Dir(), "empty", key)

	if err := s.DeleteBlob(ctx, key); err != nil {
		t.Fatal(err)
	}
	assertNoBlob(t, s, key)
	// Deleting a missing blob is no error.
	for _, k := range []string{key, "never-written", "no/such/dir/blob"} {
		if err := s.DeleteBlob(ctx, k); err != nil {
			t.Fatalf("DeleteBlob(%q) of a missing blob: %v", k, err)
		}
	}
	assertBlob(t, s, "empty", []byte{})
}

func TestOpenBlobErrNotFound(t *testing.T) {
	s, _ := newStore(t)
	// Before the directory exists.
	assertNoBlob(t, s, "slugs/missing.tar.gz")
	mustPut(t, s, "slugs/a.tar.gz", []byte("a"))
	for _, key := range []string{"slugs/missing.tar.gz", "missing", "slugs", "slugs/a.tar.gz/b"} {
		assertNoBlob(t, s, key)
	}
	// A directory of blobs is not itself deleted.
	if err := s.DeleteBlob(context.Background(), "slugs"); err != nil {
		t.Fatal(err)
	}
	assertBlob(t, s, "slugs/a.tar.gz", []byte("a"))
}

// failingReader returns some data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestPutBlobAtomicFailedReader(t *testing.T) {
	s, parent := newStore(t)
	ctx := context.Background()
	boom := errors.New("connection reset")
	n, err := s.PutBlob(ctx, "slugs/x.tar.gz", &failingReader{data: randomBytes(t, 1<<20), err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("PutBlob with a failing reader: %v, want %v", err, boom)
	}
	if n != 0 {
		t.Errorf("PutBlob failed but reported %d bytes", n)
	}
	assertNoBlob(t, s, "slugs/x.tar.gz")
	// No temporary file is left, here or anywhere.
	assertFiles(t, parent)

	// A failed overwrite leaves the old blob whole.
	old := randomBytes(t, 100<<10)
	mustPut(t, s, "slugs/x.tar.gz", old)
	if _, err := s.PutBlob(ctx, "slugs/x.tar.gz", &failingReader{data: randomBytes(t, 200<<10), err: boom}); !errors.Is(err, boom) {
		t.Fatalf("PutBlob with a failing reader: %v", err)
	}
	assertBlob(t, s, "slugs/x.tar.gz", old)
	assertFiles(t, parent, "blobs/slugs/x.tar.gz")
}

// TestPutBlobAtomicReaders checks that a blob being written can't be
// read: readers see none (or the blob before) until it is all there.
func TestPutBlobAtomicReaders(t *testing.T) {
	s, parent := newStore(t)
	ctx := context.Background()
	for _, old := range [][]byte{nil, []byte("old contents")} {
		key := "slugs/new.tar.gz"
		if old != nil {
			mustPut(t, s, key, old)
		}
		pr, pw := io.Pipe()
		data := randomBytes(t, 1<<20)
		done := make(chan error, 1)
		go func() {
			_, err := s.PutBlob(ctx, key, pr)
			done <- err
		}()
		// Half written: the blob isn't there (or is still the old one).
		if _, err := pw.Write(data[:len(data)/2]); err != nil {
			t.Fatal(err)
		}
		if old == nil {
			assertNoBlob(t, s, key)
		} else {
			assertBlob(t, s, key, old)
		}
		if _, err := pw.Write(data[len(data)/2:]); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		assertBlob(t, s, key, data)
		assertFiles(t, parent, "blobs/"+key)
	}
}

func TestPutBlobContextCanceled(t *testing.T) {
	s, parent := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.PutBlob(ctx, "slugs/x.tar.gz", pr)
		done <- err
	}()
	if _, err := pw.Write([]byte("some data")); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The rest arrives, but too late: the blob must not be kept.
	pw.Close()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("PutBlob after cancel: %v, want %v", err, context.Canceled)
	}
	assertNoBlob(t, s, "slugs/x.tar.gz")
	assertFiles(t, parent)
}

func TestBadKeys(t *testing.T) {
	s, parent := newStore(t)
	ctx := context.Background()
	mustPut(t, s, "slugs/ok.tar.gz", []byte("ok"))
	for _, key := range []string{
		"", "/", "/etc/passwd", "/slugs/ok.tar.gz", "..", "../x", "../blobs/slugs/ok.tar.gz", "slugs/../../x",
		"slugs/../slugs/ok.tar.gz", ".", "./x", "slugs/./ok.tar.gz", "slugs//ok.tar.gz", "slugs/", ".hidden",
		"slugs/.ok.tar.gz.tmp-123", `slugs\ok.tar.gz`, `..\x`, "a\x00b",
	} {
		if err := fsblob.ValidateKey(key); bulut.ErrorCode(err) != bulut.EINVALID {
			t.Errorf("ValidateKey(%q) = %v, want EINVALID", key, err)
		}
		_, err := s.PutBlob(ctx, key, bytes.NewReader([]byte("evil")))
		if code := bulut.ErrorCode(err); code != bulut.EINVALID {
			t.Errorf("PutBlob(%q): code %q, want %q (err: %v)", key, code, bulut.EINVALID, err)
		}
		rc, err := s.OpenBlob(ctx, key)
		if code := bulut.ErrorCode(err); code != bulut.EINVALID {
			t.Errorf("OpenBlob(%q): code %q, want %q (err: %v)", key, code, bulut.EINVALID, err)
		}
		if rc != nil {
			rc.Close()
		}
		if err := s.DeleteBlob(ctx, key); bulut.ErrorCode(err) != bulut.EINVALID {
			t.Errorf("DeleteBlob(%q): %v, want EINVALID", key, err)
		}
	}
	// Nothing was written or deleted, in the store or beside it.
	assertFiles(t, parent, "blobs/slugs/ok.tar.gz")
	assertBlob(t, s, "slugs/ok.tar.gz", []byte("ok"))
	for _, key := range []string{"a", "slugs/ok.tar.gz", "a/b/c.d", "a-b_c/d..e", "x/y.tmp"} {
		if err := fsblob.ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q): %v", key, err)
		}
	}
}

func TestConcurrentPuts(t *testing.T) {
	s, parent := newStore(t)
	const n = 16
	data := make([][]byte, n)
	keys := make([]string, n)
	for i := range n {
		data[i] = randomBytes(t, 64<<10+i)
		// Several goroutines create the same new directories.
		keys[i] = fmt.Sprintf("slugs/%d/blob-%02d.tar.gz", i%3, i)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = s.PutBlob(context.Background(), keys[i], bytes.NewReader(data[i])) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PutBlob(%q): %v", keys[i], err)
		}
	}
	for i := range n {
		assertBlob(t, s, keys[i], data[i])
	}
	if got := len(files(t, parent)); got != n {
		t.Fatalf("%d files, want %d (no temporary ones)", got, n)
	}
}

// TestConcurrentPutsSameKey checks that racing writes of one key leave
// one of them whole.
func TestConcurrentPutsSameKey(t *testing.T) {
	s, parent := newStore(t)
	const n = 8
	data := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		data[i] = randomBytes(t, 256<<10)
		wg.Go(func() {
			if _, err := s.PutBlob(context.Background(), "same", bytes.NewReader(data[i])); err != nil {
				t.Errorf("PutBlob: %v", err)
			}
		})
	}
	wg.Wait()
	rc, err := s.OpenBlob(context.Background(), "same")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	found := false
	for _, d := range data {
		found = found || bytes.Equal(got, d)
	}
	if !found {
		t.Fatal("the blob is none of the writes")
	}
	assertFiles(t, parent, "blobs/same")
}

func TestPutBlobErrParentIsBlob(t *testing.T) {
	s, parent := newStore(t)
	mustPut(t, s, "a", []byte("a"))
	if _, err := s.PutBlob(context.Background(), "a/b", bytes.NewReader([]byte("b"))); err == nil {
		t.Fatal("PutBlob under a blob succeeded")
	}
	assertBlob(t, s, "a", []byte("a"))
	assertFiles(t, parent, "blobs/a")
	if err := s.DeleteBlob(context.Background(), "a/b"); err != nil {
		t.Fatalf("DeleteBlob under a blob: %v", err)
	}
}

func TestFilePermissions(t *testing.T) {
	s, _ := newStore(t)
	mustPut(t, s, "slugs/x", []byte("x"))
	fi, err := os.Stat(filepath.Join(s.Dir(), "slugs", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("blob mode %v, want no access for group and others", perm)
	}
}
