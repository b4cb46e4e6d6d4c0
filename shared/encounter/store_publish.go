package encounter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/afterwork"
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

// outboxTimeout bounds the deletion of a published event's outbox entry; outboxReserve is
// the part of a request's remaining deadline kept for it when the publish runs before
// the answer (a caller outside an HTTP request), so that a publish that hangs (a Pub/Sub
// outage) gives up in time for the caller to be answered before its deadline.
const (
	outboxTimeout = 5 * time.Second
	outboxReserve = 2 * time.Second
)

// OutboxGrace is the age below which RedeliverOutbox leaves an outbox entry alone. Every
// change records its event in the outbox in its own transaction, and the request that
// made it publishes the event and deletes the entry right after answering: within
// publishTimeout (10 s) plus outboxTimeout (5 s) of the commit. An entry younger than that
// may be a live publish in flight; re-sending it would only make a duplicate (consumers
// drop it by event id), but every such race is a wasted publish and delivery. 30 s is
// twice that bound, for the clocks of different instances and a slow instance.
const OutboxGrace = 30 * time.Second

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

// outboxEntry is clinics/{c}/encounterOutbox/{eventId}: the event of a committed change,
// written in the change's transaction and deleted once the event is published.
type outboxEntry struct {
	EncounterID string `firestore:"encounterId"`
	// Seq is the encounter event's sequence (0 for an event that is not one, such as
	// encounter.triaged).
	Seq      int    `firestore:"seq"`
	Type     string `firestore:"type"`
	Envelope []byte `firestore:"envelope"` // JSON; ids only, like every envelope
	// RecordedAt is the change's time (the envelope's occurredAt); RedeliverOutbox takes
	// entries older than OutboxGrace (a collection-group inequality: its single-field
	// index is in Terraform).
	RecordedAt time.Time `firestore:"recordedAt"`
}

// fieldRecordedAt is outboxEntry.RecordedAt's field, the one RedeliverOutbox filters on.
const fieldRecordedAt = "recordedAt"

// fieldLegacyFailedAt is the time of the entries written before the outbox was
// transactional: then an entry was written only for a publish that had failed (so it is
// never in flight), with failedAt and no recordedAt, which the cut-off query cannot see.
// RedeliverOutbox takes them by this field (its collection-group index is in Terraform),
// so that an upgrade loses none; once a deployment's outbox holds none, the query finds
// nothing.
const fieldLegacyFailedAt = "failedAt"

// RecordTx records env, the event of a change made in tx (env.OccurredAt the change's
// time), in its clinic's outbox: a write in tx's commit, no round trip. A change that
// commits thus always has its event recorded, whatever happens to its publish
// (PublishRecorded). encounterID and seq identify the change for an operator reading the
// outbox (seq 0 when the event is not an encounter event of the sequence).
func (s *Store) RecordTx(tx *firestore.Transaction, env events.Envelope, encounterID string, seq int) error {
	body, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encounter: encode event %s for the outbox: %w", env.EventID, err)
	}
	// Set, not Create: the entry's id is the event's, which only this change has.
	return tx.Set(s.outboxRef(env.ClinicID, env.EventID), outboxEntry{
		EncounterID: encounterID, Seq: seq, Type: env.Type, Envelope: body,
		RecordedAt: env.OccurredAt.UTC().Truncate(time.Microsecond),
	})
}

// recordChangeTx records the envelope announcing ev of enc in the outbox, in tx.
func (s *Store) recordChangeTx(ctx context.Context, tx *firestore.Transaction, enc Encounter, ev Event) error {
	env, err := ChangeEnvelope(ctx, enc, ev)
	if err != nil {
		return err
	}
	return s.RecordTx(tx, env, enc.ID, ev.Seq)
}

func (s *Store) outboxRef(clinicID, eventID string) *firestore.DocumentRef {
	return s.clinic(clinicID).Collection(CollectionOutbox).Doc(eventID)
}

