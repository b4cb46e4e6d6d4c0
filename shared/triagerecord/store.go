package triagerecord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/triage"
)

// Firestore collection names.
const (
	clinicsCollection    = "clinics"
	encountersCollection = "encounters"
	// Collection is the sub-collection of an encounter holding its assessments.
	Collection = "assessments"
)

// Audit actions written by this package.
const (
	ActionRecord     = "triage.assess"      // an assessment recorded
	ActionConfirm    = "triage.confirm"     // the level in force confirmed unchanged
	ActionUpTriage   = "triage.up_triage"   // confirmed at a more urgent level
	ActionDownTriage = "triage.down_triage" // confirmed at a less urgent level, with the reason
	ActionRead       = "triage.read"        // assessments read
	resourceType     = "encounter"
)

// maxHistory bounds the assessments returned for one encounter.
const maxHistory = 200

// Reasons carried in error details, so that an app can tell the refusals apart.
const (
	ReasonVitalsRequired    = "vitals_required"
	ReasonLevelFrozen       = "level_frozen"
	ReasonIllegalTransition = "illegal_transition"
	ReasonNotAssessed       = "not_assessed"
	ReasonStaleAssessment   = "stale_assessment"
	ReasonEncounterClosed   = "encounter_closed"
	ReasonReasonRequired    = "reason_required"
)

// Record is one stored assessment:
// clinics/{clinicId}/encounters/{encounterId}/assessments/{id}.
type Record struct {
	ID          string `json:"id" firestore:"-"`
	Seq         int    `json:"seq" firestore:"seq"`
	ClinicID    string `json:"clinicId" firestore:"clinicId"`
	EncounterID string `json:"encounterId" firestore:"encounterId"`
	PatientID   string `json:"patientId" firestore:"patientId"`
	// Input is what the nurse recorded, as the engine's JSON (so that the assessment can be
	// replayed with the engine version of Result).
	Input          map[string]any `json:"input" firestore:"input"`
	Result         Result         `json:"result" firestore:"result"`
	AssessedAt     time.Time      `json:"assessedAt" firestore:"assessedAt"`
	AssessedBy     string         `json:"assessedBy" firestore:"assessedBy"`
	AssessedByRole string         `json:"assessedByRole" firestore:"assessedByRole"`
	RequestID      string         `json:"requestId" firestore:"requestId"`
	// Confirmations are the nurses' confirmations and overrides of the level, in order.
	Confirmations []Confirmation `json:"confirmations" firestore:"confirmations"`
}

