package encounter

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/events"
)

// Firestore collections the Store uses, below clinics/{clinicId}.
const (
	// CollectionEncounters holds the encounters: clinics/{c}/encounters/{id}.
	CollectionEncounters = "encounters"
	// CollectionEvents is the append-only sub-collection of an encounter:
	// clinics/{c}/encounters/{id}/events/{EventID(seq)}.
	CollectionEvents = "events"
	// CollectionOpen holds one pointer per patient with an open encounter:
	// clinics/{c}/openEncounters/{patientId} -> {encounterId}. It is the lock that
	// makes "one open encounter per patient" hold under concurrent check-ins; it is
	// created with the encounter and deleted, in the same transaction, by the
	// transition that closes it.
	CollectionOpen = "openEncounters"
	// CollectionOutbox is the transactional outbox of encounter events:
	// clinics/{c}/encounterOutbox/{eventId}, written with each change and deleted once
	// its event is published (see Store.RecordTx, Store.PublishRecorded).
	CollectionOutbox = "encounterOutbox"
	// CollectionPatients is where check-in looks the patient up (owned by the patients
	// function): clinics/{c}/patients/{patientId}.
	CollectionPatients = "patients"
	// CollectionUsers is the top-level staff profile collection users/{uid} (role,
	// clinicId, disabled), read to check a doctor assignment.
	CollectionUsers = "users"
)

// DefaultTopic is the Pub/Sub topic of encounter events unless configured otherwise.
const DefaultTopic = "encounter-events"

// Store keeps encounters in Firestore and announces every change on the
// encounter-events topic.
//
// # Documents
//
//   - clinics/{c}/encounters/{id}: the Encounter (status, statusTimes, version, ...).
//   - clinics/{c}/encounters/{id}/events/{000001..}: one Event per change, append-only.
//   - clinics/{c}/openEncounters/{patientId}: {encounterId, since} while the patient's
//     encounter is open (waiting, triaged, in_consultation).
//   - clinics/{c}/audit/{id}: one audit record per change, in the change's transaction.
//
// A check-in writes four documents besides its audit record (encounter, first event,
// open pointer, outbox entry), in one transaction; a transition updates the encounter,
// appends one event and its outbox entry (and deletes the pointer when the encounter
// closes), plus its audit record.
//
// # Events and the outbox
//
// Every change is announced as an envelope of type EventTypeCheckedIn or
// EventTypeTransitioned with a Change as data (ids, statuses and times only), ordering
// key = clinic id, and an event id derived from encounter id and event sequence, so a
// republished change carries the same id and consumers process it once. The envelope is
// written to clinics/{c}/encounterOutbox/{eventId} in the change's own transaction (a
// transactional outbox: a change that commits has its event recorded). In an HTTP
// request the change is answered first; the event is then published and its outbox entry
// deleted (Announce, PublishRecorded). An entry left behind (a failed publish, a process
// that stopped after its answer) is published by RedeliverOutbox once it is older than
// OutboxGrace. The queue projector rebuilds the board from the encounters in Firestore on
// every event, so a late event only delays the board until it is delivered or the
// clinic's next change.
//
// # Use from other functions
//
// The triage function moves an encounter from waiting to triaged inside its own
// transaction with TransitionTx (reads first, then writes, as Firestore requires; the
// event's outbox entry is among the writes), and calls Announce after that transaction
// has committed. It records its own encounter.triaged events with RecordTx and publishes
// them with PublishRecorded.
//
// Errors are *apierr.Error values (404, 409, 412, 403, 400) for refusals, carrying the
// domain error (*TransitionError, *OpenEncounterError) as their cause, and wrapped
// Firestore errors otherwise.
type Store struct {
	fs    *firestore.Client
	pub   events.Publisher
	topic string
	now   func() time.Time
}

// NewStore returns a Store over fs that publishes to topic (DefaultTopic when empty)
// through pub. It panics when fs or pub is nil: both are wiring errors.
func NewStore(fs *firestore.Client, pub events.Publisher, topic string) *Store {
	if fs == nil || pub == nil {
		panic("encounter: NewStore needs a Firestore client and a publisher")
	}
	if topic == "" {
		topic = DefaultTopic
	}
	return &Store{fs: fs, pub: pub, topic: topic, now: time.Now}
}

