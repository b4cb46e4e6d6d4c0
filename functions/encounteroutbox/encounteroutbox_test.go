package encounteroutbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/medi-os/medi/functions/encounteroutbox"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// failingPublisher stands for Pub/Sub during an outage.
type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, string, events.Envelope, string) (string, error) {
	return "", errors.New("pubsub: unavailable")
}

// Two check-ins committed during a Pub/Sub outage, so their events stayed in the clinic's
// outbox (written with each change): one a minute ago, one just now. A scheduled run of
// the deployed function publishes the old one on encounter-events with its event id and
// removes it, and leaves the young one (its request may still be publishing it); the next
// run finds nothing old enough to send.
func TestRunResendsTheOutbox(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })

	clinic := "clinic-" + project
	outage := encounter.NewStore(fs, failingPublisher{}, encounter.DefaultTopic)
	checkIn := func(st *encounter.Store, patient string) encounter.Encounter {
		t.Helper()
		if _, err := fs.Collection("clinics").Doc(clinic).Collection(encounter.CollectionPatients).Doc(patient).
			Set(ctx, map[string]any{"givenName": "Test"}); err != nil {
			t.Fatal(err)
		}
		actor := auth.Principal{UID: "reception-1", Role: auth.RoleReceptionist, ClinicID: clinic}
		enc, err := st.CheckIn(auth.WithPrincipal(ctx, actor), actor, encounter.CheckIn{
			PatientID: patient, ChiefComplaint: "cough", ArrivalMode: encounter.ArrivalWalkIn}, commitmark.Marker{})
		if err != nil {
			t.Fatalf("CheckIn during the outage: %v", err)
		}
		return enc
	}
	old := checkIn(outage.WithClock(func() time.Time { return time.Now().Add(-time.Minute) }), "pat-old")
	young := checkIn(outage, "pat-young")
	want := events.DeriveEventID(encounter.EventTypeCheckedIn, clinic, old.ID+"/1")
	youngID := events.DeriveEventID(encounter.EventTypeCheckedIn, clinic, young.ID+"/1")

	topic := "projects/" + project + "/topics/" + encounter.DefaultTopic
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	sub := "projects/" + project + "/subscriptions/outbox-test"
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: 60}); err != nil {
		t.Fatal(err)
	}

	cfg := &encounteroutbox.Config{Base: config.Base{ProjectID: project, Tier: config.Dev},
		DevSecret: "run-secret", EncounterEventsTopic: encounter.DefaultTopic, Batch: 10}
	h, err := encounteroutbox.Function.Handler(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := func(secret string) (int, encounteroutbox.Run) {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set(tasks.SecretHeader, secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body struct{ Data encounteroutbox.Run }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body.Data
	}

	if code, _ := run("not-the-secret"); code != http.StatusUnauthorized {
		t.Fatalf("a call without the scheduler's credentials: %d, want 401", code)
	}
	if code, got := run("run-secret"); code != http.StatusOK || got.Published != 1 {
		t.Fatalf("run: %d %+v, want 200 with 1 published", code, got)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := ps.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 10})
	if err != nil || len(resp.GetReceivedMessages()) != 1 {
		t.Fatalf("pull: %v, %d messages; want the one event", err, len(resp.GetReceivedMessages()))
	}
	var got events.Envelope
	if err := json.Unmarshal(resp.GetReceivedMessages()[0].GetMessage().GetData(), &got); err != nil {
		t.Fatal(err)
	}
	if got.EventID != want || got.Type != encounter.EventTypeCheckedIn || got.ClinicID != clinic {
		t.Errorf("re-sent %+v, want event %s of type %s", got, want, encounter.EventTypeCheckedIn)
	}
	left, err := fs.Collection("clinics").Doc(clinic).Collection(encounter.CollectionOutbox).Documents(ctx).GetAll()
	if err != nil || len(left) != 1 || left[0].Ref.ID != youngID {
		t.Errorf("outbox after the run: %d entries, %v; want only the young one %s", len(left), err, youngID)
	}
	if code, got := run("run-secret"); code != http.StatusOK || got.Published != 0 {
		t.Errorf("second run: %d %+v, want 200 with nothing to send", code, got)
	}
}
