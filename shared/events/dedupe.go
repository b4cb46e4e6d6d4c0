package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ProcessedEventsCollection is the top-level Firestore collection of dedupe marks,
// one document per consumer and event: processedEvents/{consumer}__{eventId}. Its
// expireAt field is meant for a Firestore TTL policy (see Terraform).
const ProcessedEventsCollection = "processedEvents"

// DefaultDedupeTTL is how long a dedupe mark is kept when NewDeduper is given no TTL. It
// must exceed the longest redelivery window (Pub/Sub retains messages for 7 days by
// default).
const DefaultDedupeTTL = 7 * 24 * time.Hour

// Longest escaped event id kept verbatim in a document id; longer ids are hashed (a
// Firestore document id is at most 1500 bytes).
const maxDocEventIDLen = 512

var consumerRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Deduper records which events each consumer has processed, in Firestore, so that an
// event delivered more than once has the effect of one.
//
// It narrows duplicates but cannot exclude them: two deliveries of one event that run
// at the same time both find no mark and both run, and a crash between the work and the
// mark makes the next delivery run again. The work itself must therefore be idempotent
// (deterministic document ids, transactions, Create instead of Add); the Deduper only
// saves repeated work in the common sequential case.
type Deduper struct {
	client *firestore.Client
	ttl    time.Duration
	now    func() time.Time
}

// NewDeduper returns a Deduper over client keeping marks for ttl (DefaultDedupeTTL when
// ttl <= 0). The caller owns client.
func NewDeduper(client *firestore.Client, ttl time.Duration) *Deduper {
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	return &Deduper{client: client, ttl: ttl, now: time.Now}
}

// processedEvent is the stored dedupe mark.
type processedEvent struct {
	Consumer    string    `firestore:"consumer"`
	EventID     string    `firestore:"eventId"`
	ProcessedAt time.Time `firestore:"processedAt,serverTimestamp"`
	ExpireAt    time.Time `firestore:"expireAt"`
}

// docID returns "{consumer}__{eventId}" with the event id escaped so that it holds no '/'
// and distinct ids never collide. consumer must be a lower-case kebab-case name (the
// function's name, e.g. "queue-projector"), which keeps the "__" separator unambiguous.
func docID(consumer, eventID string) (string, error) {
	if !consumerRE.MatchString(consumer) {
		return "", Permanent(fmt.Errorf("events: dedupe consumer %q must be lower-case kebab-case", consumer))
	}
	if eventID == "" {
		return "", Permanent(errors.New("events: dedupe: event id is empty"))
	}
	id := url.PathEscape(eventID) // escapes '/' and '%', so the mapping is injective
	if len(id) > maxDocEventIDLen {
		sum := sha256.Sum256([]byte(eventID))
		id = "sha256-" + hex.EncodeToString(sum[:])
	}
	return consumer + "__" + id, nil
}

func (d *Deduper) doc(consumer, eventID string) (*firestore.DocumentRef, error) {
	id, err := docID(consumer, eventID)
	if err != nil {
		return nil, err
	}
	return d.client.Collection(ProcessedEventsCollection).Doc(id), nil
}

// Seen reports whether consumer has marked eventID done. A mark past its expireAt that
// the TTL policy has not deleted yet still counts.
func (d *Deduper) Seen(ctx context.Context, consumer, eventID string) (bool, error) {
	ref, err := d.doc(consumer, eventID)
	if err != nil {
		return false, err
	}
	if _, err := ref.Get(ctx); err != nil {
		if status.Code(err) == codes.NotFound {
			return false, nil
		}
		return false, fmt.Errorf("events: read dedupe mark for event %q: %w", eventID, err)
	}
	return true, nil
}

// MarkDone records that consumer has processed eventID. Marking twice is harmless.
func (d *Deduper) MarkDone(ctx context.Context, consumer, eventID string) error {
	ref, err := d.doc(consumer, eventID)
	if err != nil {
		return err
	}
	mark := processedEvent{
		Consumer: consumer,
		EventID:  eventID,
		ExpireAt: d.now().Add(d.ttl).UTC(),
	}
	if _, err := ref.Set(ctx, mark); err != nil {
		return fmt.Errorf("events: write dedupe mark for event %q: %w", eventID, err)
	}
	return nil
}

// Once runs fn unless consumer has already processed eventID, and marks the event done
// when fn succeeds. ran reports whether fn was called. When fn fails its error is
// returned unchanged and nothing is marked. When fn succeeds but the mark cannot be
// written, ran is true and the error says so; a redelivery will run fn again. fn must be
// idempotent (see Deduper).
func (d *Deduper) Once(ctx context.Context, consumer, eventID string, fn func(context.Context) error) (ran bool, err error) {
	seen, err := d.Seen(ctx, consumer, eventID)
	if err != nil || seen {
		return false, err
	}
	if err := fn(ctx); err != nil {
		return true, err
	}
	return true, d.MarkDone(ctx, consumer, eventID)
}
