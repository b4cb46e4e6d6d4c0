package triagerecord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/triage"
)

// DefaultTopic is the encounter-events topic id (MEDI_TOPIC_ENCOUNTER_EVENTS).
const DefaultTopic = "encounter-events"

// TriagedSchemaVersion is the schema version of TriagedEvent.
const TriagedSchemaVersion = 1

// TriagedEvent is the data of an encounter.triaged fact: identifiers and levels only.
// It is published after every recorded assessment and every confirmation, so that the
// queue board always has the level in force.
type TriagedEvent struct {
	EncounterID   string `json:"encounterId"`
	PatientID     string `json:"patientId"`
	AssessmentID  string `json:"assessmentId"`
	Level         int    `json:"level"`
	ProposedLevel int    `json:"proposedLevel"`
	Confirmed     bool   `json:"confirmed"`
	// Version is the encounter's version after the change; consumers keep the highest.
	Version int64 `json:"version"`
}

// Assess runs the engine on in without storing anything: 400 with one error per invalid
// field (physiologically impossible values included), else the result.
func Assess(in triage.Input) (Result, error) {
	if errs := triage.Validate(in); len(errs) > 0 {
		return Result{}, InvalidInput(errs)
	}
	return NewResult(triage.Assess(in)), nil
}

// InvalidInput converts the engine's field errors into the API's 400.
func InvalidInput(errs triage.FieldErrors) *apierr.Error {
	fields := make([]apierr.FieldError, len(errs))
	for i, e := range errs {
		fields[i] = apierr.FieldError{Field: e.Field, Message: e.Message}
	}
	return apierr.InvalidFields(fields)
}

// Service records, confirms and reads assessments, publishes encounter.triaged after
// each change and logs SLA breaches.
type Service struct {
	store *Store
	fs    *firestore.Client
	now   func() time.Time
}

// NewService returns a service over fs that publishes to topic with publisher (both the
// encounter.triaged facts and, through encounter.Store, the waiting -> triaged transition).
func NewService(fs *firestore.Client, publisher events.Publisher, topic string) *Service {
	if topic == "" {
		topic = DefaultTopic
	}
	return &Service{store: NewStore(fs, encounter.NewStore(fs, publisher, topic)), fs: fs, now: timestamp}
}

// Record takes the patient's age from the patient record (withPatientAge), validates and
// assesses in, then records the assessment for the encounter (see Store.Record), publishes
// encounter.triaged and checks the SLA.
//
// The patient's age is read while the transaction makes its own reads (the encounter and
// its latest assessment), not before it: the two depend on nothing from each other.
func (s *Service) Record(ctx context.Context, clinicID, encounterID string, in triage.Input, commit commitmark.Marker) (Recorded, error) {
	ready := make(chan prepared, 1)
	go func() { ready <- s.prepare(ctx, clinicID, encounterID, in) }()
	rec, moved, err := s.store.record(ctx, RecordRequest{ClinicID: clinicID, EncounterID: encounterID, Commit: commit},
		func() prepared { return <-ready })
	if err != nil {
		return Recorded{}, err
	}
	s.store.announce(ctx, moved, rec.triaged)
	s.checkSLA(ctx, clinicID, rec.Encounter, SLAStageAssessment)
	return rec, nil
}

// prepare takes the patient's age from the patient record, validates in and assesses it.
func (s *Service) prepare(ctx context.Context, clinicID, encounterID string, in triage.Input) prepared {
	in, err := s.withPatientAge(ctx, clinicID, encounterID, in, s.now())
	if err != nil {
		return prepared{err: err}
	}
	if errs := triage.Validate(in); len(errs) > 0 {
		return prepared{err: InvalidInput(errs)}
	}
	return prepared{in: in, a: triage.Assess(in)}
}

// Confirm confirms or overrides the level in force (see Store.Confirm), then publishes
// encounter.triaged and checks the SLA.
func (s *Service) Confirm(ctx context.Context, req ConfirmRequest) (Confirmed, error) {
	c, err := s.store.Confirm(ctx, req)
	if err != nil {
		return Confirmed{}, err
	}
	s.store.announce(ctx, nil, c.triaged)
	s.checkSLA(ctx, req.ClinicID, c.Encounter, SLAStageConfirmation)
	return c, nil
}

// History returns the encounter's assessments after auditing the read; when the audit
// record cannot be written the data is not returned (503).
func (s *Service) History(ctx context.Context, clinicID, encounterID string) (History, error) {
	h, err := s.store.History(ctx, clinicID, encounterID)
	if err != nil {
		return History{}, err
	}
	if err := audit.New(ctx, clinicID, ActionRead, resourceType, encounterID).ForPatient(h.Encounter.PatientID).
		Write(ctx, s.fs); err != nil {
		return History{}, apierr.Unavailable(2, fmt.Errorf("assessment: audit read: %w", err))
	}
	return h, nil
}

func (s *Service) checkSLA(ctx context.Context, clinicID string, e EncounterState, stage SLAStage) {
	if e.Triage == nil {
		return
	}
	LogSLA(ctx, SLACheck{ClinicID: clinicID, EncounterID: e.ID, Level: triage.Level(e.Triage.Level),
		ArrivedAt: e.ArrivedAt, At: s.now(), Stage: stage})
}

// errorText is err's text for a log line; errors of this path carry ids, never patient data.
func errorText(err error) string {
	var he *apierr.Error
	if errors.As(err, &he) {
		return he.Code
	}
	return err.Error()
}
