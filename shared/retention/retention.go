// Package retention enforces the retention of the AI scribe's raw material: a scheduled
// job deletes the upload and the stored transcript of sessions whose note was approved
// longer ago than the clinic's retention period; the approved note stays.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/scribe"
)

// DefaultDays is how long raw uploads and transcripts are kept after the note's
// approval when the clinic sets nothing (clinics/{id}.scribeRetentionDays).
const DefaultDays = 30

// MinDays bounds a clinic's setting from below.
const MinDays = 1

// Job deletes the raw upload and the stored transcript of sessions whose note was
// approved longer ago than the clinic's retention period. The approved note stays. Each
// deletion is recorded in the clinic's audit trail (action scribe.retention.purge) in the
// transaction that marks the session purged.
//
// A run goes through every clinic and reads only the notes that became due since the
// clinic's previous run: clinics/{c}/jobs/retention keeps purgedThrough, the approval
// time up to which every note has been handled, so the work of a run grows with the
// notes approved in the meantime, not with the clinic's whole history. A note that
// fails holds purgedThrough back at its approval time, so the next run tries it again.
type Job struct {
	Sessions    *scribe.Store
	Objects     scribe.Objects
	DefaultDays int
	Now         func() time.Time
	// PerClinic bounds the notes one run handles per clinic (DefaultBatch when
	// 0); a clinic with more due goes on at its next run.
	PerClinic int
}

// DefaultBatch is Job.PerClinic's default.
const DefaultBatch = 500

// CollectionJobs holds per-clinic state of scheduled jobs (clinics/{c}/jobs/{job}).
const CollectionJobs = "jobs"

// retentionState is clinics/{c}/jobs/retention.
type retentionState struct {
	// PurgedThrough: every note approved before it has been handled.
	PurgedThrough time.Time `firestore:"purgedThrough"`
	UpdatedAt     time.Time `firestore:"updatedAt"`
}

// Report says what a run did (counts only).
type Report struct {
	Clinics  int `json:"clinics"`
	Examined int `json:"examined"`
	Purged   int `json:"purged"`
	Kept     int `json:"kept"`
	Failed   int `json:"failed"`
}

// Run purges everything due. Errors on one session or clinic are counted and logged; the
// run goes on. It returns an error only when the clinics cannot be listed.
func (r *Job) Run(ctx context.Context) (Report, error) {
	now := time.Now().UTC()
	if r.Now != nil {
		now = r.Now().UTC()
	}
	def := r.DefaultDays
	if def < MinDays {
		def = DefaultDays
	}
	fs := r.Sessions.Firestore()
	var rep Report
	// DocumentRefs lists clinics that only have subcollections too.
	it := fs.Collection("clinics").DocumentRefs(ctx)
	for {
		clinic, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return rep, err
		}
		rep.Clinics++
		if err := r.runClinic(ctx, clinic, def, now, &rep); err != nil {
			rep.Failed++
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "retention of a clinic failed",
				slog.String("clinicId", clinic.ID), slog.String("error", err.Error()))
		}
	}
	return rep, nil
}

