package encounter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/logging"
)

// TransitionOption adjusts one transition.
type TransitionOption func(*transitionOptions)

type transitionOptions struct {
	ifVersion    int64
	hasIfVersion bool
	doctorUID    string
	triage       *Triage
	// read is the encounter as the caller's transaction already read it.
	read *Encounter
}

// IfVersion makes the transition fail with 412 unless the encounter is still at version
// v (the client's If-Match).
func IfVersion(v int64) TransitionOption {
	return func(o *transitionOptions) { o.ifVersion, o.hasIfVersion = v, true }
}

// AssignDoctor names the doctor of a move to in_consultation. A doctor may only name
// themselves (or no one: the caller claims the patient); a nurse or admin must name a
// doctor of the clinic (users/{uid} with role doctor, same clinicId, not disabled).
// It is refused (400) on moves to any other status.
func AssignDoctor(uid string) TransitionOption {
	return func(o *transitionOptions) { o.doctorUID = strings.TrimSpace(uid) }
}

// WithTriage stores t as the encounter's triage result in the same update (for the
// triage function's waiting -> triaged move).
func WithTriage(t Triage) TransitionOption {
	return func(o *transitionOptions) { o.triage = &t }
}

// AlreadyRead gives TransitionTx the encounter as the caller read it in the same
// transaction (GetTx), which it then does not read again.
func AlreadyRead(enc Encounter) TransitionOption {
	return func(o *transitionOptions) { o.read = &enc }
}

// staffProfile is the part of users/{uid} a doctor assignment checks.
type staffProfile struct {
	Role     string `firestore:"role"`
	ClinicID string `firestore:"clinicId"`
	Disabled bool   `firestore:"disabled"`
}

// Transition moves encounter id of clinicID to status to in its own transaction (see
// TransitionTx), then announces the change.
func (s *Store) Transition(ctx context.Context, clinicID, id string, to Status, reason string, actor auth.Principal, opts ...TransitionOption) (Encounter, Event, error) {
	var enc Encounter
	var ev Event
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		enc, ev, err = s.TransitionTx(ctx, tx, clinicID, id, to, reason, actor, opts...)
		return err
	})
	if err != nil {
		var he *apierr.Error
		if errors.As(err, &he) {
			return Encounter{}, Event{}, he
		}
		return Encounter{}, Event{}, fmt.Errorf("encounter: transition: %w", err)
	}
	s.Announce(ctx, enc, ev)
	return enc, ev, nil
}

// TransitionTx moves encounter id of clinicID to status to inside the caller's
// transaction tx, on behalf of actor (who must belong to clinicID), with reason (trimmed;
// required for cancel, left_without_being_seen and retriage). It is how other functions
// (triage: waiting -> triaged) change an encounter together with their own documents.
//
// It reads the encounter (and, when needed, the assigned doctor's users/{uid} profile
// and the patient's open pointer) before it writes, so the caller must do all of its own
// reads before calling it and may write after it returns. It writes: the encounter
// (status, statusTimes.<to> when first entered, eventCount, version, updatedAt,
// doctorUid, triage), the event EventID(eventCount+1), the deletion of the open pointer
// when the encounter leaves the open states, the change's envelope in the clinic's
// encounterOutbox (RecordTx) and an audit record. Because the encounter
// is read inside tx, a concurrent change makes one of the transactions retry against the
// new status: the status checked is the status changed.
//
// After tx commits the caller should call Announce(ctx, encounter, event), which publishes
// the change (after the answer in an HTTP request); otherwise RedeliverOutbox publishes
// it from the outbox once it is older than OutboxGrace.
//
// Errors, as *apierr.Error: 404 (no such encounter in clinicID, or actor of another
// clinic), 412 (IfVersion stale; details.currentVersion), 409 (illegal move;
// details.allowed lists the legal next states, details.current the status), 403 (role
// may not make this move; a doctor naming another doctor), 400 (unknown status, missing
// reason, bad doctor assignment). Refusals from the state machine keep their
// *TransitionError as cause.
func (s *Store) TransitionTx(ctx context.Context, tx *firestore.Transaction, clinicID, id string, to Status, reason string, actor auth.Principal, opts ...TransitionOption) (Encounter, Event, error) {
	var o transitionOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := actor.InClinic(clinicID, "encounter"); err != nil {
		return Encounter{}, Event{}, err
	}
	if !to.Valid() {
		return Encounter{}, Event{}, httpError(&TransitionError{Kind: ErrUnknownStatus, To: to,
			Message: "to must be one of " + statusList(Statuses)})
	}
	reason = strings.TrimSpace(reason)

	// Reads.
	var enc Encounter
	if o.read != nil && o.read.ID == id && o.read.ClinicID == clinicID {
		enc = *o.read
	} else {
		var err error
		if enc, err = s.GetTx(tx, clinicID, id); err != nil {
			return Encounter{}, Event{}, err
		}
	}
	if o.hasIfVersion && enc.Version != o.ifVersion {
		return Encounter{}, Event{}, apierr.Stale(enc.Version, "the encounter has changed (version %d); reload it and retry", enc.Version)
	}
	action, err := Check(enc.Status, to, actor.Role, reason)
	if err != nil {
		var te *TransitionError
		if errors.As(err, &te) {
			return Encounter{}, Event{}, httpError(te)
		}
		return Encounter{}, Event{}, err
	}
	doctorUID, err := s.resolveDoctor(tx, clinicID, to, actor, o.doctorUID)
	if err != nil {
		return Encounter{}, Event{}, err
	}
	closeRef, err := s.pointerToClose(ctx, tx, clinicID, enc, to)
	if err != nil {
		return Encounter{}, Event{}, err
	}

	// Writes.
	now := s.timestamp()
	from := enc.Status
	updates := enc.moveTo(to, doctorUID, o.triage, now)
	ev := Event{
		Seq:       enc.EventCount,
		Action:    action,
		From:      from,
		To:        to,
		ActorUID:  actor.UID,
		ActorRole: string(actor.Role),
		Reason:    reason,
		DoctorUID: doctorUID,
		At:        now,
		RequestID: logging.RequestID(ctx),
	}
	if err := s.writeTransition(ctx, tx, clinicID, enc, ev, updates, closeRef, actor); err != nil {
		return Encounter{}, Event{}, err
	}
	return enc, ev, nil
}

