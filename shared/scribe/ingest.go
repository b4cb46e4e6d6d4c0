package scribe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/tasks"
)

// Job is the body of a scribe-worker task: ids and the object generation only.
type Job struct {
	ClinicID   string `json:"clinicId"`
	SessionID  string `json:"sessionId"`
	Bucket     string `json:"bucket"`
	Object     string `json:"object"`
	Generation int64  `json:"generation"`
}

// Ingester turns a finalized upload into one worker task.
type Ingester struct {
	Sessions *Store
	Objects  Objects
	Tasks    tasks.Enqueuer
	// Bucket is the uploads bucket; events of other buckets are dropped.
	Bucket string
	// WorkerURL is scribe-worker's URL.
	WorkerURL string
}

// ActionUploadRefused audits an object written under a session's name without the
// session's upload token (outcome denied).
const ActionUploadRefused = "scribe.upload.refused"

// refuseUnbound handles an object under a session's name that was not uploaded through
// that session's signed URL (another session's or clinic's URL, a leaked URL without its
// headers, a direct write): it is never read into the session. The attempt is audited in
// the session's clinic (outcome denied) and that object generation deleted; the session
// is left as it was, so its own upload still counts.
func (in *Ingester) refuseUnbound(ctx context.Context, sess Session, obj events.StorageObject) error {
	log := logging.FromContext(ctx)
	if err := audit.New(ctx, sess.ClinicID, ActionUploadRefused, "scribeSession", sess.ID).ForPatient(sess.PatientID).
		WithOutcome(audit.OutcomeDenied).Write(ctx, in.Sessions.fs); err != nil {
		return err // retried: the refusal is audited before anything else happens
	}
	log.LogAttrs(ctx, slog.LevelWarn, "upload refused: the object does not carry its session's upload token",
		slog.Int64("generation", obj.Generation))
	if err := in.Objects.Delete(ctx, obj.Bucket, obj.Name, obj.Generation); err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "could not delete the refused upload", slog.String("error", err.Error()))
	}
	return nil
}

// Ingest handles one finalized object. Errors marked events.Permanent are not worth a
// retry (the event is dropped after logging); other errors should be retried. Problems
// with the upload itself mark the session failed and return nil.
func (in *Ingester) Ingest(ctx context.Context, obj events.StorageObject) error {
	log := logging.FromContext(ctx)
	if obj.Bucket != in.Bucket {
		return events.Permanent(fmt.Errorf("scribe: object of bucket %q, not the uploads bucket", obj.Bucket))
	}
	clinicID, sessionID, ok := ParseObjectName(obj.Name)
	if !ok {
		return events.Permanent(errors.New("scribe: object name is not uploads/{clinic}/{session}"))
	}
	log = log.With(slog.String("clinicId", clinicID), slog.String("sessionId", sessionID), slog.Int64("generation", obj.Generation))
	sess, err := in.Sessions.Get(ctx, clinicID, sessionID)
	if errors.Is(err, ErrNotFound) {
		return events.Permanent(errors.New("scribe: no session for the uploaded object"))
	}
	if err != nil {
		return err
	}
	// The name alone binds nothing: the object must carry the session's upload token,
	// which only the session's signed URL makes the uploader send.
	if !sess.UploadBound(obj.Metadata) {
		return in.refuseUnbound(ctx, sess, obj)
	}
	// One upload per session: a later generation (the URL reused) is ignored.
	if sess.Generation != 0 && sess.Generation != obj.Generation {
		log.LogAttrs(ctx, slog.LevelWarn, "ignoring another upload to a session that already has one",
			slog.Int64("sessionGeneration", sess.Generation))
		return nil
	}
	if sess.Status == StatusFailed {
		return nil
	}
	if sess.Status == StatusAwaitingUpload {
		var fail *Failure
		head, err := in.Objects.Head(ctx, obj.Bucket, obj.Name, obj.Generation, SniffBytes)
		switch {
		case errors.Is(err, ErrObjectMissing):
			fail = Fail(FailObjectMissing, "the upload was deleted before it could be checked")
		case err != nil:
			return err
		default:
			fail = CheckUpload(sess, obj.ContentType, obj.Size, head)
		}
		now := in.Sessions.now()
		sess, err = in.Sessions.Update(ctx, clinicID, sessionID, func(s *Session) error {
			if s.Status != StatusAwaitingUpload {
				return nil // a concurrent delivery got here first
			}
			s.Generation, s.ObjectSize, s.Bucket, s.Timings.UploadedAt = obj.Generation, obj.Size, obj.Bucket, now
			if fail != nil {
				s.Status, s.Failure, s.Timings.FailedAt = StatusFailed, fail, now
			} else {
				s.Status = StatusUploaded
			}
			return nil
		})
		if err != nil {
			return err
		}
		if sess.Status == StatusFailed {
			log.LogAttrs(ctx, slog.LevelInfo, "upload refused", slog.String("reason", sess.Failure.Code))
			return nil
		}
	}
	if sess.Generation != obj.Generation || sess.Status != StatusUploaded {
		// Already being processed or done: the worker's task exists (or existed).
		return nil
	}
	body, err := json.Marshal(Job{ClinicID: clinicID, SessionID: sessionID, Bucket: obj.Bucket, Object: obj.Name, Generation: obj.Generation})
	if err != nil {
		return err
	}
	// The task name makes a repeated event (or this retry) enqueue nothing new.
	err = in.Tasks.Enqueue(ctx, tasks.Task{
		Queue: tasks.QueueScribe, Name: tasks.TaskID(obj.Bucket, obj.Name, fmt.Sprint(obj.Generation)),
		URL: in.WorkerURL, Body: body,
	})
	if errors.Is(err, tasks.ErrInvalidTask) {
		return events.Permanent(err)
	}
	if err == nil {
		log.LogAttrs(ctx, slog.LevelInfo, "upload accepted, draft task enqueued")
	}
	return err
}
