package scribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/logging"
)

// DefaultRetentionDays is how long raw uploads and transcripts are kept after the note's
// approval when the clinic sets nothing (clinics/{id}.scribeRetentionDays).
const DefaultRetentionDays = 30

// MinRetentionDays bounds a clinic's setting from below.
const MinRetentionDays = 1

// Retention deletes the raw upload and the stored transcript of sessions whose note was
// approved longer ago than the clinic's retention period. The approved note stays. Each
// deletion is recorded in the clinic's audit trail (action scribe.retention.purge) in the
// transaction that marks the session purged.
type Retention struct {
	Sessions    *Store
	Objects     Objects
	DefaultDays int
	Now         func() time.Time
}

// RetentionReport says what a run did (counts only).
type RetentionReport struct {
	Examined int `json:"examined"`
	Purged   int `json:"purged"`
	Kept     int `json:"kept"`
	Failed   int `json:"failed"`
}

// Run purges everything due. Errors on one session are counted and logged; the run goes
// on. It returns an error only when the query itself fails.
func (r *Retention) Run(ctx context.Context) (RetentionReport, error) {
	now := time.Now().UTC()
	if r.Now != nil {
		now = r.Now()
	}
	def := r.DefaultDays
	if def < MinRetentionDays {
		def = DefaultRetentionDays
	}
	fs := r.Sessions.Firestore()
	log := logging.FromContext(ctx)
	// Every note approved at least MinRetentionDays ago; the clinic's own period is checked per note.
	it := fs.CollectionGroup("notes").Where("approvedAt", "<", now.AddDate(0, 0, -MinRetentionDays)).Documents(ctx)
	defer it.Stop()
	days := map[string]int{}
	var rep RetentionReport
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return rep, err
		}
		rep.Examined++
		var n struct {
			ClinicID   string    `firestore:"clinicId"`
			SessionID  string    `firestore:"sessionId"`
			PatientID  string    `firestore:"patientId"`
			ApprovedAt time.Time `firestore:"approvedAt"`
		}
		if err := snap.DataTo(&n); err != nil || n.SessionID == "" {
			rep.Kept++
			continue
		}
		d, ok := days[n.ClinicID]
		if !ok {
			d = r.clinicDays(ctx, fs, n.ClinicID, def)
			days[n.ClinicID] = d
		}
		if n.ApprovedAt.After(now.AddDate(0, 0, -d)) {
			rep.Kept++
			continue
		}
		purged, err := r.purge(ctx, n.ClinicID, n.SessionID, n.PatientID, d, now)
		switch {
		case err != nil:
			rep.Failed++
			log.LogAttrs(ctx, slog.LevelWarn, "retention purge failed", slog.String("clinicId", n.ClinicID),
				slog.String("sessionId", n.SessionID), slog.String("error", err.Error()))
		case purged:
			rep.Purged++
		default:
			rep.Kept++
		}
	}
	return rep, nil
}

func (r *Retention) clinicDays(ctx context.Context, fs *firestore.Client, clinicID string, def int) int {
	snap, err := fs.Collection("clinics").Doc(clinicID).Get(ctx)
	if err != nil {
		return def
	}
	v, err := snap.DataAt("scribeRetentionDays")
	if err != nil {
		return def
	}
	switch n := v.(type) {
	case int64:
		if n >= MinRetentionDays {
			return int(n)
		}
	case float64:
		if n >= MinRetentionDays {
			return int(n)
		}
	}
	return def
}

// purge deletes one session's upload and transcript; false when already purged.
func (r *Retention) purge(ctx context.Context, clinicID, sessionID, patientID string, days int, now time.Time) (bool, error) {
	sess, err := r.Sessions.Get(ctx, clinicID, sessionID)
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
		if _, err := r.Sessions.UpdateInTx(tx, clinicID, sessionID, func(s *Session) error {
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
var errAlreadyPurged = errors.New("scribe: session already purged")
