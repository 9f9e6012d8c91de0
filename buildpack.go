package bulut

import "context"

// BuildpackService manages the buildpacks an app is built with, in order.
// An empty list means detection among the built-in buildpacks.
type BuildpackService interface {
	// FindBuildpacks returns an app's buildpacks (URLs, local directories
	// or built-in names such as "heroku/python").
	FindBuildpacks(ctx context.Context, app string) ([]string, error)

	// SetBuildpacks replaces an app's buildpacks. EINVALID for an empty
	// entry.
	SetBuildpacks(ctx context.Context, app string, buildpacks []string) error
}
