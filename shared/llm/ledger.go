package llm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Firestore collections of the ledger.
const (
	// CollectionUsage holds one record per model call: clinics/{c}/llmUsage/{id}.
	CollectionUsage = "llmUsage"
	// CollectionUsageMonths holds the monthly totals: clinics/{c}/llmUsageMonths/{YYYY-MM}.
	CollectionUsageMonths = "llmUsageMonths"
	// BudgetField on the clinic document overrides the default monthly cap (US dollars).
	BudgetField = "llmMonthlyBudgetUsd"
)

// transactionAttempts bounds the retries of a contended ledger transaction.
const transactionAttempts = 20

// ErrBudgetExceeded is returned by Reserve when the reservation would overspend.
var ErrBudgetExceeded = errors.New("llm: monthly budget exceeded")

// Ledger reserves and records what model calls cost per clinic.
type Ledger interface {
	// Reserve sets estimateUSD aside from the clinic's budget of the month of now, or
	// fails with ErrBudgetExceeded.
	Reserve(ctx context.Context, clinicID string, estimateUSD float64, now time.Time) (Reservation, error)
	// Settle releases a reservation and records the call (its usage, purpose and outcome).
	Settle(ctx context.Context, r Reservation, rec Record) error
}

// Reservation is money set aside for one call.
type Reservation struct {
	ClinicID    string
	Month       string
	EstimateUSD float64
}

// Record is one model call as the ledger keeps it.
type Record struct {
	ClinicID string `firestore:"clinicId"`
	// Purpose is what the call was for: "scribe" or "summary".
	Purpose string `firestore:"purpose"`
	Usage   Usage  `firestore:"usage"`
	// Outcome is "ok" or the reason the answer was not used.
	Outcome   string    `firestore:"outcome"`
	Attempts  int       `firestore:"attempts"`
	At        time.Time `firestore:"at"`
	ExpiresAt time.Time `firestore:"expireAt"`
}

// FirestoreLedger keeps the ledger in Firestore: one record per call and monthly totals
// (costUsd spent, reservedUsd set aside, calls, tokens). The cap of a month is the
// clinic document's llmMonthlyBudgetUsd when set, else DefaultCapUSD; 0 means no cap.
type FirestoreLedger struct {
	FS            *firestore.Client
	DefaultCapUSD float64
}

var _ Ledger = (*FirestoreLedger)(nil)

// Month is the ledger's month of t (UTC).
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

func (l *FirestoreLedger) clinic(id string) *firestore.DocumentRef {
	return l.FS.Collection("clinics").Doc(id)
}

// Reserve implements Ledger in one transaction: the cap, the month's spending and what
// other calls have reserved are read, and the reservation is added only if all of it
// stays within the cap.
func (l *FirestoreLedger) Reserve(ctx context.Context, clinicID string, estimateUSD float64, now time.Time) (Reservation, error) {
	r := Reservation{ClinicID: clinicID, Month: Month(now), EstimateUSD: estimateUSD}
	clinic := l.clinic(clinicID)
	monthRef := clinic.Collection(CollectionUsageMonths).Doc(r.Month)
	// Concurrent reservations of one clinic contend on its month document: a transaction
	// that loses is retried (more often than the client's default five times).
	err := l.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		limit := l.DefaultCapUSD
		snap, err := tx.Get(clinic)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if v, ok := number(snap, BudgetField); ok {
				limit = v
			}
		}
		var spent, reserved float64
		msnap, err := tx.Get(monthRef)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			spent, _ = number(msnap, "costUsd")
			reserved, _ = number(msnap, "reservedUsd")
		}
		if limit > 0 && spent+reserved+estimateUSD > limit {
			return ErrBudgetExceeded
		}
		return tx.Set(monthRef, map[string]any{
			"clinicId": clinicID, "month": r.Month, "reservedUsd": firestore.Increment(estimateUSD), "updatedAt": now,
		}, firestore.MergeAll)
	}, firestore.MaxAttempts(transactionAttempts))
	if errors.Is(err, ErrBudgetExceeded) {
		return Reservation{}, err
	}
	if err != nil {
		return Reservation{}, fmt.Errorf("llm: reserving budget: %w", err)
	}
	return r, nil
}

// Settle implements Ledger: the call's record, its cost added and its reservation
// released, in one transaction.
func (l *FirestoreLedger) Settle(ctx context.Context, r Reservation, rec Record) error {
	clinic := l.clinic(rec.ClinicID)
	month := r.Month
	if month == "" {
		month = Month(rec.At)
	}
	rec.ExpiresAt = rec.At.AddDate(0, 13, 0)
	err := l.FS.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if err := tx.Create(clinic.Collection(CollectionUsage).NewDoc(), rec); err != nil {
			return err
		}
		return tx.Set(clinic.Collection(CollectionUsageMonths).Doc(month), map[string]any{
			"clinicId":     rec.ClinicID,
			"month":        month,
			"calls":        firestore.Increment(1),
			"inputTokens":  firestore.Increment(rec.Usage.InputTokens),
			"outputTokens": firestore.Increment(rec.Usage.OutputTokens),
			"costUsd":      firestore.Increment(rec.Usage.CostUSD),
			"reservedUsd":  firestore.Increment(-r.EstimateUSD),
			"updatedAt":    rec.At,
		}, firestore.MergeAll)
	}, firestore.MaxAttempts(transactionAttempts))
	if err != nil {
		return fmt.Errorf("llm: recording model usage: %w", err)
	}
	return nil
}

// number reads a numeric field stored as a double or an integer.
func number(snap *firestore.DocumentSnapshot, field string) (float64, bool) {
	v, err := snap.DataAt(field)
	if err != nil {
		return 0, false
	}
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}
