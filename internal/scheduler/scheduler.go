// Package scheduler is the dyno manager, the only writer of what runs. For
// each app it compares the desired state (the current release and the
// formation) with the dynos it started through a runtime.Runtime, and
// converges: it starts missing dynos (web.1..web.N), stops extra ones,
// restarts crashed ones with Heroku's cool-offs, replaces dynos of an old
// release (web dynos without dropping a request: the new ones are up and
// routed before the old ones are stopped), and publishes each app's route
// to a bulut.RouteTable. It also runs one-off dynos (`run.NNNN`).
//
// Dynos live in memory only: a server restart (even after kill -9) is an
// Open, which has the runtime end whatever the previous run left behind
// and then starts every app's formation anew.
//
// Each app has one goroutine that makes every decision about its dynos
// (start, stop, restart, route), woken by Reconcile, by its dynos' events
// and by timers; a goroutine per dyno starts it and watches it (exit,
// $PORT, boot timeout, memory).
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
)

// Config holds what the scheduler needs.
type Config struct {
	// Services are read with system contexts for desired state, and
	// with the caller's context to resolve apps in DynoService methods.
	// Apps, Releases, Slugs and Formations are used.
	Services bulut.Services
	Runtime  runtime.Runtime
	// Routes is told the up web dynos of each app's current release on
	// every change (may be nil).
	Routes bulut.RouteTable
	// Logs gets the dynos' output and the dyno manager's lines (may be
	// nil: they are kept in Output's rings either way).
	Logs    bulut.LogSink
	URLs    bulut.URLs
	Logger  *slog.Logger
	Timings Timings // zero fields take Heroku's values
	Now     func() time.Time
	// Usage records free dyno time (nil: not counted, no quota).
	Usage bulut.DynoUsageService
	// FreeDynoHours is each app's allowance a calendar month (0: 750).
	FreeDynoHours int
}

// Timings are the dyno manager's clocks. Zero fields take the defaults,
// Heroku's where Heroku has one (heroku-reference section 2).
type Timings struct {
	// BootTimeout is how long a web dyno has to accept connections on
	// $PORT before R10 (Heroku: 60 s).
	BootTimeout time.Duration
	// StopGrace is the time between SIGTERM and SIGKILL; a dyno still
	// running then is an R12 (Heroku: 30 s).
	StopGrace time.Duration
	// RestartDelays are the cool-offs before restarting a crashed
	// formation dyno, by how many times in a row it crashed: the first
	// crash restarts at once, then Heroku waits up to 20, 40, 60, 180
	// and 320 minutes, and every 320 minutes from there on (the last
	// value repeats).
	RestartDelays []time.Duration
	// CrashReset is how long a dyno must have run for its crash to count
	// as a first one again (it "booted cleanly"): by default the first
	// cool-off, 20 minutes.
	CrashReset time.Duration
	// MemoryInterval is how often dynos' memory is checked against
	// their size's quota (R14 above it, R15 at twice it). Heroku logs
	// R14 about every 20 s.
	MemoryInterval time.Duration
	// PortCheckInterval caps the wait between two checks of a starting
	// web dyno's $PORT (they start at 1 ms and double): 50 ms.
	PortCheckInterval time.Duration
	// AttachTimeout is how long a one-off dyno made with Attach waits
	// for its terminal before it is dropped (R13): 1 minute.
	AttachTimeout time.Duration
	// DrainDelay is how long an up web dyno is kept running after it
	// left the route and before SIGTERM, so that requests the router
	// had already sent it can finish: 2 s.
	DrainDelay time.Duration
	// SyncInterval is how often every app is reconciled even if nothing
	// said it changed: 1 minute.
	SyncInterval time.Duration
	// IdleTimeout is how long an app whose web dynos are all free runs
	// without a request before it sleeps (its dynos frozen); Heroku's is
	// 30 minutes (the server's --idle-timeout). Zero or negative: apps
	// never sleep (the default, as the router must call Waker to wake
	// them).
	IdleTimeout time.Duration
	// DeepSleepAfter is how long an app sleeps frozen before its dynos
	// are stopped to free their memory: 1 hour. Negative: never.
	DeepSleepAfter time.Duration
	// UsageInterval is how often free dyno time is counted: 1 minute.
	UsageInterval time.Duration
}

