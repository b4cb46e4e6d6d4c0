package encounter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/logging"
)

// MaxChiefComplaintLength bounds the chief complaint, in characters.
const MaxChiefComplaintLength = 500

// Audit actions recorded by the Store.
const (
	AuditCheckIn    = "encounter.check_in"
	AuditTransition = "encounter.transition"
	AuditRead       = "encounter.read"
	AuditList       = "encounter.list"
	AuditReadEvents = "encounter.events.read"
)

// auditResource is the audit resource type of encounters.
const auditResource = "encounter"

// CheckIn is what reception gives to open an encounter.
type CheckIn struct {
	PatientID      string      `json:"patientId"`
	ChiefComplaint string      `json:"chiefComplaint"`
	ArrivalMode    ArrivalMode `json:"arrivalMode"`
}

// Normalize trims the text fields.
func (c CheckIn) Normalize() CheckIn {
	c.PatientID = strings.TrimSpace(c.PatientID)
	c.ChiefComplaint = strings.TrimSpace(c.ChiefComplaint)
	return c
}

// Validate lists every invalid field of a normalized check-in; messages never quote the
// values.
func (c CheckIn) Validate() []apierr.FieldError {
	var errs []apierr.FieldError
	if !docid.Valid(c.PatientID) {
		errs = append(errs, apierr.FieldError{Field: "patientId", Message: "required: a patient id (1-128 letters, digits, '-' or '_')"})
	}
	n := utf8.RuneCountInString(c.ChiefComplaint)
	switch {
	case !utf8.ValidString(c.ChiefComplaint):
		errs = append(errs, apierr.FieldError{Field: "chiefComplaint", Message: "must be valid UTF-8"})
	case n == 0:
		errs = append(errs, apierr.FieldError{Field: "chiefComplaint", Message: "required"})
	case n > MaxChiefComplaintLength:
		errs = append(errs, apierr.FieldError{Field: "chiefComplaint", Message: fmt.Sprintf("must be at most %d characters", MaxChiefComplaintLength)})
	case strings.ContainsFunc(c.ChiefComplaint, isForbiddenControl):
		errs = append(errs, apierr.FieldError{Field: "chiefComplaint", Message: "must not contain control characters other than line breaks and tabs"})
	}
	if !c.ArrivalMode.Valid() {
		errs = append(errs, apierr.FieldError{Field: "arrivalMode", Message: "must be one of walk_in, private_vehicle, ambulance"})
	}
	return errs
}

func isForbiddenControl(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

// checkInAttempts bounds the re-runs of the check-in transaction when its commit meets a
// pointer created concurrently (AlreadyExists is not retried by RunTransaction itself).
const checkInAttempts = 3

// CheckIn opens an encounter for a patient of actor's clinic: status waiting, first
// event check_in ("" -> waiting), open pointer and audit record, in one transaction;
// then the change is announced. Errors: 403 for a role that may not check in, 400 with
// every invalid field, 404 when the patient is not in the clinic, 409 (cause
// *OpenEncounterError, details {reason, encounterId}) when the patient already has an
// open encounter. commit is the request's commit marker (the zero Marker without an
// Idempotency-Key): a retry of a check-in that committed answers with its encounter.
func (s *Store) CheckIn(ctx context.Context, actor auth.Principal, in CheckIn, commit commitmark.Marker) (Encounter, error) {
	if !actor.HasRole(CheckInRoles...) {
		return Encounter{}, apierr.PermissionDenied("role %s may not check patients in", actor.Role)
	}
	if !docid.Valid(actor.ClinicID) {
		return Encounter{}, apierr.NotFound("patient not found")
	}
	in = in.Normalize()
	if errs := in.Validate(); len(errs) > 0 {
		return Encounter{}, apierr.InvalidFields(errs)
	}
	clinicID := actor.ClinicID
	// The id is chosen once, outside the transaction, so that retries of the
	// transaction function write the same encounter.
	id := s.encounters(clinicID).NewDoc().ID

	var enc Encounter
	var ev Event
	var replayed bool
	var err error
	for range checkInAttempts {
		err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			enc, ev, replayed, err = s.checkInTx(ctx, tx, actor, id, in, commit)
			return err
		})
		// A concurrent check-in created the pointer between our read and our commit:
		// run again, which now finds it and answers 409.
		if status.Code(err) != codes.AlreadyExists {
			break
		}
	}
	if err != nil {
		var he *apierr.Error
		if errors.As(err, &he) {
			return Encounter{}, he
		}
		return Encounter{}, fmt.Errorf("encounter: check-in: %w", err)
	}
	if replayed {
		// The first attempt committed with its event in the outbox (published, or to be
		// re-sent); its answer was lost to a 5xx, which released the idempotency record.
		logging.FromContext(ctx).Info("check-in retried after its commit; answered with its encounter", "encounterId", enc.ID)
		return enc, nil
	}
	s.Announce(ctx, enc, ev)
	return enc, nil
}

