package api_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/client"
	"github.com/bulut-bulut/bulut/internal/api"
	"github.com/bulut-bulut/bulut/internal/config"
	"github.com/bulut-bulut/bulut/internal/server"
	"github.com/bulut-bulut/bulut/internal/store/fsblob"
	"github.com/bulut-bulut/bulut/internal/testenv"
)

// fakeDynoService is a test double of the scheduler: dynos in memory,
// apps (and so accounts) checked against the real store, calls recorded,
// and attached one-offs run by attach (echoDyno by default).
type fakeDynoService struct {
	apps   bulut.AppService
	attach func(ctx context.Context, d *bulut.Dyno, io bulut.DynoIO) (int, error)

	mu       sync.Mutex
	dynos    []*bulut.Dyno
	attached map[string]bool
	calls    []string // "restart APP TARGET", "stop APP DYNO"
	runs     []bulut.DynoRun
}

var _ bulut.DynoService = (*fakeDynoService)(nil)

// addDyno adds a formation dyno of an app, up since now.
func (f *fakeDynoService) addDyno(app *bulut.App, name, command string) *bulut.Dyno {
	typ, _, _ := strings.Cut(name, ".")
	now := time.Now()
	d := &bulut.Dyno{ID: bulut.NewID(), AppID: app.ID, AppName: app.Name, Name: name, Type: typ, Command: command,
		Size: bulut.SizeFree, State: bulut.DynoUp, ReleaseID: bulut.NewID(), ReleaseVersion: 2, CreatedAt: now, UpdatedAt: now}
	f.mu.Lock()
	f.dynos = append(f.dynos, d)
	f.mu.Unlock()
	return d
}