// normalize gives every list read back from Firestore (which stores an empty list and
// reads it as nil) its empty value, so that the JSON holds [] and never null.
func (r *Record) normalize() {
	r.Confirmations = nonNilSlice(r.Confirmations)
	res := &r.Result
	res.Reasons = nonNilSlice(res.Reasons)
	res.ReasonDetails = nonNilSlice(res.ReasonDetails)
	res.MissingVitals = nonNilSlice(res.MissingVitals)
	res.Missing = nonNilSlice(res.Missing)
	res.Resources.Types = nonNilSlice(res.Resources.Types)
	res.Complaint.Recognised = nonNilSlice(res.Complaint.Recognised)
	res.Complaint.Negated = nonNilSlice(res.Complaint.Negated)
	res.Model.Probabilities = nonNilSlice(res.Model.Probabilities)
	res.Model.Attributions = nonNilSlice(res.Model.Attributions)
	res.NEWS2.Items = nonNilSlice(res.NEWS2.Items)
	res.QSOFA.Items = nonNilSlice(res.QSOFA.Items)
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Confirmation is a nurse's confirmation (or override) of the level in force.
type Confirmation struct {
	Level         int    `json:"level" firestore:"level"`
	PreviousLevel int    `json:"previousLevel" firestore:"previousLevel"`
	Change        string `json:"change" firestore:"change"` // up_triage | unchanged | down_triage
	// Reason is the clinician's stated reason (required for a down-triage).
	Reason    string    `json:"reason,omitempty" firestore:"reason,omitempty"`
	By        string    `json:"by" firestore:"by"`
	ByRole    string    `json:"byRole" firestore:"byRole"`
	At        time.Time `json:"at" firestore:"at"`
	RequestID string    `json:"requestId" firestore:"requestId"`
}

// EncounterState is what the triage endpoints report about the encounter.
type EncounterState struct {
	ID        string            `json:"id"`
	PatientID string            `json:"patientId"`
	Status    encounter.Status  `json:"status"`
	Version   int64             `json:"version"`
	ArrivedAt time.Time         `json:"arrivedAt"`
	Triage    *encounter.Triage `json:"triage"`
}

func stateOf(e *encounter.Encounter) EncounterState {
	return EncounterState{ID: e.ID, PatientID: e.PatientID, Status: e.Status, Version: e.Version,
		ArrivedAt: e.ArrivedAt, Triage: e.Triage}
}

// Store keeps assessments in Firestore and applies the triage rules to the encounter in
// the same transaction.
type Store struct {
	fs         *firestore.Client
	encounters *encounter.Store
	now        func() time.Time
}

// NewStore returns a store over fs that changes encounters' status through encounters.
func NewStore(fs *firestore.Client, encounters *encounter.Store) *Store {
	return &Store{fs: fs, encounters: encounters, now: timestamp}
}

// timestamp is the current time as Firestore stores it (UTC, microseconds), so that a
// value returned equals the value read back.
func timestamp() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (s *Store) encounterRef(clinicID, encounterID string) *firestore.DocumentRef {
	return s.fs.Collection(clinicsCollection).Doc(clinicID).Collection(encountersCollection).Doc(encounterID)
}

// AssessmentID is the document id of assessment seq (zero-padded so that ids sort in
// recording order).
func AssessmentID(seq int) string { return fmt.Sprintf("%06d", seq) }

// RecordRequest asks to record an assessment. Assessment must be triage.Assess(Input) and
// Input must have passed triage.Validate; the caller is the principal in the context.
type RecordRequest struct {
	ClinicID    string
	EncounterID string
	Input       triage.Input
	Assessment  triage.Assessment
	// Commit is the request's commit marker (the zero Marker without an Idempotency-Key).
	Commit commitmark.Marker
}

// Recorded is the outcome of Record.
type Recorded struct {
	Assessment Record         `json:"assessment"`
	Encounter  EncounterState `json:"encounter"`
	// Transitioned is true when this assessment moved the encounter waiting -> triaged.
	Transitioned bool `json:"transitioned"`
	// triaged is the encounter.triaged event the transaction recorded in the outbox
	// (none for a replayed request).
	triaged events.Envelope
}

// Record stores an assessment of an encounter of the caller's clinic, updates the
// encounter's triage and, on the first assessment, moves it waiting -> triaged through
// encounter.Store.TransitionTx (event appended, status time set); the audit records and
// the events to announce (the transition's, encounter.triaged) are written in the same
// transaction, the events to the encounter outbox. Errors are *apierr.Error for
// refusals: 404 no such encounter, 409 failed_precondition when the level is frozen, 409
// conflict when the encounter is closed, 400 when the vital signs required for a level
// are missing (and point A did not fire). After the commit the events are published
// (announce).
func (s *Store) Record(ctx context.Context, req RecordRequest) (Recorded, error) {
	out, moved, err := s.record(ctx, req, nil)
	if err != nil {
		return Recorded{}, err
	}
	s.announce(ctx, moved, out.triaged)
	return out, nil
}

// announce publishes what a committed assessment or confirmation recorded in the
// encounter outbox: the encounter's transition (when it made one) and encounter.triaged
// (when there is one). In an HTTP request both go out after the answer, together; see
// encounter.Store.PublishRecorded for what happens when a publish fails.
func (s *Store) announce(ctx context.Context, moved *transition, triaged events.Envelope) {
	if moved != nil {
		s.encounters.Announce(ctx, moved.enc, moved.ev)
	}
	if triaged.EventID != "" {
		s.encounters.PublishRecorded(ctx, triaged)
	}
}

// triagedEnvelope is the encounter.triaged event of e's triage (e as the change left it,
// at its time at): its id derives from the encounter and its version, so that a
// re-sent event keeps it.
func triagedEnvelope(ctx context.Context, clinicID string, e EncounterState, at time.Time) (events.Envelope, error) {
	data := TriagedEvent{EncounterID: e.ID, PatientID: e.PatientID, AssessmentID: e.Triage.AssessmentID,
		Level: e.Triage.Level, ProposedLevel: e.Triage.ProposedLevel, Confirmed: e.Triage.Confirmed, Version: e.Version}
	env, err := events.NewEnvelope(ctx, events.TypeEncounterTriaged, TriagedSchemaVersion, clinicID, data)
	if err != nil {
		return events.Envelope{}, err
	}
	env.OccurredAt = at
	return env.WithIdempotencyKey(fmt.Sprintf("%s/v%d", e.ID, e.Version)), nil
}

// recordTriagedTx records, in tx, the encounter.triaged event of e in the encounter
// outbox and returns it, to publish after the commit.
func (s *Store) recordTriagedTx(ctx context.Context, tx *firestore.Transaction, clinicID string, e EncounterState, at time.Time) (events.Envelope, error) {
	env, err := triagedEnvelope(ctx, clinicID, e, at)
	if err != nil {
		return events.Envelope{}, err
	}
	return env, s.encounters.RecordTx(tx, env, e.ID, 0)
}

// prepared is a request's input with the patient's age and its assessment, or the
// refusal (age, validation, vitals required) that stops the recording.
type prepared struct {
	in  triage.Input
	a   triage.Assessment
	err error
}

// record is Record without the announcement: the transition to announce, if any. With
// prepare, req's Input and Assessment are ignored: the transaction makes its reads while
// the caller prepares them (Service.Record reads the patient's age meanwhile), then calls
// prepare (once, whatever the attempts) and goes on with its outcome.
func (s *Store) record(ctx context.Context, req RecordRequest, prepare func() prepared) (Recorded, *transition, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return Recorded{}, nil, apierr.Internal(errors.New("assessment: no principal in context"))
	}
	if err := p.InClinic(req.ClinicID, "encounter"); err != nil {
		return Recorded{}, nil, err
	}
	if prepare == nil {
		ready := prepared{in: req.Input, a: req.Assessment}
		prepare = func() prepared { return ready }
	}
	var (
		once  sync.Once
		ready prepared
		input map[string]any
	)
	// The assessment's input and result, made once for every attempt of the transaction.
	assessed := func() (map[string]any, triage.Assessment, error) {
		once.Do(func() {
			ready = prepare()
			switch {
			case ready.err != nil:
			case ready.a.VitalsRequired:
				ready.err = VitalsRequiredError(ready.a)
			default:
				var err error
				if input, err = inputMap(ready.in); err != nil {
					ready.err = apierr.Internal(err)
				}
			}
		})
		if ready.err != nil {
			return nil, triage.Assessment{}, ready.err
		}
		return input, ready.a, nil
	}
	var (
		out   Recorded
		moved *transition
	)
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var err error
		out, moved, err = s.recordTx(ctx, tx, p, req, assessed)
		return err
	})
	if err != nil {
		return Recorded{}, nil, err
	}
	return out, moved, nil
}

