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

// Sweep defaults (the function's configuration: MEDI_SCRIBE_STALE_AFTER,
// MEDI_SCRIBE_GIVE_UP_AFTER; Cloud Scheduler runs the sweep every minute).
const (
	// DefaultStaleAfter exceeds the longest a healthy worker spends in one status (its
	// Cloud Run timeout is 9 minutes).
	DefaultStaleAfter = 10 * time.Minute
	// DefaultGiveUpAfter leaves room for two re-enqueued jobs before the session fails.
	DefaultGiveUpAfter = 30 * time.Minute
	// DefaultSweepLimit bounds the sessions one run looks at.
	DefaultSweepLimit = 200
)

// Sweeper ends scribe sessions that stopped moving: a session in uploaded, transcribing
// or drafting that has not changed for StaleAfter gets a new scribe job (its task may be
// lost: a producer that died before the task was delivered, a queue that gave the task
// up, a name Cloud Tasks still reserves); a session uploaded GiveUpAfter ago or longer
// that is still not drafted fails with FailTimedOut. So every accepted upload ends
// drafted or failed with a reason within GiveUpAfter of its upload, plus one sweep
// period, whatever failed and for how long.
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
	Limit       int
}

// SweepReport is what one run did.
type SweepReport struct {
	Stale    int `json:"stale"`    // sessions found not moving
	Requeued int `json:"requeued"` // given a new job
	Failed   int `json:"failed"`   // failed with FailTimedOut
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
	return rep, errors.Join(errs...)
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
			x.Failure = Fail(FailTimedOut, "no draft within %d minutes of the upload; upload the recording or transcript again in a new session, or write the note by hand",
				int(s.GiveUpAfter.Minutes()))
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
