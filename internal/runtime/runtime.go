// Package runtime is the contract between the scheduler and the backends
// that run dynos (local processes now; Docker or Kubernetes later). The
// scheduler decides what runs; a Runtime only starts, stops and reports.
package runtime

import (
	"context"
	"io"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Spec is everything a backend needs to start a dyno.
type Spec struct {
	ID      string // unique for this start (the dyno's ID)
	Name    string // web.1, run.4821: the hostname inside the dyno
	AppID   string
	Release string // release ID: the slug is unpacked once per release
	SlugKey string // the slug's BlobStore key ("" for none: an empty /app)
	// Command is run by bash in /app after .profile.d/*.sh and .profile
	// are sourced, as on Heroku.
	Command string
	// Env is the dyno's whole environment (config vars, PORT, DYNO,
	// HOME=/app, PATH...).
	Env []string
	// Port is the web dyno's $PORT on the host's loopback (0 for none).
	Port int
	// Memory is the memory quota in bytes (0: none). Backends enforce a
	// hard limit at twice the quota (R15) and report usage.
	Memory int64

	// Output receives stdout and stderr (line-buffered by the scheduler)
	// when IO is nil.
	Output io.Writer
	// IO attaches a terminal (one-off dynos); nil for detached dynos.
	IO *bulut.DynoIO
}

// Exit is how a dyno ended.
type Exit struct {
	Code   int    // exit status; -1 if killed by a signal
	Signal string // "KILL", "TERM"... when killed by one
	// OOM is set when the backend's hard memory limit killed it.
	OOM bool
	Err error // the backend failed to run it at all
}

// Instance is a started dyno.
type Instance interface {
	// Done is closed when every process of the dyno has ended; Exit is
	// valid then.
	Done() <-chan struct{}
	Exit() Exit
	// Stop sends SIGTERM to every process of the dyno, then SIGKILL to
	// whatever remains after grace. It returns at once.
	Stop(grace time.Duration)
	// MemoryUsage is the dyno's resident memory in bytes (0 if unknown).
	MemoryUsage() int64
}

// Freezer is implemented by instances whose processes can be frozen (no
// CPU, memory kept) and thawed: free dynos sleep so. Stop and the
// backend's kill work on a frozen instance too.
type Freezer interface {
	// Freeze returns once every process of the dyno is frozen.
	Freeze() error
	// Thaw lets the processes run again.
	Thaw() error
}

// Runtime runs dynos.
type Runtime interface {
	// Start starts a dyno. It returns once the processes run (not once a
	// web dyno listens: the scheduler checks $PORT).
	Start(ctx context.Context, s Spec) (Instance, error)

	// Cleanup ends every dyno a previous run of the server left behind
	// (after kill -9, say). Called once before the first Start.
	Cleanup(ctx context.Context) error

	// Forget drops a release's unpacked slug (no dyno uses it any more).
	Forget(releaseID string) error
}
