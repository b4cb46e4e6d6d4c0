// Package commitmark records, in a write's own transaction, that a keyed request
// (Idempotency-Key) committed, so that its retry answers with what the first attempt
// wrote instead of writing again.
//
// Why: a 5xx answer releases the key's stored response, so the retry runs the handler
// again. When the first attempt had committed before its answer was lost (the request
// deadline ran out after the commit, the instance was stopped), the retry must not write
// a second patient or assessment, nor answer 409 for a check-in it made itself. The store
// reads the marker first in the retry's transaction and writes it with the first
// attempt's writes.
//
// The HTTP side (shared/httpx/idempotency) makes the Marker of a keyed request; the
// handler passes it to the store explicitly. A request without a key has the zero Marker,
// which reads nothing and writes nothing.
//
// # First attempts
//
// Most keyed requests are their key's first attempt, and for those no marker can exist:
// reading it is a round trip inside the write's transaction for nothing. When the HTTP
// side knows the request is the first attempt of its key (it created the key's record;
// a released key keeps its record, so a created record means no attempt ran before
// within the key's TTL), it passes FirstAttempt's Marker. That marker skips the read
// once: the first CommittedTx or Committed answers "not committed" without reading.
// Every later call reads, as does any call after RecordTx, because from then on the
// request's own earlier commit may exist: a transaction re-run after a commit whose
// answer was lost (the client retries Commit when Firestore is unavailable, and a
// commit that landed then reports an error) must find the marker it wrote.
package commitmark

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Collection is the top-level collection of commit markers: for a keyed request whose
// write committed, the id of the resource it wrote. The document id is the key record's
// id (a hash); expireAt is its TTL field.
const Collection = "idempotencyCommits"

// DefaultTTL is how long a marker is kept when its Marker has no expiry.
const DefaultTTL = 24 * time.Hour

// Marker identifies one keyed request: the key record's document id and the request's
// fingerprint (query and body). Neither holds the key or any request data.
type Marker struct {
	Record  string
	Request string
	// Expires is when the key's record expires: the marker is kept as long, and not
	// longer (a marker that outlived its record would be missed by a first attempt).
	Expires time.Time

	// unread is set, until the first read or write, on the marker of a key's first
	// attempt (FirstAttempt); shared by the copies of the marker.
	unread *atomic.Bool
}

// FirstAttempt returns m for the first attempt of its request under its key: no earlier
// attempt can have committed, so the first CommittedTx or Committed does not read (see
// the package documentation). Only the caller that created the key's record may say so.
func (m Marker) FirstAttempt() Marker {
	m.unread = new(atomic.Bool)
	m.unread.Store(true)
	return m
}

// First reports whether m is the marker of a key's first attempt whose read has not
// been skipped yet.
func (m Marker) First() bool { return m.unread != nil && m.unread.Load() }

// skipRead reports, once, that m need not be read: the first attempt's first read.
func (m Marker) skipRead() bool { return m.unread != nil && m.unread.CompareAndSwap(true, false) }

// IsZero reports whether m is the marker of a request without a key.
func (m Marker) IsZero() bool { return m.Record == "" }

// stored is idempotencyCommits/{record}.
type stored struct {
	Request     string    `firestore:"request"`
	ResourceID  string    `firestore:"resourceId"`
	CommittedAt time.Time `firestore:"committedAt"`
	ExpireAt    time.Time `firestore:"expireAt"`
}

// CommittedTx reads, in tx, whether an earlier attempt of m's request committed, and the
// id of the resource it wrote; false for the zero Marker. A marker of another request
// under the same key (a key reused after its record was released) does not count. Read
// it before the transaction's writes. The first call for the marker of a key's first
// attempt reads nothing (FirstAttempt).
func (m Marker) CommittedTx(fs *firestore.Client, tx *firestore.Transaction) (resourceID string, ok bool, err error) {
	if m.IsZero() || m.skipRead() {
		return "", false, nil
	}
	snap, err := tx.Get(fs.Collection(Collection).Doc(m.Record))
	return m.committed(snap, err)
}

// Committed is CommittedTx outside a transaction: a marker, once written, is never
// changed, so a plain read is enough to learn that the request committed (not that it
// has not: a commit may land right after).
func (m Marker) Committed(ctx context.Context, fs *firestore.Client) (resourceID string, ok bool, err error) {
	if m.IsZero() || m.skipRead() {
		return "", false, nil
	}
	snap, err := fs.Collection(Collection).Doc(m.Record).Get(ctx)
	return m.committed(snap, err)
}

func (m Marker) committed(snap *firestore.DocumentSnapshot, err error) (resourceID string, ok bool, _ error) {
	if status.Code(err) == codes.NotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("commitmark: read: %w", err)
	}
	var s stored
	if err := snap.DataTo(&s); err != nil {
		return "", false, fmt.Errorf("commitmark: decode: %w", err)
	}
	if s.Request != m.Request || s.ResourceID == "" || (!s.ExpireAt.IsZero() && time.Now().After(s.ExpireAt)) {
		return "", false, nil
	}
	return s.ResourceID, true, nil
}

// RecordTx writes, in tx, that m's request committed resourceID; nothing for the zero
// Marker. It holds no request data: the key record's id, the request's hash and the
// resource's id. From then on the request's commit may exist: a first attempt's marker
// is read again by every later CommittedTx and Committed.
func (m Marker) RecordTx(fs *firestore.Client, tx *firestore.Transaction, resourceID string, now time.Time) error {
	if m.IsZero() {
		return nil
	}
	if m.unread != nil {
		m.unread.Store(false)
	}
	expires := m.Expires
	if expires.IsZero() {
		expires = now.Add(DefaultTTL)
	}
	return tx.Set(fs.Collection(Collection).Doc(m.Record), stored{
		Request: m.Request, ResourceID: resourceID, CommittedAt: now, ExpireAt: expires,
	})
}
