package queueprojector

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/events/eventstest"
	"github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/testenv"
)

func TestProjectsEncounterEventsOntoTheBoard(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	h, err := Function.Handler(ctx, &Config{Base: config.Base{ProjectID: project, Tier: config.Dev}})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	const clinic = "clinic-fn"
	now := time.Now().UTC()
	enc := encounter.Encounter{ClinicID: clinic, PatientID: "pat-1", Status: encounter.StatusTriaged,
		ArrivedAt: now.Add(-3 * time.Minute), Triage: &encounter.Triage{Level: 3}, UpdatedAt: now,
		StatusTimes: map[string]time.Time{"waiting": now.Add(-3 * time.Minute)}}
	if _, err := fs.Collection("clinics").Doc(clinic).Collection("encounters").Doc("enc-1").Set(ctx, enc); err != nil {
		t.Fatal(err)
	}
	env, err := events.NewEnvelope(ctx, "encounter.triaged", 1, clinic, map[string]string{"encounterId": "enc-1"})
	if err != nil {
		t.Fatal(err)
	}
	// Delivered twice (Pub/Sub is at-least-once): one board version.
	for _, msgID := range []string{"m1", "m2"} {
		if err := h(ctx, eventstest.Push(t, msgID, "encounter-events", env)); err != nil {
			t.Fatalf("delivery %s: %v", msgID, err)
		}
	}
	b, ok, err := queue.NewStore(fs).Board(ctx, clinic)
	if err != nil || !ok {
		t.Fatalf("board: %v %v", ok, err)
	}
	if b.Version != 1 || len(b.Entries) != 1 || b.Entries[0].EncounterID != "enc-1" || *b.Entries[0].Level != 3 {
		t.Errorf("board version %d, entries %+v", b.Version, b.Entries)
	}

	// An event that can never be applied is acknowledged (dropped), not retried.
	bad := env
	bad.ClinicID = ""
	if err := h(ctx, eventstest.Push(t, "m3", "encounter-events", bad)); err != nil {
		t.Errorf("an event without a clinic: %v, want it dropped", err)
	}
	garbage := event.New()
	garbage.SetID("m4")
	garbage.SetType(events.CloudEventPubSubPublished)
	garbage.SetSource("//pubsub.googleapis.com/projects/demo/topics/encounter-events")
	_ = garbage.SetData(event.ApplicationJSON, map[string]any{"message": map[string]any{"messageId": "m4", "data": "bm90IGpzb24="}})
	if err := h(ctx, garbage); err != nil {
		t.Errorf("an undecodable event: %v, want it dropped", err)
	}
}

func TestConfigRejectsNegativeTTL(t *testing.T) {
	t.Parallel()
	_, err := Function.Handler(context.Background(), &Config{Base: config.Base{ProjectID: "demo-x", Tier: config.Dev}, HistoryTTL: -time.Second})
	if err == nil {
		t.Error("a negative history TTL was accepted")
	}
}
