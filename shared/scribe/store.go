package scribe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/medi-os/medi/shared/transcript"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/docid"
)

// Firestore collections.
const (
	CollectionSessions   = "scribeSessions"
	CollectionArtifacts  = "artifacts" // clinics/{c}/scribeSessions/{id}/artifacts/transcript
	transcriptArtifactID = "transcript"
)

// Errors of the store.
var (
	ErrNotFound         = errors.New("scribe: not found")
	ErrEncounterMissing = errors.New("scribe: encounter not found")
	ErrIllegalMove      = errors.New("scribe: illegal session status change")
)

// Store keeps sessions in Firestore.
type Store struct {
	fs  *firestore.Client
	now func() time.Time
}

// NewStore returns a store over fs.
func NewStore(fs *firestore.Client) *Store {
	return &Store{fs: fs, now: func() time.Time { return time.Now().UTC() }}
}

// Firestore returns the client (the worker writes notes in the same transactions).
func (s *Store) Firestore() *firestore.Client { return s.fs }

func (s *Store) ref(clinicID, id string) *firestore.DocumentRef {
	return s.fs.Collection("clinics").Doc(clinicID).Collection(CollectionSessions).Doc(id)
}

// Ref returns the document of a session.
func (s *Store) Ref(clinicID, id string) *firestore.DocumentRef { return s.ref(clinicID, id) }

// Create stores a new session (status awaiting_upload) for an encounter of the clinic,
// taking the patient from the encounter, with its audit record in the same transaction.
// commit is the request's commit marker (the zero Marker without an Idempotency-Key): a
// retry of a creation that committed, whose answer was lost, gets the session the first
// attempt created (replayed true), and only the audit record of that replay is written.
func (s *Store) Create(ctx context.Context, sess Session, commit commitmark.Marker) (out Session, replayed bool, err error) {
	now := s.now()
	sess.Status, sess.CreatedAt, sess.UpdatedAt = StatusAwaitingUpload, now, now
	sess.Object = ObjectName(sess.ClinicID, sess.ID)
	if sess.UploadToken == "" {
		sess.UploadToken = NewUploadToken()
	}
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out, replayed = sess, false
		prevID, ok, err := commit.CommittedTx(s.fs, tx)
		if err != nil {
			return err
		}
		if ok {
			snap, err := tx.Get(s.ref(sess.ClinicID, prevID))
			if err != nil {
				return err
			}
			replayed = true
			if err := snap.DataTo(&out); err != nil {
				return err
			}
			// The answer discloses the session again: audited as a replay.
			return audit.New(ctx, sess.ClinicID, "scribe.session.create"+audit.ReplaySuffix, "scribeSession", prevID).
				ForPatient(out.PatientID).InTransaction(s.fs, tx)
		}
		enc, err := tx.Get(s.fs.Collection("clinics").Doc(sess.ClinicID).Collection("encounters").Doc(sess.EncounterID))
		if status.Code(err) == codes.NotFound {
			return ErrEncounterMissing
		}
		if err != nil {
			return err
		}
		pid, _ := enc.Data()["patientId"].(string)
		out.PatientID = pid
		if err := tx.Create(s.ref(sess.ClinicID, sess.ID), out); err != nil {
			return err
		}
		if err := commit.RecordTx(s.fs, tx, sess.ID, now); err != nil {
			return err
		}
		return audit.New(ctx, sess.ClinicID, "scribe.session.create", "scribeSession", sess.ID).
			ForPatient(pid).InTransaction(s.fs, tx)
	})
	if err != nil {
		return Session{}, false, err
	}
	return out, replayed, nil
}

// Get reads a session.
func (s *Store) Get(ctx context.Context, clinicID, id string) (Session, error) {
	if !docid.Valid(clinicID) || !docid.Valid(id) {
		return Session{}, ErrNotFound
	}
	snap, err := s.ref(clinicID, id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, err
	}
	var sess Session
	if err := snap.DataTo(&sess); err != nil {
		return Session{}, fmt.Errorf("scribe: decoding session: %w", err)
	}
	return sess, nil
}

// Update applies fn to the session in a transaction and stores the result. fn returns
// ErrIllegalMove (or another error) to change nothing.
func (s *Store) Update(ctx context.Context, clinicID, id string, fn func(*Session) error) (Session, error) {
	var out Session
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		out, err = s.UpdateInTx(tx, clinicID, id, fn)
		return err
	})
	return out, err
}

// UpdateInTx is Update inside the caller's transaction (reads first: call it before writes).
func (s *Store) UpdateInTx(tx *firestore.Transaction, clinicID, id string, fn func(*Session) error) (Session, error) {
	snap, err := tx.Get(s.ref(clinicID, id))
	if status.Code(err) == codes.NotFound {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, err
	}
	var sess Session
	if err := snap.DataTo(&sess); err != nil {
		return Session{}, err
	}
	if err := fn(&sess); err != nil {
		return Session{}, err
	}
	sess.UpdatedAt = s.now()
	return sess, tx.Set(s.ref(clinicID, id), sess)
}

// MarkFailed records f unless the session already ended; it is a no-op on a terminal
// session (a late failure never overwrites a draft).
func (s *Store) MarkFailed(ctx context.Context, clinicID, id string, f *Failure) (Session, error) {
	sess, err := s.Update(ctx, clinicID, id, func(x *Session) error {
		if x.Status.Terminal() {
			return ErrIllegalMove
		}
		x.Status, x.Failure, x.Timings.FailedAt = StatusFailed, f, s.now()
		return nil
	})
	if errors.Is(err, ErrIllegalMove) {
		return s.Get(ctx, clinicID, id)
	}
	return sess, err
}

// transcriptDoc is the stored transcript (deleted by retention).
type transcriptDoc struct {
	Transcript transcript.Transcript `firestore:"transcript"`
	CreatedAt  time.Time             `firestore:"createdAt"`
}

func (s *Store) transcriptRef(clinicID, id string) *firestore.DocumentRef {
	return s.ref(clinicID, id).Collection(CollectionArtifacts).Doc(transcriptArtifactID)
}

// SaveTranscript stores the parsed transcript of a session.
func (s *Store) SaveTranscript(ctx context.Context, clinicID, id string, t transcript.Transcript) error {
	_, err := s.transcriptRef(clinicID, id).Set(ctx, transcriptDoc{Transcript: t, CreatedAt: s.now()})
	return err
}

// Transcript reads the stored transcript of a session.
func (s *Store) Transcript(ctx context.Context, clinicID, id string) (transcript.Transcript, error) {
	snap, err := s.transcriptRef(clinicID, id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return transcript.Transcript{}, ErrNotFound
	}
	if err != nil {
		return transcript.Transcript{}, err
	}
	var d transcriptDoc
	if err := snap.DataTo(&d); err != nil {
		return transcript.Transcript{}, err
	}
	return d.Transcript, nil
}

// TranscriptRef is the transcript's document (retention deletes it).
func (s *Store) TranscriptRef(clinicID, id string) *firestore.DocumentRef {
	return s.transcriptRef(clinicID, id)
}