// Announce publishes the change ev of enc, whose transaction recorded its event in the
// outbox (the Store's own changes and TransitionTx do), see PublishRecorded.
func (s *Store) Announce(ctx context.Context, enc Encounter, ev Event) {
	env, err := ChangeEnvelope(ctx, enc, ev)
	if err != nil {
		// Not expected (the same envelope was built in the transaction); the outbox
		// entry stays for RedeliverOutbox.
		logging.FromContext(ctx).Error("encounter event not published; it stays in the outbox",
			"encounterId", enc.ID, "seq", ev.Seq, "error", err.Error())
		return
	}
	s.PublishRecorded(ctx, env)
}

// PublishRecorded publishes env (recorded in the outbox by RecordTx in a transaction that
// has committed) with ordering key = clinic id, then deletes its outbox entry. In an HTTP
// request it does so after the answer has been sent (afterwork.Do, which httpx.AfterResponse
// serves), detached from the request's cancellation and bounded by publishTimeout; elsewhere
// before returning, bounded also by ctx's deadline. When the publish fails, or never
// happens (the process stops, the platform withholds CPU after the answer), the entry
// stays and RedeliverOutbox publishes it once it is older than OutboxGrace, with the same
// event id.
func (s *Store) PublishRecorded(ctx context.Context, env events.Envelope) {
	detached := context.WithoutCancel(ctx)
	afterwork.Do(ctx, func() { s.publishRecorded(detached, env) })
}

// publishRecorded is PublishRecorded's work, run after the answer (ctx detached) or
// before it (ctx the caller's, whose deadline it respects).
func (s *Store) publishRecorded(ctx context.Context, env events.Envelope) {
	pctx, cancel := events.AfterCommitContext(ctx, publishTimeout, outboxReserve)
	defer cancel()
	log := logging.FromContext(ctx)
	if _, err := s.pub.Publish(pctx, s.topic, env, env.ClinicID); err != nil {
		log.Warn("encounter event not published; it stays in the outbox for redelivery",
			"eventId", env.EventID, "type", env.Type, "error", err.Error())
		return
	}
	dctx, cancelDelete := context.WithTimeout(context.WithoutCancel(ctx), outboxTimeout)
	defer cancelDelete()
	if _, err := s.outboxRef(env.ClinicID, env.EventID).Delete(dctx); err != nil {
		// Harmless: RedeliverOutbox publishes it again, and consumers drop the duplicate.
		log.Warn("published encounter event left in the outbox; it will be re-sent",
			"eventId", env.EventID, "type", env.Type, "error", err.Error())
	}
}

// RedeliverOutbox publishes up to limit events recorded in the outboxes of all clinics
// more than OutboxGrace ago (younger ones may still be published by the request that
// made their change) and deletes those published. The events keep their ids, so
// consumers that already saw one ignore it. It returns how many were published; a
// scheduled job (or an operator, see the runbook) calls it.
func (s *Store) RedeliverOutbox(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	cutoff := s.timestamp().Add(-OutboxGrace)
	docs, err := s.fs.CollectionGroup(CollectionOutbox).Where(fieldRecordedAt, "<", cutoff).
		Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return 0, fmt.Errorf("encounter: read outbox: %w", err)
	}
	if len(docs) < limit {
		legacy, err := s.legacyOutbox(ctx, cutoff, limit-len(docs))
		if err != nil {
			return 0, err
		}
		docs = append(docs, legacy...)
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

// legacyOutbox reads up to limit outbox entries written before recordedAt existed
// (fieldLegacyFailedAt), across all clinics.
func (s *Store) legacyOutbox(ctx context.Context, cutoff time.Time, limit int) ([]*firestore.DocumentSnapshot, error) {
	docs, err := s.fs.CollectionGroup(CollectionOutbox).Where(fieldLegacyFailedAt, "<", cutoff).
		Limit(limit).Documents(ctx).GetAll()
	if err != nil {
		return nil, fmt.Errorf("encounter: read outbox (entries written before recordedAt): %w", err)
	}
	return docs, nil
}
