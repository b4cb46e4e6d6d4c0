package notes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
)

// Collections and event types.
const (
	CollectionNotes    = "notes"
	CollectionVersions = "versions"
	DefaultTopic       = "note-events"
	TypeNoteDrafted    = "note.drafted"
	TypeNoteApproved   = "note.approved"
)

// EventData is the data of note.drafted and note.approved: ids only.
type EventData struct {
	NoteID      string `json:"noteId"`
	EncounterID string `json:"encounterId"`
	PatientID   string `json:"patientId"`
	Version     int    `json:"version"`
	Status      Status `json:"status"`
	Engine      string `json:"engine,omitempty"`
}

// Store keeps notes and versions in Firestore and publishes note facts.
type Store struct {
	fs    *firestore.Client
	pub   events.Publisher
	topic string
	now   func() time.Time
}

// NewStore returns a store; pub may be nil when the caller publishes itself.
func NewStore(fs *firestore.Client, pub events.Publisher, topic string) *Store {
	if topic == "" {
		topic = DefaultTopic
	}
	return &Store{fs: fs, pub: pub, topic: topic, now: func() time.Time { return time.Now().UTC() }}
}

func (s *Store) ref(clinicID, id string) *firestore.DocumentRef {
	return s.fs.Collection("clinics").Doc(clinicID).Collection(CollectionNotes).Doc(id)
}

func (s *Store) versionRef(clinicID, id string, n int) *firestore.DocumentRef {
	return s.ref(clinicID, id).Collection(CollectionVersions).Doc(strconv.Itoa(n))
}

// Ref returns a note's document.
func (s *Store) Ref(clinicID, id string) *firestore.DocumentRef { return s.ref(clinicID, id) }

// DraftInput is what the scribe worker stores as version 1.
type DraftInput struct {
	NoteID, ClinicID, EncounterID, PatientID, SessionID string
	Content                                             Content
	Engine                                              string
	// FallbackReason says why the configured model's draft was not used.
	FallbackReason string
	Usage          *Usage
}

// CreateDraft stores note and version 1 (status draft) with an audit record, in one
// transaction with also (which may read, before writing). When the note already
// exists (a redelivered task) nothing is written and created is false.
func (s *Store) CreateDraft(ctx context.Context, in DraftInput, also func(*firestore.Transaction) error) (n Note, created bool, err error) {
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		created = false
		snap, err := tx.Get(s.ref(in.ClinicID, in.NoteID))
		switch {
		case err == nil:
			return snap.DataTo(&n)
		case status.Code(err) != codes.NotFound:
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		now := s.now()
		c := normalize(in.Content)
		n = Note{ID: in.NoteID, ClinicID: in.ClinicID, EncounterID: in.EncounterID, PatientID: in.PatientID,
			SessionID: in.SessionID, Status: StatusDraft, CurrentVersion: 1, Engine: in.Engine, FallbackReason: in.FallbackReason,
			Content: c, CreatedAt: now, UpdatedAt: now}
		v := Version{Number: 1, Kind: KindDraft, Content: c, AuthorUID: "system", AuthorRole: "scribe",
			Engine: in.Engine, FallbackReason: in.FallbackReason, Usage: in.Usage, SHA256: CanonicalHash(in.NoteID, 1, c), CreatedAt: now}
		if err := tx.Create(s.ref(in.ClinicID, in.NoteID), n); err != nil {
			return err
		}
		if err := tx.Create(s.versionRef(in.ClinicID, in.NoteID, 1), v); err != nil {
			return err
		}
		created = true
		return audit.New(ctx, in.ClinicID, "note.draft", "note", in.NoteID).ForPatient(in.PatientID).InTransaction(s.fs, tx)
	})
	return n, created, err
}

// PublishDrafted publishes note.drafted for version 1 (same event id on every retry).
func (s *Store) PublishDrafted(ctx context.Context, n Note) error {
	return s.publish(ctx, TypeNoteDrafted, n, 1)
}

func (s *Store) publish(ctx context.Context, typ string, n Note, version int) error {
	if s.pub == nil {
		return nil
	}
	env, err := events.NewEnvelope(ctx, typ, 1, n.ClinicID, EventData{NoteID: n.ID, EncounterID: n.EncounterID,
		PatientID: n.PatientID, Version: version, Status: n.Status, Engine: n.Engine})
	if err != nil {
		return err
	}
	env = env.WithIdempotencyKey(n.ID + "/v" + strconv.Itoa(version))
	_, err = s.pub.Publish(ctx, s.topic, env, n.ID)
	return err
}

// notFound is the answer for a note that does not exist in the caller's clinic.
func notFound() error { return apierr.NotFound("note not found") }

