package local

import (
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/bulut-bulut/bulut/internal/runtime"
	"github.com/bulut-bulut/bulut/internal/sandbox"
)

// outputGrace is how long a terminal's output may still be read after the
// dyno's processes are gone.
const outputGrace = 2 * time.Second

// instance is a started dyno.
type instance struct {
	r        *Runtime
	id, name string
	spec     runtime.Spec
	dir      string
	cmd      *sandbox.Cmd
	cgroup   *cgroup

	mu     sync.Mutex // guards init against its closing
	init   *pidfd     // nil before it is known and after the dyno ended
	ended  bool
	master *os.File // the terminal, for attached one-offs with TTY
	slave  *os.File
	outEnd chan struct{}

	stopOnce sync.Once
	done     chan struct{}
	exit     runtime.Exit
}

func (i *instance) Done() <-chan struct{} { return i.done }

func (i *instance) Exit() runtime.Exit {
	<-i.done
	return i.exit
}

// Stop sends SIGTERM to every process of the dyno (through its init),
// then SIGKILL to all of them after grace.
func (i *instance) Stop(grace time.Duration) {
	i.stopOnce.Do(func() {
		go func() {
			select {
			case <-i.done:
				return
			default:
			}
			if i.cgroup != nil {
				i.cgroup.freeze(false) // a frozen dyno can't handle SIGTERM
			}
			i.signal(syscall.SIGTERM)
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-i.done:
			case <-t.C:
				i.kill()
			}
		}()
	})
}

var _ runtime.Freezer = (*instance)(nil)

// Freeze freezes every process of the dyno with the cgroup freezer.
func (i *instance) Freeze() error {
	if i.cgroup == nil {
		return errNoFreezer
	}
	return i.cgroup.freeze(true)
}

// Thaw lets a frozen dyno run again.
func (i *instance) Thaw() error {
	if i.cgroup == nil {
		return errNoFreezer
	}
	return i.cgroup.freeze(false)
}

// MemoryUsage is the dyno's memory in use: its cgroup's, else the
// resident memory of its processes.
func (i *instance) MemoryUsage() int64 {
	if i.cgroup != nil {
		return i.cgroup.usage()
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.init == nil || i.ended || !alive(i.init.pid, i.init.start) {
		return 0
	}
	return treeRSS(i.init.pid)
}

// signal sends sig to the dyno's init, which passes it on (SIGTERM to
// every process).
func (i *instance) signal(sig syscall.Signal) {
	if sig == syscall.SIGKILL {
		i.kill()
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.init != nil && !i.ended {
		i.init.signal(sig)
	}
}

// kill ends every process of the dyno at once.
func (i *instance) kill() {
	i.mu.Lock()
	if i.init != nil && !i.ended {
		if i.r.mode == sandbox.ModeNone && alive(i.init.pid, i.init.start) {
			// No PID namespace: the descendants first, while they can
			// still be found under init.
			i.init.signal(syscall.SIGSTOP)
			killDescendants(i.init.pid, i.init.start)
		}
		i.init.signal(syscall.SIGKILL)
	}
	i.mu.Unlock()
	if i.cgroup != nil {
		i.cgroup.killAll()
	}
	if i.cmd != nil {
		i.cmd.Kill()
	}
}

// wait waits for the dyno's end, then removes what it leaves.
func (i *instance) wait() {
	err := i.cmd.Wait()
	exit := exitOf(err)
	if i.cgroup != nil && i.cgroup.oomKills() > 0 {
		exit.OOM = true
	}
	i.mu.Lock()
	i.ended = true
	if i.init != nil {
		i.init.close()
	}
	i.mu.Unlock()
	if i.master != nil {
		select {
		case <-i.outEnd:
		case <-time.After(outputGrace):
		}
		i.master.Close()
		<-i.outEnd
	}
	if err := i.teardown(); err != nil {
		i.r.log.Warn("dyno clean-up", "dyno", i.name, "id", i.id, "err", err)
	}
	i.r.forgetDyno(i)
	i.exit = exit
	close(i.done)
}

// teardown removes the dyno's cgroup and files.
func (i *instance) teardown() error {
	var err error
	if i.cgroup != nil {
		err = i.cgroup.killAndRemove()
	}
	if rerr := removeAll(i.dir); err == nil {
		err = rerr
	}
	return err
}

// setupIO connects the dyno to its output, or to its terminal.
func (i *instance) setupIO(cmd *sandbox.Cmd, s runtime.Spec) error {
	t := s.IO
	switch {
	case t == nil:
		cmd.Stdout, cmd.Stderr = s.Output, s.Output
	case !t.TTY:
		cmd.Stdin, cmd.Stdout, cmd.Stderr = t.Stdin, t.Stdout, t.Stdout
	default:
		master, slave, err := openPTY(t.Size)
		if err != nil {
			return err
		}
		if i.r.dropUser {
			slave.Chown(i.r.cfg.UID, i.r.cfg.GID)
		}
		i.master, i.slave = master, slave
		i.outEnd = make(chan struct{})
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	}
	return nil
}

// afterStart closes this process's copy of the terminal's dyno side and,
// if the dyno started, copies the terminal's output.
func (i *instance) afterStart(started bool) {
	if i.slave != nil {
		i.slave.Close()
		i.slave = nil
	}
	if i.master != nil && started {
		out := i.spec.IO.Stdout
		if out == nil {
			out = io.Discard
		}
		go func() {
			defer close(i.outEnd)
			io.Copy(out, i.master) // ends with EIO once the dyno is gone
		}()
	}
}

func (i *instance) closeIO() {
	if i.master != nil {
		i.master.Close()
		i.master = nil
	}
}

// startIO copies the terminal both ways and delivers resizes and signals.
func (i *instance) startIO() {
	t := i.spec.IO
	if t == nil {
		return
	}
	if i.master != nil && t.Stdin != nil {
		go io.Copy(i.master, t.Stdin)
	}
	if t.Resize == nil && t.Signal == nil {
		return
	}
	go func() {
		resize, signals := t.Resize, t.Signal
		for {
			select {
			case <-i.done:
				return
			case ws, ok := <-resize:
				if !ok {
					resize = nil
				} else if i.master != nil {
					setSize(i.master, ws)
				}
			case name, ok := <-signals:
				if !ok {
					signals = nil
				} else if sig, ok := signalByName(name); ok {
					i.signal(sig)
				}
			}
		}
	}()
}
