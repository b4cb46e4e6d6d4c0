package idempotency

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// CommitCollection is the top-level collection of commit markers: for a claimed request
// whose write committed, the id of the resource it wrote. The document id is the claim's
// record id (a hash); expireAt is its TTL field, as for Collection.
//
// Why: a 5xx answer releases the key's record, so the retry runs the handler again. When
// the first attempt had committed before its answer was lost (the request deadline ran
// out after the commit, the instance was stopped), the retry must not write a second
// patient or assessment, nor answer 409 for a check-in it made itself. A handler writes
// the marker in its own transaction and reads it first in the retry's.
const CommitCollection = "idempotencyCommits"

// commitMarker is idempotencyCommits/{claim record}.
type commitMarker struct {
	Request     string    `firestore:"request"`
	ResourceID  string    `firestore:"resourceId"`
	CommittedAt time.Time `firestore:"committedAt"`
	ExpireAt    time.Time `firestore:"expireAt"`
}

// CommittedTx reads, in tx, whether an earlier attempt of the request ctx belongs to
// committed, and the id of the resource it wrote; false for a request without a claim
// (no Idempotency-Key). A marker of another request under the same key (a key reused
// after its record was released) does not count. Read it before the transaction's writes.
func CommittedTx(ctx context.Context, fs *firestore.Client, tx *firestore.Transaction) (resourceID string, ok bool, err error) {
	c, claimed := ClaimFrom(ctx)
	if !claimed || c.Record == "" {
		return "", false, nil
	}
	snap, err := tx.Get(fs.Collection(CommitCollection).Doc(c.Record))
	if status.Code(err) == codes.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("idempotency: read commit marker: %w", err)
	}
	var m commitMarker
	if err := snap.DataTo(&m); err != nil {
		return "", false, fmt.Errorf("idempotency: decode commit marker: %w", err)
	}
	if m.Request != c.Request || m.ResourceID == "" || (!m.ExpireAt.IsZero() && time.Now().After(m.ExpireAt)) {
		return "", false, nil
	}
	return m.ResourceID, true, nil
}

// RecordCommitTx writes, in tx, that the request ctx belongs to committed resourceID;
// nothing for a request without a claim. It holds no request data: the claim's hashes and
// the resource's id.
func RecordCommitTx(ctx context.Context, fs *firestore.Client, tx *firestore.Transaction, resourceID string, now time.Time) error {
	c, claimed := ClaimFrom(ctx)
	if !claimed || c.Record == "" {
		return nil
	}
	expires := c.Expires
	if expires.IsZero() {
		expires = now.Add(DefaultTTL)
	}
	return tx.Set(fs.Collection(CommitCollection).Doc(c.Record), commitMarker{
		Request: c.Request, ResourceID: resourceID, CommittedAt: now, ExpireAt: expires,
	})
}
