package summary

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Collections.
const (
	CollectionSummaries = "summaries"
	// CollectionUsage holds one record per model call: clinics/{c}/llmUsage/{id}.
	CollectionUsage = "llmUsage"
	// CollectionUsageMonths holds the monthly totals: clinics/{c}/llmUsageMonths/{YYYY-MM}.
	CollectionUsageMonths = "llmUsageMonths"
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

// FirestoreLedger records model usage per clinic (clinics/{c}/llmUsage/{id}) with
// monthly totals (clinics/{c}/llmUsageMonths/{YYYY-MM}) and enforces a monthly cap in US
// dollars: the clinic document's llmMonthlyBudgetUsd when set, else DefaultCapUSD
// (0: no cap).
type FirestoreLedger struct {
	FS            *firestore.Client
	DefaultCapUSD float64
}

var _ Ledger = (*FirestoreLedger)(nil)

type usageRecord struct {
	ClinicID  string    `firestore:"clinicId"`
	Purpose   string    `firestore:"purpose"`
	Engine    string    `firestore:"engine"`
	Usage     Usage     `firestore:"usage"`
	At        time.Time `firestore:"at"`
	ExpiresAt time.Time `firestore:"expireAt"`
}

func month(now time.Time) string { return now.UTC().Format("2006-01") }

// Allowed implements Ledger.
func (l *FirestoreLedger) Allowed(ctx context.Context, clinicID string, now time.Time) (bool, error) {
	clinic := l.FS.Collection("clinics").Doc(clinicID)
	limit := l.DefaultCapUSD
	snap, err := clinic.Get(ctx)
	switch {
	case status.Code(err) == codes.NotFound:
	case err != nil:
		return false, err
	default:
		if v, err := snap.DataAt("llmMonthlyBudgetUsd"); err == nil {
			switch x := v.(type) {
			case float64:
				limit = x
			case int64:
				limit = float64(x)
			}
		}
	}
	if limit <= 0 {
		return true, nil
	}
	snap, err = clinic.Collection(CollectionUsageMonths).Doc(month(now)).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var spent float64
	if v, err := snap.DataAt("costUsd"); err == nil {
		switch x := v.(type) {
		case float64:
			spent = x
		case int64:
			spent = float64(x)
		}
	}
	return spent < limit, nil
}

// Record implements Ledger: the call's record and the month's totals in one transaction.
func (l *FirestoreLedger) Record(ctx context.Context, clinicID, engine string, u Usage, now time.Time) error {
	clinic := l.FS.Collection("clinics").Doc(clinicID)
	err := l.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Create(clinic.Collection(CollectionUsage).NewDoc(), usageRecord{
			ClinicID: clinicID, Purpose: "summary", Engine: engine, Usage: u, At: now,
			ExpiresAt: now.AddDate(0, 13, 0),
		}); err != nil {
			return err
		}
		return tx.Set(clinic.Collection(CollectionUsageMonths).Doc(month(now)), map[string]any{
			"clinicId":     clinicID,
			"month":        month(now),
			"calls":        firestore.Increment(1),
			"inputTokens":  firestore.Increment(u.InputTokens),
			"outputTokens": firestore.Increment(u.OutputTokens),
			"costUsd":      firestore.Increment(u.CostUSD),
			"updatedAt":    now,
		}, firestore.MergeAll)
	})
	if err != nil {
		return fmt.Errorf("summary: recording model usage: %w", err)
	}
	return nil
}