// DefaultTimings are the values zero Timings fields take.
var DefaultTimings = Timings{
	BootTimeout: 60 * time.Second,
	StopGrace:   30 * time.Second,
	RestartDelays: []time.Duration{0, 20 * time.Minute, 40 * time.Minute, 60 * time.Minute,
		180 * time.Minute, 320 * time.Minute},
	CrashReset:        20 * time.Minute,
	MemoryInterval:    20 * time.Second,
	PortCheckInterval: 50 * time.Millisecond,
	AttachTimeout:     time.Minute,
	DrainDelay:        2 * time.Second,
	SyncInterval:      time.Minute,
	DeepSleepAfter:    time.Hour,
	UsageInterval:     time.Minute,
}

func (t Timings) withDefaults() Timings {
	d := DefaultTimings
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&t.BootTimeout, d.BootTimeout)
	set(&t.StopGrace, d.StopGrace)
	set(&t.CrashReset, d.CrashReset)
	set(&t.MemoryInterval, d.MemoryInterval)
	set(&t.PortCheckInterval, d.PortCheckInterval)
	set(&t.AttachTimeout, d.AttachTimeout)
	set(&t.SyncInterval, d.SyncInterval)
	set(&t.UsageInterval, d.UsageInterval)
	if t.DeepSleepAfter == 0 {
		t.DeepSleepAfter = d.DeepSleepAfter
	}
	if t.DrainDelay < 0 {
		t.DrainDelay = 0
	} else if t.DrainDelay == 0 {
		t.DrainDelay = d.DrainDelay
	}
	if len(t.RestartDelays) == 0 {
		t.RestartDelays = d.RestartDelays
	}
	return t
}

// restartDelay is the cool-off before restarting after the n-th crash in
// a row (n >= 1).
func (t Timings) restartDelay(n int) time.Duration {
	return t.RestartDelays[min(max(n, 1), len(t.RestartDelays))-1]
}

// Scheduler is the dyno manager. It implements bulut.DynoService and
// bulut.Reconciler.
type Scheduler struct {
	cfg   Config
	t     Timings
	log   *slog.Logger
	ports ports

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	opened chan struct{} // closed once Open has cleaned up
	done   chan struct{} // closed by Close
	loops  sync.WaitGroup
	procs  sync.WaitGroup // dynos' goroutines

	mu       sync.Mutex
	isOpen   bool
	closed   bool
	apps     map[string]*appState
	byID     map[string]*dyno
	releases map[string]*releaseUse
	outputs  outputs
	activity sync.Map // app ID -> *atomic.Int64: its last request (Touch)
}

var (
	_ bulut.DynoService = (*Scheduler)(nil)
	_ bulut.Reconciler  = (*Scheduler)(nil)
)

// New returns a scheduler; Open starts it.
func New(cfg Config) *Scheduler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		cfg:      cfg,
		t:        cfg.Timings.withDefaults(),
		log:      cfg.Logger.With("component", "scheduler"),
		ctx:      ctx,
		cancel:   cancel,
		opened:   make(chan struct{}),
		done:     make(chan struct{}),
		apps:     map[string]*appState{},
		byID:     map[string]*dyno{},
		releases: map[string]*releaseUse{},
		outputs:  outputs{apps: map[string]*appOutputs{}, ids: map[string]outputRef{}},
	}
}