// checkInTx is one attempt of the check-in transaction; replayed is true when an earlier
// attempt of this very request (same idempotency claim) committed and its answer was
// lost: enc is then that attempt's encounter and nothing is written.
func (s *Store) checkInTx(ctx context.Context, tx *firestore.Transaction, actor auth.Principal, id string, in CheckIn, commit commitmark.Marker) (enc Encounter, ev Event, replayed bool, err error) {
	clinicID := actor.ClinicID

	// An earlier attempt of this very request that committed: answer with its encounter.
	prevID, replay, err := commit.CommittedTx(s.fs, tx)
	if err != nil {
		return Encounter{}, Event{}, false, err
	}
	if replay {
		prev, err := s.GetTx(tx, clinicID, prevID)
		if err != nil {
			return Encounter{}, Event{}, false, err
		}
		// The answer discloses the encounter again: audited as a replay.
		if err := audit.New(ctx, clinicID, AuditCheckIn+audit.ReplaySuffix, auditResource, prev.ID).ForPatient(prev.PatientID).InTransaction(s.fs, tx); err != nil {
			return Encounter{}, Event{}, false, err
		}
		return prev, Event{}, true, nil
	}

	staleOpen, err := s.checkNoOpenEncounter(ctx, tx, clinicID, in.PatientID)
	if err != nil {
		return Encounter{}, Event{}, false, err
	}
	now := s.timestamp()
	enc, ev = newEncounter(ctx, id, clinicID, in, actor, now)
	if err := s.writeCheckIn(ctx, tx, enc, ev, staleOpen, commit, actor); err != nil {
		return Encounter{}, Event{}, false, err
	}
	return enc, ev, false, nil
}

// checkNoOpenEncounter reads, in tx, the patient and its open-encounter pointer (one round
// trip): 404 for a patient not in the clinic, 409 (errOpenEncounter) when the patient has
// an open encounter. stale is true when a pointer exists but names no open encounter of
// the patient: the check-in then replaces it.
func (s *Store) checkNoOpenEncounter(ctx context.Context, tx *firestore.Transaction, clinicID, patientID string) (stale bool, err error) {
	patientRef := s.clinic(clinicID).Collection(CollectionPatients).Doc(patientID)
	snaps, err := tx.GetAll([]*firestore.DocumentRef{patientRef, s.openRef(clinicID, patientID)})
	if err != nil {
		return false, err
	}
	if !snaps[0].Exists() {
		return false, apierr.NotFound("patient not found")
	}
	if !snaps[1].Exists() {
		return false, nil
	}
	var p openPointer
	if err := snaps[1].DataTo(&p); err != nil {
		return false, fmt.Errorf("decode open pointer: %w", err)
	}
	// The pointer is deleted with the transition that closes its encounter, so it names an
	// open encounter; check anyway, and repair a stale one.
	if docid.Valid(p.EncounterID) {
		cur, err := s.GetTx(tx, clinicID, p.EncounterID)
		switch {
		case err == nil && cur.Status.Open() && cur.PatientID == patientID:
			return false, errOpenEncounter(cur.ID)
		case err != nil && !isNotFound(err):
			return false, err
		}
	}
	logging.FromContext(ctx).Warn("replacing a stale open-encounter pointer", "encounterId", p.EncounterID)
	return true, nil
}

// newEncounter is the encounter a check-in opens (waiting since now) and its first event.
func newEncounter(ctx context.Context, id, clinicID string, in CheckIn, actor auth.Principal, now time.Time) (Encounter, Event) {
	enc := Encounter{
		ID:             id,
		ClinicID:       clinicID,
		PatientID:      in.PatientID,
		Status:         StatusWaiting,
		ChiefComplaint: in.ChiefComplaint,
		ArrivalMode:    in.ArrivalMode,
		ArrivedAt:      now,
		StatusTimes:    map[string]time.Time{string(StatusWaiting): now},
		EventCount:     1,
		Version:        1,
		CreatedBy:      actor.UID,
		UpdatedAt:      now,
	}
	ev := Event{
		Seq:       1,
		Action:    ActionCheckIn,
		From:      "",
		To:        StatusWaiting,
		ActorUID:  actor.UID,
		ActorRole: string(actor.Role),
		At:        now,
		RequestID: logging.RequestID(ctx),
	}
	return enc, ev
}

// writeCheckIn writes, in tx, the encounter, its first event, the patient's open pointer
// (replacing a stale one), the event's outbox entry, the request's commit marker and the
// audit record.
func (s *Store) writeCheckIn(ctx context.Context, tx *firestore.Transaction, enc Encounter, ev Event, staleOpen bool, commit commitmark.Marker, actor auth.Principal) error {
	if err := tx.Create(s.encounterRef(enc.ClinicID, enc.ID), enc); err != nil {
		return err
	}
	if err := tx.Create(s.eventRef(enc.ClinicID, enc.ID, ev.Seq), ev); err != nil {
		return err
	}
	openRef := s.openRef(enc.ClinicID, enc.PatientID)
	ptr := openPointer{EncounterID: enc.ID, Since: enc.ArrivedAt}
	var err error
	if staleOpen {
		err = tx.Set(openRef, ptr)
	} else {
		err = tx.Create(openRef, ptr)
	}
	if err != nil {
		return err
	}
	if err := s.recordChangeTx(ctx, tx, enc, ev); err != nil {
		return err
	}
	if err := commit.RecordTx(s.fs, tx, enc.ID, enc.ArrivedAt); err != nil {
		return err
	}
	rec := audit.New(ctx, enc.ClinicID, AuditCheckIn, auditResource, enc.ID).ForPatient(enc.PatientID)
	rec.ActorUID, rec.ActorRole = actor.UID, string(actor.Role)
	return rec.InTransaction(s.fs, tx)
}

func isNotFound(err error) bool {
	var he *apierr.Error
	return errors.As(err, &he) && he.Code == apierr.CodeNotFound
}
