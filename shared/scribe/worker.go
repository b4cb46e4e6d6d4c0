package scribe

import (
	"context"
	"errors"
	"fmt"
	"github.com/medi-os/medi/shared/transcript"
	"log/slog"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/patient"
)

// Worker turns an accepted upload into draft note version 1.
type Worker struct {
	Sessions *Store
	Notes    *notes.Store
	Objects  Objects
	// Patients reads the patient record (pronouns, and the identifiers the model path
	// replaces); nil drafts without it.
	Patients PatientRecords
	// Model, when set, drafts with the language model; the deterministic drafter writes
	// the draft when it is not set or its draft cannot be used (the reason is stored).
	Model         *notedraft.Model
	Deterministic notedraft.Deterministic
	// Speech transcribes audio; nil fails audio sessions with FailNoSpeechProvider.
	Speech Speech
}

// PatientRecords reads patients (patient.Store; the read is audited).
type PatientRecords interface {
	Get(ctx context.Context, clinicID, id string) (patient.Patient, error)
}

// Speech transcribes an audio upload. The Google implementation uses Speech-to-Text v2;
// with none configured, audio sessions fail with FailNoSpeechProvider.
type Speech interface {
	Transcribe(ctx context.Context, audio AudioObject) (transcript.Transcript, error)
}

// AudioObject is the upload a Speech provider reads (gs://bucket/object).
type AudioObject struct {
	Bucket, Object, ContentType string
	Generation                  int64
}

// permanentFailure marks a failure that is recorded on the session rather than retried.
type permanentFailure struct{ f *Failure }

func (p permanentFailure) Error() string { return p.f.Error() }

// Run processes a job. It returns nil when the session is done (drafted, or failed with
// a recorded reason) and an error when the task should be retried. Runs are idempotent:
// a session already drafted or failed is left alone, and the note id is the session id.
func (w *Worker) Run(ctx context.Context, job Job) error {
	log := logging.FromContext(ctx).With(slog.String("clinicId", job.ClinicID), slog.String("sessionId", job.SessionID))
	ctx = logging.WithLogger(ctx, log)
	sess, err := w.Sessions.Get(ctx, job.ClinicID, job.SessionID)
	if errors.Is(err, ErrNotFound) {
		log.LogAttrs(ctx, slog.LevelWarn, "task for an unknown session dropped")
		return nil
	}
	if err != nil {
		return err
	}
	if sess.Status == StatusDrafted && sess.NoteID != "" && sess.Generation == job.Generation {
		// A redelivery after the commit: publishing again is harmless (same event id) and
		// covers a publish that failed the first time.
		n, err := w.Notes.Get(ctx, sess.ClinicID, sess.NoteID)
		if err != nil {
			return err
		}
		return w.Notes.PublishDrafted(ctx, n)
	}
	if sess.Status.Terminal() || sess.Generation != job.Generation {
		log.LogAttrs(ctx, slog.LevelInfo, "nothing to do", slog.String("status", string(sess.Status)))
		return nil
	}
	err = w.run(ctx, sess, job)
	var pf permanentFailure
	if errors.As(err, &pf) {
		if _, ferr := w.Sessions.MarkFailed(ctx, job.ClinicID, job.SessionID, pf.f); ferr != nil {
			return ferr
		}
		log.LogAttrs(ctx, slog.LevelInfo, "session failed", slog.String("reason", pf.f.Code))
		return nil
	}
	return err
}

func (w *Worker) advance(ctx context.Context, sess Session, to Status) (Session, error) {
	now := w.Sessions.now()
	return w.Sessions.Update(ctx, sess.ClinicID, sess.ID, func(s *Session) error {
		if s.Status.Terminal() {
			return ErrIllegalMove
		}
		s.Status = to
		switch to {
		case StatusTranscribing:
			s.Timings.TranscribingAt = now
		case StatusDrafting:
			s.Timings.DraftingAt = now
		}
		return nil
	})
}

