package scribe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/tasks"
)

// FailTimedOut is the failure of a session the sweeper gave up on: no draft within
// [Sweeper.GiveUpAfter] of its upload, whatever held it up.
const FailTimedOut = "processing_timed_out"

// FailUploadNotReceived is the failure of a session whose upload never arrived: no upload
// within [Sweeper.AbandonAfter] of the session's creation, when its upload link (valid 15
// minutes) can no longer bring one.
const FailUploadNotReceived = "upload_not_received"

// Sweep defaults (the function's configuration: MEDI_SCRIBE_STALE_AFTER,
// MEDI_SCRIBE_GIVE_UP_AFTER; Cloud Scheduler runs the sweep every minute).
const (
	// DefaultStaleAfter exceeds the longest a healthy worker spends in one status (its
	// Cloud Run timeout is 9 minutes).
	DefaultStaleAfter = 10 * time.Minute
	// DefaultGiveUpAfter leaves room for two re-enqueued jobs before the session fails.
	DefaultGiveUpAfter = 30 * time.Minute
	// DefaultAbandonAfter exceeds the upload link's lifetime (15 minutes) plus the longest
	// upload through it (200 MB at 1 Mbit/s takes under 30 minutes) with room to spare.
	DefaultAbandonAfter = 2 * time.Hour
	// DefaultSweepLimit bounds the sessions one run looks at.
	DefaultSweepLimit = 200
)

// Sweeper ends scribe sessions that stopped moving: a session in uploaded, transcribing
// or drafting that has not changed for StaleAfter gets a new scribe job (its task may be
// lost: a producer that died before the task was delivered, a queue that gave the task
// up, a name Cloud Tasks still reserves); a session uploaded GiveUpAfter ago or longer
// that is still not drafted fails with FailTimedOut. So every accepted upload ends
// drafted or failed with a reason within GiveUpAfter of its upload, plus one sweep
// period, whatever failed and for how long. A session still awaiting its upload
// AbandonAfter after it was made (the doctor never uploaded, or the upload failed and a
// new session was started) fails with FailUploadNotReceived, so that no session waits
// for ever.
//
// A run is idempotent and runs may overlap: each session is decided in a transaction
// that re-reads it, a re-enqueue bumps the session's updatedAt and sweep count in that
// transaction, and the job's task name carries the count, so overlapping runs enqueue
// one job per decision. A duplicate job is harmless (the worker is idempotent).
type Sweeper struct {
	Sessions    *Store
	Tasks       tasks.Enqueuer
	WorkerURL   string
	StaleAfter  time.Duration
	GiveUpAfter time.Duration
	// AbandonAfter: a session awaiting its upload this long fails (0: DefaultAbandonAfter).
	AbandonAfter time.Duration
	Limit        int
}

// SweepReport is what one run did.
type SweepReport struct {
	Stale    int `json:"stale"`    // sessions found not moving
	Requeued int `json:"requeued"` // given a new job
	Failed   int `json:"failed"`   // failed with FailTimedOut
	// Abandoned counts the sessions failed with FailUploadNotReceived.
	Abandoned int `json:"abandoned,omitempty"`
}

// inProgress are the statuses between an accepted upload and its end.
var inProgress = []string{string(StatusUploaded), string(StatusTranscribing), string(StatusDrafting)}

// Sweep looks at up to Limit sessions, oldest change first, that have not changed for
// StaleAfter, and re-enqueues or fails each.
func (s *Sweeper) Sweep(ctx context.Context) (SweepReport, error) {
	var rep SweepReport
	now := s.Sessions.now()
	limit := s.Limit
	if limit <= 0 {
		limit = DefaultSweepLimit
	}
	docs, err := s.Sessions.fs.CollectionGroup(CollectionSessions).
		Where("status", "in", inProgress).
		Where("updatedAt", "<=", now.Add(-s.StaleAfter)).
		OrderBy("updatedAt", firestore.Asc).
		Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return rep, fmt.Errorf("scribe: sweep query: %w", err)
	}
	var errs []error
	for _, d := range docs {
		rep.Stale++
		var sess Session
		if err := d.DataTo(&sess); err != nil {
			errs = append(errs, fmt.Errorf("scribe: sweep: decoding session: %w", err))
			continue
		}
		outcome, err := s.sweepOne(ctx, sess.ClinicID, sess.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch outcome {
		case sweptRequeued:
			rep.Requeued++
		case sweptFailed:
			rep.Failed++
		}
	}
	abandoned, err := s.abandon(ctx, now, limit)
	rep.Abandoned = abandoned
	return rep, errors.Join(append(errs, err)...)
}