// Open has the runtime end the dynos a previous run left behind, then
// reconciles every app with a deployed release and starts the periodic
// sync. Reconcile calls made before Open wait for it.
func (s *Scheduler) Open(ctx context.Context) error {
	if err := s.cfg.Runtime.Cleanup(ctx); err != nil {
		return fmt.Errorf("scheduler: cleaning up the runtime: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("scheduler: closed")
	}
	s.isOpen = true
	close(s.opened)
	s.mu.Unlock()
	if err := s.syncAll(ctx); err != nil {
		return fmt.Errorf("scheduler: listing apps: %w", err)
	}
	s.loops.Add(1)
	go s.syncLoop()
	if s.cfg.Usage != nil {
		s.loops.Add(1)
		go s.usageLoop()
	}
	return nil
}

// syncAll reconciles every app with a deployed release and every app the
// scheduler knows (a deleted one, say).
func (s *Scheduler) syncAll(ctx context.Context) error {
	sys := bulut.NewSystemContext(ctx)
	r := bulut.ListRange{Field: "id", Max: bulut.MaxPageSize}
	for {
		apps, more, err := s.cfg.Services.Apps.FindApps(sys, bulut.AppFilter{Range: r})
		if err != nil {
			return err
		}
		for _, app := range apps {
			if app.ReleasedAt != nil {
				s.Reconcile(app.ID)
			}
		}
		if !more || len(apps) == 0 {
			break
		}
		r.First, r.FirstExclusive = apps[len(apps)-1].ID, true
	}
	s.mu.Lock()
	known := make([]string, 0, len(s.apps))
	for id := range s.apps {
		known = append(known, id)
	}
	s.mu.Unlock()
	for _, id := range known {
		s.Reconcile(id)
	}
	return nil
}

func (s *Scheduler) syncLoop() {
	defer s.loops.Done()
	tick := time.NewTicker(s.t.SyncInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
			if err := s.syncAll(s.ctx); err != nil && s.ctx.Err() == nil {
				s.log.Error("periodic sync", "error", err)
			}
		}
	}
}

// Close stops every dyno (SIGTERM, then SIGKILL after the grace) and
// waits for them to end.
func (s *Scheduler) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	var stops []*dyno
	for _, a := range s.apps {
		if a.wake != nil {
			a.wake.Stop()
		}
		for _, d := range slices.Clone(a.dynos) {
			d.stopping, d.drain = true, false
			if !d.launched {
				s.removeDyno(d, runtime.Exit{})
			} else if d.inst != nil && !d.stopSent {
				d.stopSent = true
				stops = append(stops, d)
			}
		}
	}
	s.mu.Unlock()
	s.cancel() // starts under way give up
	for _, d := range stops {
		s.sendStop(d)
	}
	s.loops.Wait()
	waited := make(chan struct{})
	go func() { s.procs.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-time.After(s.t.StopGrace + 10*time.Second):
		err = errors.New("scheduler: some dynos did not end after SIGKILL")
	}
	return err
}

// Reconcile asks the scheduler to converge an app (by ID) to its desired
// state: after a release, a config change, a scaling, a deletion.
func (s *Scheduler) Reconcile(appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || appID == "" {
		return
	}
	a := s.appLocked(appID)
	a.dirty = true
	a.poke()
}

// appState is what the scheduler knows of one app. Guarded by s.mu.
type appState struct {
	id      string
	kick    chan struct{} // wakes the app's loop; capacity 1
	dirty   bool          // desired must be read again
	desired *desired      // nil until read
	dynos   []*dyno       // started, starting, crashed or stopping
	slots   map[string]*slot
	gens    map[string]int // restart generation by dyno name
	nextGen int
	want    map[string]string // desired dyno name -> key, as last planned
	webs    []string          // desired web dyno names
	route   *bulut.Route      // last published
	wake    *time.Timer
	wakeAt  time.Time

	active  atomic.Int64 // last request, Unix ns (Touch)
	asleep  bool         // idle: formation dynos frozen, or stopped if deep
	deep    bool
	sleptAt time.Time
	wakeReq bool            // Wake asked for the app
	waking  bool            // woken, its route not serving yet
	wakers  []chan struct{} // Wake calls waiting for the route

	// sleepers are the formation dynos stopped by a deep sleep, listed
	// as idle until the app wakes (see sleepersLocked).
	sleepers []bulut.Dyno

	usageAt    time.Time     // free dyno time counted until then (cfg.Now)
	usageFrac  time.Duration // counted, less than a second, not recorded
	quotaMonth string        // free dyno hours used up in that month
}