func (w *Worker) run(ctx context.Context, sess Session, job Job) error {
	f, ok := FormatOf(sess.ContentType)
	if !ok {
		return permanentFailure{Fail(FailContentType, "the session's content type is not accepted")}
	}
	// Transcribe (or parse).
	sess, err := w.advance(ctx, sess, StatusTranscribing)
	if err != nil {
		return ignoreIllegal(err)
	}
	start := time.Now()
	var t transcript.Transcript
	if f.Kind == KindAudio {
		if w.Speech == nil {
			return permanentFailure{Fail(FailNoSpeechProvider, "audio uploads need a speech-to-text provider, and none is configured; upload a transcript instead")}
		}
		t, err = w.Speech.Transcribe(ctx, AudioObject{Bucket: job.Bucket, Object: job.Object, ContentType: sess.ContentType, Generation: job.Generation})
		if err != nil {
			var fail *Failure
			if errors.As(err, &fail) {
				return permanentFailure{fail}
			}
			return err
		}
	} else {
		data, err := w.Objects.Read(ctx, job.Bucket, job.Object, job.Generation, f.MaxBytes)
		if errors.Is(err, ErrObjectMissing) {
			return permanentFailure{Fail(FailObjectMissing, "the upload no longer exists")}
		}
		if err != nil {
			return err
		}
		t, err = transcript.ParseTranscript(f.Name, data)
		if err != nil {
			return permanentFailure{Fail(FailTranscript, "%s", trimPrefix(err.Error()))}
		}
	}
	transcribeMs := time.Since(start).Milliseconds()
	if err := w.Sessions.SaveTranscript(ctx, sess.ClinicID, sess.ID, t); err != nil {
		return err
	}
	// Draft.
	if sess, err = w.advance(ctx, sess, StatusDrafting); err != nil {
		return ignoreIllegal(err)
	}
	start = time.Now()
	in, err := w.input(ctx, sess, t)
	if err != nil {
		return err
	}
	d, err := w.draft(ctx, sess.ClinicID, in)
	if err != nil {
		return err
	}
	draftMs := time.Since(start).Milliseconds()
	// Store note v1 and mark the session drafted in one transaction.
	start = time.Now()
	n, _, err := w.Notes.CreateDraft(ctx, notes.DraftInput{
		NoteID: sess.ID, ClinicID: sess.ClinicID, EncounterID: sess.EncounterID, PatientID: sess.PatientID,
		SessionID: sess.ID, Content: d.Content, Engine: d.Engine, FallbackReason: d.FallbackReason, Usage: d.Usage,
	}, func(tx *firestore.Transaction) error {
		now := w.Sessions.now()
		_, err := w.Sessions.UpdateInTx(tx, sess.ClinicID, sess.ID, func(s *Session) error {
			if s.Status == StatusFailed {
				return ErrIllegalMove // the sweeper gave it up meanwhile: its failure stands
			}
			s.Status, s.NoteID, s.Engine, s.FallbackReason = StatusDrafted, sess.ID, d.Engine, d.FallbackReason
			s.Timings.DraftedAt = now
			s.Timings.TranscribeMs, s.Timings.DraftMs = transcribeMs, draftMs
			s.Timings.StoreMs = time.Since(start).Milliseconds()
			return nil
		})
		return err
	})
	if err != nil {
		return ignoreIllegal(err)
	}
	if err := w.Notes.PublishDrafted(ctx, n); err != nil {
		return fmt.Errorf("publishing note.drafted: %w", err) // retried; same event id
	}
	total, cited := d.Content.SentenceCount()
	logging.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "draft stored", slog.String("engine", d.Engine),
		slog.Int("sentences", total), slog.Int("sentencesWithEvidence", cited),
		slog.Int64("transcribeMs", transcribeMs), slog.Int64("draftMs", draftMs))
	return nil
}

// input is what the drafters read: the transcript and the patient record's details
// (none when the patient is gone).
func (w *Worker) input(ctx context.Context, sess Session, t transcript.Transcript) (notedraft.Input, error) {
	in := notedraft.Input{Transcript: t}
	if w.Patients == nil || sess.PatientID == "" {
		return in, nil
	}
	p, err := w.Patients.Get(ctx, sess.ClinicID, sess.PatientID)
	if errors.Is(err, patient.ErrNotFound) {
		return in, nil
	}
	if err != nil {
		return in, err
	}
	in.Patient = notedraft.Patient{Sex: string(p.Sex), GivenName: p.GivenName, FamilyName: p.FamilyName, MRN: p.MRN,
		BirthDate: p.BirthDate, Phone: p.Phone}
	if a := p.Address; a != nil {
		in.Patient.Address = []string{a.Line1, a.Line2, a.City, a.PostalCode}
	}
	return in, nil
}

// draft writes the draft with the model when one is configured, else (or when the
// model's draft cannot be used, with the reason) with the deterministic drafter.
func (w *Worker) draft(ctx context.Context, clinicID string, in notedraft.Input) (notedraft.Draft, error) {
	reason := ""
	if w.Model != nil {
		d, err := w.Model.DraftFor(ctx, clinicID, in)
		if err == nil {
			return d, nil
		}
		if ctx.Err() != nil {
			return notedraft.Draft{}, err // the task is retried
		}
		reason = llm.ReasonOf(err)
		logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "model draft not used; deterministic drafter used",
			slog.String("reason", reason), slog.String("error", err.Error()))
	}
	d, err := w.Deterministic.Draft(ctx, in)
	if err != nil {
		if errors.Is(err, notedraft.ErrInvalidDraft) {
			return notedraft.Draft{}, permanentFailure{Fail(FailDraft, "no draft could be written from this transcript")}
		}
		return notedraft.Draft{}, err
	}
	d.FallbackReason = reason
	return d, nil
}

func ignoreIllegal(err error) error {
	if errors.Is(err, ErrIllegalMove) {
		return nil
	}
	return err
}

// trimPrefix removes the sentinel's text from a wrapped error message.
func trimPrefix(msg string) string {
	for _, p := range []string{transcript.ErrTranscript.Error() + ": ", notedraft.ErrInvalidDraft.Error() + ": "} {
		if len(msg) > len(p) && msg[:len(p)] == p {
			return msg[len(p):]
		}
	}
	return msg
}