// abandon fails up to limit sessions that have awaited their upload for AbandonAfter.
func (s *Sweeper) abandon(ctx context.Context, now time.Time, limit int) (int, error) {
	after := s.AbandonAfter
	if after <= 0 {
		after = DefaultAbandonAfter
	}
	// A session awaiting its upload never changes, so updatedAt is its creation.
	docs, err := s.Sessions.fs.CollectionGroup(CollectionSessions).
		Where("status", "==", string(StatusAwaitingUpload)).
		Where("updatedAt", "<=", now.Add(-after)).
		OrderBy("updatedAt", firestore.Asc).
		Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return 0, fmt.Errorf("scribe: sweep query (awaiting upload): %w", err)
	}
	n := 0
	var errs []error
	for _, d := range docs {
		var sess Session
		if err := d.DataTo(&sess); err != nil {
			errs = append(errs, fmt.Errorf("scribe: sweep: decoding session: %w", err))
			continue
		}
		_, err := s.Sessions.Update(ctx, sess.ClinicID, sess.ID, func(x *Session) error {
			now := s.Sessions.now()
			if x.Status != StatusAwaitingUpload || now.Sub(x.CreatedAt) < after {
				return ErrIllegalMove // uploaded since the query: the upload goes on
			}
			x.Status, x.Timings.FailedAt = StatusFailed, now
			x.Failure = Fail(FailUploadNotReceived, "no upload arrived within %s of starting the session; start a new session to upload the recording or transcript",
				formatBound(after))
			return nil
		})
		switch {
		case errors.Is(err, ErrIllegalMove) || errors.Is(err, ErrNotFound):
		case err != nil:
			errs = append(errs, fmt.Errorf("scribe: sweep: %w", err))
		default:
			n++
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "scribe session failed: no upload arrived",
				slog.String("clinicId", sess.ClinicID), slog.String("sessionId", sess.ID), slog.String("reason", FailUploadNotReceived))
		}
	}
	return n, errors.Join(errs...)
}

// formatBound writes a bound as people say it: "2 hours", "90 minutes".
func formatBound(d time.Duration) string {
	switch {
	case d%time.Hour == 0 && d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	case d == time.Hour:
		return "1 hour"
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
	return d.String()
}

type sweepOutcome int

const (
	sweptNothing  sweepOutcome = iota // it moved (or ended) meanwhile
	sweptRequeued                     // a new job was enqueued
	sweptFailed                       // failed with FailTimedOut
)

// sweepOne decides one session in a transaction, then enqueues its new job.
func (s *Sweeper) sweepOne(ctx context.Context, clinicID, id string) (sweepOutcome, error) {
	log := logging.FromContext(ctx).With(slog.String("clinicId", clinicID), slog.String("sessionId", id))
	outcome := sweptNothing
	var job Job
	var sweeps int
	_, err := s.Sessions.Update(ctx, clinicID, id, func(x *Session) error {
		outcome = sweptNothing
		now := s.Sessions.now()
		if !x.Status.inProgress() || now.Sub(x.UpdatedAt) < s.StaleAfter {
			return ErrIllegalMove // moved or ended since the query: nothing to do
		}
		uploaded := x.Timings.UploadedAt
		if uploaded.IsZero() {
			uploaded = x.CreatedAt
		}
		if now.Sub(uploaded) >= s.GiveUpAfter {
			x.Status, x.Timings.FailedAt = StatusFailed, now
			x.Failure = Fail(FailTimedOut, "no draft within %s of the upload; upload the recording or transcript again in a new session, or write the note by hand",
				formatBound(s.GiveUpAfter))
			outcome = sweptFailed
			return nil
		}
		x.Sweeps++
		sweeps = x.Sweeps
		job = Job{ClinicID: x.ClinicID, SessionID: x.ID, Bucket: x.Bucket, Object: x.Object, Generation: x.Generation}
		outcome = sweptRequeued
		return nil
	})
	if errors.Is(err, ErrIllegalMove) || errors.Is(err, ErrNotFound) {
		return sweptNothing, nil
	}
	if err != nil {
		return sweptNothing, fmt.Errorf("scribe: sweep: %w", err)
	}
	if outcome == sweptFailed {
		log.LogAttrs(ctx, slog.LevelWarn, "scribe session failed: no draft in time", slog.String("reason", FailTimedOut))
		return outcome, nil
	}
	body, err := json.Marshal(job)
	if err != nil {
		return sweptNothing, err
	}
	// A name of its own per sweep: the upload's first task name may still be reserved
	// (Cloud Tasks keeps names of finished tasks for about an hour).
	err = s.Tasks.Enqueue(ctx, tasks.Task{
		Queue: tasks.QueueScribe, Name: tasks.TaskID(job.Bucket, job.Object, strconv.FormatInt(job.Generation, 10), "sweep", strconv.Itoa(sweeps)),
		URL: s.WorkerURL, Body: body,
	})
	if err != nil {
		// The session's updatedAt moved: the next sweep after StaleAfter tries again.
		return sweptNothing, fmt.Errorf("scribe: sweep: enqueue: %w", err)
	}
	log.LogAttrs(ctx, slog.LevelWarn, "scribe session not moving: job enqueued again", slog.Int("sweeps", sweeps))
	return outcome, nil
}

// inProgress reports whether s is between an accepted upload and its end.
func (s Status) inProgress() bool {
	return s == StatusUploaded || s == StatusTranscribing || s == StatusDrafting
}
