package scheduler

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
	"github.com/bulut-bulut/bulut/internal/runtime"
)

// dyno is one start of a dyno: a formation dyno (web.1) or a one-off
// (run.4821). A restart makes a new dyno with the same name and a new ID.
// Fields are guarded by Scheduler.mu unless said otherwise.
type dyno struct {
	bulut.Dyno
	app    *appState
	key    string // formation dynos: what they run (see dynoKey)
	index  int    // web.3 -> 3
	oneOff bool
	port   int // web dynos' $PORT; 0 once given back

	spec runtime.Spec // set when made; IO set by AttachDyno before launch
	out  *ring        // the name's output (own lock)
	lw   *lineWriter  // the app's output, when not attached

	launched  bool // launch began (a one-off waiting to attach has not)
	inst      runtime.Instance
	startedAt time.Time
	stopping  bool // the scheduler ends it on purpose: not a crash
	drain     bool // wait DrainDelay between leaving the route and SIGTERM
	stopSent  bool // Stop was or is about to be called
	stopAt    time.Time
	killed    string // "R10", "R15": killed by the scheduler, a crash
	exit      runtime.Exit
	removed   bool
	ended     chan struct{} // closed once removed; exit is valid then

	attachPending bool // a one-off made with Attach, not attached yet
	attachTimer   *time.Timer
}

// Paths and variables every dyno has.
const (
	dynoHome = "/app"
	dynoPath = "/usr/local/bin:/usr/bin:/bin"
)

// dynoEnv is a dyno's whole environment: HOME and PATH (config vars may
// change PATH), the release's config vars, extra (a one-off's TERM,
// COLUMNS, LINES), then DYNO and, for web dynos, PORT.
func dynoEnv(rel *bulut.Release, extra map[string]string, name string, port int) []string {
	env := map[string]string{"PATH": dynoPath}
	maps.Copy(env, rel.ConfigVars)
	maps.Copy(env, extra)
	env["HOME"] = dynoHome
	env["DYNO"] = name
	if port > 0 {
		env["PORT"] = strconv.Itoa(port)
	} else {
		delete(env, "PORT")
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// newDynoLocked records a new dyno of a release in state starting.
func (s *Scheduler) newDynoLocked(a *appState, name, typ, command, size string, rel *bulut.Release, port int, extra map[string]string, oneOff bool) *dyno {
	now := s.cfg.Now()
	d := &dyno{
		Dyno: bulut.Dyno{ID: bulut.NewID(), AppID: a.id, Name: name, Type: typ, Command: command, Size: size,
			State: bulut.DynoStarting, ReleaseID: rel.ID, ReleaseVersion: rel.Version, CreatedAt: now, UpdatedAt: now},
		app: a, port: port, oneOff: oneOff, ended: make(chan struct{}),
	}
	if a.desired != nil && a.desired.app != nil {
		d.AppName = a.desired.app.Name
	}
	slugKey := ""
	if rel.SlugID != "" {
		slugKey = bulut.SlugBlobKey(rel.SlugID)
	}
	d.spec = runtime.Spec{ID: d.ID, Name: name, AppID: a.id, Release: rel.ID, SlugKey: slugKey, Command: command,
		Env: dynoEnv(rel, extra, name, port), Port: port, Memory: int64(bulut.Sizes[size]) << 20}
	d.out = s.outputs.ringLocked(a.id, name, d.ID, oneOff)
	a.dynos = append(a.dynos, d)
	s.byID[d.ID] = d
	u := s.releases[rel.ID]
	if u == nil {
		u = &releaseUse{appID: a.id}
		s.releases[rel.ID] = u
	}
	u.n++
	return d
}

// newFormationDynoLocked records a new dyno of a process type of the
// app's desired release, with a port for web dynos.
func (s *Scheduler) newFormationDynoLocked(a *appState, p procType, index int, key string) (*dyno, error) {
	port := 0
	if p.typ == "web" {
		var err error
		if port, err = s.ports.get(); err != nil {
			return nil, err
		}
	}
	d := s.newDynoLocked(a, p.typ+"."+strconv.Itoa(index), p.typ, p.command, p.size, a.desired.release, port, nil, false)
	d.key, d.index, d.launched = key, index, true
	return d, nil
}

// removeDyno forgets a dyno that ended (or never ran): it leaves its
// app's list and gives back its port and its hold on its release.
func (s *Scheduler) removeDyno(d *dyno, exit runtime.Exit) {
	if d.removed {
		return
	}
	d.removed = true
	d.exit = exit
	if d.attachTimer != nil {
		d.attachTimer.Stop()
	}
	a := d.app
	a.dynos = slices.DeleteFunc(a.dynos, func(o *dyno) bool { return o == d })
	delete(s.byID, d.ID)
	s.ports.put(d.port)
	d.port = 0
	if u := s.releases[d.ReleaseID]; u != nil {
		u.n--
		if u.n <= 0 && !a.isCurrentRelease(d.ReleaseID) {
			delete(s.releases, d.ReleaseID)
			go s.forget([]string{d.ReleaseID})
		}
	}
	close(d.ended)
}

// line records a line of the dyno manager in the dyno's output, as
// Heroku's `heroku[web.1]: ...` lines.
func (s *Scheduler) line(d *dyno, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	d.out.add("bulut[" + d.Name + "]: " + text)
	if s.cfg.Logs != nil {
		s.cfg.Logs.Log(d.AppID, bulut.LogLine{Source: bulut.SourcePlatform, Process: d.Name, Text: text})
	}
}

// setStateLocked changes a dyno's state and says so.
func (s *Scheduler) setStateLocked(d *dyno, state string) {
	from := d.State
	d.State, d.UpdatedAt = state, s.cfg.Now()
	s.line(d, "State changed from %s to %s", from, state)
}

// launch starts a dyno and watches it until it ends. The caller did
// s.procs.Add(1).
func (s *Scheduler) launch(d *dyno) {
	defer s.procs.Done()
	s.mu.Lock()
	spec := d.spec
	if spec.IO == nil {
		d.lw = &lineWriter{prefix: "app[" + d.Name + "]: ", r: d.out, logs: s.cfg.Logs, appID: d.AppID, process: d.Name}
		spec.Output = d.lw
	}
	s.mu.Unlock()
	s.line(d, "Starting process with command `%s`", d.Command)
	inst, err := s.cfg.Runtime.Start(s.ctx, spec)

	s.mu.Lock()
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Error("starting dyno", "app", d.AppID, "dyno", d.Name, "id", d.ID, "error", err)
			s.line(d, "Error R99 (Platform error) -> Failed to launch the dyno")
		}
		s.endedLocked(d, runtime.Exit{Code: -1, Err: err})
		s.mu.Unlock()
		d.app.poke()
		return
	}
	d.inst, d.startedAt = inst, time.Now()
	stopNow := d.stopping && !d.stopSent // never up, so never routed
	if stopNow {
		d.stopSent, d.drain = true, false
	}
	if (d.oneOff || d.Type != "web") && !d.stopping {
		s.setStateLocked(d, bulut.DynoUp)
	}
	s.mu.Unlock()
	if stopNow {
		s.sendStop(d)
	}
	d.app.poke()
	s.monitor(d, inst)
}