func (a *appState) poke() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// slot is the crash history of a formation dyno name.
type slot struct {
	key     string // what the crashes were of
	crashes int    // in a row
	retryAt time.Time
}

// desired is an app's desired state as read from the store.
type desired struct {
	deleted bool
	app     *bulut.App
	release *bulut.Release // current release, nil if none
	slug    *bulut.Slug    // the release's slug, nil if none
	types   []procType     // sorted by type
}

type procType struct {
	typ, command, size string
	quantity           int
}

// releaseUse counts the dynos of a release, so that its unpacked slug
// can be forgotten once no dyno uses it and it is no longer current.
type releaseUse struct {
	appID string
	n     int
}

// appLocked returns an app's state, making it (and its loop) if needed.
func (s *Scheduler) appLocked(appID string) *appState {
	if a := s.apps[appID]; a != nil {
		return a
	}
	a := &appState{id: appID, kick: make(chan struct{}, 1), dirty: true,
		slots: map[string]*slot{}, gens: map[string]int{}}
	a.active.Store(time.Now().UnixNano())
	s.apps[appID] = a
	s.activity.Store(appID, &a.active)
	s.loops.Add(1)
	go s.appLoop(a)
	return a
}

func (s *Scheduler) appLoop(a *appState) {
	defer s.loops.Done()
	select {
	case <-s.opened:
	case <-s.done:
		return
	}
	for {
		select {
		case <-s.done:
			return
		case <-a.kick:
		}
		if !s.converge(a) {
			return
		}
	}
}

