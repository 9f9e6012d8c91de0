package scheduler

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
)

// errClosed is returned for one-off dynos asked for while the scheduler
// is not running.
var errClosed = errors.New("scheduler: not running")

// FindDynos implements bulut.DynoService.
func (s *Scheduler) FindDynos(ctx context.Context, appRef string) ([]*bulut.Dyno, error) {
	app, err := s.cfg.Services.Apps.FindApp(ctx, appRef)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var out []*bulut.Dyno
	if a := s.apps[app.ID]; a != nil {
		sleepers, hidden := a.sleepersLocked()
		for _, d := range a.dynos {
			if !hidden(d) {
				out = append(out, snapshot(d, app))
			}
		}
		for _, d := range sleepers {
			d.AppName = app.Name
			out = append(out, &d)
		}
	}
	s.mu.Unlock()
	if out == nil {
		out = []*bulut.Dyno{}
	}
	slices.SortStableFunc(out, compareDynos)
	return out, nil
}

// compareDynos orders dynos by type, number (web.2 before web.10) and age.
func compareDynos(a, b *bulut.Dyno) int {
	at, an, _ := strings.Cut(a.Name, ".")
	bt, bn, _ := strings.Cut(b.Name, ".")
	ai, _ := strconv.Atoi(an)
	bi, _ := strconv.Atoi(bn)
	return cmp.Or(cmp.Compare(at, bt), cmp.Compare(ai, bi), cmp.Compare(a.Name, b.Name), a.CreatedAt.Compare(b.CreatedAt))
}

// snapshot copies a dyno for callers. Locked.
func snapshot(d *dyno, app *bulut.App) *bulut.Dyno {
	c := d.Dyno
	c.AppName = app.Name
	if d.attachPending {
		c.AttachURL = "" // the API builds it from the ID
	}
	return &c
}

// FindDyno implements bulut.DynoService.
func (s *Scheduler) FindDyno(ctx context.Context, appRef, idOrName string) (*bulut.Dyno, error) {
	app, err := s.cfg.Services.Apps.FindApp(ctx, appRef)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[app.ID]; a != nil {
		if sl := a.sleeperLocked(idOrName); sl != nil {
			c := *sl
			c.AppName = app.Name
			return &c, nil
		}
	}
	d := s.findLocked(app.ID, idOrName)
	if d == nil {
		return nil, bulut.NotFound("dyno")
	}
	return snapshot(d, app), nil
}

// findLocked finds an app's dyno by ID or name; of two dynos with a name
// (a rollout), the one not being stopped, then the newest.
func (s *Scheduler) findLocked(appID, idOrName string) *dyno {
	a := s.apps[appID]
	if a == nil || idOrName == "" {
		return nil
	}
	var best *dyno
	for _, d := range a.dynos {
		if d.ID == idOrName {
			return d
		}
		if d.Name != idOrName {
			continue
		}
		if best == nil || (best.stopping && !d.stopping) || (best.stopping == d.stopping && !d.CreatedAt.Before(best.CreatedAt)) {
			best = d
		}
	}
	return best
}

