package scribe

import (
	"context"
	"errors"
)

// Objects reads and deletes uploads. uploads.GCS implements it.
type Objects interface {
	// Head returns up to n leading bytes of a generation of an object.
	Head(ctx context.Context, bucket, object string, generation int64, n int64) ([]byte, error)
	// Read returns a generation of an object; more than limit bytes is an error.
	Read(ctx context.Context, bucket, object string, generation int64, limit int64) ([]byte, error)
	// Delete removes a generation of an object; a missing object is not an error.
	Delete(ctx context.Context, bucket, object string, generation int64) error
}

// ErrObjectMissing is returned when the object (generation) does not exist.
var ErrObjectMissing = errors.New("scribe: upload object not found")
