package encounter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
)

// Event types the Store publishes on the encounter-events topic (schema version
// ChangeSchemaVersion, data Change).
const (
	EventTypeCheckedIn    = "encounter.checked_in"
	EventTypeTransitioned = "encounter.transitioned"
	ChangeSchemaVersion   = 1
)

// publishTimeout bounds one publish; it runs even when the client has gone away, since
// the change it announces is committed.
const publishTimeout = 10 * time.Second

// outboxTimeout bounds the write of an unpublished event to the outbox; outboxReserve is
// the part of a request's remaining deadline kept for it, so that a publish that hangs (a
// Pub/Sub outage) gives up in time for the event to be recorded and the client answered
// before its deadline.
const (
	outboxTimeout = 5 * time.Second
	outboxReserve = 2 * time.Second
)

// Change is the data of an encounter event: identifiers, statuses and times only (never
// the complaint or other clinical content).
type Change struct {
	EncounterID string    `json:"encounterId"`
	PatientID   string    `json:"patientId"`
	Seq         int       `json:"seq"`
	Action      Action    `json:"action"`
	From        Status    `json:"from"`
	To          Status    `json:"to"`
	At          time.Time `json:"at"`
	Version     int64     `json:"version"`
	DoctorUID   string    `json:"doctorUid,omitempty"`
}

// ChangeEnvelope returns the envelope announcing ev of enc: type EventTypeCheckedIn for
// the check-in, EventTypeTransitioned otherwise; occurredAt = ev.At; event id derived
// from encounter id and sequence (the same change always has the same id).
func ChangeEnvelope(ctx context.Context, enc Encounter, ev Event) (events.Envelope, error) {
	typ := EventTypeTransitioned
	if ev.Action == ActionCheckIn {
		typ = EventTypeCheckedIn
	}
	env, err := events.NewEnvelope(ctx, typ, ChangeSchemaVersion, enc.ClinicID, Change{
		EncounterID: enc.ID,
		PatientID:   enc.PatientID,
		Seq:         ev.Seq,
		Action:      ev.Action,
		From:        ev.From,
		To:          ev.To,
		At:          ev.At,
		Version:     enc.Version,
		DoctorUID:   ev.DoctorUID,
	})
	if err != nil {
		return events.Envelope{}, err
	}
	if ev.RequestID != "" {
		env.RequestID = ev.RequestID
	}
	env.OccurredAt = ev.At
	return env.WithIdempotencyKey(enc.ID + "/" + strconv.Itoa(ev.Seq)), nil
}

// outboxEntry is clinics/{c}/encounterOutbox/{eventId}: an envelope whose publish failed.
type outboxEntry struct {
	EncounterID string    `firestore:"encounterId"`
	Seq         int       `firestore:"seq"`
	Type        string    `firestore:"type"`
	Envelope    []byte    `firestore:"envelope"` // JSON; ids only, like every envelope
	FailedAt    time.Time `firestore:"failedAt"`
}

// Announce publishes the change ev of enc (after its transaction has committed) with
// ordering key = clinic id. When publishing fails the change stays committed: the
// failure is logged and the envelope recorded in the clinic's encounterOutbox, for
// RedeliverOutbox. The queue projector rebuilds its board from Firestore, so until then
// the board only lags. Announce returns an error only when the event could be neither
// published nor recorded.
func (s *Store) Announce(ctx context.Context, enc Encounter, ev Event) error {
	env, err := ChangeEnvelope(ctx, enc, ev)
	if err != nil {
		return err
	}
	pctx, cancel := events.AfterCommitContext(ctx, publishTimeout, outboxReserve)
	defer cancel()
	_, perr := s.pub.Publish(pctx, s.topic, env, enc.ClinicID)
	if perr == nil {
		return nil
	}
	// The outbox write gets a context of its own: the publish's may have run out.
	ctx, cancelOutbox := context.WithTimeout(context.WithoutCancel(ctx), outboxTimeout)
	defer cancelOutbox()
	log := logging.FromContext(ctx)
	log.Warn("encounter event not published; recording it in the outbox",
		"eventId", env.EventID, "type", env.Type, "encounterId", enc.ID, "error", perr.Error())
	body, err := json.Marshal(env)
	if err != nil {
		return errors.Join(perr, err)
	}
	ref := s.clinic(enc.ClinicID).Collection(CollectionOutbox).Doc(env.EventID)
	if _, err := ref.Set(ctx, outboxEntry{
		EncounterID: enc.ID, Seq: ev.Seq, Type: env.Type, Envelope: body, FailedAt: s.timestamp(),
	}); err != nil {
		return fmt.Errorf("encounter: record event %s in the outbox: %w", env.EventID, errors.Join(perr, err))
	}
	return nil
}

// RedeliverOutbox publishes up to limit envelopes recorded in the outboxes of all
// clinics and deletes those published. The events keep their ids, so consumers that
// already saw one ignore it. It returns how many were published; a scheduled job (or an
// operator, see the runbook) calls it.
func (s *Store) RedeliverOutbox(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	docs, err := s.fs.CollectionGroup(CollectionOutbox).Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return 0, fmt.Errorf("encounter: read outbox: %w", err)
	}
	var n int
	var errs []error
	for _, d := range docs {
		var entry outboxEntry
		var env events.Envelope
		if err := d.DataTo(&entry); err != nil {
			errs = append(errs, fmt.Errorf("outbox %s: %w", d.Ref.ID, err))
			continue
		}
		if err := json.Unmarshal(entry.Envelope, &env); err != nil || env.Validate() != nil {
			errs = append(errs, fmt.Errorf("outbox %s: not an envelope", d.Ref.ID))
			continue
		}
		// Each publish is bounded: one that hangs (Pub/Sub unreachable) must not hold the
		// run, and with it every later run, past the next scheduled one.
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		_, err := s.pub.Publish(pctx, s.topic, env, env.ClinicID)
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
		if _, err := d.Ref.Delete(ctx, firestore.Exists); err != nil {
			errs = append(errs, fmt.Errorf("outbox %s: delete: %w", d.Ref.ID, err))
		}
	}
	return n, errors.Join(errs...)
}