func (f *fakeDynoService) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeDynoService) FindDynos(ctx context.Context, app string) ([]*bulut.Dyno, error) {
	a, err := f.apps.FindApp(ctx, app)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*bulut.Dyno
	for _, d := range f.dynos {
		if d.AppID == a.ID {
			c := *d
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *bulut.Dyno) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeDynoService) find(ctx context.Context, app, idOrName string) (*bulut.App, *bulut.Dyno, error) {
	a, err := f.apps.FindApp(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.dynos {
		if d.AppID == a.ID && (d.ID == idOrName || d.Name == idOrName) {
			return a, d, nil
		}
	}
	return nil, nil, bulut.NotFound("dyno")
}

func (f *fakeDynoService) FindDyno(ctx context.Context, app, idOrName string) (*bulut.Dyno, error) {
	_, d, err := f.find(ctx, app, idOrName)
	if err != nil {
		return nil, err
	}
	c := *d
	return &c, nil
}

func (f *fakeDynoService) RestartDynos(ctx context.Context, app, target string) error {
	a, err := f.apps.FindApp(ctx, app)
	if err != nil {
		return err
	}
	if target != "" && !strings.Contains(target, ".") && !bulut.IsID(target) {
		target = "type " + target
	} else if target != "" {
		_, d, err := f.find(ctx, app, target)
		if err != nil {
			return err
		}
		target = d.Name
	}
	f.mu.Lock()
	f.calls = append(f.calls, strings.TrimSpace("restart "+a.Name+" "+target))
	f.mu.Unlock()
	return nil
}

func (f *fakeDynoService) StopDyno(ctx context.Context, app, idOrName string) error {
	a, d, err := f.find(ctx, app, idOrName)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.calls = append(f.calls, "stop "+a.Name+" "+d.Name)
	f.mu.Unlock()
	return nil
}

func (f *fakeDynoService) RunDyno(ctx context.Context, app string, r bulut.DynoRun) (*bulut.Dyno, error) {
	a, err := f.apps.FindApp(ctx, app)
	if err != nil {
		return nil, err
	}
	if r.Size != "" {
		if _, ok := bulut.Sizes[r.Size]; !ok {
			return nil, bulut.Errorf(bulut.EINVALID, "No such dyno size %q.", r.Size)
		}
	}
	now := time.Now()
	typ := cmpOr(r.Type, "run")
	d := &bulut.Dyno{ID: bulut.NewID(), AppID: a.ID, AppName: a.Name, Name: fmt.Sprintf("%s.%d", typ, 1000+rand.IntN(9000)),
		Type: typ, Command: r.Command, Size: cmpOr(r.Size, bulut.SizeFree), State: bulut.DynoStarting,
		ReleaseID: bulut.NewID(), ReleaseVersion: 2, CreatedAt: now, UpdatedAt: now}
	if r.Attach {
		d.AttachURL = "pending"
	}
	f.mu.Lock()
	f.dynos = append(f.dynos, d)
	f.runs = append(f.runs, r)
	f.mu.Unlock()
	c := *d
	return &c, nil
}

func (f *fakeDynoService) AttachDyno(ctx context.Context, id string, dio bulut.DynoIO) (int, error) {
	f.mu.Lock()
	var d *bulut.Dyno
	for _, x := range f.dynos {
		if x.ID == id && x.AttachURL != "" && !f.attached[id] {
			d = x
		}
	}
	if d != nil {
		if f.attached == nil {
			f.attached = map[string]bool{}
		}
		f.attached[id] = true
	}
	f.mu.Unlock()
	if d == nil {
		return -1, bulut.NotFound("dyno")
	}
	attach := f.attach
	if attach == nil {
		attach = echoDyno
	}
	return attach(ctx, d, dio)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// echoDyno is an attached command that reports its terminal, echoes
// its input, reports resizes and signals, and exits 3 at the end of its
// input.
func echoDyno(_ context.Context, _ *bulut.Dyno, dio bulut.DynoIO) (int, error) {
	fmt.Fprintf(dio.Stdout, "tty=%v size=%dx%d\n", dio.TTY, dio.Size.Rows, dio.Size.Cols)
	input := make(chan []byte)
	go func() {
		defer close(input)
		buf := make([]byte, 4096)
		for {
			n, err := dio.Stdin.Read(buf)
			if n > 0 {
				input <- slices.Clone(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		select {
		case b, ok := <-input:
			if !ok {
				fmt.Fprintf(dio.Stdout, "bye\n")
				return 3, nil
			}
			dio.Stdout.Write(b)
		case ws := <-dio.Resize:
			fmt.Fprintf(dio.Stdout, "resize %dx%d\n", ws.Rows, ws.Cols)
		case sig := <-dio.Signal:
			fmt.Fprintf(dio.Stdout, "signal %s\n", sig)
		}
	}
}

// dynoEnv is the API with the real store and a fakeDynoService, served
// on 127.0.0.1 with api.localhost URLs.
type dynoEnv struct {
	*testenv.Env // URL and Client only: requests, Signup
	dynos        *fakeDynoService
	store        *server.Store
	apiURL       string
}

func newDynoEnv(t *testing.T) *dynoEnv {
	t.Helper()
	cfg := config.DefaultServer(t.TempDir())
	cfg.DataDir = t.TempDir()
	store := server.NewStore(cfg)
	if err := store.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	services := store.Services()
	fake := &fakeDynoService{apps: services.Apps}
	services.Dynos = fake
	ts := httptest.NewUnstartedServer(nil)
	urls := bulut.URLs{Scheme: "http", Domain: "localhost", Port: ts.Listener.Addr().(*net.TCPAddr).Port}
	ts.Config.Handler = api.New(api.Config{Services: services, URLs: urls, SignupOpen: true, SigningKey: []byte("test key")})
	ts.Start()
	t.Cleanup(ts.Close)
	return &dynoEnv{Env: &testenv.Env{URL: ts.URL, Client: testenv.LoopbackClient()}, dynos: fake, store: store, apiURL: urls.APIURL()}
}

// app creates an app for the account of token.
func (e *dynoEnv) app(t *testing.T, token, name string) *bulut.App {
	t.Helper()
	var a struct{ ID, Name string }
	e.Do(t, "POST", "/apps", token, map[string]string{"name": name}, 201, &a)
	return &bulut.App{ID: a.ID, Name: a.Name}
}

// deploy releases a slug with process types to an app of the account.
func (e *dynoEnv) deploy(t *testing.T, email, password, app string, types map[string]string) {
	t.Helper()
	ctx := context.Background()
	acct, err := e.store.Accounts.Authenticate(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	ctx = bulut.NewContextWithAccount(ctx, acct)
	slug := &bulut.Slug{ProcessTypes: types, Commit: "0123456789abcdef", Stack: bulut.DefaultStack}
	if err := e.store.Slugs.CreateSlug(ctx, app, slug); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Releases.CreateRelease(ctx, app, slug.ID, ""); err != nil {
		t.Fatal(err)
	}
}

// deploySlug stores a slug whose blob holds files (under /app) and
// releases it through the API, as a push would.
func deploySlug(t *testing.T, env *testenv.Env, h *heroku.Service, app string, types, files map[string]string) {
	t.Helper()
	actx := accountContext(t, env, "dyno@example.com", "dyno-pass")
	slug := createSlug(t, env, actx, app, "0123456789abcdef", types)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: "./" + name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	blobs := fsblob.New(filepath.Join(env.Config.DataDir, "blobs"))
	if _, err := blobs.PutBlob(context.Background(), bulut.SlugBlobKey(slug.ID), &buf); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReleaseCreate(context.Background(), app, heroku.ReleaseCreateOpts{Slug: slug.ID}); err != nil {
		t.Fatal(err)
	}
}

// waitDynos lists an app's dynos until cond holds of them.
func waitDynos(t *testing.T, h *heroku.Service, app, what string, cond func(ds []heroku.Dyno) bool) []heroku.Dyno {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := h.DynoList(context.Background(), app, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cond(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: dynos %+v", what, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dynoStates writes dynos as "worker.1=up worker.2=starting".
func dynoStates(ds []heroku.Dyno) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.Name+"="+d.State)
	}
	return strings.Join(parts, " ")
}

func TestAPI_Dynos(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real dynos")
	}
	env := testenv.New(t, func(c *config.Server) { c.StopGrace = 3 * time.Second })
	ctx := context.Background()
	token := env.Signup(t, "dyno@example.com", "dyno-pass")
	h := herokuClient(env, token)
	app, err := h.AppCreate(ctx, heroku.AppCreateOpts{Name: ptr("dynamo")})
	if err != nil {
		t.Fatal(err)
	}
	deploySlug(t, env, h, "dynamo", map[string]string{"worker": "sleep 600", "clock": "./clock"},
		map[string]string{"clock": "#!/bin/sh\nexec sleep 600\n"})
	if _, err := h.FormationUpdate(ctx, "dynamo", "worker", heroku.FormationUpdateOpts{Quantity: ptr(2)}); err != nil {
		t.Fatal(err)
	}
	ds := waitDynos(t, h, "dynamo", "two workers up", func(ds []heroku.Dyno) bool { return dynoStates(ds) == "worker.1=up worker.2=up" })
	rel, err := h.ReleaseInfo(ctx, "dynamo", "2")
	if err != nil {
		t.Fatal(err)
	}
	w1 := ds[0]

	t.Run("List", func(t *testing.T) {
		if w1.Type != "worker" || w1.Command != "sleep 600" || w1.Size != "Free" || w1.App.ID != app.ID || w1.App.Name != "dynamo" ||
			w1.Release.ID != rel.ID || w1.Release.Version != 2 || w1.AttachURL != nil || w1.ID == "" || w1.ID == ds[1].ID ||
			w1.CreatedAt.IsZero() || w1.UpdatedAt.IsZero() {
			t.Fatalf("dyno = %+v", w1)
		}
		var raw []map[string]any
		env.Do(t, "GET", "/apps/"+app.ID+"/dynos", token, nil, 200, &raw)
		if v, ok := raw[0]["attach_url"]; !ok || v != nil || len(raw) != 2 {
			t.Fatalf("raw dynos = %v", raw)
		}
	})

	t.Run("Info", func(t *testing.T) {
		for _, key := range []string{"worker.1", w1.ID} {
			d, err := h.DynoInfo(ctx, "dynamo", key)
			if err != nil || d.ID != w1.ID || d.Name != "worker.1" {
				t.Fatalf("DynoInfo(%s) = %+v, %v", key, d, err)
			}
		}
		_, err := h.DynoInfo(ctx, "dynamo", "worker.9")
		wantHerokuError(t, err, 404, "not_found")
	})

	// ids returns the IDs of the dynos named.
	ids := func(ds []heroku.Dyno) map[string]string {
		m := map[string]string{}
		for _, d := range ds {
			m[d.Name] = d.ID
		}
		return m
	}
	// replaced waits until the dynos named are up with new IDs, and the
	// others untouched.
	replaced := func(t *testing.T, before []heroku.Dyno, names ...string) []heroku.Dyno {
		t.Helper()
		old := ids(before)
		return waitDynos(t, h, "dynamo", "replacement of "+strings.Join(names, ", "), func(ds []heroku.Dyno) bool {
			now := ids(ds)
			if dynoStates(ds) != dynoStates(before) || len(now) != len(old) {
				return false
			}
			for name, id := range old {
				if slices.Contains(names, name) == (now[name] == id) {
					return false
				}
			}
			return true
		})
	}

	t.Run("RestartAndStop", func(t *testing.T) {
		if _, err := h.DynoRestart(ctx, "dynamo", "worker.2"); err != nil {
			t.Fatal(err)
		}
		ds = replaced(t, ds, "worker.2")
		if _, err := h.DynoRestart(ctx, "dynamo", ds[0].ID); err != nil {
			t.Fatal(err)
		}
		ds = replaced(t, ds, "worker.1")
		if _, err := h.DynoRestartAll(ctx, "dynamo"); err != nil {
			t.Fatal(err)
		}
		ds = replaced(t, ds, "worker.1", "worker.2")
		var empty map[string]any
		resp := env.Do(t, "DELETE", "/apps/dynamo/formations/worker", token, nil, 202, &empty)
		if len(empty) != 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("restart answer = %v", empty)
		}
		ds = replaced(t, ds, "worker.1", "worker.2")
		// A stopped formation dyno is started again.
		if _, err := h.DynoStop(ctx, "dynamo", "worker.1"); err != nil {
			t.Fatal(err)
		}
		ds = replaced(t, ds, "worker.1")
		env.Do(t, "POST", "/apps/dynamo/formations/worker/actions/stop", token, nil, 202, nil)
		ds = replaced(t, ds, "worker.1", "worker.2")

		var e struct{ ID, Message string }
		env.Do(t, "DELETE", "/apps/dynamo/formations/web", token, nil, 404, &e)
		if e.Message != "Couldn't find that process type (web)." {
			t.Fatalf("restart of an unknown type: %+v", e)
		}
		env.Do(t, "POST", "/apps/dynamo/formations/web/actions/stop", token, nil, 404, nil)
		_, err := h.DynoStop(ctx, "dynamo", "worker.7")
		wantHerokuError(t, err, 404, "not_found")
		_, err = h.DynoRestart(ctx, "dynamo", "worker.7")
		wantHerokuError(t, err, 404, "not_found")
	})

	t.Run("CreateDetached", func(t *testing.T) {
		d, err := h.DynoCreate(ctx, "dynamo", heroku.DynoCreateOpts{Command: "sleep 600", Size: ptr("Standard-1X"),
			Env: map[string]string{"A": "1"}, TimeToLive: ptr(600)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Type != "run" || !regexp.MustCompile(`^run\.\d{4}$`).MatchString(d.Name) || d.Command != "sleep 600" ||
			d.Size != "Standard-1X" || d.AttachURL != nil || d.App.Name != "dynamo" || d.ID == "" || d.Release.Version != 2 {
			t.Fatalf("DynoCreate = %+v", d)
		}
		waitDynos(t, h, "dynamo", "the one-off up", func(ds []heroku.Dyno) bool {
			return slices.ContainsFunc(ds, func(x heroku.Dyno) bool { return x.ID == d.ID && x.State == "up" })
		})
		// A Procfile type as the first word runs its command; numbers
		// in env are taken as the heroku CLI sends them.
		var raw map[string]any
		env.Do(t, "POST", "/apps/dynamo/dynos", token,
			`{"command":"clock","attach":false,"env":{"TERM":"xterm","COLUMNS":80,"LINES":24,"GONE":null},"type":"run","size":"free"}`, 201, &raw)
		if raw["size"] != "Free" || raw["attach_url"] != nil || raw["command"] != "./clock" {
			t.Fatalf("created = %v", raw)
		}
		// A stopped one-off is gone.
		if _, err := h.DynoStop(ctx, "dynamo", d.Name); err != nil {
			t.Fatal(err)
		}
		waitDynos(t, h, "dynamo", "the one-off gone", func(ds []heroku.Dyno) bool {
			return !slices.ContainsFunc(ds, func(x heroku.Dyno) bool { return x.ID == d.ID })
		})
		for _, body := range []string{`{"command":""}`, `{}`, `{"command":"ls","time_to_live":100000}`,
			`{"command":"ls","env":{"A":{"b":1}}}`, `{"command":"ls","size":"huge"}`} {
			env.Do(t, "POST", "/apps/dynamo/dynos", token, body, 422, nil)
		}
	})

	t.Run("Attached", func(t *testing.T) {
		d, err := h.DynoCreate(ctx, "dynamo", heroku.DynoCreateOpts{Command: `read line; echo "got $line in $DYNO"; exit 3`, Attach: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if d.AttachURL == nil || !strings.HasPrefix(*d.AttachURL, "http://api.localhost:"+env.Port()+"/dyno-attach/"+d.ID+"?sig=") {
			t.Fatalf("attach_url = %v", d.AttachURL)
		}
		var out bytes.Buffer
		code, err := client.New("http://api.localhost:"+env.Port(), token).Attach(ctx, *d.AttachURL,
			bulut.DynoIO{Stdin: strings.NewReader("hello\n"), Stdout: &out})
		if err != nil || code != 3 || out.String() != "got hello in "+d.Name+"\n" {
			t.Fatalf("Attach = %d, %v, output %q", code, err, out.String())
		}
	})

	t.Run("AnotherAccount", func(t *testing.T) {
		other := env.Signup(t, "other@example.com", "other-pass")
		o := herokuClient(env, other)
		ds, err := h.DynoList(ctx, "dynamo", nil)
		if err != nil {
			t.Fatal(err)
		}
		before := ids(ds)
		for _, key := range []string{"dynamo", app.ID} {
			_, err := o.DynoList(ctx, key, nil)
			wantHerokuError(t, err, 404, "not_found")
			_, err = o.DynoInfo(ctx, key, "worker.1")
			wantHerokuError(t, err, 404, "not_found")
			_, err = o.DynoRestartAll(ctx, key)
			wantHerokuError(t, err, 404, "not_found")
			_, err = o.DynoRestart(ctx, key, "worker.1")
			wantHerokuError(t, err, 404, "not_found")
			_, err = o.DynoStop(ctx, key, "worker.1")
			wantHerokuError(t, err, 404, "not_found")
			_, err = o.DynoCreate(ctx, key, heroku.DynoCreateOpts{Command: "bash"})
			wantHerokuError(t, err, 404, "not_found")
			env.Do(t, "DELETE", "/apps/"+key+"/formations/worker", other, nil, 404, nil)
			env.Do(t, "POST", "/apps/"+key+"/formations/worker/actions/stop", other, nil, 404, nil)
		}
		ds, err = h.DynoList(ctx, "dynamo", nil)
		if err != nil || !maps.Equal(ids(ds), before) {
			t.Fatalf("another account changed the dynos: %+v, %v", ds, err)
		}
	})
}

// syncBuffer collects output and lets a test wait for some of it.
type syncBuffer struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{})} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output contains want.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	for {
		s.mu.Lock()
		got, changed := s.b.String(), s.changed
		s.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		<-changed
	}
}

func TestAPI_DynoAttach(t *testing.T) {
	env := newDynoEnv(t)
	ctx := context.Background()
	token := env.Signup(t, "run@example.com", "run-pass")
	h := herokuClient(env.Env, token)
	env.app(t, token, "runner")
	c := client.New(env.apiURL, token)

	run := func() *heroku.Dyno {
		t.Helper()
		d, err := h.DynoCreate(ctx, "runner", heroku.DynoCreateOpts{Command: "bash", Attach: ptr(true), Env: map[string]string{"TERM": "xterm"}})
		if err != nil {
			t.Fatal(err)
		}
		if d.AttachURL == nil || !strings.HasPrefix(*d.AttachURL, env.apiURL+"/dyno-attach/"+d.ID+"?sig=") {
			t.Fatalf("attach_url = %v", d.AttachURL)
		}
		return d
	}

	t.Run("Session", func(t *testing.T) {
		d := run()
		if info, err := h.DynoInfo(ctx, "runner", d.Name); err != nil || info.AttachURL == nil || *info.AttachURL != *d.AttachURL {
			t.Fatalf("DynoInfo of a waiting one-off = %+v, %v", info, err)
		}
		stdin, stdinW := io.Pipe()
		out := newSyncBuffer()
		resize, signal := make(chan bulut.WindowSize), make(chan string)
		type result struct {
			code int
			err  error
		}
		done := make(chan result, 1)
		go func() {
			code, err := c.Attach(ctx, *d.AttachURL, bulut.DynoIO{Stdin: stdin, Stdout: out, TTY: true,
				Size: bulut.WindowSize{Rows: 24, Cols: 80}, Resize: resize, Signal: signal})
			done <- result{code, err}
		}()
		out.waitFor(t, "tty=true size=24x80\n")
		io.WriteString(stdinW, "hello\n")
		out.waitFor(t, "hello\n")
		resize <- bulut.WindowSize{Rows: 30, Cols: 100}
		out.waitFor(t, "resize 30x100\n")
		signal <- "INT"
		out.waitFor(t, "signal INT\n")
		signal <- "SIGTERM"
		out.waitFor(t, "signal TERM\n")
		big := strings.Repeat("0123456789abcdef", 8192) // 128 KB: several frames each way
		io.WriteString(stdinW, big)
		out.waitFor(t, big)
		stdinW.Close()
		r := <-done
		if r.err != nil || r.code != 3 {
			t.Fatalf("Attach = %d, %v", r.code, r.err)
		}
		if got := out.String(); !strings.HasSuffix(got, "bye\n") {
			t.Fatalf("output ends %q", got[max(0, len(got)-20):])
		}

		// The URL serves one terminal.
		_, err := c.Attach(ctx, *d.AttachURL, bulut.DynoIO{Stdin: strings.NewReader("")})
		if bulut.ErrorCode(err) != bulut.ENOTFOUND {
			t.Fatalf("second attach: %v", err)
		}
	})

	t.Run("NoTTY", func(t *testing.T) {
		d := run()
		out := newSyncBuffer()
		code, err := c.Attach(ctx, *d.AttachURL, bulut.DynoIO{Stdin: strings.NewReader("piped input\n"), Stdout: out})
		if err != nil || code != 3 || out.String() != "tty=false size=0x0\npiped input\nbye\n" {
			t.Fatalf("Attach = %d, %v, output %q", code, err, out.String())
		}
	})

	t.Run("HangUp", func(t *testing.T) {
		d := run()
		hungUp := make(chan string, 1)
		env.dynos.mu.Lock()
		env.dynos.attach = func(_ context.Context, _ *bulut.Dyno, dio bulut.DynoIO) (int, error) {
			io.WriteString(dio.Stdout, "ready\n")
			sig := <-dio.Signal
			_, err := io.ReadAll(dio.Stdin) // the input ended too
			hungUp <- fmt.Sprint(sig, " ", err)
			return 129, nil
		}
		env.dynos.mu.Unlock()
		t.Cleanup(func() { env.dynos.mu.Lock(); env.dynos.attach = nil; env.dynos.mu.Unlock() })
		actx, cancel := context.WithCancel(ctx)
		out := newSyncBuffer()
		done := make(chan error, 1)
		stdin, stdinW := io.Pipe()
		defer stdinW.Close()
		go func() {
			_, err := c.Attach(actx, *d.AttachURL, bulut.DynoIO{Stdin: stdin, Stdout: out})
			done <- err
		}()
		out.waitFor(t, "ready\n")
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("Attach after cancel = %v", err)
		}
		if got := <-hungUp; got != "HUP <nil>" {
			t.Fatalf("the command got %q", got)
		}
	})

	t.Run("BadRequests", func(t *testing.T) {
		d := run()
		url := *d.AttachURL
		path := url[len(env.apiURL):]
		// badSig changes the signature's last hex digit.
		badSig := func(u string) string {
			last := "0"
			if strings.HasSuffix(u, "0") {
				last = "1"
			}
			return u[:len(u)-1] + last
		}
		for _, p := range []string{
			badSig(path),
			strings.Replace(path, d.ID, bulut.NewID(), 1),
			"/dyno-attach/" + d.ID,
		} {
			req, _ := http.NewRequest("GET", env.URL+p, nil)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "bulut-attach")
			var e struct{ ID, Message string }
			env.Send(t, req, 404, &e)
			if e.ID != "not_found" {
				t.Fatalf("%s: %+v", p, e)
			}
		}
		_, err := c.Attach(ctx, badSig(url), bulut.DynoIO{})
		if bulut.ErrorCode(err) != bulut.ENOTFOUND {
			t.Fatalf("Attach with a bad signature = %v", err)
		}
		// A plain GET isn't an upgrade.
		req, _ := http.NewRequest("GET", env.URL+path, nil)
		env.Send(t, req, 400, nil)
		// The dyno can still be attached after those.
		code, err := c.Attach(ctx, url, bulut.DynoIO{Stdin: strings.NewReader("")})
		if err != nil || code != 3 {
			t.Fatalf("Attach = %d, %v", code, err)
		}
	})
}
