package bulut

import (
	"context"
	"io"
)

// BlobStore keeps large immutable files (slugs) by key: a directory on one
// machine, object storage when there are several.
type BlobStore interface {
	// PutBlob stores r under key, atomically: readers see the whole blob
	// or none. It returns the size written.
	PutBlob(ctx context.Context, key string, r io.Reader) (int64, error)

	// OpenBlob reads a blob. ENOTFOUND if there is none.
	OpenBlob(ctx context.Context, key string) (io.ReadCloser, error)

	// DeleteBlob removes a blob; deleting a missing blob is not an error.
	DeleteBlob(ctx context.Context, key string) error
}
