package audit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"google.golang.org/api/iterator"
)

// Bounds of a sweep (SealAll) when SweepOptions leaves them zero. A run seals at most
// DefaultSweepMaxRecords records and at most DefaultSweepMaxPerClinic of one clinic, so
// that one busy clinic cannot use up the run; what is left is sealed by the next run.
const (
	DefaultSweepMaxPerClinic = 2000
	DefaultSweepMaxRecords   = 20000
)

// SweepOptions bounds the work of one SealAll.
type SweepOptions struct {
	// MaxPerClinic bounds the records chained per clinic (DefaultSweepMaxPerClinic when 0).
	MaxPerClinic int
	// MaxRecords bounds the records chained in the whole sweep (DefaultSweepMaxRecords when 0).
	MaxRecords int
	// Deadline, when set, is the time after which no further clinic is started.
	Deadline time.Time
}

// SweepReport counts what a sweep did: counts only, no record content.
type SweepReport struct {
	// Clinics is the number of clinics examined.
	Clinics int `json:"clinics"`
	// ClinicsSealed is the number of clinics with at least one record chained.
	ClinicsSealed int `json:"clinicsSealed"`
	// Sealed is the number of records chained.
	Sealed int `json:"sealed"`
	// Pending is the number of clinics left with unsealed records because a bound was
	// reached (the next run continues with them).
	Pending int `json:"pending"`
	// Failed is the number of clinics whose sealing or checkpointing failed (retried by
	// the next run).
	Failed int `json:"failed"`
	// Anchored is the number of clinics whose checkpoint advanced (a new anchor written,
	// with anchors configured); Broken the number whose chain failed verification from
	// its latest anchor (not advanced; the caller alerts).
	Anchored int `json:"anchored"`
	Broken   int `json:"broken"`
}

// SealAll seals the pending records of every clinic (clinics/{id}, including clinics
// that have audit records but no document of their own), within the bounds of opts, and
// with anchors configured advances each clinic's checkpoint (Checkpoint). It
// is idempotent and safe to run concurrently with itself and with Seal: each batch is one
// transaction on the clinic's chain head. A clinic that fails does not stop the others;
// the error then reports how many failed (the caller answers so that it is retried).
// Clinics are visited from a random starting point so that when a bound cuts a sweep
// short, the same clinics are not always the ones left for later.
func (c *Chain) SealAll(ctx context.Context, opts SweepOptions) (SweepReport, error) {
	if opts.MaxPerClinic <= 0 {
		opts.MaxPerClinic = DefaultSweepMaxPerClinic
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultSweepMaxRecords
	}
	var rep SweepReport
	clinics, err := c.clinicIDs(ctx)
	if err != nil {
		return rep, err
	}
	start := 0
	if len(clinics) > 1 {
		start = rand.IntN(len(clinics))
	}
	var firstErr error
	for i := range clinics {
		clinic := clinics[(start+i)%len(clinics)]
		budget := min(opts.MaxPerClinic, opts.MaxRecords-rep.Sealed)
		if budget <= 0 || ctx.Err() != nil || (!opts.Deadline.IsZero() && !c.now().Before(opts.Deadline)) {
			// Out of budget or time: count what is left without sealing it.
			if pending, err := c.hasPending(ctx, clinic); err == nil && pending {
				rep.Pending++
			}
			continue
		}
		rep.Clinics++
		n, more, err := c.sealClinic(ctx, clinic, budget)
		rep.Sealed += n
		if n > 0 {
			rep.ClinicsSealed++
		}
		if err == nil && c.anchors != nil {
			// Advance the clinic's checkpoint: verify from its latest anchor, anchor the head.
			var v Verification
			var anchored bool
			v, anchored, err = c.Checkpoint(ctx, clinic, 0)
			if anchored {
				rep.Anchored++
			}
			if err == nil && !v.Valid {
				rep.Broken++
			}
		}
		switch {
		case err != nil:
			rep.Failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("clinic %s: %w", clinic, err)
			}
		case more:
			rep.Pending++
		}
	}
	if rep.Failed > 0 {
		return rep, fmt.Errorf("audit: sealing failed for %d of %d clinics (first: %w)", rep.Failed, rep.Clinics, firstErr)
	}
	return rep, nil
}

// sealClinic seals up to budget records of clinic; more reports whether unsealed records
// remain after it.
func (c *Chain) sealClinic(ctx context.Context, clinic string, budget int) (n int, more bool, err error) {
	pending, err := c.hasPending(ctx, clinic)
	if err != nil || !pending {
		return 0, false, err
	}
	n, err = c.SealUpTo(ctx, clinic, budget)
	if err != nil || n < budget {
		return n, false, err
	}
	more, err = c.hasPending(ctx, clinic)
	return n, more, err
}

// hasPending reports whether clinic has unsealed records (one indexed read; no
// transaction is opened for the many clinics that have none).
func (c *Chain) hasPending(ctx context.Context, clinic string) (bool, error) {
	docs, err := c.records(clinic).Where("sealed", "==", false).Limit(1).Documents(ctx).GetAll()
	if err != nil {
		return false, fmt.Errorf("audit: looking for unsealed records: %w", err)
	}
	return len(docs) > 0, nil
}

// clinicIDs lists every clinic id, including ids without a document of their own whose
// sub-collections (the audit trail) exist.
func (c *Chain) clinicIDs(ctx context.Context) ([]string, error) {
	it := c.fs.Collection("clinics").DocumentRefs(ctx)
	var ids []string
	for {
		ref, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return ids, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit: listing clinics: %w", err)
		}
		ids = append(ids, ref.ID)
	}
}