// WithClock returns a copy of s that takes the time of its changes, outbox entries and
// redelivery cut-off from now (tests move it to see entries older than OutboxGrace).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Topic is the topic the Store publishes to.
func (s *Store) Topic() string { return s.topic }

// timestamp returns the current time as Firestore stores it (UTC, microseconds), so a
// value read back equals the value written.
func (s *Store) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Store) clinic(clinicID string) *firestore.DocumentRef {
	return s.fs.Collection("clinics").Doc(clinicID)
}

func (s *Store) encounters(clinicID string) *firestore.CollectionRef {
	return s.clinic(clinicID).Collection(CollectionEncounters)
}

func (s *Store) encounterRef(clinicID, id string) *firestore.DocumentRef {
	return s.encounters(clinicID).Doc(id)
}

func (s *Store) eventRef(clinicID, id string, seq int) *firestore.DocumentRef {
	return s.encounterRef(clinicID, id).Collection(CollectionEvents).Doc(EventID(seq))
}

func (s *Store) openRef(clinicID, patientID string) *firestore.DocumentRef {
	return s.clinic(clinicID).Collection(CollectionOpen).Doc(patientID)
}

// openPointer is the document clinics/{c}/openEncounters/{patientId}.
type openPointer struct {
	EncounterID string    `firestore:"encounterId"`
	Since       time.Time `firestore:"since"`
}

// Get returns the encounter id of clinicID (404 when there is none).
func (s *Store) Get(ctx context.Context, clinicID, id string) (Encounter, error) {
	if !docid.Valid(clinicID) || !docid.Valid(id) {
		return Encounter{}, errEncounterNotFound()
	}
	snap, err := s.encounterRef(clinicID, id).Get(ctx)
	return decodeEncounter(snap, err)
}

// GetTx reads the encounter inside tx (the transaction then holds it).
func (s *Store) GetTx(tx *firestore.Transaction, clinicID, id string) (Encounter, error) {
	if !docid.Valid(clinicID) || !docid.Valid(id) {
		return Encounter{}, errEncounterNotFound()
	}
	snap, err := tx.Get(s.encounterRef(clinicID, id))
	return decodeEncounter(snap, err)
}

func decodeEncounter(snap *firestore.DocumentSnapshot, err error) (Encounter, error) {
	if status.Code(err) == codes.NotFound {
		return Encounter{}, errEncounterNotFound()
	}
	if err != nil {
		return Encounter{}, fmt.Errorf("encounter: read: %w", err)
	}
	var e Encounter
	if err := snap.DataTo(&e); err != nil {
		return Encounter{}, fmt.Errorf("encounter: decode %s: %w", snap.Ref.ID, err)
	}
	e.ID = snap.Ref.ID
	return e, nil
}

func errEncounterNotFound() *apierr.Error { return apierr.NotFound("encounter not found") }

// OpenEncounterError is the cause of the 409 a check-in gets when the patient already has
// an open encounter.
type OpenEncounterError struct {
	EncounterID string
}

func (e *OpenEncounterError) Error() string {
	return "patient already has an open encounter " + e.EncounterID
}

// ReasonOpenEncounter is details.reason of the 409 for a patient with an open encounter.
const ReasonOpenEncounter = "open_encounter"

func errOpenEncounter(id string) *apierr.Error {
	return apierr.Conflict("the patient already has an open encounter; close it before checking in again").
		WithDetails(map[string]string{"reason": ReasonOpenEncounter, "encounterId": id}).
		WithCause(&OpenEncounterError{EncounterID: id})
}

// httpError maps a refused transition to its HTTP error, keeping te as the cause.
func httpError(te *TransitionError) *apierr.Error {
	switch te.Kind {
	case ErrIllegal:
		allowed := te.Allowed
		if allowed == nil {
			allowed = []Status{}
		}
		return apierr.Conflict("%s", te.Message).
			WithDetails(map[string]any{"current": te.From, "allowed": allowed}).WithCause(te)
	case ErrForbidden:
		return apierr.PermissionDenied("%s", te.Message).WithCause(te)
	case ErrReasonRequired:
		return apierr.InvalidFields([]apierr.FieldError{{Field: "reason", Message: te.Message}}).WithCause(te)
	default:
		return apierr.InvalidFields([]apierr.FieldError{{Field: "to", Message: te.Message}}).WithCause(te)
	}
}