// runClinic handles the notes of one clinic approved between its purgedThrough and its
// retention cut-off, oldest first, and moves purgedThrough on.
func (r *Job) runClinic(ctx context.Context, clinic *firestore.DocumentRef, def int, now time.Time, rep *Report) error {
	stateRef := clinic.Collection(CollectionJobs).Doc("retention")
	var st retentionState
	snap, err := stateRef.Get(ctx)
	switch {
	case status.Code(err) == codes.NotFound:
	case err != nil:
		return err
	default:
		if err := snap.DataTo(&st); err != nil {
			return err
		}
	}
	days := r.clinicDays(ctx, clinic, def)
	cutoff := now.AddDate(0, 0, -days)
	if !st.PurgedThrough.Before(cutoff) {
		return nil
	}
	limit := r.PerClinic
	if limit <= 0 {
		limit = DefaultBatch
	}
	q := clinic.Collection("notes").Where("approvedAt", "<", cutoff)
	if !st.PurgedThrough.IsZero() {
		q = q.Where("approvedAt", ">=", st.PurgedThrough)
	}
	// One more than the batch: its approval time is where the next run goes on.
	docs := q.OrderBy("approvedAt", firestore.Asc).Limit(limit + 1).Documents(ctx)
	defer docs.Stop()
	through, n, failed := cutoff, 0, false
	for {
		snap, err := docs.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return err
		}
		var note struct {
			SessionID  string    `firestore:"sessionId"`
			PatientID  string    `firestore:"patientId"`
			ApprovedAt time.Time `firestore:"approvedAt"`
		}
		if n == limit {
			// The batch is full: the next run starts at this note.
			if at, _ := snap.DataAt("approvedAt"); !failed {
				through, _ = at.(time.Time)
			}
			break
		}
		n++
		rep.Examined++
		if err := snap.DataTo(&note); err != nil {
			rep.Kept++
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "retention: an approved note cannot be read",
				slog.String("clinicId", clinic.ID), slog.String("noteId", snap.Ref.ID), slog.String("error", err.Error()))
			continue
		}
		if note.SessionID == "" {
			rep.Kept++ // not drafted by the scribe: nothing to delete
			continue
		}
		purged, err := r.purge(ctx, clinic.ID, note.SessionID, note.PatientID, days, now)
		switch {
		case err != nil:
			rep.Failed++
			if !failed {
				through, failed = note.ApprovedAt, true
			}
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "retention purge failed", slog.String("clinicId", clinic.ID),
				slog.String("sessionId", note.SessionID), slog.String("error", err.Error()))
		case purged:
			rep.Purged++
		default:
			rep.Kept++
		}
	}
	if !through.After(st.PurgedThrough) {
		return nil
	}
	_, err = stateRef.Set(ctx, retentionState{PurgedThrough: through, UpdatedAt: now})
	return err
}

func (r *Job) clinicDays(ctx context.Context, clinic *firestore.DocumentRef, def int) int {
	snap, err := clinic.Get(ctx)
	if err != nil {
		return def
	}
	v, err := snap.DataAt("scribeRetentionDays")
	if err != nil {
		return def
	}
	switch n := v.(type) {
	case int64:
		if n >= MinDays {
			return int(n)
		}
	case float64:
		if n >= MinDays {
			return int(n)
		}
	}
	return def
}

// purge deletes one session's upload and transcript; false when already purged.
func (r *Job) purge(ctx context.Context, clinicID, sessionID, patientID string, days int, now time.Time) (bool, error) {
	sess, err := r.Sessions.Get(ctx, clinicID, sessionID)
	if errors.Is(err, scribe.ErrNotFound) {
		// Nothing of the scribe's is left to delete; a retry would fail the same way and
		// hold the clinic's purgedThrough back for good.
		logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "retention: the approved note's session does not exist",
			slog.String("clinicId", clinicID), slog.String("sessionId", sessionID))
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !sess.PurgedAt.IsZero() {
		return false, nil
	}
	if sess.Bucket != "" && sess.Generation > 0 {
		if err := r.Objects.Delete(ctx, sess.Bucket, sess.Object, sess.Generation); err != nil {
			return false, fmt.Errorf("deleting the upload: %w", err)
		}
	}
	fs := r.Sessions.Firestore()
	err = fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if _, err := r.Sessions.UpdateInTx(tx, clinicID, sessionID, func(s *scribe.Session) error {
			if !s.PurgedAt.IsZero() {
				// A concurrent run (the scheduler delivers at least once) purged it
				// first: one purge, one audit record.
				return errAlreadyPurged
			}
			s.PurgedAt = now
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Delete(r.Sessions.TranscriptRef(clinicID, sessionID)); err != nil {
			return err
		}
		return audit.New(ctx, clinicID, "scribe.retention.purge", "scribeSession", sessionID).ForPatient(patientID).
			WithReason(fmt.Sprintf("upload and transcript deleted %d days after approval", days)).InTransaction(fs, tx)
	})
	if errors.Is(err, errAlreadyPurged) {
		return false, nil
	}
	return err == nil, err
}

// errAlreadyPurged ends a purge transaction that finds the session purged.
var errAlreadyPurged = errors.New("retention: session already purged")