// Get reads a note.
func (s *Store) Get(ctx context.Context, clinicID, id string) (Note, error) {
	if id == "" || strings.ContainsRune(id, '/') {
		return Note{}, notFound()
	}
	snap, err := s.ref(clinicID, id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Note{}, notFound()
	}
	if err != nil {
		return Note{}, err
	}
	var n Note
	if err := snap.DataTo(&n); err != nil {
		return Note{}, fmt.Errorf("notes: decoding note: %w", err)
	}
	return n, nil
}

// ListLimit bounds List.
const ListLimit = 100

// List returns the clinic's notes of an encounter or a patient (field "encounterId" or
// "patientId"), newest first, at most ListLimit. One equality filter: no composite index.
func (s *Store) List(ctx context.Context, clinicID, field, value string) ([]Note, error) {
	docs, err := s.fs.Collection("clinics").Doc(clinicID).Collection(CollectionNotes).
		Where(field, "==", value).Limit(500).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	out := make([]Note, 0, len(docs))
	for _, d := range docs {
		var n Note
		if err := d.DataTo(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Note) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(out) > ListLimit {
		out = out[:ListLimit]
	}
	return out, nil
}

// Versions lists a note's versions in order.
func (s *Store) Versions(ctx context.Context, clinicID, id string) ([]Version, error) {
	docs, err := s.ref(clinicID, id).Collection(CollectionVersions).OrderBy("number", firestore.Asc).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	out := make([]Version, 0, len(docs))
	for _, d := range docs {
		var v Version
		if err := d.DataTo(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Version reads version n of a note.
func (s *Store) Version(ctx context.Context, clinicID, id string, n int) (Version, error) {
	snap, err := s.versionRef(clinicID, id, n).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return Version{}, apierr.NotFound("version not found")
	}
	if err != nil {
		return Version{}, err
	}
	var v Version
	return v, snap.DataTo(&v)
}

// Action is a change of a note.
type Action string

// Actions.
const (
	ActionEdit    Action = "edit"
	ActionSubmit  Action = "submit"
	ActionApprove Action = "approve"
	ActionReject  Action = "reject"
	ActionAmend   Action = "amend"
)

// allowedFrom lists the statuses each action may start from.
var allowedFrom = map[Action][]Status{
	ActionEdit:    {StatusDraft, StatusAmended},
	ActionSubmit:  {StatusDraft, StatusAmended},
	ActionApprove: {StatusPendingReview},
	ActionReject:  {StatusPendingReview},
	ActionAmend:   {StatusApproved},
}

// Allowed reports whether action may be applied to a note in status st.
func Allowed(action Action, st Status) bool { return slices.Contains(allowedFrom[action], st) }

// MaxReasonRunes bounds a rejection reason.
const MaxReasonRunes = 1000

// Change describes one action on a note.
type Change struct {
	Action Action
	// BaseVersion, when not 0, must equal the note's current version (else 412).
	BaseVersion int
	// Content is the new content for edit and amend.
	Content *Content
	// Reason is required for reject.
	Reason string
}

// Apply performs a change as the principal in ctx, with its audit record in the same
// transaction. Illegal moves are 409, a stale base version 412, approval by anyone but a
// doctor of the clinic 403. Approval publishes note.approved after the commit.
func (s *Store) Apply(ctx context.Context, clinicID, id string, ch Change) (Note, error) {
	p, _ := auth.FromContext(ctx)
	if err := s.checkChange(ctx, clinicID, id, ch, p); err != nil {
		return Note{}, err
	}
	var n Note
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(s.ref(clinicID, id))
		if status.Code(err) == codes.NotFound {
			return notFound()
		}
		if err != nil {
			return err
		}
		if err := snap.DataTo(&n); err != nil {
			return err
		}
		if ch.BaseVersion != 0 && ch.BaseVersion != n.CurrentVersion {
			return apierr.Stale(int64(n.CurrentVersion), "the note has changed: base version %d, current version %d", ch.BaseVersion, n.CurrentVersion)
		}
		if !Allowed(ch.Action, n.Status) {
			return apierr.Conflict("cannot %s a note in status %s", ch.Action, n.Status).
				WithDetails(map[string]any{"status": n.Status, "allowedFrom": allowedFrom[ch.Action]})
		}
		now := s.now()
		rec := audit.New(ctx, clinicID, "note."+string(ch.Action), "note", id).ForPatient(n.PatientID)
		switch ch.Action {
		case ActionEdit, ActionAmend:
			if err := s.addVersionTx(tx, clinicID, id, &n, ch, p, now); err != nil {
				return err
			}
		case ActionSubmit:
			n.Status, n.RejectionReason = StatusPendingReview, ""
		case ActionReject:
			n.Status, n.RejectionReason = StatusDraft, strings.TrimSpace(ch.Reason)
			rec = rec.WithReason(n.RejectionReason)
		case ActionApprove:
			if err := s.approveTx(tx, clinicID, id, &n, p, now); err != nil {
				return err
			}
		}
		n.UpdatedAt = now
		if err := tx.Set(s.ref(clinicID, id), n); err != nil {
			return err
		}
		return rec.InTransaction(s.fs, tx)
	})
	if err != nil {
		return Note{}, err
	}
	if ch.Action == ActionApprove {
		if err := s.publish(ctx, TypeNoteApproved, n, n.ApprovedVersion); err != nil {
			// The approval stands; consumers (summaries) catch up on the next change.
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelError, "note approved but note.approved not published",
				slog.String("noteId", id), slog.String("error", err.Error()))
		}
	}
	return n, nil
}

