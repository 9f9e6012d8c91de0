package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
)

// fakeRuntime is a test double of runtime.Runtime: no process runs. Each
// "dyno" follows a little script, its command: steps separated by ";"
//
//	listen         serve HTTP on 127.0.0.1:$PORT (answers "$DYNO $RELEASE")
//	print TEXT     write a line of output
//	env            write the environment, a line per variable
//	sleep DUR      wait (a stop still ends it)
//	exit N         end with status N
//	ignore-term    from now on, SIGTERM does nothing (SIGKILL after the grace)
//	mem N          use N MB of memory
//	oom            be killed by the backend's memory limit
//	cat            copy the terminal's input to its output until EOF
//	tty            write "tty" or "notty"
//	python ...     (or anything else) nothing
//
// and then runs until stopped. All "dynos" share a host: a new
// fakeRuntime on the same host (a restarted server) ends the others'
// dynos in Cleanup.
type fakeRuntime struct {
	host *fakeHost
	run  int

	mu        sync.Mutex
	startErr  error // returned by Start while set
	forgotten []string
	cleanups  int
}

// fakeHost is what outlives a server run: its dynos, and a log of
// events shared with the route recorder, to check their order.
type fakeHost struct {
	mu        sync.Mutex
	instances []*fakeInstance
	events    []string
	runs      int
}

func newFakeHost() *fakeHost { return &fakeHost{} }

func (h *fakeHost) runtime() *fakeRuntime {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runs++
	return &fakeRuntime{host: h, run: h.runs}
}

func (h *fakeHost) event(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, fmt.Sprintf(format, args...))
}

func (h *fakeHost) eventLog() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

// all returns every instance ever started.
func (h *fakeHost) all() []*fakeInstance {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*fakeInstance(nil), h.instances...)
}

// byName returns the instances started with a dyno name, oldest first.
func (h *fakeHost) byName(name string) []*fakeInstance {
	var out []*fakeInstance
	for _, i := range h.all() {
		if i.spec.Name == name {
			out = append(out, i)
		}
	}
	return out
}

// byID returns the instance of a dyno ID, or nil.
func (h *fakeHost) byID(id string) *fakeInstance {
	for _, i := range h.all() {
		if i.spec.ID == id {
			return i
		}
	}
	return nil
}

// running returns the instances that have not ended.
func (h *fakeHost) running() []*fakeInstance {
	var out []*fakeInstance
	for _, i := range h.all() {
		if !i.ended() {
			out = append(out, i)
		}
	}
	return out
}

func (r *fakeRuntime) Start(ctx context.Context, s runtime.Spec) (runtime.Instance, error) {
	r.mu.Lock()
	err := r.startErr
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	i := &fakeInstance{spec: s, run: r.run, host: r.host, done: make(chan struct{}), stop: make(chan time.Duration, 4),
		started: time.Now()}
	i.env = map[string]string{}
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		i.env[k] = v
	}
	// A first ignore-term holds from the start, before Stop can come.
	i.ignore.Store(strings.HasPrefix(s.Command, "ignore-term"))
	r.host.mu.Lock()
	r.host.instances = append(r.host.instances, i)
	r.host.events = append(r.host.events, "start "+s.Name+" "+s.ID)
	r.host.mu.Unlock()
	go i.run_()
	return i, nil
}

func (r *fakeRuntime) Cleanup(ctx context.Context) error {
	r.mu.Lock()
	r.cleanups++
	r.mu.Unlock()
	r.host.event("cleanup run %d", r.run)
	for _, i := range r.host.all() {
		if i.run != r.run {
			i.end(runtime.Exit{Code: -1, Signal: "KILL"})
		}
	}
	return nil
}

func (r *fakeRuntime) Forget(releaseID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgotten = append(r.forgotten, releaseID)
	return nil
}

func (r *fakeRuntime) setStartErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startErr = err
}

func (r *fakeRuntime) forgottenReleases() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.forgotten...)
}

// fakeInstance is a fake dyno.
type fakeInstance struct {
	spec    runtime.Spec
	env     map[string]string
	run     int
	host    *fakeHost
	started time.Time

	ln     net.Listener // the dyno's port once it listens
	done   chan struct{}
	stop   chan time.Duration
	mem    atomic.Int64
	ignore atomic.Bool

	mu        sync.Mutex
	exit      runtime.Exit
	isDone    bool
	endedAt   time.Time
	stops     []time.Duration // grace of each Stop call
	listening bool
}

func (i *fakeInstance) Done() <-chan struct{} { return i.done }

func (i *fakeInstance) Exit() runtime.Exit {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.exit
}

func (i *fakeInstance) MemoryUsage() int64 { return i.mem.Load() }

