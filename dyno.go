package bulut

import (
	"context"
	"io"
	"time"
)

// Dyno states, as Heroku's.
const (
	DynoStarting = "starting"
	DynoUp       = "up"
	DynoCrashed  = "crashed"
	DynoDown     = "down"
	DynoIdle     = "idle"
)

// Dyno is a running (or starting, or crashed) process of an app: one
// process type of one release, or a one-off (`run.NNNN`). Dynos live in
// the scheduler's memory: after a server restart they are started anew
// from the formation.
type Dyno struct {
	ID             string
	AppID          string
	AppName        string
	Name           string // web.1, worker.2, run.4821
	Type           string // web, worker, run
	Command        string
	Size           string
	State          string
	ReleaseID      string
	ReleaseVersion int
	AttachURL      string // one-off dynos waiting for their terminal
	CreatedAt      time.Time
	UpdatedAt      time.Time // when the state last changed
}

// DynoRun asks for a one-off dyno.
type DynoRun struct {
	Command string
	Attach  bool              // wait for a terminal to attach (bulut run)
	Env     map[string]string // added to the config vars (TERM, COLUMNS, LINES)
	Size    string            // default: the app's web size, else free
	Type    string            // default "run"
}

// WindowSize is a terminal's size.
type WindowSize struct{ Rows, Cols uint16 }

// DynoIO is the terminal of an attached one-off dyno.
type DynoIO struct {
	Stdin  io.Reader
	Stdout io.Writer // stdout and stderr together, as a terminal shows them
	TTY    bool      // give the command a pseudo-terminal
	Size   WindowSize
	// Resize and Signal deliver terminal resizes and signals (e.g.
	// "INT") while the command runs; either may be nil.
	Resize <-chan WindowSize
	Signal <-chan string
}

// DynoService is the dyno manager. Apps are named by ID or name and
// scoped to the context's account as in AppService.
type DynoService interface {
	// FindDynos lists an app's dynos, sorted by name.
	FindDynos(ctx context.Context, app string) ([]*Dyno, error)

	// FindDyno returns a dyno by ID or name. ENOTFOUND otherwise.
	FindDyno(ctx context.Context, app, idOrName string) (*Dyno, error)

	// RestartDynos restarts one dyno (by ID or name), every dyno of a
	// process type, or ("") all of them. Web dynos are replaced without
	// dropping requests.
	RestartDynos(ctx context.Context, app, target string) error

	// StopDyno stops a dyno (ps:stop). A formation dyno is started again
	// by the scheduler, as on Heroku; a one-off is gone.
	StopDyno(ctx context.Context, app, idOrName string) error

	// RunDyno starts a one-off dyno with the current release. With
	// Attach it waits (up to a minute) for AttachDyno; otherwise it runs
	// detached.
	RunDyno(ctx context.Context, app string, r DynoRun) (*Dyno, error)

	// AttachDyno runs a one-off dyno made with Attach, connected to io,
	// and returns its exit code once it ends. ENOTFOUND for an unknown or
	// already attached dyno.
	AttachDyno(ctx context.Context, dynoID string, io DynoIO) (int, error)
}

// Route is what the router needs to serve an app: the addresses of its up
// web dynos of the current release, and whether every web dyno crashed.
type Route struct {
	AppID    string
	Backends []string // host:port
	Dynos    []string // the dyno names of Backends, in the same order
	Crashed  bool
	// Asleep: the app's free dynos sleep (idle); Waker.Wake wakes them.
	Asleep bool
	// QuotaExceeded: the app used up its free dyno hours this month and
	// sleeps until the 1st (H82); Wake does not wake it.
	QuotaExceeded bool
}

// RouteTable receives the scheduler's routes; the router implements it.
type RouteTable interface {
	SetRoute(r Route)
}

// Waker is told about requests to apps and wakes sleeping ones; the
// scheduler implements it, the router calls it.
type Waker interface {
	// Touch records a request for an app: it resets the app's idle
	// timer. Cheap enough for every request.
	Touch(appID string)
	// Wake wakes a sleeping app (Route.Asleep) and returns once its
	// route is published again: with up web dynos, or crashed. It
	// returns ctx's error if that comes first.
	Wake(ctx context.Context, appID string) error
}

// DynoUsage is the time an app's free dynos ran (not asleep) in a
// calendar month (UTC), counted against its free dyno hours.
type DynoUsage struct {
	AppID   string
	Month   string // "2026-12"
	Seconds int64
}

// UsageMonth is the calendar month (UTC) of t, as DynoUsage.Month.
func UsageMonth(t time.Time) string { return t.UTC().Format("2006-01") }

// DynoUsageService records free dyno time. Apps are named by ID; these
// are the scheduler's (system) calls.
type DynoUsageService interface {
	// AddDynoUsage adds seconds to an app's usage in a month.
	AddDynoUsage(ctx context.Context, appID, month string, seconds int64) error
	// FindDynoUsage returns an app's usage in a month (zero if none).
	FindDynoUsage(ctx context.Context, appID, month string) (*DynoUsage, error)
}

// Reconciler is told when what should run for an app may have changed
// (a release, a config change, a scaling); the scheduler implements it.
type Reconciler interface {
	Reconcile(appID string)
}
