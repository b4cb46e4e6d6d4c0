package encounter_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
)

func decodeChange(t *testing.T, data []byte) (events.Envelope, encounter.Change) {
	t.Helper()
	var env events.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	var c encounter.Change
	if err := env.DecodeData(&c); err != nil {
		t.Fatal(err)
	}
	return env, c
}

func TestEveryChangeIsPublishedInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sub := f.subscribe()
	enc := f.checkIn()
	enc = f.walk(enc, pathTo(encounter.StatusCompleted)...)

	msgs := f.pull(sub, 4)
	wantMoves := []struct {
		typ      string
		from, to encounter.Status
		action   encounter.Action
	}{
		{encounter.EventTypeCheckedIn, "", encounter.StatusWaiting, encounter.ActionCheckIn},
		{encounter.EventTypeTransitioned, encounter.StatusWaiting, encounter.StatusTriaged, encounter.ActionTriage},
		{encounter.EventTypeTransitioned, encounter.StatusTriaged, encounter.StatusInConsultation, encounter.ActionStart},
		{encounter.EventTypeTransitioned, encounter.StatusInConsultation, encounter.StatusCompleted, encounter.ActionComplete},
	}
	evs := f.events(enc.ID)
	for i, m := range msgs {
		if m.GetOrderingKey() != f.clinic {
			t.Errorf("message %d ordering key %q, want %q", i, m.GetOrderingKey(), f.clinic)
		}
		env, c := decodeChange(t, m.GetData())
		w := wantMoves[i]
		want := encounter.Change{EncounterID: enc.ID, PatientID: enc.PatientID, Seq: i + 1, Action: w.action,
			From: w.from, To: w.to, At: evs[i].At, Version: int64(i + 1), DoctorUID: evs[i].DoctorUID}
		if diff := cmp.Diff(want, c); diff != "" {
			t.Errorf("message %d data (-want +got):\n%s", i, diff)
		}
		if env.Type != w.typ || env.ClinicID != f.clinic || env.EventID != events.DeriveEventID(w.typ, f.clinic, enc.ID+"/"+strconv.Itoa(i+1)) {
			t.Errorf("message %d envelope %+v", i, env)
		}
		if env.RequestID != evs[i].RequestID {
			t.Errorf("message %d request id %q, want the event's %q", i, env.RequestID, evs[i].RequestID)
		}
	}
}

// A change records its event in the outbox in its own transaction; the entry goes once
// the event is published.
func TestPublishedChangesLeaveNoOutboxEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sub := f.subscribe()
	enc := f.checkIn()
	f.walk(enc, pathTo(encounter.StatusTriaged)...)
	f.pull(sub, 2)
	if n := f.outboxLen(); n != 0 {
		t.Errorf("outbox after two published changes: %d entries, want none", n)
	}
}