func (i *fakeInstance) Stop(grace time.Duration) {
	i.mu.Lock()
	i.stops = append(i.stops, grace)
	i.mu.Unlock()
	i.host.event("stop %s %s", i.spec.Name, i.spec.ID)
	go func() {
		if i.ignore.Load() && grace > 0 {
			select {
			case <-time.After(grace):
			case <-i.done:
				return
			}
		}
		if i.ignore.Load() || grace == 0 {
			i.end(runtime.Exit{Code: -1, Signal: "KILL"})
		} else {
			i.end(runtime.Exit{Code: -1, Signal: "TERM"})
		}
	}()
}

// stopGraces returns the graces Stop was called with.
func (i *fakeInstance) stopGraces() []time.Duration {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]time.Duration(nil), i.stops...)
}

func (i *fakeInstance) ended() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.isDone
}

func (i *fakeInstance) isListening() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.listening && !i.isDone
}

// end ends the dyno (once): its port is closed.
func (i *fakeInstance) end(e runtime.Exit) {
	i.mu.Lock()
	if i.isDone {
		i.mu.Unlock()
		return
	}
	i.isDone, i.exit, i.endedAt = true, e, time.Now()
	ln := i.ln
	i.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	i.host.event("end %s %s", i.spec.Name, i.spec.ID)
	close(i.done)
}

// crash ends the dyno as if it exited on its own.
func (i *fakeInstance) crash(code int) { i.end(runtime.Exit{Code: code}) }

func (i *fakeInstance) out() io.Writer {
	if i.spec.IO != nil {
		return i.spec.IO.Stdout
	}
	if i.spec.Output != nil {
		return i.spec.Output
	}
	return io.Discard
}

func (i *fakeInstance) run_() {
	for _, step := range strings.Split(i.spec.Command, ";") {
		verb, arg, _ := strings.Cut(strings.TrimSpace(step), " ")
		select {
		case <-i.done:
			return
		default:
		}
		switch verb {
		case "listen":
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", i.env["PORT"]))
			if err != nil {
				fmt.Fprintln(i.out(), err)
				i.end(runtime.Exit{Code: 1})
				return
			}
			i.mu.Lock()
			if i.isDone {
				i.mu.Unlock()
				ln.Close()
				return
			}
			i.ln, i.listening = ln, true
			i.mu.Unlock()
			body := i.env["DYNO"] + " " + i.spec.Release
			go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, body)
			}))
		case "print":
			fmt.Fprintln(i.out(), arg)
		case "env":
			for _, kv := range i.spec.Env {
				fmt.Fprintln(i.out(), kv)
			}
		case "sleep":
			d, _ := time.ParseDuration(arg)
			select {
			case <-time.After(d):
			case <-i.done:
				return
			}
		case "exit":
			n, _ := strconv.Atoi(arg)
			i.end(runtime.Exit{Code: n})
			return
		case "ignore-term":
			i.ignore.Store(true)
		case "mem":
			n, _ := strconv.ParseInt(arg, 10, 64)
			i.mem.Store(n << 20)
		case "oom":
			i.end(runtime.Exit{Code: -1, Signal: "KILL", OOM: true})
			return
		case "cat":
			if i.spec.IO != nil {
				io.Copy(i.spec.IO.Stdout, i.spec.IO.Stdin)
			}
		case "tty":
			if i.spec.IO != nil && i.spec.IO.TTY {
				fmt.Fprintln(i.out(), "tty")
			} else {
				fmt.Fprintln(i.out(), "notty")
			}
		}
	}
}

var errStart = errors.New("fake: cannot start")

// routeRecorder is the RouteTable of the tests: the last route of each
// app, and every route published, in order, in the host's event log.
type routeRecorder struct {
	host   *fakeHost
	mu     sync.Mutex
	routes map[string]bulut.Route
	all    []bulut.Route
	notify chan bulut.Route // if set, gets every route (benchmarks)
}

func (r *routeRecorder) SetRoute(rt bulut.Route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.routes == nil {
		r.routes = map[string]bulut.Route{}
	}
	r.routes[rt.AppID] = rt
	r.all = append(r.all, rt)
	r.host.event("route %s %s crashed=%v", rt.AppID, strings.Join(rt.Backends, ","), rt.Crashed)
	if r.notify != nil {
		r.notify <- rt
	}
}

func (r *routeRecorder) route(appID string) (bulut.Route, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rt, ok := r.routes[appID]
	return rt, ok
}

func (r *routeRecorder) history(appID string) []bulut.Route {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bulut.Route
	for _, rt := range r.all {
		if rt.AppID == appID {
			out = append(out, rt)
		}
	}
	return out
}
