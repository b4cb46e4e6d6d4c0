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

// An event whose publish failed is in its clinic's outbox; a scheduled run of the
// deployed function publishes it on encounter-events with its event id and empties the
// outbox, and the next run finds nothing to send.
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

	// The outage: the check-in committed, its event went to the outbox.
	clinic := "clinic-" + project
	enc := encounter.Encounter{ID: "enc-1", ClinicID: clinic, PatientID: "pat-1", Version: 1}
	ev := encounter.Event{Seq: 1, Action: "check_in", To: encounter.StatusWaiting, At: time.Now().UTC()}
	if err := encounter.NewStore(fs, failingPublisher{}, encounter.DefaultTopic).Announce(ctx, enc, ev); err != nil {
		t.Fatalf("Announce: %v", err)
	}
	want, err := encounter.ChangeEnvelope(ctx, enc, ev)
	if err != nil {
		t.Fatal(err)
	}

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
	if got.EventID != want.EventID || got.Type != want.Type || got.ClinicID != clinic {
		t.Errorf("re-sent %+v, want event %s of type %s", got, want.EventID, want.Type)
	}
	left, err := fs.Collection("clinics").Doc(clinic).Collection(encounter.CollectionOutbox).Documents(ctx).GetAll()
	if err != nil || len(left) != 0 {
		t.Errorf("outbox after the run: %d entries, %v", len(left), err)
	}
	if code, got := run("run-secret"); code != http.StatusOK || got.Published != 0 {
		t.Errorf("second run: %d %+v, want 200 with nothing to send", code, got)
	}
}