// converge makes one pass of an app's loop: read the desired state if it
// may have changed, plan, publish the route, then start and stop dynos.
// It reports false once a deleted app has no dyno left (its loop ends).
func (s *Scheduler) converge(a *appState) bool {
	s.mu.Lock()
	dirty := a.dirty || a.desired == nil
	a.dirty = false
	s.mu.Unlock()
	if dirty {
		d, err := s.load(a.id)
		if err != nil {
			if s.ctx.Err() != nil {
				return false
			}
			s.log.Error("reading desired state", "app", a.id, "error", err)
			s.mu.Lock()
			a.dirty = true
			s.wakeLocked(a, time.Second)
			s.mu.Unlock()
			return true
		}
		s.mu.Lock()
		if a.asleep && !sameDesired(a.desired, d) {
			a.wakeReq = true // a deploy or a scaling wakes the app
		}
		a.desired = d
		forget := s.forgettableLocked(a)
		s.mu.Unlock()
		s.forget(forget)
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	if a.wakeReq {
		if a.asleep && a.quotaMonth == "" {
			s.unidleLocked(a)
		}
		a.wakeReq = false
	}
	starts, wake := s.planLocked(a, s.cfg.Now())
	freeze, idleWake := s.idleLocked(a, len(starts))
	if idleWake > 0 {
		wake = minWake(wake, idleWake)
	}
	route := a.routeLocked()
	publish := a.route == nil || !sameRoute(*a.route, route)
	if publish {
		a.route = &route
	}
	if wake > 0 {
		s.wakeLocked(a, wake)
	}
	var stops []*dyno
	for _, d := range a.dynos {
		if d.stopping && d.inst != nil && !d.stopSent {
			d.stopSent = true
			stops = append(stops, d)
		}
	}
	gone := a.desired.deleted && len(a.dynos) == 0 && !a.dirty
	if gone {
		delete(s.apps, a.id)
		s.activity.Delete(a.id)
		s.outputs.appGone(a.id)
	}
	s.mu.Unlock()

	// The route goes first: a web dyno leaves it before it is stopped.
	if publish && s.cfg.Routes != nil {
		s.cfg.Routes.SetRoute(route)
	}
	s.mu.Lock()
	a.releaseWakersLocked(*a.route)
	s.mu.Unlock()
	if len(freeze) > 0 {
		s.freeze(a, freeze)
	}
	for _, d := range stops {
		s.sendStop(d)
	}
	for _, d := range starts {
		s.procs.Add(1)
		go s.launch(d)
	}
	return !gone
}

// wakeLocked has the app's loop run again after d, unless it is due to
// run sooner already.
func (s *Scheduler) wakeLocked(a *appState, d time.Duration) {
	at := time.Now().Add(d)
	if !a.wakeAt.IsZero() && !a.wakeAt.After(at) {
		return
	}
	if a.wake != nil {
		a.wake.Stop()
	}
	a.wakeAt = at
	a.wake = time.AfterFunc(d, func() {
		s.mu.Lock()
		if a.wakeAt.Equal(at) {
			a.wakeAt = time.Time{}
		}
		s.mu.Unlock()
		a.poke()
	})
}

// load reads an app's desired state.
func (s *Scheduler) load(appID string) (*desired, error) {
	ctx := bulut.NewSystemContext(s.ctx)
	svc := s.cfg.Services
	app, err := svc.Apps.FindApp(ctx, appID)
	if bulut.ErrorCode(err) == bulut.ENOTFOUND {
		return &desired{deleted: true}, nil
	} else if err != nil {
		return nil, err
	}
	d := &desired{app: app}
	rel, err := currentRelease(ctx, svc.Releases, appID)
	if bulut.ErrorCode(err) == bulut.ENOTFOUND {
		return &desired{deleted: true}, nil
	} else if err != nil {
		return nil, err
	}
	d.release = rel
	if rel == nil || rel.SlugID == "" {
		return d, nil
	}
	d.slug, err = svc.Slugs.FindSlug(ctx, appID, rel.SlugID)
	if err != nil {
		return nil, err
	}
	formation, err := svc.Formations.FindFormation(ctx, appID)
	if bulut.ErrorCode(err) == bulut.ENOTFOUND {
		return &desired{deleted: true}, nil
	} else if err != nil {
		return nil, err
	}
	for _, f := range formation {
		size := strings.ToLower(f.Size)
		if _, ok := bulut.Sizes[size]; !ok {
			size = bulut.SizeFree
		}
		// Commands come from the release's own slug: the formation's
		// may already be of a newer release (a Reconcile follows).
		d.types = append(d.types, procType{typ: f.Type, command: d.slug.ProcessTypes[f.Type], size: size, quantity: f.Quantity})
	}
	sort.Slice(d.types, func(i, j int) bool { return d.types[i].typ < d.types[j].typ })
	return d, nil
}

// currentRelease returns an app's current release, nil if it has none.
func currentRelease(ctx context.Context, releases bulut.ReleaseService, appID string) (*bulut.Release, error) {
	rs, _, err := releases.FindReleases(ctx, appID, bulut.ListRange{Field: "version", Max: 20, Desc: true})
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Current {
			return r, nil
		}
	}
	for _, r := range rs {
		if r.Status == bulut.ReleaseSucceeded {
			return r, nil
		}
	}
	return nil, nil
}

// dynoKey says what a formation dyno runs: dynos of a name with another
// key are replaced.
func dynoKey(releaseID, command, size string, gen int) string {
	return releaseID + "\x00" + command + "\x00" + size + "\x00" + strconv.Itoa(gen)
}

