package bulut

import (
	"context"
	"time"
)

// Release statuses.
const (
	ReleasePending   = "pending"
	ReleaseSucceeded = "succeeded"
	ReleaseFailed    = "failed"
)

// Release is a numbered, immutable version of an app: a slug (none for
// releases made before the first deploy) and a snapshot of the config vars.
// Versions start at 1 (the "Initial release" made with the app) and are
// never reused.
type Release struct {
	ID          string
	AppID       string
	AppName     string
	Version     int
	Description string
	SlugID      string // "" when the release has no slug
	Status      string
	UserID      string
	UserEmail   string
	ConfigVars  map[string]string
	Current     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ReleaseService manages releases. Apps are named by ID or name and
// scoped to the context's account as in AppService.
type ReleaseService interface {
	// FindReleases lists an app's releases within the range (field
	// "version", or "id").
	FindReleases(ctx context.Context, app string, r ListRange) (releases []*Release, more bool, err error)

	// FindRelease returns a release by ID or version number ("3" or "v3").
	// ENOTFOUND if the app has no such release.
	FindRelease(ctx context.Context, app, idOrVersion string) (*Release, error)

	// CreateRelease makes a new current release of a slug with the app's
	// current config vars and the given description (e.g. "Deploy
	// 1a2b3c4d"). It adds the slug's process types to the formation (at
	// quantity 0) and scales web to 1 on the first deploy, and sets the
	// app's ReleasedAt.
	CreateRelease(ctx context.Context, app, slugID, description string) (*Release, error)

	// Rollback makes a new release ("Rollback to vN") with the slug and
	// config vars of an earlier release, and makes those config vars the
	// app's current ones. EINVALID for a release without a slug.
	Rollback(ctx context.Context, app, idOrVersion string) (*Release, error)
}
