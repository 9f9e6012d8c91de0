package bulut

import (
	"context"
	"io"
	"time"
)

// Build statuses.
const (
	BuildPending   = "pending"
	BuildSucceeded = "succeeded"
	BuildFailed    = "failed"
)

// Build is one run of the buildpacks on a commit.
type Build struct {
	ID            string
	AppID         string
	Status        string
	SourceVersion string   // the commit built
	Buildpacks    []string // what ran, by URL or built-in name
	SlugID        string   // "" until it succeeds
	ReleaseID     string   // "" until released
	UserID        string
	UserEmail     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// BuildUpdate is a patch to a build; nil fields are left alone.
type BuildUpdate struct {
	Status     *string
	Buildpacks []string
	SlugID     *string
	ReleaseID  *string
}

// BuildService records builds.
type BuildService interface {
	// CreateBuild records a pending build of an app by the context's
	// account; ID, status and times are set.
	CreateBuild(ctx context.Context, app string, b *Build) error

	// UpdateBuild changes a build (by ID) and returns it.
	UpdateBuild(ctx context.Context, id string, upd BuildUpdate) (*Build, error)

	// FindBuilds lists an app's builds within the range (field
	// "created_at", or "id").
	FindBuilds(ctx context.Context, app string, r ListRange) (builds []*Build, more bool, err error)

	// FindBuild returns one of an app's builds. ENOTFOUND otherwise.
	FindBuild(ctx context.Context, app, id string) (*Build, error)
}

// BuildOutput gives access to builds' output: the whole log of a finished
// build, or a running build's output so far followed by the rest as it is
// written.
type BuildOutput interface {
	// OpenBuildOutput returns a reader of a build's output that ends when
	// the build does. ENOTFOUND if there is no output for it.
	OpenBuildOutput(ctx context.Context, buildID string) (io.ReadCloser, error)
}

// Deploy is a request to build a pushed commit and release it.
type Deploy struct {
	App     *App
	Account *Account
	Commit  string
	// Source writes the tar archive of the commit's tree (e.g. `git
	// archive`), to be unpacked as the build dir.
	Source func(ctx context.Context, w io.Writer) error
	// CommitDescription is the commit's subject line.
	CommitDescription string
}

// Deployer builds and releases pushed code. Output is written to out as it
// happens, in Heroku's style (`-----> ` steps, 7-space details).
type Deployer interface {
	// Deploy builds the commit and, if the build succeeds, creates a
	// release. A failed build returns an error and changes no release.
	Deploy(ctx context.Context, d Deploy, out io.Writer) (*Release, error)
}

// BuildCache empties apps' build caches (Heroku's `builds:cache:purge`).
type BuildCache interface {
	// PurgeBuildCache deletes an app's build cache (by app ID); the next
	// build starts cold.
	PurgeBuildCache(ctx context.Context, appID string) error
}