// planLocked decides what to start and stop so that the app converges:
// it returns the new dynos to launch (already in a.dynos) and marks
// dynos to stop; wake is when a crashed dyno is due for a restart (0:
// none).
func (s *Scheduler) planLocked(a *appState, now time.Time) (starts []*dyno, wake time.Duration) {
	D := a.desired
	type spec struct {
		procType
		index int
		key   string
	}
	want := map[string]spec{}
	var names, webs []string
	if !D.deleted && D.release != nil && D.slug != nil {
		for _, p := range D.types {
			if p.command == "" {
				continue
			}
			for i := 1; i <= p.quantity; i++ {
				name := p.typ + "." + strconv.Itoa(i)
				want[name] = spec{procType: p, index: i, key: dynoKey(D.release.ID, p.command, p.size, a.gens[name])}
				names = append(names, name)
				if p.typ == "web" {
					webs = append(webs, name)
				}
			}
		}
	}
	a.want = make(map[string]string, len(want))
	for name, w := range want {
		a.want[name] = w.key
	}
	a.webs = webs

	// Sort what runs: dynos of the desired key are current; the others
	// go, except old web dynos that serve until the rollout completes.
	current := map[string]*dyno{}
	for _, d := range slices.Clone(a.dynos) {
		if d.stopping {
			continue
		}
		if d.oneOff {
			if D.deleted {
				s.retireLocked(d, false)
			}
			continue
		}
		w, ok := want[d.Name]
		switch {
		case ok && d.key == w.key:
			if prev := current[d.Name]; prev != nil { // never expected: keep the newest
				s.retireLocked(prev, prev.State == bulut.DynoUp && prev.Type == "web")
			}
			current[d.Name] = d
		case !ok: // scaled down, type removed, app deleted
			s.retireLocked(d, d.Type == "web" && d.State == bulut.DynoUp)
		case d.Type != "web" || d.State != bulut.DynoUp:
			// An old dyno that doesn't serve: replaced at once, as
			// Heroku starts new dynos when old ones get SIGTERM.
			s.retireLocked(d, false)
		}
	}

	// Start what is missing; restart crashed dynos when their cool-off
	// is over. Not in deep sleep: they were stopped on purpose.
	if a.asleep && a.deep {
		names = nil
	}
	for _, name := range names {
		w := want[name]
		d := current[name]
		sl := a.slots[name]
		switch {
		case d == nil:
			// A new dyno: a new release, a restart, a scale-up or a
			// ps:stop. The crash backoff starts over.
			delete(a.slots, name)
			restarting := false // a dyno of this name runs something else
			for _, o := range a.dynos {
				restarting = restarting || (o.Name == name && !o.oneOff && o.key != w.key && o.State == bulut.DynoUp)
			}
			nd, err := s.newFormationDynoLocked(a, w.procType, w.index, w.key)
			if err != nil {
				s.log.Error("new dyno", "app", a.id, "dyno", name, "error", err)
				wake = minWake(wake, time.Second)
				continue
			}
			if restarting {
				s.line(nd, "Restarting")
			}
			starts = append(starts, nd)
		case d.State == bulut.DynoCrashed:
			if sl != nil && now.Before(sl.retryAt) {
				wake = minWake(wake, sl.retryAt.Sub(now))
				continue
			}
			nd, err := s.newFormationDynoLocked(a, w.procType, w.index, w.key)
			if err != nil {
				s.log.Error("new dyno", "app", a.id, "dyno", name, "error", err)
				wake = minWake(wake, time.Second)
				continue
			}
			s.removeDyno(d, d.exit)
			s.line(nd, "State changed from crashed to starting")
			starts = append(starts, nd)
		}
	}

	// The rollout of web dynos completes once every desired web dyno of
	// the desired key is up: the old ones leave the route and stop.
	if a.webRolloutCompleteLocked() {
		for _, d := range slices.Clone(a.dynos) {
			if !d.oneOff && d.Type == "web" && !d.stopping && a.want[d.Name] != d.key {
				s.retireLocked(d, d.State == bulut.DynoUp)
			}
		}
	}
	return starts, wake
}