// transition is an encounter's move made in a transaction, to announce after the commit.
type transition struct {
	enc encounter.Encounter
	ev  encounter.Event
}

// recordTx is one attempt of Record's transaction: reads first (Firestore transactions),
// then writes. moved is the encounter's transition when the assessment moved it
// waiting -> triaged (nil otherwise), for Record to announce after the commit.
func (s *Store) recordTx(ctx context.Context, tx *firestore.Transaction, p auth.Principal, req RecordRequest, assessed func() (map[string]any, triage.Assessment, error)) (_ Recorded, moved *transition, _ error) {
	encRef := s.encounterRef(req.ClinicID, req.EncounterID)
	enc, err := s.encounters.GetTx(tx, req.ClinicID, req.EncounterID)
	if err != nil {
		return Recorded{}, nil, err
	}
	// An earlier attempt of this very request committed and its answer was lost: answer
	// with that assessment rather than record a second one.
	prevID, replay, err := req.Commit.CommittedTx(s.fs, tx)
	if err != nil {
		return Recorded{}, nil, err
	}
	if replay {
		prev, err := readRecord(tx, encRef.Collection(Collection).Doc(prevID))
		if err != nil {
			return Recorded{}, nil, err
		}
		// The answer discloses the assessment again: audited as a replay.
		if err := audit.New(ctx, req.ClinicID, ActionRecord+audit.ReplaySuffix, resourceType, enc.ID).ForPatient(enc.PatientID).InTransaction(s.fs, tx); err != nil {
			return Recorded{}, nil, err
		}
		return Recorded{Assessment: prev, Encounter: stateOf(&enc)}, nil, nil
	}
	seq, err := nextSeq(tx, encRef)
	if err != nil {
		return Recorded{}, nil, err
	}
	// The reads are done: the assessment (whose age read ran alongside them) is needed now,
	// and its refusal comes before the encounter's.
	input, assessment, err := assessed()
	if err != nil {
		return Recorded{}, nil, err
	}
	result := NewResult(assessment)
	transitions, err := recordable(&enc, p.Role)
	if err != nil {
		return Recorded{}, nil, err
	}
	now := s.now()
	rec := Record{
		ID: AssessmentID(seq), Seq: seq, ClinicID: req.ClinicID, EncounterID: enc.ID, PatientID: enc.PatientID,
		Input: input, Result: result, AssessedAt: now, AssessedBy: p.UID, AssessedByRole: string(p.Role),
		RequestID: logging.RequestID(ctx), Confirmations: []Confirmation{},
	}
	t := nextTriage(enc.Triage, assessment.Level)
	t.AssessmentID, t.AssessedAt, t.AssessedBy, t.EngineVersion = rec.ID, now, p.UID, result.EngineVersion

	if transitions {
		// waiting -> triaged with the triage in the same update, on the encounter this
		// transaction read above.
		e, ev, err := s.encounters.TransitionTx(ctx, tx, req.ClinicID, req.EncounterID,
			encounter.StatusTriaged, "", p, encounter.WithTriage(t), encounter.AlreadyRead(enc))
		if err != nil {
			return Recorded{}, nil, err
		}
		enc, moved = e, &transition{enc: e, ev: ev}
	} else {
		if err := tx.Update(encRef, []firestore.Update{
			{Path: "triage", Value: t},
			{Path: "version", Value: enc.Version + 1},
			{Path: "updatedAt", Value: now},
		}); err != nil {
			return Recorded{}, nil, err
		}
		enc.Triage, enc.Version, enc.UpdatedAt = &t, enc.Version+1, now
	}
	if err := tx.Create(encRef.Collection(Collection).Doc(rec.ID), rec); err != nil {
		return Recorded{}, nil, err
	}
	if err := req.Commit.RecordTx(s.fs, tx, rec.ID, now); err != nil {
		return Recorded{}, nil, err
	}
	if err := audit.New(ctx, req.ClinicID, ActionRecord, resourceType, enc.ID).ForPatient(enc.PatientID).
		InTransaction(s.fs, tx); err != nil {
		return Recorded{}, nil, err
	}
	state := stateOf(&enc)
	triaged, err := s.recordTriagedTx(ctx, tx, req.ClinicID, state, now)
	if err != nil {
		return Recorded{}, nil, err
	}
	return Recorded{Assessment: rec, Encounter: state, Transitioned: transitions, triaged: triaged}, moved, nil
}