// pointerToClose returns the patient's open-encounter pointer when the move to status to
// closes enc and the pointer is enc's (nil otherwise: an open move, or a pointer already
// gone or naming another encounter, which the move must not delete). A read of tx.
func (s *Store) pointerToClose(ctx context.Context, tx *firestore.Transaction, clinicID string, enc Encounter, to Status) (*firestore.DocumentRef, error) {
	if !enc.Status.Open() || to.Open() {
		return nil, nil
	}
	ref := s.openRef(clinicID, enc.PatientID)
	snap, err := tx.Get(ref)
	switch {
	case status.Code(err) == codes.NotFound:
		logging.FromContext(ctx).Warn("closing an encounter without an open pointer", "encounterId", enc.ID)
		return nil, nil
	case err != nil:
		return nil, err
	}
	var p openPointer
	if err := snap.DataTo(&p); err == nil && p.EncounterID == enc.ID {
		return ref, nil
	}
	return nil, nil
}

// moveTo applies a move to status to at now to e (status, version, event count, the
// first time in to, the doctor and triage when given) and returns the same changes as
// Firestore field updates.
func (e *Encounter) moveTo(to Status, doctorUID string, triage *Triage, now time.Time) []firestore.Update {
	e.Status = to
	e.Version++
	e.EventCount++
	e.UpdatedAt = now
	updates := []firestore.Update{
		{Path: "status", Value: to},
		{Path: "version", Value: e.Version},
		{Path: "eventCount", Value: e.EventCount},
		{Path: "updatedAt", Value: now},
	}
	if _, seen := e.StatusTimes[string(to)]; !seen {
		if e.StatusTimes == nil {
			e.StatusTimes = map[string]time.Time{}
		}
		e.StatusTimes[string(to)] = now
		updates = append(updates, firestore.Update{FieldPath: firestore.FieldPath{"statusTimes", string(to)}, Value: now})
	}
	if doctorUID != "" {
		e.DoctorUID = doctorUID
		updates = append(updates, firestore.Update{Path: "doctorUid", Value: doctorUID})
	}
	if triage != nil {
		t := *triage
		e.Triage = &t
		updates = append(updates, firestore.Update{Path: "triage", Value: t})
	}
	return updates
}

// writeTransition writes, in tx, the moved encounter's updates, its new event, the
// deletion of its open pointer (closeRef, when the move closes it), the event's outbox
// entry and the audit record.
func (s *Store) writeTransition(ctx context.Context, tx *firestore.Transaction, clinicID string, enc Encounter, ev Event, updates []firestore.Update, closeRef *firestore.DocumentRef, actor auth.Principal) error {
	if err := tx.Update(s.encounterRef(clinicID, enc.ID), updates); err != nil {
		return err
	}
	if err := tx.Create(s.eventRef(clinicID, enc.ID, ev.Seq), ev); err != nil {
		return err
	}
	if closeRef != nil {
		if err := tx.Delete(closeRef); err != nil {
			return err
		}
	}
	if err := s.recordChangeTx(ctx, tx, enc, ev); err != nil {
		return err
	}
	rec := audit.New(ctx, clinicID, AuditTransition, auditResource, enc.ID).ForPatient(enc.PatientID).WithReason(ev.Reason)
	rec.ActorUID, rec.ActorRole = actor.UID, string(actor.Role)
	return rec.InTransaction(s.fs, tx)
}

// resolveDoctor returns the doctor a move to status to assigns ("" for other moves).
func (s *Store) resolveDoctor(tx *firestore.Transaction, clinicID string, to Status, actor auth.Principal, uid string) (string, error) {
	if to != StatusInConsultation {
		if uid != "" {
			return "", apierr.InvalidFields([]apierr.FieldError{{Field: "doctorUid", Message: "only applies to a move to in_consultation"}})
		}
		return "", nil
	}
	if actor.Role == auth.RoleDoctor {
		if uid != "" && uid != actor.UID {
			return "", apierr.PermissionDenied("a doctor may only claim a patient for themselves; ask a nurse or an admin to assign another doctor")
		}
		return actor.UID, nil
	}
	notDoctor := apierr.InvalidFields([]apierr.FieldError{{Field: "doctorUid", Message: "must be the uid of an active doctor of this clinic"}})
	if uid == "" {
		return "", apierr.InvalidFields([]apierr.FieldError{{Field: "doctorUid", Message: "required when a nurse or an admin starts a consultation"}})
	}
	if !docid.Valid(uid) {
		return "", notDoctor
	}
	snap, err := tx.Get(s.fs.Collection(CollectionUsers).Doc(uid))
	if status.Code(err) == codes.NotFound {
		return "", notDoctor
	}
	if err != nil {
		return "", err
	}
	var p staffProfile
	if err := snap.DataTo(&p); err != nil || p.Role != string(auth.RoleDoctor) || p.ClinicID != clinicID || p.Disabled {
		return "", notDoctor
	}
	return uid, nil
}

func statusList(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