// monitor watches a started dyno: its exit, its $PORT until it is up,
// its boot timeout and its memory.
func (s *Scheduler) monitor(d *dyno, inst runtime.Instance) {
	var portC, bootC <-chan time.Time
	var portT, bootT *time.Timer
	wait := time.Millisecond
	addr := ""
	if d.Type == "web" && !d.oneOff && d.port > 0 {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port))
		portT = time.NewTimer(0)
		bootT = time.NewTimer(s.t.BootTimeout)
		defer portT.Stop()
		defer bootT.Stop()
		portC, bootC = portT.C, bootT.C
	}
	mem := time.NewTicker(s.t.MemoryInterval)
	defer mem.Stop()
	for {
		select {
		case <-inst.Done():
			s.exited(d, inst.Exit())
			return
		case <-portC:
			if listening(addr) {
				portC, bootC = nil, nil
				s.markUp(d)
				continue
			}
			wait = min(wait*2, s.t.PortCheckInterval)
			portT.Reset(wait)
		case <-bootC:
			portC, bootC = nil, nil
			s.bootTimeout(d, inst)
		case <-mem.C:
			s.checkMemory(d, inst)
		}
	}
}

// listening reports whether something accepts TCP connections at addr.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (s *Scheduler) markUp(d *dyno) {
	s.mu.Lock()
	if d.State == bulut.DynoStarting && !d.removed {
		s.setStateLocked(d, bulut.DynoUp)
	}
	s.mu.Unlock()
	d.app.poke()
}

// bootTimeout kills a web dyno that did not bind $PORT in time (R10):
// a crash.
func (s *Scheduler) bootTimeout(d *dyno, inst runtime.Instance) {
	s.mu.Lock()
	if d.stopping || d.removed || d.State != bulut.DynoStarting {
		s.mu.Unlock()
		return
	}
	d.killed = "R10"
	s.mu.Unlock()
	s.line(d, "Error R10 (Boot timeout) -> Web process failed to bind to $PORT within %s of launch", seconds(s.t.BootTimeout))
	s.line(d, "Stopping process with SIGKILL")
	inst.Stop(0)
}