// recordable reports whether an assessment may be recorded for enc by a caller of role,
// and whether it moves the encounter waiting -> triaged (a re-assessment of a triaged
// encounter updates the triage and keeps the status). Refused: 409 failed_precondition
// once a doctor has seen the patient, the encounter state machine's refusal otherwise.
func recordable(enc *encounter.Encounter, role auth.Role) (transition bool, err error) {
	switch {
	case seenByDoctor(enc):
		return false, frozenError()
	case enc.Status == encounter.StatusWaiting:
		return true, nil
	case enc.Status == encounter.StatusTriaged:
		return false, nil
	}
	_, err = encounter.Check(enc.Status, encounter.StatusTriaged, role, "")
	return false, transitionError(err)
}

// nextSeq is the sequence number of the encounter's next assessment (1 for the first).
func nextSeq(tx *firestore.Transaction, encRef *firestore.DocumentRef) (int, error) {
	last, err := tx.Documents(encRef.Collection(Collection).OrderBy("seq", firestore.Desc).Limit(1)).GetAll()
	if err != nil {
		return 0, err
	}
	if len(last) == 0 {
		return 1, nil
	}
	var prev Record
	if err := last[0].DataTo(&prev); err != nil {
		return 0, fmt.Errorf("assessment: decode last assessment: %w", err)
	}
	return prev.Seq + 1, nil
}