// RestartDynos implements bulut.DynoService: target "" restarts every
// formation dyno, a process type its dynos, a name or ID one dyno (a
// one-off is stopped: they are never restarted).
func (s *Scheduler) RestartDynos(ctx context.Context, appRef, target string) error {
	app, err := s.cfg.Services.Apps.FindApp(ctx, appRef)
	if err != nil {
		return err
	}
	isType := target != "" && !strings.Contains(target, ".") && !bulut.IsID(target)
	quantity := 0
	if isType {
		formation, err := s.cfg.Services.Formations.FindFormation(ctx, app.ID)
		if err != nil {
			return err
		}
		found := false
		for _, f := range formation {
			if f.Type == target {
				found, quantity = true, f.Quantity
			}
		}
		if !found {
			return &bulut.Error{Code: bulut.ENOTFOUND, Resource: "formation", Message: "Couldn't find that process type (" + target + ")."}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	a := s.appLocked(app.ID)
	bump := func(name string) {
		a.nextGen++
		a.gens[name] = a.nextGen
	}
	switch {
	case target == "":
		names := map[string]bool{}
		for name := range a.want {
			names[name] = true
		}
		for _, d := range a.dynos {
			names[d.Name] = names[d.Name] || !d.oneOff
		}
		for name, ok := range names {
			if ok {
				bump(name)
			}
		}
	case isType:
		names := map[string]bool{}
		for i := 1; i <= quantity; i++ {
			names[target+"."+strconv.Itoa(i)] = true
		}
		for _, d := range a.dynos {
			if d.Type == target && !d.oneOff {
				names[d.Name] = true
			}
		}
		for name := range names {
			bump(name)
		}
	default:
		d := s.findLocked(app.ID, target)
		if sl := a.sleeperLocked(target); sl != nil && (d == nil || d.stopping) {
			bump(sl.Name) // stopped by a deep sleep: restarts when the app wakes
			break
		}
		if d == nil {
			return bulut.NotFound("dyno")
		}
		if d.oneOff {
			s.retireLocked(d, false)
		} else {
			bump(d.Name)
		}
	}
	a.poke()
	return nil
}

// StopDyno implements bulut.DynoService.
func (s *Scheduler) StopDyno(ctx context.Context, appRef, idOrName string) error {
	app, err := s.cfg.Services.Apps.FindApp(ctx, appRef)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.findLocked(app.ID, idOrName)
	if a := s.apps[app.ID]; a != nil && a.sleeperLocked(idOrName) != nil && (d == nil || d.stopping) {
		return nil // stopped already by a deep sleep
	}
	if d == nil {
		return bulut.NotFound("dyno")
	}
	s.retireLocked(d, !d.oneOff && d.Type == "web" && d.State == bulut.DynoUp)
	d.app.poke()
	return nil
}

var dynoTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,29}$`)

// RunDyno implements bulut.DynoService. If the command's first word is a
// process type of the release, its command is run with the other words
// appended (`run worker 42`), as Heroku does.
func (s *Scheduler) RunDyno(ctx context.Context, appRef string, r bulut.DynoRun) (*bulut.Dyno, error) {
	app, err := s.cfg.Services.Apps.FindApp(ctx, appRef)
	if err != nil {
		return nil, err
	}
	command := strings.TrimSpace(r.Command)
	if command == "" {
		return nil, bulut.Errorf(bulut.EINVALID, "Command is required.")
	}
	typ := cmp.Or(r.Type, "run")
	if !dynoTypePattern.MatchString(typ) {
		return nil, bulut.Errorf(bulut.EINVALID, "Invalid dyno type %q.", r.Type)
	}
	sys := bulut.NewSystemContext(ctx)
	svc := s.cfg.Services
	rel, err := currentRelease(sys, svc.Releases, app.ID)
	if err != nil {
		return nil, err
	}
	if rel == nil {
		return nil, bulut.Errorf(bulut.EINVALID, "%s has no release to run.", app.Name)
	}
	if rel.SlugID != "" {
		slug, err := svc.Slugs.FindSlug(sys, app.ID, rel.SlugID)
		if err != nil {
			return nil, err
		}
		first, rest, _ := strings.Cut(command, " ")
		if pc, ok := slug.ProcessTypes[first]; ok && pc != "" {
			command = strings.TrimSpace(pc + " " + rest)
		}
	}
	size := strings.ToLower(r.Size)
	if size == "" {
		size = bulut.SizeFree
		formation, err := svc.Formations.FindFormation(sys, app.ID)
		if err != nil {
			return nil, err
		}
		for _, f := range formation {
			if f.Type == "web" && f.Size != "" {
				size = f.Size
			}
		}
	}
	if _, ok := bulut.Sizes[size]; !ok {
		return nil, bulut.Errorf(bulut.EINVALID, "No such dyno size %q: use free, basic, standard-1x, standard-2x or performance-m.", r.Size)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.isOpen || s.closed {
		return nil, errClosed
	}
	a := s.appLocked(app.ID)
	name := ""
	for name == "" || slices.ContainsFunc(a.dynos, func(d *dyno) bool { return d.Name == name }) {
		name = typ + "." + strconv.Itoa(1000+rand.IntN(9000))
	}
	d := s.newDynoLocked(a, name, typ, command, size, rel, 0, r.Env, true)
	d.AppName = app.Name
	if r.Attach {
		d.attachPending = true
		d.attachTimer = time.AfterFunc(s.t.AttachTimeout, func() { s.attachTimeout(d) })
	} else {
		d.launched = true
		s.procs.Add(1)
		go s.launch(d)
	}
	return snapshot(d, app), nil
}

// attachTimeout drops a one-off nobody attached to (R13).
func (s *Scheduler) attachTimeout(d *dyno) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !d.attachPending || d.removed {
		return
	}
	d.attachPending = false
	s.line(d, "Error R13 (Attach error) -> Failed to attach to process")
	d.stopping = true
	s.removeDyno(d, runtime.Exit{Code: -1})
}

// AttachDyno implements bulut.DynoService. The dyno ID is the
// credential (the API hands it out in a signed URL): the context's
// account is not checked.
func (s *Scheduler) AttachDyno(ctx context.Context, dynoID string, io bulut.DynoIO) (int, error) {
	s.mu.Lock()
	d := s.byID[dynoID]
	if d == nil || !d.oneOff || !d.attachPending || s.closed {
		s.mu.Unlock()
		return -1, bulut.NotFound("dyno")
	}
	d.attachPending = false
	d.attachTimer.Stop()
	d.launched = true
	d.spec.IO = &io
	s.procs.Add(1)
	s.mu.Unlock()
	go s.launch(d)

	select {
	case <-d.ended:
	case <-ctx.Done():
		s.mu.Lock()
		s.retireLocked(d, false)
		stop := d.inst != nil && !d.stopSent
		if stop {
			d.stopSent = true
		}
		s.mu.Unlock()
		if stop {
			s.sendStop(d)
		}
		<-d.ended
	}
	s.mu.Lock()
	exit := d.exit
	s.mu.Unlock()
	if exit.Err != nil {
		return -1, exit.Err
	}
	return exitStatus(exit), nil
}

// Output returns the recent output of an app's dyno (app by ID or name,
// dyno by ID or name): the last lines of every dyno that had the name
// (restarts included), as `heroku logs --dyno web.1` shows them: the
// app's lines (`app[web.1]: ...`) and the dyno manager's
// (`bulut[web.1]: ...`). Lines are kept after dynos end. Until the logs
// issue routes them to the app's log stream, this is for tests.
func (s *Scheduler) Output(app, dyno string) []string {
	s.mu.Lock()
	r := s.outputs.findLocked(app, dyno, s.apps)
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.snapshot()
}

// outputs keeps the rings of dynos' output, by app and dyno name, and
// remembers which ring a dyno ID wrote to. Guarded by Scheduler.mu.
type outputs struct {
	apps  map[string]*appOutputs
	ids   map[string]outputRef
	order []string // dyno IDs, oldest first
	dead  []string // deleted apps, oldest first
}

type appOutputs struct {
	byName  map[string]*ring
	oneOffs []string // names, oldest first
	name    string   // the app's name, if known
}

type outputRef struct{ appID, name string }

// Bounds of the output kept.
const (
	maxOneOffOutputs = 50    // one-off names per app
	maxOutputIDs     = 10000 // dyno IDs remembered
	maxDeadApps      = 50    // deleted apps whose output is kept
)

func (o *outputs) ringLocked(appID, name, id string, oneOff bool) *ring {
	ao := o.apps[appID]
	if ao == nil {
		ao = &appOutputs{byName: map[string]*ring{}}
		o.apps[appID] = ao
	}
	r := ao.byName[name]
	if r == nil {
		r = &ring{}
		ao.byName[name] = r
		if oneOff {
			ao.oneOffs = append(ao.oneOffs, name)
			if len(ao.oneOffs) > maxOneOffOutputs {
				delete(ao.byName, ao.oneOffs[0])
				ao.oneOffs = ao.oneOffs[1:]
			}
		}
	}
	o.ids[id] = outputRef{appID, name}
	o.order = append(o.order, id)
	if len(o.order) > maxOutputIDs {
		delete(o.ids, o.order[0])
		o.order = o.order[1:]
	}
	return r
}

// appGone notes that an app was deleted: its output is kept a while.
func (o *outputs) appGone(appID string) {
	if o.apps[appID] == nil || slices.Contains(o.dead, appID) {
		return
	}
	o.dead = append(o.dead, appID)
	if len(o.dead) > maxDeadApps {
		delete(o.apps, o.dead[0])
		o.dead = o.dead[1:]
	}
}

func (o *outputs) findLocked(app, dyno string, apps map[string]*appState) *ring {
	appID := app
	if o.apps[appID] == nil {
		for id, a := range apps {
			if a.desired != nil && a.desired.app != nil && a.desired.app.Name == app {
				appID = id
			}
		}
	}
	ao := o.apps[appID]
	if ao == nil {
		return nil
	}
	if ref, ok := o.ids[dyno]; ok && ref.appID == appID {
		return ao.byName[ref.name]
	}
	return ao.byName[dyno]
}