// checkMemory logs R14 over the size's quota and kills the dyno at
// twice it (R15, a crash) if the backend has not.
func (s *Scheduler) checkMemory(d *dyno, inst runtime.Instance) {
	usage := inst.MemoryUsage()
	quota := int64(bulut.Sizes[d.Size]) << 20
	if usage <= quota || quota == 0 {
		return
	}
	s.line(d, "Process running mem=%dMB(%.1f%%)", usage>>20, float64(usage)*100/float64(quota))
	if usage < 2*quota {
		s.line(d, "Error R14 (Memory quota exceeded)")
		return
	}
	s.mu.Lock()
	kill := d.killed == "" && !d.removed
	if kill {
		d.killed = "R15"
	}
	s.mu.Unlock()
	if kill {
		s.line(d, "Error R15 (Memory quota vastly exceeded)")
		s.line(d, "Stopping process with SIGKILL")
		inst.Stop(0)
	}
}

// exited records how a dyno ended.
func (s *Scheduler) exited(d *dyno, exit runtime.Exit) {
	if d.lw != nil {
		d.lw.Flush()
	}
	s.mu.Lock()
	if exit.OOM && d.killed == "" {
		d.killed = "R15"
		s.line(d, "Error R15 (Memory quota vastly exceeded)")
		s.line(d, "Stopping process with SIGKILL")
	}
	if d.stopSent && !d.stopAt.IsZero() && d.killed == "" && (exit.Signal == "KILL" || time.Since(d.stopAt) >= s.t.StopGrace) {
		s.line(d, "Error R12 (Exit timeout) -> At least one process failed to exit within %s of SIGTERM", seconds(s.t.StopGrace))
		s.line(d, "Stopping remaining processes with SIGKILL")
	}
	if exit.Err == nil {
		s.line(d, "Process exited with status %d", exitStatus(exit))
	}
	s.endedLocked(d, exit)
	s.mu.Unlock()
	d.app.poke()
}

// endedLocked moves an ended dyno to its last state: one-offs are
// complete and gone, stopped dynos down and gone, anything else crashed
// (kept, for its restart).
func (s *Scheduler) endedLocked(d *dyno, exit runtime.Exit) {
	switch {
	case d.oneOff:
		s.setStateLocked(d, "complete")
		s.removeDyno(d, exit)
	case d.stopping:
		s.setStateLocked(d, bulut.DynoDown)
		s.removeDyno(d, exit)
	default:
		s.setStateLocked(d, bulut.DynoCrashed)
		d.exit = exit
		s.ports.put(d.port)
		d.port = 0
		a := d.app
		sl := a.slots[d.Name]
		if sl == nil || sl.key != d.key {
			sl = &slot{key: d.key}
			a.slots[d.Name] = sl
		}
		if !d.startedAt.IsZero() && time.Since(d.startedAt) >= s.t.CrashReset {
			sl.crashes = 0 // it had booted cleanly
		}
		sl.crashes++
		sl.retryAt = time.Now().Add(s.t.restartDelay(sl.crashes))
	}
}

// sendStop stops a running dyno: SIGTERM, SIGKILL after the grace; an up
// web dyno first has DrainDelay to finish the requests it has. The caller
// set d.stopSent.
func (s *Scheduler) sendStop(d *dyno) {
	s.procs.Add(1)
	go func() {
		defer s.procs.Done()
		s.mu.Lock()
		inst, drain := d.inst, d.drain
		s.mu.Unlock()
		if drain && s.t.DrainDelay > 0 {
			t := time.NewTimer(s.t.DrainDelay)
			select {
			case <-t.C:
			case <-s.done:
			case <-inst.Done():
			}
			t.Stop()
		}
		select {
		case <-inst.Done():
			return
		default:
		}
		s.mu.Lock()
		d.stopAt = time.Now()
		s.mu.Unlock()
		s.line(d, "Stopping all processes with SIGTERM")
		inst.Stop(s.t.StopGrace)
	}()
}

// exitStatus is a shell's $? for an exit: the code, or 128 + the signal.
func exitStatus(e runtime.Exit) int {
	if e.Code >= 0 && e.Signal == "" {
		return e.Code
	}
	if n, ok := signals[strings.TrimPrefix(strings.ToUpper(e.Signal), "SIG")]; ok {
		return 128 + n
	}
	if e.Code >= 0 {
		return e.Code
	}
	return 1
}

var signals = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9, "USR1": 10,
	"SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
}

// seconds says a duration as Heroku's messages do ("60 seconds").
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		n := int(d / time.Second)
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	}
	return d.String()
}