// readRecord reads one assessment in tx.
func readRecord(tx *firestore.Transaction, ref *firestore.DocumentRef) (Record, error) {
	snap, err := tx.Get(ref)
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := snap.DataTo(&r); err != nil {
		return Record{}, fmt.Errorf("assessment: decode assessment: %w", err)
	}
	r.ID = snap.Ref.ID
	r.normalize()
	return r, nil
}

// nextTriage is the encounter's triage after a new assessment proposing level: the level
// in force may become more urgent on its own, never less urgent (triage-rules.md section 1:
// "after triage a level may only be made more urgent"); a less urgent proposal waits for
// a nurse's confirmation with a reason. The confirmation stands while the level in force
// does not change.
func nextTriage(prev *encounter.Triage, proposed triage.Level) encounter.Triage {
	t := encounter.Triage{Level: int(proposed), ProposedLevel: int(proposed)}
	if prev == nil || !triage.Level(prev.Level).Valid() {
		return t
	}
	if triage.Level(prev.Level).MoreUrgentThan(proposed) {
		t.Level = prev.Level
	}
	t.Confirmed = prev.Confirmed && t.Level == prev.Level
	return t
}

// ConfirmRequest asks to confirm or override the level in force.
type ConfirmRequest struct {
	ClinicID    string
	EncounterID string
	Level       triage.Level
	Reason      string
	// AssessmentID, when set, must name the assessment in force (else 409: a newer
	// assessment was recorded since the nurse looked).
	AssessmentID string
}

// Confirmed is the outcome of Confirm.
type Confirmed struct {
	Encounter     EncounterState     `json:"encounter"`
	AssessmentID  string             `json:"assessmentId"`
	PreviousLevel int                `json:"previousLevel"`
	Level         int                `json:"level"`
	Change        triage.LevelChange `json:"change"`
	// triaged is the encounter.triaged event the transaction recorded in the outbox.
	triaged events.Envelope
}

// MaxReasonLength bounds a stated reason.
const MaxReasonLength = encounter.MaxReasonLength

