package scheduler

import (
	"cmp"
	"io"
	"slices"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/promtext"
)

// dynoStates are the states bulut_dynos reports, each (zero included)
// for every process type of every app, so a series never vanishes
// while its app runs.
var dynoStates = []string{bulut.DynoStarting, bulut.DynoUp, bulut.DynoIdle, bulut.DynoCrashed, stateStopping}

// stateStopping is, in the metrics only, a dyno the scheduler is ending
// (draining, SIGTERM sent): bulut ps still shows its last state.
const stateStopping = "stopping"

// WriteMetrics writes the scheduler's metrics in the Prometheus text
// format: bulut_dynos, the dynos of each app by process type and state.
// The dynos are those bulut ps lists (idle: those of sleeping apps,
// frozen or stopped by a deep sleep), except that dynos being stopped
// count as stopping.
func (s *Scheduler) WriteMetrics(w io.Writer) {
	type key struct{ app, typ, state string }
	counts := map[key]int{}
	types := map[[2]string]bool{} // app, type
	s.mu.Lock()
	for _, a := range s.apps {
		name := a.nameLocked()
		if a.desired != nil && !a.desired.deleted && a.desired.release != nil {
			for _, p := range a.desired.types {
				if p.command != "" {
					types[[2]string{name, p.typ}] = true
				}
			}
		}
		sleepers, hidden := a.sleepersLocked()
		for _, d := range a.dynos {
			if hidden(d) {
				continue
			}
			state := d.State
			if d.stopping {
				state = stateStopping
			}
			types[[2]string{name, d.Type}] = true
			counts[key{name, d.Type, state}]++
		}
		for _, d := range sleepers {
			types[[2]string{name, d.Type}] = true
			counts[key{name, d.Type, bulut.DynoIdle}]++
		}
	}
	s.mu.Unlock()

	all := make([][2]string, 0, len(types))
	for t := range types {
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	promtext.Family(w, "bulut_dynos", "gauge", "Dynos by app, process type and state (idle: asleep, frozen or stopped; stopping: being stopped).")
	for _, t := range all {
		for _, state := range dynoStates {
			n := counts[key{t[0], t[1], state}]
			promtext.Sample(w, "bulut_dynos", promtext.Labels("app", t[0], "type", t[1], "state", state), float64(n))
		}
	}
}

// nameLocked is the app's name as the scheduler last read it.
func (a *appState) nameLocked() string {
	if a.desired != nil && a.desired.app != nil {
		return a.desired.app.Name
	}
	for _, d := range a.dynos {
		if d.AppName != "" {
			return d.AppName
		}
	}
	return a.id
}

// Starting reports whether an app's web dynos are booting: it has web
// dynos of its current release starting and no web dyno up. The router
// then holds the app's requests until one is up (H20 after its
// BootTimeout) instead of answering H14 at once.
func (s *Scheduler) Starting(appID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[appID]
	if a == nil {
		return false
	}
	starting := false
	for _, d := range a.dynos {
		if d.oneOff || d.Type != "web" || d.stopping {
			continue
		}
		switch {
		case d.State == bulut.DynoUp:
			return false
		case d.State == bulut.DynoStarting && a.want[d.Name] == d.key:
			starting = true
		}
	}
	return starting
}
