package builder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseProcfile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{name: "OK", in: "web: gunicorn app:app\nworker: python worker.py\n",
			want: map[string]string{"web": "gunicorn app:app", "worker": "python worker.py"}},
		{name: "NoTrailingNewline", in: "web: ./bin/web", want: map[string]string{"web": "./bin/web"}},
		{name: "CRLF", in: "web: a b\r\nclock: c\r\n", want: map[string]string{"web": "a b", "clock": "c"}},
		{name: "CommentsAndBlanks", in: "# the web\n\n  # indented comment\nweb: a   \n\n\nrelease: ./migrate\n",
			want: map[string]string{"web": "a", "release": "./migrate"}},
		{name: "InlineComment", in: "web: gunicorn app:app # serves HTTP\n", want: map[string]string{"web": "gunicorn app:app"}},
		{name: "HashInsideQuotes", in: `web: echo "a # b" '# c' d#e # real comment`,
			want: map[string]string{"web": `echo "a # b" '# c' d#e`}},
		{name: "EscapedHash", in: `web: echo \# not a comment`, want: map[string]string{"web": `echo \# not a comment`}},
		{name: "NoSpaceAfterColon", in: "web:./bin/web\n", want: map[string]string{"web": "./bin/web"}},
		{name: "TypeChars", in: "urgent-worker_2: x\nWEB: y\n", want: map[string]string{"urgent-worker_2": "x", "WEB": "y"}},
		{name: "ColonInCommand", in: "web: gunicorn -b 0.0.0.0:$PORT app:app",
			want: map[string]string{"web": "gunicorn -b 0.0.0.0:$PORT app:app"}},
		{name: "BOM", in: "\xef\xbb\xbfweb: a\n", want: map[string]string{"web": "a"}},
		{name: "Empty", in: "", want: map[string]string{}},
		{name: "OnlyComments", in: "# nothing\n", want: map[string]string{}},

		{name: "ErrNoColon", in: "web: a\n# ok\nthis is not a process\n", err: `Procfile line 3: expected "type: command"`},
		{name: "ErrSpaceInType", in: "web server: a\n", err: `Procfile line 1: expected "type: command"`},
		{name: "ErrMissingType", in: ": a\n", err: `Procfile line 1: expected "type: command"`},
		{name: "ErrBadType", in: "\n\nweb.1: a\n", err: `Procfile line 3: invalid process type "web.1"`},
		{name: "ErrLongType", in: strings.Repeat("w", 129) + ": a\n", err: `Procfile line 1: invalid process type`},
		{name: "ErrNoCommand", in: "web:\n", err: `Procfile line 1: process type "web" has no command`},
		{name: "ErrOnlyComment", in: "web: # nothing\n", err: `Procfile line 1: process type "web" has no command`},
		{name: "ErrDuplicate", in: "web: a\r\nweb: b\r\n", err: `Procfile line 2: process type "web" is already declared on line 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcfile([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseReleaseYAML(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      bool
	}{
		{name: "Empty", in: "--- {}\n", want: map[string]string{}},
		{name: "Nothing", in: "", want: map[string]string{}},
		{name: "Block", in: "---\naddons: []\ndefault_process_types:\n  web: npm start\n  worker: node worker.js # comment\n",
			want: map[string]string{"web": "npm start", "worker": "node worker.js"}},
		{name: "BlockThenKey", in: "---\ndefault_process_types:\n  web: a\nconfig_vars:\n  X: y\n",
			want: map[string]string{"web": "a"}},
		{name: "Quoted", in: "default_process_types:\n  web: \"bundle exec rails s -p $PORT\"\n  'clock': 'it''s'\n",
			want: map[string]string{"web": "bundle exec rails s -p $PORT", "clock": "it's"}},
		{name: "Flow", in: "---\ndefault_process_types: {web: npm start, worker: \"a, b\"}\n",
			want: map[string]string{"web": "npm start", "worker": "a, b"}},
		{name: "Addons", in: "---\naddons:\n  - heroku-postgresql\n", want: map[string]string{}},
		{name: "CRLF", in: "---\r\ndefault_process_types:\r\n  web: x\r\n", want: map[string]string{"web": "x"}},
		{name: "ErrScalar", in: "default_process_types: web\n", err: true},
		{name: "ErrItem", in: "default_process_types:\n  - web\n", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReleaseYAML(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("no error, got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if strings.HasSuffix(f, "/") {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var got []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			rel += "/"
		}
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	slices.Sort(got)
	return got
}

func TestApplySlugignore(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir,
		"app.py", "design.psd", "assets/logo.psd", "assets/logo.png",
		"docs/index.md", "lib/docs/keep.md",
		"test/fixtures/big.bin", "src/test/fixtures/keep.bin",
		"spec/a_spec.rb", "spec/deep/b_spec.rb", "spec/helper.rb",
		"log/", "tmpfile", "cache/",
		"!important", "notes.txt",
	)
	os.WriteFile(filepath.Join(dir, ".slugignore"), []byte(strings.Join([]string{
		"# binaries and docs",
		"*.psd",
		"",
		"/docs",
		"test/fixtures",
		"spec/**/*_spec.rb   ",
		"log/",
		"tmpfile/", // directories only: tmpfile is a file
		"cache\r",
		"!important", // no negation: a plain pattern
		"  # indented comment",
	}, "\n")), 0o644)
	n, err := applySlugignore(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		".slugignore", "app.py", "assets/", "assets/logo.png", "lib/", "lib/docs/", "lib/docs/keep.md",
		"notes.txt", "spec/", "spec/deep/", "spec/helper.rb", "src/", "src/test/", "src/test/fixtures/",
		"src/test/fixtures/keep.bin", "test/", "tmpfile",
	}
	if got := listTree(t, dir); !slices.Equal(got, want) {
		t.Errorf("left:\n%q\nwant:\n%q", got, want)
	}
	if n != 9 {
		t.Errorf("removed %d, want 9", n)
	}
	// No .slugignore: nothing happens.
	empty := t.TempDir()
	writeTree(t, empty, "a.psd")
	if n, err := applySlugignore(empty); n != 0 || err != nil {
		t.Errorf("applySlugignore without a file = %d, %v", n, err)
	}
}

func tarOf(t *testing.T, entries ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		body := h.Linkname
		if h.Typeflag == tar.TypeReg {
			body, h.Linkname = h.Linkname, ""
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestUnpack(t *testing.T) {
	dir := t.TempDir()
	data := tarOf(t,
		&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}},
		&tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o775},
		&tar.Header{Typeflag: tar.TypeReg, Name: "bin/run", Mode: 0o4777, Linkname: "#!/bin/sh\n"},
		&tar.Header{Typeflag: tar.TypeReg, Name: "Procfile", Mode: 0o644, Linkname: "web: bin/run\n"},
		&tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "bin/run"},
	)
	if err := unpack(bytes.NewReader(data), dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "bin/run"))
	if err != nil || fi.Mode() != 0o755 {
		t.Errorf("bin/run: %v %v", fi.Mode(), err)
	}
	if l, _ := os.Readlink(filepath.Join(dir, "link")); l != "bin/run" {
		t.Errorf("link -> %q", l)
	}
	for _, bad := range [][]*tar.Header{
		{{Typeflag: tar.TypeReg, Name: "../escape", Linkname: "x"}},
		{{Typeflag: tar.TypeSymlink, Name: "etc", Linkname: "/etc"}, {Typeflag: tar.TypeReg, Name: "etc/passwd", Linkname: "x"}},
	} {
		if err := unpack(bytes.NewReader(tarOf(t, bad...)), t.TempDir()); err == nil {
			t.Errorf("unpack %s succeeded", bad[len(bad)-1].Name)
		}
	}
	// A file entry replaces a symbolic link rather than writing through it.
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	d := t.TempDir()
	if err := unpack(bytes.NewReader(tarOf(t,
		&tar.Header{Typeflag: tar.TypeSymlink, Name: "f", Linkname: target},
		&tar.Header{Typeflag: tar.TypeReg, Name: "f", Mode: 0o644, Linkname: "new"},
	)), d); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("wrote through a symbolic link: %q", b)
	}
}

func TestPackSlug(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, "Procfile", "bin/", "lib/a/b.txt", strings.Repeat("n", 120)+".txt")
	os.Chmod(filepath.Join(dir, "Procfile"), 0o755)
	os.Symlink("lib/a/b.txt", filepath.Join(dir, "link"))
	os.Link(filepath.Join(dir, "Procfile"), filepath.Join(dir, "hard"))
	var buf bytes.Buffer
	size, sum, err := packSlug(dir, &buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(buf.Bytes())
	if size != int64(buf.Len()) || sum != "SHA256:"+hex.EncodeToString(h[:]) {
		t.Errorf("size %d checksum %s; wrote %d", size, sum, buf.Len())
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" {
			t.Errorf("%s owned by %d/%s", h.Name, h.Uid, h.Uname)
		}
		switch h.Name {
		case "./Procfile", "./hard":
			if h.Typeflag != tar.TypeReg || h.Mode != 0o755 {
				t.Errorf("%s: type %c mode %o", h.Name, h.Typeflag, h.Mode)
			}
		case "./link":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "lib/a/b.txt" {
				t.Errorf("link: %c %s", h.Typeflag, h.Linkname)
			}
		}
	}
	want := []string{"./", "./Procfile", "./bin/", "./hard", "./lib/", "./lib/a/", "./lib/a/b.txt", "./link",
		"./" + strings.Repeat("n", 120) + ".txt"}
	slices.Sort(want)
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
	// Over the limit: the whole size, an error, and not more than the
	// limit written.
	var small bytes.Buffer
	size, _, err = packSlug(dir, &small, 100)
	if err != errSlugTooLarge || size <= 100 || small.Len() > 100 {
		t.Errorf("packSlug over the limit = %d, %v (wrote %d)", size, err, small.Len())
	}
}