// checkChange refuses a change before its transaction: an approval by anyone but a doctor
// of the clinic (403, and the attempt audited as denied), a rejection without a reason, an
// overlong reason, an edit or amendment without its base version.
func (s *Store) checkChange(ctx context.Context, clinicID, id string, ch Change, p auth.Principal) error {
	if ch.Action == ActionApprove && (p.Role != auth.RoleDoctor || p.ClinicID != clinicID) {
		// Record the refused attempt; the refusal stands even if the record cannot be written.
		if err := audit.New(ctx, clinicID, "note.approve", "note", id).WithOutcome(audit.OutcomeDenied).Write(ctx, s.fs); err != nil {
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "denied approval not audited", slog.String("error", err.Error()))
		}
		return apierr.PermissionDenied("only a doctor of the clinic may approve a note")
	}
	if ch.Action == ActionReject && strings.TrimSpace(ch.Reason) == "" {
		return apierr.InvalidFields([]apierr.FieldError{{Field: "reason", Message: "required"}})
	}
	if utf8.RuneCountInString(ch.Reason) > MaxReasonRunes {
		return apierr.InvalidFields([]apierr.FieldError{{Field: "reason", Message: fmt.Sprintf("at most %d characters", MaxReasonRunes)}})
	}
	if (ch.Action == ActionEdit || ch.Action == ActionAmend) && ch.BaseVersion == 0 {
		return apierr.InvalidFields([]apierr.FieldError{{Field: "baseVersion", Message: "required"}})
	}
	return nil
}

// addVersionTx merges an edit or amendment into n's content and creates the new version
// in tx (an amendment moves the note to amended).
func (s *Store) addVersionTx(tx *firestore.Transaction, clinicID, id string, n *Note, ch Change, p auth.Principal, now time.Time) error {
	c, err := MergeEdit(n.Content, *ch.Content)
	if err != nil {
		return err
	}
	kind, st := KindEdit, n.Status
	if ch.Action == ActionAmend {
		kind, st = KindAmendment, StatusAmended
	}
	n.CurrentVersion++
	n.Content, n.Status = c, st
	v := Version{Number: n.CurrentVersion, Kind: kind, Content: c, AuthorUID: p.UID, AuthorRole: string(p.Role),
		SHA256: CanonicalHash(id, n.CurrentVersion, c), CreatedAt: now}
	return tx.Create(s.versionRef(clinicID, id, v.Number), v)
}

// approveTx signs n's current version in tx (409 when it is already signed) and marks the
// note approved.
func (s *Store) approveTx(tx *firestore.Transaction, clinicID, id string, n *Note, p auth.Principal, now time.Time) error {
	vsnap, err := tx.Get(s.versionRef(clinicID, id, n.CurrentVersion))
	if err != nil {
		return err
	}
	var v Version
	if err := vsnap.DataTo(&v); err != nil {
		return err
	}
	if v.Approval != nil {
		return apierr.Conflict("version %d is already approved", v.Number)
	}
	a := &Approval{SignerUID: p.UID, SignedAt: now, SHA256: CanonicalHash(id, v.Number, v.Content)}
	if err := tx.Update(s.versionRef(clinicID, id, v.Number), []firestore.Update{{Path: "approval", Value: a}}); err != nil {
		return err
	}
	n.Status, n.ApprovedVersion, n.Approval, n.ApprovedAt = StatusApproved, v.Number, a, now
	return nil
}

// IsNotFound reports whether err is a 404 of this package.
func IsNotFound(err error) bool {
	var he *apierr.Error
	return errors.As(err, &he) && he.Kind == apierr.KindNotFound
}

// Firestore returns the store's client (handlers write read audits with it).
func (s *Store) Firestore() *firestore.Client { return s.fs }
