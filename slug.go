package bulut

import (
	"context"
	"time"
)

// Slug is the built, compressed tree of an app (a tar.gz of /app), ready
// to run; its bytes live in the BlobStore under SlugBlobKey.
type Slug struct {
	ID                   string
	AppID                string
	ProcessTypes         map[string]string
	Commit               string
	CommitDescription    string
	BuildpackDescription string
	Stack                string
	Checksum             string // "SHA256:<hex>"
	Size                 int64
	CreatedAt            time.Time
}

// SlugBlobKey is where a slug's bytes are kept in the BlobStore.
func SlugBlobKey(slugID string) string { return "slugs/" + slugID + ".tar.gz" }

// SlugService records slugs.
type SlugService interface {
	// CreateSlug records a slug of an app; ID and CreatedAt are set.
	CreateSlug(ctx context.Context, app string, s *Slug) error

	// FindSlug returns one of an app's slugs. ENOTFOUND otherwise.
	FindSlug(ctx context.Context, app, id string) (*Slug, error)
}
