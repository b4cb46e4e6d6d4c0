package triagerecord

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/testenv"
)

// TestPublishesTriagedToPubSub records an assessment through the real publisher on the
// Pub/Sub emulator and reads the encounter.triaged fact back from an ordered subscription.
func TestPublishesTriagedToPubSub(t *testing.T) {
	t.Parallel()
	f, ps, fs, project := newPublishFixture(t)
	ctx := context.Background()
	topic := fmt.Sprintf("projects/%s/topics/encounter-events", project)
	sub := fmt.Sprintf("projects/%s/subscriptions/encounter-events-test", project)
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: sub, Topic: topic, AckDeadlineSeconds: 60, EnableMessageOrdering: true,
	}); err != nil {
		t.Fatal(err)
	}
	id := f.seedEncounter(t, encounter.StatusWaiting, time.Minute, nil)
	rec, err := f.svc.Record(as(f.nurse), f.clinic, id, adultInput(), commitmark.Marker{})
	if err != nil {
		t.Fatal(err)
	}

	msgs := pullN(t, ps, sub, 2)
	byType := map[string]*pubsubpb.PubsubMessage{}
	for _, m := range msgs {
		byType[m.GetAttributes()[events.AttrType]] = m
		if m.GetOrderingKey() != f.clinic {
			t.Errorf("%s: ordering key %q, want the clinic id", m.GetAttributes()[events.AttrType], m.GetOrderingKey())
		}
		if strings.Contains(string(m.GetData()), "twisted ankle") || strings.Contains(fmt.Sprint(m.GetAttributes()), "twisted") {
			t.Error("patient data in a published message")
		}
	}
	m := byType[events.TypeEncounterTriaged]
	if m == nil || byType[encounter.EventTypeTransitioned] == nil {
		t.Fatalf("got types %v, want %s and %s", keys(byType), events.TypeEncounterTriaged, encounter.EventTypeTransitioned)
	}
	env, err := events.DecodeEnvelope(events.Message{ID: m.GetMessageId(), Data: m.GetData(), Attributes: m.GetAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	var data TriagedEvent
	if err := env.DecodeData(&data); err != nil {
		t.Fatal(err)
	}
	want := TriagedEvent{EncounterID: id, PatientID: rec.Encounter.PatientID, AssessmentID: "000001", Level: 3,
		ProposedLevel: 3, Version: rec.Encounter.Version}
	if diff := cmp.Diff(want, data); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	var raw map[string]any
	_ = json.Unmarshal(env.Data, &raw)
	if len(raw) != 7 {
		t.Errorf("data has fields %v; ids and levels only", raw)
	}
	wantAttrs := map[string]string{events.AttrEventID: env.EventID, events.AttrType: events.TypeEncounterTriaged,
		events.AttrSchemaVersion: "1", events.AttrClinicID: f.clinic}
	if diff := cmp.Diff(wantAttrs, m.GetAttributes()); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if want := events.DeriveEventID(events.TypeEncounterTriaged, f.clinic, fmt.Sprintf("%s/v%d", id, rec.Encounter.Version)); env.EventID != want {
		t.Errorf("event id %s, want the id derived from encounter and version %s", env.EventID, want)
	}
	// Both events were recorded in the outbox with the change and removed once published.
	if left := outboxIDs(t, fs, f.clinic); len(left) != 0 {
		t.Errorf("outbox after the publishes: %v, want empty", left)
	}
}

// When Pub/Sub cannot take the events (here: the topic does not exist), the assessment
// and the confirmation still commit, and their events stay in the encounter outbox,
// written in the same transactions, for encounter-outbox to re-send: the transition and
// encounter.triaged of the assessment, encounter.triaged of the confirmation.
func TestUnpublishedTriageEventsStayInTheOutbox(t *testing.T) {
	t.Parallel()
	f, _, fs, _ := newPublishFixture(t) // no topic made: every publish fails
	id := f.seedEncounter(t, encounter.StatusWaiting, time.Minute, nil)
	rec, err := f.svc.Record(as(f.nurse), f.clinic, id, adultInput(), commitmark.Marker{})
	if err != nil {
		t.Fatalf("Record must commit although publishing fails: %v", err)
	}
	c, err := f.svc.Confirm(as(f.nurse), ConfirmRequest{ClinicID: f.clinic, EncounterID: id, Level: 2})
	if err != nil {
		t.Fatalf("Confirm must commit although publishing fails: %v", err)
	}
	want := []string{
		events.DeriveEventID(encounter.EventTypeTransitioned, f.clinic, id+"/2"),
		events.DeriveEventID(events.TypeEncounterTriaged, f.clinic, fmt.Sprintf("%s/v%d", id, rec.Encounter.Version)),
		events.DeriveEventID(events.TypeEncounterTriaged, f.clinic, fmt.Sprintf("%s/v%d", id, c.Encounter.Version)),
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, outboxIDs(t, fs, f.clinic)); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

// newPublishFixture makes, on the emulators, the clients of a test of the events and a
// fixture whose service publishes to the topic encounter-events of project (which the
// test creates, or not).
func newPublishFixture(t *testing.T) (f *fixture, ps *pubsub.Client, fs *firestore.Client, project string) {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	ctx := context.Background()
	project = testenv.ProjectID(t)
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	fs, err = firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	publisher := events.NewPubSubPublisher(ps)
	t.Cleanup(func() { _ = publisher.Close() })
	f = &fixture{fs: fs, svc: NewService(fs, publisher, "encounter-events"), clinic: uniqueID("clinic")}
	f.nurse.UID, f.nurse.Role, f.nurse.ClinicID = uniqueID("nurse"), "nurse", f.clinic
	return f, ps, fs, project
}

// outboxIDs lists the ids of clinic's encounter outbox entries, sorted.
func outboxIDs(t *testing.T, fs *firestore.Client, clinic string) []string {
	t.Helper()
	docs, err := fs.Collection("clinics").Doc(clinic).Collection(encounter.CollectionOutbox).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, d := range docs {
		ids = append(ids, d.Ref.ID)
	}
	slices.Sort(ids)
	return ids
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// pullN receives and acknowledges n messages from sub.
func pullN(t *testing.T, c *pubsub.Client, sub string, n int) []*pubsubpb.PubsubMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []*pubsubpb.PubsubMessage
	for len(got) < n {
		resp, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: int32(n - len(got))})
		if err != nil {
			t.Fatalf("pull after %d of %d messages: %v", len(got), n, err)
		}
		var ack []string
		for _, rm := range resp.GetReceivedMessages() {
			got = append(got, rm.GetMessage())
			ack = append(ack, rm.GetAckId())
		}
		if len(ack) > 0 {
			if err := c.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: ack}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}