// A change whose publish fails (here: no topic) keeps its outbox entry, written with the
// change; RedeliverOutbox leaves it alone while it is younger than OutboxGrace (the
// request may still be publishing it), then publishes it once, with its event id.
func TestUnpublishedChangeIsRedeliveredAfterTheGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{noTopic: true}) // publishing fails: no topic
	p := f.actor(auth.RoleReceptionist)
	ctx, _ := reqCtx(p)
	enc, err := f.store.CheckIn(ctx, p, encounter.CheckIn{PatientID: f.patient(f.clinic), ChiefComplaint: "cut finger", ArrivalMode: "walk_in"}, commitmark.Marker{})
	if err != nil {
		t.Fatalf("CheckIn must succeed although publishing fails: %v", err)
	}
	wantID := events.DeriveEventID(encounter.EventTypeCheckedIn, f.clinic, enc.ID+"/1")
	outbox := f.fs.Collection("clinics").Doc(f.clinic).Collection(encounter.CollectionOutbox)
	snap, err := outbox.Doc(wantID).Get(context.Background())
	if err != nil {
		t.Fatalf("outbox entry %s: %v", wantID, err)
	}
	if got := snap.Data()["encounterId"]; got != enc.ID {
		t.Errorf("outbox encounterId = %v, want %s", got, enc.ID)
	}
	if got, ok := snap.Data()["recordedAt"].(time.Time); !ok || !got.Equal(enc.ArrivedAt) {
		t.Errorf("outbox recordedAt = %v, want the change's time %v", snap.Data()["recordedAt"], enc.ArrivedAt)
	}

	f.createTopic()
	sub := f.subscribe()
	// Younger than the grace period: left alone.
	if n, err := f.store.RedeliverOutbox(context.Background(), 10); err != nil || n != 0 {
		t.Fatalf("RedeliverOutbox within the grace period = %d, %v; want 0", n, err)
	}
	if n := f.outboxLen(); n != 1 {
		t.Fatalf("outbox within the grace period: %d entries, want the one", n)
	}

	// Past the grace period: published once, with the same event id, and removed.
	later := f.store.WithClock(func() time.Time { return time.Now().Add(encounter.OutboxGrace + time.Second) })
	n, err := later.RedeliverOutbox(context.Background(), 10)
	if err != nil || n != 1 {
		t.Fatalf("RedeliverOutbox after the grace period = %d, %v; want 1", n, err)
	}
	msg := f.pull(sub, 1)[0]
	env, c := decodeChange(t, msg.GetData())
	if env.EventID != wantID || c.EncounterID != enc.ID || msg.GetOrderingKey() != f.clinic {
		t.Errorf("redelivered %+v %+v key %q", env, c, msg.GetOrderingKey())
	}
	if n := f.outboxLen(); n != 0 {
		t.Errorf("outbox after redelivery: %d entries", n)
	}
	if n, err := later.RedeliverOutbox(context.Background(), 10); err != nil || n != 0 {
		t.Errorf("second RedeliverOutbox = %d, %v; want nothing left to send", n, err)
	}
	if extra := f.pullAvailable(sub, 3*time.Second); len(extra) != 0 {
		t.Errorf("%d more message(s) after the redelivery, want the event exactly once", len(extra))
	}
}

// outboxLen counts the fixture clinic's outbox entries.
func (f *fixture) outboxLen() int {
	f.t.Helper()
	docs, err := f.fs.Collection("clinics").Doc(f.clinic).Collection(encounter.CollectionOutbox).Documents(context.Background()).GetAll()
	if err != nil {
		f.t.Fatal(err)
	}
	return len(docs)
}

// pullAvailable receives what sub delivers within wait (nothing is acknowledged).
func (f *fixture) pullAvailable(sub string, wait time.Duration) []*pubsubpb.ReceivedMessage {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, err := f.ps.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 10})
	if err != nil {
		return nil // the deadline: nothing arrived
	}
	return resp.GetReceivedMessages()
}

// An entry written before the outbox was transactional (failedAt, no recordedAt: its
// publish had failed) is still redelivered after an upgrade, and removed.
func TestOutboxEntryWithoutRecordedAtIsRedelivered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sub := f.subscribe()
	ctx := context.Background()
	env, err := events.NewEnvelope(ctx, encounter.EventTypeCheckedIn, encounter.ChangeSchemaVersion, f.clinic,
		encounter.Change{EncounterID: "enc-legacy", PatientID: "pat-legacy", Seq: 1, Action: encounter.ActionCheckIn,
			To: encounter.StatusWaiting, At: time.Now().Add(-time.Hour), Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	env = env.WithIdempotencyKey("enc-legacy/1")
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	ref := f.fs.Collection("clinics").Doc(f.clinic).Collection(encounter.CollectionOutbox).Doc(env.EventID)
	if _, err := ref.Set(ctx, map[string]any{
		"encounterId": "enc-legacy", "seq": 1, "type": env.Type, "envelope": body, "failedAt": time.Now().Add(-time.Minute),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.RedeliverOutbox(ctx, 100); err != nil {
		t.Fatalf("RedeliverOutbox: %v", err)
	}
	// The redelivery spans every clinic's outbox: other tests' old entries may come too.
	found := false
	for deadline := time.Now().Add(30 * time.Second); !found && time.Now().Before(deadline); {
		for _, m := range f.pullAvailable(sub, 3*time.Second) {
			if got, _ := decodeChange(t, m.GetMessage().GetData()); got.EventID == env.EventID {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the legacy entry's event %s was not redelivered", env.EventID)
	}
	if _, err := ref.Get(ctx); status.Code(err) != codes.NotFound {
		t.Errorf("legacy entry after its redelivery: %v, want it deleted", err)
	}
}
