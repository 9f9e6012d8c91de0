package scheduler

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
)

// Sleeping (heroku-reference section 3, in two tiers): an app whose web
// dynos are all free sleeps after Timings.IdleTimeout without a request.
// Its formation dynos (workers too) are frozen (runtime.Freezer) and shown
// idle, and its route says Asleep. After Timings.DeepSleepAfter asleep,
// the frozen dynos are stopped to free their memory. The next request
// wakes the app (Wake): frozen dynos are thawed and routed at once;
// stopped ones are started again and routed once up.

var _ bulut.Waker = (*Scheduler)(nil)

// Touch implements bulut.Waker: a request for the app resets its idle
// timer.
func (s *Scheduler) Touch(appID string) {
	if v, ok := s.activity.Load(appID); ok {
		v.(*atomic.Int64).Store(time.Now().UnixNano())
	}
}

// Wake implements bulut.Waker: it wakes a sleeping app and returns once
// its route is published with up web dynos (or crashed).
func (s *Scheduler) Wake(ctx context.Context, appID string) error {
	s.Touch(appID)
	s.mu.Lock()
	a := s.apps[appID]
	if s.closed || a == nil || (!a.asleep && !a.waking) || a.quotaMonth != "" {
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	a.wakers = append(a.wakers, ch)
	a.wakeReq = true
	s.mu.Unlock()
	a.poke()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return nil
	}
}

// lastActive is when the app last had a request.
func (a *appState) lastActive() time.Time {
	return time.Unix(0, a.active.Load())
}

// sleepyLocked reports whether the app sleeps when idle: it has web
// dynos and they are all free.
func (s *Scheduler) sleepyLocked(a *appState) bool {
	if (s.t.IdleTimeout <= 0 && a.quotaMonth == "") || a.desired == nil || a.desired.deleted || a.desired.release == nil {
		return false
	}
	webs := 0
	for _, p := range a.desired.types {
		if p.typ == "web" && p.quantity > 0 && p.command != "" {
			if p.size != bulut.SizeFree {
				return false
			}
			webs += p.quantity
		}
	}
	return webs > 0
}

// sameDesired reports whether two desired states run the same dynos.
func sameDesired(a, b *desired) bool {
	if a == nil || b == nil || a.deleted != b.deleted || (a.release == nil) != (b.release == nil) {
		return false
	}
	if a.release != nil && a.release.ID != b.release.ID {
		return false
	}
	return slices.Equal(a.types, b.types)
}

// unidleLocked wakes a sleeping app: its idle dynos are thawed and up
// again (before the route is published); stopped ones are started again
// by the plan.
func (s *Scheduler) unidleLocked(a *appState) {
	a.asleep, a.wakeReq, a.waking = false, false, true
	a.active.Store(time.Now().UnixNano())
	for _, d := range a.dynos {
		if d.State != bulut.DynoIdle || d.stopping {
			continue
		}
		if f, ok := d.inst.(runtime.Freezer); ok {
			if err := f.Thaw(); err != nil {
				s.log.Error("thaw dyno", "app", a.id, "dyno", d.Name, "error", err)
			}
		}
		s.line(d, "Unidling")
		s.setStateLocked(d, bulut.DynoUp)
	}
	a.sleepers = nil
	if a.deep {
		if s.cfg.Logs != nil {
			s.cfg.Logs.Log(a.id, bulut.LogLine{Source: bulut.SourcePlatform, Process: "web.1", Text: "Unidling"})
		}
		a.deep = false
	}
}