// Confirm records a nurse's confirmation of the level in force, or an override: a more
// urgent level or the same is accepted, a less urgent one needs a reason and is audited as
// a down-triage with that reason. Once a doctor has seen the patient a level change is
// refused (409 failed_precondition). The reference is the level in force (the proposal at
// first triage).
func (s *Store) Confirm(ctx context.Context, req ConfirmRequest) (Confirmed, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return Confirmed{}, apierr.Internal(errors.New("assessment: no principal in context"))
	}
	if !req.Level.Valid() {
		return Confirmed{}, apierr.InvalidFields([]apierr.FieldError{{Field: "level", Message: "must be between 1 and 5"}})
	}
	if len(strings.TrimSpace(req.Reason)) > MaxReasonLength {
		return Confirmed{}, apierr.InvalidFields([]apierr.FieldError{{Field: "reason", Message: fmt.Sprintf("must be at most %d characters", MaxReasonLength)}})
	}
	if err := p.InClinic(req.ClinicID, "encounter"); err != nil {
		return Confirmed{}, err
	}
	encRef := s.encounterRef(req.ClinicID, req.EncounterID)
	var out Confirmed
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		enc, err := s.encounters.GetTx(tx, req.ClinicID, req.EncounterID)
		if err != nil {
			return err
		}
		if err := confirmable(&enc, req.AssessmentID); err != nil {
			return err
		}
		prev := triage.Level(enc.Triage.Level)
		change, err := levelChange(prev, req.Level, req.Reason, seenByDoctor(&enc))
		if err != nil {
			return err
		}
		now := s.now()
		reason := strings.TrimSpace(req.Reason)
		conf := Confirmation{
			Level: int(req.Level), PreviousLevel: int(prev), Change: string(change), Reason: reason,
			By: p.UID, ByRole: string(p.Role), At: now, RequestID: logging.RequestID(ctx),
		}
		t := *enc.Triage
		t.Level, t.Confirmed = int(req.Level), true
		if err := tx.Update(encRef.Collection(Collection).Doc(t.AssessmentID), []firestore.Update{
			{Path: "confirmations", Value: firestore.ArrayUnion(conf)},
		}); err != nil {
			return err
		}
		if err := tx.Update(encRef, []firestore.Update{
			{Path: "triage", Value: t},
			{Path: "version", Value: enc.Version + 1},
			{Path: "updatedAt", Value: now},
		}); err != nil {
			return err
		}
		rec := audit.New(ctx, req.ClinicID, confirmAction(change), resourceType, enc.ID).ForPatient(enc.PatientID)
		if reason != "" {
			rec = rec.WithReason(reason)
		}
		if err := rec.InTransaction(s.fs, tx); err != nil {
			return err
		}
		enc.Triage, enc.Version, enc.UpdatedAt = &t, enc.Version+1, now
		state := stateOf(&enc)
		triaged, err := s.recordTriagedTx(ctx, tx, req.ClinicID, state, now)
		if err != nil {
			return err
		}
		out = Confirmed{Encounter: state, AssessmentID: t.AssessmentID, PreviousLevel: int(prev),
			Level: int(req.Level), Change: change, triaged: triaged}
		return nil
	})
	if err != nil {
		return Confirmed{}, err
	}
	return out, nil
}

// confirmable refuses a confirmation of enc's level: 409 failed_precondition without a
// recorded assessment, 409 conflict for a closed encounter or when assessmentID (if
// given) is no longer the assessment in force.
func confirmable(enc *encounter.Encounter, assessmentID string) error {
	if enc.Triage == nil || enc.Triage.AssessmentID == "" {
		return apierr.Conflict(
			"the encounter has no recorded assessment to confirm; record one with POST /v1/triage/{encounterId}").WithCode(apierr.CodeFailedPrecondition).
			WithDetails(map[string]string{"reason": ReasonNotAssessed})
	}
	if enc.Status == encounter.StatusCancelled || enc.Status == encounter.StatusLeftWithout {
		return apierr.Conflict("the encounter is closed (%s)", enc.Status).
			WithDetails(map[string]string{"reason": ReasonEncounterClosed, "status": string(enc.Status)})
	}
	if assessmentID != "" && assessmentID != enc.Triage.AssessmentID {
		return apierr.Conflict("a newer assessment (%s) was recorded; review it and confirm again", enc.Triage.AssessmentID).
			WithDetails(map[string]string{"reason": ReasonStaleAssessment, "assessmentId": enc.Triage.AssessmentID})
	}
	return nil
}

// levelChange is the change from the level in force prev to level (triage.CheckLevelChange)
// with its refusals as API errors: frozen once a doctor has seen the patient, a reason
// required to lower the level.
func levelChange(prev, level triage.Level, reason string, seen bool) (triage.LevelChange, error) {
	change, err := triage.CheckLevelChange(prev, level, reason, seen)
	switch {
	case errors.Is(err, triage.ErrLevelFrozen):
		return "", frozenError()
	case errors.Is(err, triage.ErrDownTriageNeedsReason):
		return "", apierr.BadRequest("a reason is required to confirm a less urgent level than the level in force (down-triage)").
			WithDetails(map[string]any{"reason": ReasonReasonRequired, "fields": []apierr.FieldError{{Field: "reason",
				Message: "required when confirming a less urgent level than the level in force (down-triage)"}}})
	case err != nil:
		return "", apierr.BadRequest("invalid level change").WithCause(err)
	}
	return change, nil
}

