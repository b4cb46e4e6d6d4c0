package summary

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Collections.
const (
	CollectionSummaries = "summaries"
)

// Store keeps summaries in Firestore.
type Store struct {
	fs *firestore.Client
}

// NewStore returns a Store.
func NewStore(fs *firestore.Client) *Store { return &Store{fs: fs} }

func (s *Store) ref(clinicID, patientID string) *firestore.DocumentRef {
	return s.fs.Collection("clinics").Doc(clinicID).Collection(CollectionSummaries).Doc(patientID)
}

// Get returns the stored summary of a patient; ok is false when there is none.
func (s *Store) Get(ctx context.Context, clinicID, patientID string) (st Stored, ok bool, err error) {
	snap, err := s.ref(clinicID, patientID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Stored{}, false, nil
	}
	if err != nil {
		return Stored{}, false, fmt.Errorf("summary: reading summary: %w", err)
	}
	if err := snap.DataTo(&st); err != nil {
		return Stored{}, false, fmt.Errorf("summary: decoding summary: %w", err)
	}
	st.normalize()
	return st, true, nil
}

// Save stores next unless the stored summary was built from the same sources (same
// source hash) and force is false: then nothing is written (only a stale mark is
// cleared) and the stored one is returned with wrote false. Duplicate tasks therefore
// write once.
//
// The stored summary is read plainly and written on condition that it is still the one
// read (its update time; created only if there is none), read again after a concurrent
// write: not in a read-write transaction, whose read would lock the document. Several
// regenerations of one patient run at once (every reader and invalidator of changed records
// enqueues one), and under Firestore's pessimistic locking each such transaction waits for
// the others' locks: six at once on the emulator took 3.1 s a round, the slowest save 6.4 s
// (written this way: 0.14 s and 0.39 s; BenchmarkSaveSixAtOnce), which a loaded machine
// pushes past the worker's 10 s deadline, and each failed task then waits for its queue's
// growing backoff.
func (s *Store) Save(ctx context.Context, clinicID string, next Stored, force bool) (Stored, bool, error) {
	ref := s.ref(clinicID, next.PatientID)
	next.Stale = false
	for attempt := 1; ; attempt++ {
		out, wrote, err := s.save(ctx, ref, next, force)
		switch {
		case err == nil:
			return out, wrote, nil
		case errors.Is(err, errRaced) && attempt < saveAttempts:
			continue
		}
		return Stored{}, false, fmt.Errorf("summary: saving summary: %w", err)
	}
}

// saveAttempts bounds Save's reads and conditional writes when concurrent writers keep
// changing the summary between them.
const saveAttempts = 10

// errRaced: the summary changed between Save's read and its write.
var errRaced = errors.New("the summary changed while it was saved")

func (s *Store) save(ctx context.Context, ref *firestore.DocumentRef, next Stored, force bool) (Stored, bool, error) {
	snap, err := ref.Get(ctx)
	if status.Code(err) == codes.NotFound {
		_, err := ref.Create(ctx, next)
		if status.Code(err) == codes.AlreadyExists {
			return Stored{}, false, errRaced
		}
		return next, err == nil, err
	}
	if err != nil {
		return Stored{}, false, err
	}
	var cur Stored
	if err := snap.DataTo(&cur); err != nil {
		return Stored{}, false, err
	}
	cur.normalize()
	updates, wrote := next.updates(), true
	if cur.SourceHash == next.SourceHash && !force {
		if !cur.Stale {
			return cur, false, nil
		}
		cur.Stale = false
		updates, next, wrote = []firestore.Update{{Path: "stale", Value: false}}, cur, false
	}
	_, err = ref.Update(ctx, updates, firestore.LastUpdateTime(snap.UpdateTime))
	switch {
	case status.Code(err) == codes.FailedPrecondition || status.Code(err) == codes.NotFound:
		return Stored{}, false, errRaced
	case err != nil:
		return Stored{}, false, err
	}
	return next, wrote, nil
}

// updates write every field of s over a stored summary, as Set would (an omitted optional
// field is deleted); TestStoredUpdatesCoverEveryField keeps the list whole.
func (s Stored) updates() []firestore.Update {
	optional := func(v any, present bool) any {
		if present {
			return v
		}
		return firestore.Delete
	}
	return []firestore.Update{
		{Path: "patientId", Value: s.PatientID},
		{Path: "summary", Value: s.Summary},
		{Path: "citations", Value: s.Citations},
		{Path: "sourceHash", Value: s.SourceHash},
		{Path: "engine", Value: s.Engine},
		{Path: "model", Value: optional(s.Model, s.Model != "")},
		{Path: "usage", Value: optional(s.Usage, s.Usage != nil)},
		{Path: "fallbackReason", Value: optional(s.FallbackReason, s.FallbackReason != "")},
		{Path: "builtAt", Value: s.BuiltAt},
		{Path: "stale", Value: s.Stale},
	}
}

// MarkStale flags the patient's stored summary as stale; no summary is not an error.
func (s *Store) MarkStale(ctx context.Context, clinicID, patientID string) error {
	_, err := s.ref(clinicID, patientID).Update(ctx, []firestore.Update{{Path: "stale", Value: true}})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("summary: marking summary stale: %w", err)
	}
	return nil
}