func minWake(w, d time.Duration) time.Duration {
	if d <= 0 {
		d = time.Millisecond
	}
	if w == 0 || d < w {
		return d
	}
	return w
}

// webRolloutCompleteLocked reports whether every desired web dyno has an
// up dyno of the desired key.
func (a *appState) webRolloutCompleteLocked() bool {
	for _, name := range a.webs {
		up := false
		for _, d := range a.dynos {
			up = up || (d.Name == name && !d.oneOff && !d.stopping && d.key == a.want[name] && d.State == bulut.DynoUp)
		}
		if !up {
			return false
		}
	}
	return true
}

// routeLocked computes the app's route: the up web dynos of the desired
// key once they are all up; until then (a rollout) the old ones that
// still serve, if any.
func (a *appState) routeLocked() bulut.Route {
	r := bulut.Route{AppID: a.id}
	type backend struct{ addr, dyno string }
	var cur, old []backend
	webs, crashed := 0, 0
	for _, d := range a.dynos {
		if d.oneOff || d.Type != "web" || d.stopping {
			continue
		}
		webs++
		if d.State == bulut.DynoCrashed {
			crashed++
		}
		if d.State != bulut.DynoUp || d.port == 0 {
			continue
		}
		b := backend{"127.0.0.1:" + strconv.Itoa(d.port), d.Name}
		if a.want[d.Name] == d.key {
			cur = append(cur, b)
		} else {
			old = append(old, b)
		}
	}
	serving := cur
	if !a.webRolloutCompleteLocked() && len(old) > 0 {
		serving = old
	}
	sort.Slice(serving, func(i, j int) bool { return serving[i].addr < serving[j].addr })
	for _, b := range serving {
		r.Backends = append(r.Backends, b.addr)
		r.Dynos = append(r.Dynos, b.dyno)
	}
	r.Crashed = webs > 0 && crashed == webs
	// Waking from a deep sleep, the route stays asleep (requests wait in
	// Wake) until a web dyno is up.
	r.Asleep = a.asleep || (a.waking && len(r.Backends) == 0 && !r.Crashed)
	r.QuotaExceeded = a.quotaMonth != ""
	return r
}

func sameRoute(a, b bulut.Route) bool {
	return a.AppID == b.AppID && a.Crashed == b.Crashed && a.Asleep == b.Asleep && a.QuotaExceeded == b.QuotaExceeded && slices.Equal(a.Backends, b.Backends)
}

// retireLocked marks a dyno to be stopped (the app's loop sends the stop
// after publishing the route); a dyno with no process left is dropped at
// once. drain keeps an up web dyno running for DrainDelay after it left
// the route.
func (s *Scheduler) retireLocked(d *dyno, drain bool) {
	if d.stopping {
		return
	}
	d.stopping, d.drain = true, drain
	switch {
	case d.State == bulut.DynoCrashed:
		s.removeDyno(d, d.exit)
	case !d.launched: // an attached one-off never attached
		s.removeDyno(d, runtime.Exit{})
	}
}

// forgettableLocked returns the releases of an app that no dyno uses and
// that are no longer current, and forgets them.
func (s *Scheduler) forgettableLocked(a *appState) []string {
	var out []string
	for id, u := range s.releases {
		if u.appID == a.id && u.n == 0 && !a.isCurrentRelease(id) {
			delete(s.releases, id)
			out = append(out, id)
		}
	}
	return out
}

func (a *appState) isCurrentRelease(id string) bool {
	return a.desired != nil && a.desired.release != nil && a.desired.release.ID == id
}

// forget drops releases' unpacked slugs.
func (s *Scheduler) forget(ids []string) {
	for _, id := range ids {
		if err := s.cfg.Runtime.Forget(id); err != nil {
			s.log.Warn("forget release", "release", id, "error", err)
		}
	}
}