// confirmAction is the audit action of a confirmation making change.
func confirmAction(change triage.LevelChange) string {
	switch change {
	case triage.UpTriage:
		return ActionUpTriage
	case triage.DownTriage:
		return ActionDownTriage
	}
	return ActionConfirm
}

// History is an encounter's triage: the assessment in force and every assessment.
type History struct {
	Encounter EncounterState `json:"encounter"`
	// Current is the assessment in force (named by the encounter's triage), nil when none.
	Current *Record `json:"current"`
	// Assessments are every assessment, oldest first.
	Assessments []Record `json:"assessments"`
}

// History reads an encounter's assessments (404 when the encounter is not in clinicID).
// It does not audit; the caller audits the read before returning the data.
func (s *Store) History(ctx context.Context, clinicID, encounterID string) (History, error) {
	enc, err := s.encounters.Get(ctx, clinicID, encounterID)
	if err != nil {
		return History{}, err
	}
	encRef := s.encounterRef(clinicID, encounterID)
	docs, err := encRef.Collection(Collection).OrderBy("seq", firestore.Asc).Limit(maxHistory).Documents(ctx).GetAll()
	if err != nil {
		return History{}, err
	}
	h := History{Encounter: stateOf(&enc), Assessments: make([]Record, 0, len(docs))}
	for _, d := range docs {
		var r Record
		if err := d.DataTo(&r); err != nil {
			return History{}, fmt.Errorf("assessment: decode %s: %w", d.Ref.ID, err)
		}
		r.ID = d.Ref.ID
		r.normalize()
		h.Assessments = append(h.Assessments, r)
	}
	if enc.Triage != nil {
		for i := range h.Assessments {
			if h.Assessments[i].ID == enc.Triage.AssessmentID {
				h.Current = &h.Assessments[i]
			}
		}
	}
	return h, nil
}

// seenByDoctor reports whether a doctor has seen the patient: the encounter is or was in
// consultation (a retriage back to triaged keeps the level frozen).
func seenByDoctor(e *encounter.Encounter) bool {
	return e.Status == encounter.StatusInConsultation || e.Status == encounter.StatusCompleted ||
		!e.StatusTimes[string(encounter.StatusInConsultation)].IsZero()
}

func frozenError() *apierr.Error {
	return apierr.Conflict(
		"the triage level is frozen: a doctor has seen the patient (ESI v4)").WithCode(apierr.CodeFailedPrecondition).
		WithDetails(map[string]string{"reason": ReasonLevelFrozen})
}

// transitionError maps a refused encounter transition to its API error.
func transitionError(err error) error {
	var te *encounter.TransitionError
	if !errors.As(err, &te) {
		return err
	}
	switch te.Kind {
	case encounter.ErrForbidden:
		return apierr.PermissionDenied("%s", te.Message)
	case encounter.ErrIllegal:
		allowed := make([]string, len(te.Allowed))
		for i, s := range te.Allowed {
			allowed[i] = string(s)
		}
		return apierr.Conflict("%s", te.Message).WithDetails(map[string]any{
			"reason": ReasonIllegalTransition, "current": string(te.From), "allowed": allowed})
	}
	return apierr.BadRequest("%s", te.Message)
}

// VitalsRequiredError is the 400 for an assessment that may not be recorded yet: ESI
// allows no level without vital signs unless point A fired (triage-rules.md section 1). It
// names every missing vital sign.
func VitalsRequiredError(a triage.Assessment) *apierr.Error {
	missing := MissingVitals(a)
	fields := make([]apierr.FieldError, len(missing))
	for i, f := range missing {
		fields[i] = apierr.FieldError{Field: f, Message: "required to record a triage level (ESI: no level without vital signs unless the patient needs an immediate life-saving intervention)"}
	}
	return apierr.BadRequest("vital signs required to record a triage level: %d missing", len(fields)).
		WithDetails(map[string]any{"reason": ReasonVitalsRequired, "fields": fields})
}

// inputMap is the engine input as its JSON object (numbers as float64), the form stored.
func inputMap(in triage.Input) (map[string]any, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("assessment: encode input: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("assessment: decode input: %w", err)
	}
	return m, nil
}