// idleLocked puts an app to sleep if it is due, or deepens its sleep; it
// returns the dynos to freeze (after the route says Asleep) and when the
// app's loop must look again (0: no need).
func (s *Scheduler) idleLocked(a *appState, starts int) (freeze []*dyno, wake time.Duration) {
	now := time.Now()
	if a.asleep {
		if a.deep || s.t.DeepSleepAfter < 0 {
			return nil, 0
		}
		if left := a.sleptAt.Add(s.t.DeepSleepAfter).Sub(now); left > 0 {
			return nil, left
		}
		a.deep = true
		for _, d := range slices.Clone(a.dynos) {
			if !d.oneOff && d.State == bulut.DynoIdle && !d.stopping {
				a.sleepers = append(a.sleepers, d.Dyno)
				s.retireLocked(d, false)
			}
		}
		return nil, 0
	}
	if !s.sleepyLocked(a) || starts > 0 || !a.webRolloutCompleteLocked() {
		return nil, 0
	}
	if left := a.lastActive().Add(s.t.IdleTimeout).Sub(now); left > 0 && a.quotaMonth == "" {
		return nil, left
	}
	var formation []*dyno
	for _, d := range a.dynos {
		if d.oneOff {
			continue
		}
		if d.stopping || d.State != bulut.DynoUp || d.inst == nil {
			return nil, time.Second // not settled: look again soon
		}
		formation = append(formation, d)
	}
	a.asleep, a.sleptAt = true, now
	for _, d := range formation {
		s.line(d, "Idling")
		s.setStateLocked(d, bulut.DynoIdle)
	}
	if s.t.DeepSleepAfter >= 0 {
		wake = max(s.t.DeepSleepAfter, time.Millisecond)
	}
	return formation, wake
}

// freeze freezes the dynos of an app that fell asleep; a dyno that can't
// be frozen is stopped (as in deep sleep).
func (s *Scheduler) freeze(a *appState, ds []*dyno) {
	failed := false
	for _, d := range ds {
		f, ok := d.inst.(runtime.Freezer)
		var err error
		if ok {
			err = f.Freeze()
		}
		if !ok || err != nil {
			if err != nil {
				s.log.Warn("freeze dyno", "app", a.id, "dyno", d.Name, "error", err)
			}
			failed = true
		}
	}
	if failed {
		s.mu.Lock()
		if a.asleep && !a.deep {
			a.sleptAt = time.Now().Add(-s.t.DeepSleepAfter - time.Second) // deep at once
			if s.t.DeepSleepAfter < 0 {
				a.sleptAt = time.Time{}
			}
		}
		s.mu.Unlock()
		a.poke()
	}
}

// releaseWakersLocked lets Wake return once the app's route serves again.
func (a *appState) releaseWakersLocked(r bulut.Route) {
	if !a.waking || a.asleep {
		return
	}
	gone := a.desired == nil || a.desired.deleted || a.desired.release == nil
	if len(r.Backends) > 0 || r.Crashed || gone {
		a.waking = false
		for _, ch := range a.wakers {
			close(ch)
		}
		a.wakers = nil
	}
}

// sleepersLocked returns the dynos to list for an app in deep sleep: its
// stopped formation dynos, idle as they were when frozen (name, command,
// size, release and when they went idle), in place of the dynos being
// stopped; one-offs and anything else as they are. Heroku lists a
// sleeping app's dynos as idle whatever happened to their processes.
func (a *appState) sleepersLocked() (sleepers []bulut.Dyno, hidden func(*dyno) bool) {
	if !a.asleep || !a.deep || len(a.sleepers) == 0 {
		return nil, func(*dyno) bool { return false }
	}
	return a.sleepers, func(d *dyno) bool {
		return !d.oneOff && d.stopping && slices.ContainsFunc(a.sleepers, func(o bulut.Dyno) bool { return o.Name == d.Name })
	}
}

// sleeperLocked finds a dyno of an app in deep sleep by ID or name (nil:
// none).
func (a *appState) sleeperLocked(idOrName string) *bulut.Dyno {
	sleepers, _ := a.sleepersLocked()
	for i := range sleepers {
		if idOrName != "" && (sleepers[i].ID == idOrName || sleepers[i].Name == idOrName) {
			return &sleepers[i]
		}
	}
	return nil
}
