package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulut-bulut/bulut"
)

// fakeOutput serves one build's output from a pipe the test writes to.
type fakeOutput struct {
	id string
	r  *io.PipeReader
}

func (f *fakeOutput) OpenBuildOutput(_ context.Context, id string) (io.ReadCloser, error) {
	if id != f.id {
		return nil, bulut.NotFound("build")
	}
	return f.r, nil
}

// fakeBlobs holds blobs in memory.
type fakeBlobs map[string]string

func (f fakeBlobs) PutBlob(context.Context, string, io.Reader) (int64, error) { panic("unused") }
func (f fakeBlobs) DeleteBlob(context.Context, string) error                  { panic("unused") }
func (f fakeBlobs) OpenBlob(_ context.Context, key string) (io.ReadCloser, error) {
	b, ok := f[key]
	if !ok {
		return nil, bulut.NotFound("blob")
	}
	return io.NopCloser(strings.NewReader(b)), nil
}

// newSignedTest serves a handler with cfg on a test server whose URL is
// also the API's URL.
func newSignedTest(t *testing.T, cfg Config) (*Handler, *httptest.Server) {
	t.Helper()
	var h *Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	cfg.URLs = bulut.URLs{Scheme: "http", Domain: "localhost", Port: srv.Listener.Addr().(*net.TCPAddr).Port}
	h = New(cfg)
	return h, srv
}

func TestBuildOutputStreams(t *testing.T) {
	pr, pw := io.Pipe()
	id := bulut.NewID()
	h, srv := newSignedTest(t, Config{BuildOutput: &fakeOutput{id: id, r: pr}, SigningKey: []byte("key")})
	url := h.buildOutputURL(id)
	path := url[strings.Index(url, "/build-output/"):]
	if !strings.Contains(url, "?sig=") || !strings.HasPrefix(url, "http://api.localhost:") {
		t.Fatalf("url %s", url)
	}

	resp, err := http.Get(srv.URL + path) // no token, no Accept header
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Each line arrives while the build is still writing.
	lines := bufio.NewReader(resp.Body)
	for _, line := range []string{"-----> Building on the Heroku-24 stack\n", "       Installing requirements\n"} {
		go pw.Write([]byte(line))
		done := make(chan string, 1)
		go func() { s, _ := lines.ReadString('\n'); done <- s }()
		select {
		case got := <-done:
			if got != line {
				t.Fatalf("read %q, want %q", got, line)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q not flushed", line)
		}
	}
	pw.Close()
	if rest, _ := io.ReadAll(lines); len(rest) != 0 {
		t.Fatalf("after the end: %q", rest)
	}

	for _, p := range []string{
		"/build-output/" + id,                                   // no signature
		"/build-output/" + id + "?sig=zz",                       // not hex
		"/build-output/" + id + "?sig=00" + path[len(path)-62:], // wrong
		strings.Replace(path, id, bulut.NewID(), 1),             // another build's
	} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}

	// A signature made with another key is refused.
	other, _ := newSignedTest(t, Config{SigningKey: []byte("other")})
	if got := other.buildOutputURL(id); got[strings.Index(got, "?"):] == url[strings.Index(url, "?"):] {
		t.Fatal("signature does not depend on the key")
	}
}

func TestBuildOutputWithoutBackend(t *testing.T) {
	h, srv := newSignedTest(t, Config{})
	id := bulut.NewID()
	url := h.buildOutputURL(id)
	resp, err := http.Get(srv.URL + url[strings.Index(url, "/build-output/"):])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestSlugBlobDownload(t *testing.T) {
	id, missing := bulut.NewID(), bulut.NewID()
	h, srv := newSignedTest(t, Config{Blobs: fakeBlobs{bulut.SlugBlobKey(id): "tar.gz bytes"}})
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + url[strings.Index(url, "/slug-blobs/"):])
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get(h.slugBlobURL(id)); status != 200 || body != "tar.gz bytes" {
		t.Fatalf("download: %d %q", status, body)
	}
	if status, _ := get(h.slugBlobURL(missing)); status != 404 {
		t.Fatalf("missing blob: %d", status)
	}
	// A build output signature is no slug signature.
	if status, _ := get("/slug-blobs/" + id + "?sig=" + h.signature(buildOutputMessage(id))); status != 404 {
		t.Fatalf("build signature accepted for a slug: %d", status)
	}
}
