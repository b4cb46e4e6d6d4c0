package summary

import (
	"context"
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
func (s *Store) Save(ctx context.Context, clinicID string, next Stored, force bool) (Stored, bool, error) {
	ref := s.ref(clinicID, next.PatientID)
	var (
		out   Stored
		wrote bool
	)
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		wrote = false
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			var cur Stored
			if err := snap.DataTo(&cur); err != nil {
				return err
			}
			cur.normalize()
			if cur.SourceHash == next.SourceHash && !force {
				out = cur
				if cur.Stale {
					out.Stale = false
					return tx.Update(ref, []firestore.Update{{Path: "stale", Value: false}})
				}
				return nil
			}
		}
		next.Stale = false
		out, wrote = next, true
		return tx.Set(ref, next)
	})
	if err != nil {
		return Stored{}, false, fmt.Errorf("summary: saving summary: %w", err)
	}
	return out, wrote, nil
}

// MarkStale flags the patient's stored summary as stale; no summary is not an error.
func (s *Store) MarkStale(ctx context.Context, clinicID, patientID string) error {
	_, err := s.ref(clinicID, patientID).Update(ctx, []firestore.Update{{Path: "stale", Value: true}})
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("summary: marking summary stale: %w", err)
	}
	return nil
}
