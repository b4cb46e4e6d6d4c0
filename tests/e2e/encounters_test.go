package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// stackProject is the local stack's project (Firestore, Pub/Sub).
func stackProject(t *testing.T) string {
	t.Helper()
	testenv.Require(t, "MEDI_STACK_PROJECT", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	return os.Getenv("MEDI_STACK_PROJECT")
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// registerPatient registers a synthetic patient in clinic as the receptionist: through
// POST /v1/patients when the API documents it, else (before the patients function has
// it) by writing the patient document with the Firestore admin client.
func registerPatient(t *testing.T, c *apitest.Client, fs *firestore.Client, clinic, receptionistToken string) string {
	t.Helper()
	if item := apitest.Spec(t).Paths.Find("/v1/patients"); item != nil && item.Post != nil {
		resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: receptionistToken, Body: map[string]any{
			"givenName": "Grace", "familyName": "Hopper-" + randomSuffix(), "birthDate": "1980-12-09", "sex": "female",
			"phone": "+44 20 7946 0000", "address": map[string]any{"line1": "1 Test Street", "city": "London", "country": "GB"},
		}})
		if resp.Status != http.StatusCreated {
			t.Fatalf("register patient: %d %s", resp.Status, resp.Body)
		}
		var p struct{ ID string }
		resp.Decode(t, &p)
		return p.ID
	}
	t.Log("POST /v1/patients is not documented yet: writing the patient document directly")
	id := "e2e-patient-" + randomSuffix()
	if _, err := fs.Collection("clinics").Doc(clinic).Collection("patients").Doc(id).Set(context.Background(), map[string]any{
		"clinicId": clinic, "givenName": "Grace", "familyName": "Hopper", "birthDate": "1980-12-09", "sex": "female",
		"allergies": []any{}, "medications": []any{}, "problems": []any{}, "version": 1, "createdAt": time.Now().UTC(),
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

type e2eEncounter struct {
	ID        string `json:"id"`
	PatientID string `json:"patientId"`
	Status    string `json:"status"`
	Version   int64  `json:"version"`
	DoctorUID string `json:"doctorUid"`
}

type e2eEvent struct {
	Seq       int    `json:"seq"`
	Action    string `json:"action"`
	From      string `json:"from"`
	To        string `json:"to"`
	ActorUID  string `json:"actorUid"`
	ActorRole string `json:"actorRole"`
	Reason    string `json:"reason"`
}

func TestEncounterLifecycleThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	project := stackProject(t)
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })

	clinic := "clinic-e2e-enc-" + randomSuffix()
	tokens, uids := map[string]string{}, map[string]string{}
	for _, role := range []string{"receptionist", "nurse", "doctor"} {
		s := testenv.NewStaff(t, map[string]any{"role": role, "clinicId": clinic})
		tokens[role], uids[role] = testenv.SignIn(t, s), s.UID
		if _, err := fs.Collection("users").Doc(s.UID).Set(ctx, map[string]any{"role": role, "clinicId": clinic, "disabled": false}); err != nil {
			t.Fatal(err)
		}
	}
	otherNurse := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": clinic + "-other"}))
	sub := subscribeEncounterEvents(t, project)

	patient := registerPatient(t, c, fs, clinic, tokens["receptionist"])

	// Reception checks the patient in (a retry with the same key replays the answer).
	checkIn := apitest.Request{Method: http.MethodPost, Path: "/v1/encounters", Token: tokens["receptionist"],
		Body:   map[string]any{"patientId": patient, "chiefComplaint": "shortness of breath", "arrivalMode": "walk_in"},
		Header: map[string]string{"Idempotency-Key": "e2e-" + randomSuffix()}}
	resp := c.Do(t, checkIn)
	if resp.Status != http.StatusCreated {
		t.Fatalf("check-in: %d %s", resp.Status, resp.Body)
	}
	var enc e2eEncounter
	resp.Decode(t, &enc)
	if enc.Status != "waiting" || enc.PatientID != patient || resp.Header.Get("Location") != "/v1/encounters/"+enc.ID {
		t.Fatalf("checked in: %+v, Location %q", enc, resp.Header.Get("Location"))
	}
	if replay := c.Do(t, checkIn); replay.Status != http.StatusCreated || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("idempotent retry: %d replayed %q", replay.Status, replay.Header.Get("Idempotent-Replayed"))
	}

	// A second check-in while the encounter is open names it.
	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/encounters", Token: tokens["nurse"],
		Body: map[string]any{"patientId": patient, "chiefComplaint": "again", "arrivalMode": "ambulance"}})
	if resp.Status != http.StatusConflict || resp.Envelope.Code() != "conflict" {
		t.Fatalf("duplicate check-in: %d %s", resp.Status, resp.Body)
	}
	var dup map[string]string
	if err := json.Unmarshal(resp.Envelope.Error.Details, &dup); err != nil || dup["encounterId"] != enc.ID {
		t.Errorf("duplicate check-in details %s, want encounterId %s", resp.Envelope.Error.Details, enc.ID)
	}

	path := "/v1/encounters/" + enc.ID
	move := func(token string, body map[string]any, header map[string]string) *apitest.Response {
		t.Helper()
		return c.Do(t, apitest.Request{Method: http.MethodPost, Path: path + "/transitions", Token: token, Body: body, Header: header})
	}
	// Refusals change nothing: wrong role, other clinic, illegal move.
	for _, tc := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
	}{
		{"receptionist may not triage", tokens["receptionist"], map[string]any{"to": "triaged"}, http.StatusForbidden, "permission_denied"},
		{"nurse of another clinic", otherNurse, map[string]any{"to": "triaged"}, http.StatusNotFound, "not_found"},
		{"waiting cannot complete", tokens["doctor"], map[string]any{"to": "completed"}, http.StatusConflict, "conflict"},
		{"cancel needs a reason", tokens["receptionist"], map[string]any{"to": "cancelled"}, http.StatusBadRequest, "invalid_argument"},
	} {
		resp := move(tc.token, tc.body, nil)
		if resp.Status != tc.status || resp.Envelope.Code() != tc.code {
			t.Errorf("%s: %d %q, want %d %q: %s", tc.name, resp.Status, resp.Envelope.Code(), tc.status, tc.code, resp.Body)
		}
		if tc.status == http.StatusConflict {
			var d struct {
				Current string   `json:"current"`
				Allowed []string `json:"allowed"`
			}
			_ = json.Unmarshal(resp.Envelope.Error.Details, &d)
			if d.Current != "waiting" || !slices.Equal(d.Allowed, []string{"triaged", "cancelled", "left_without_being_seen"}) {
				t.Errorf("illegal move details %s", resp.Envelope.Error.Details)
			}
		}
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: path, Token: otherNurse}); resp.Status != http.StatusNotFound {
		t.Errorf("other clinic GET: %d", resp.Status)
	}

	// Nurse triages (with the version she read), doctor claims and completes.
	steps := []struct {
		role string
		body map[string]any
		want string
	}{
		{"nurse", map[string]any{"to": "triaged"}, "triaged"},
		{"doctor", map[string]any{"to": "in_consultation"}, "in_consultation"},
		{"doctor", map[string]any{"to": "completed"}, "completed"},
	}
	for i, s := range steps {
		resp := move(tokens[s.role], s.body, map[string]string{"If-Match": fmt.Sprintf("%q", fmt.Sprint(i+1))})
		if resp.Status != http.StatusOK {
			t.Fatalf("move to %s as %s: %d %s", s.want, s.role, resp.Status, resp.Body)
		}
		var got struct{ Encounter e2eEncounter }
		resp.Decode(t, &got)
		if got.Encounter.Status != s.want || got.Encounter.Version != int64(i+2) {
			t.Fatalf("after move %d: %+v", i+1, got.Encounter)
		}
	}
	// A client holding an old version is told so.
	if resp := move(tokens["nurse"], map[string]any{"to": "triaged"}, map[string]string{"If-Match": `"2"`}); resp.Status != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %s", resp.Status, resp.Body)
	}

	resp = c.Do(t, apitest.Request{Method: http.MethodGet, Path: path, Token: tokens["receptionist"]})
	var final e2eEncounter
	resp.Decode(t, &final)
	if resp.Status != http.StatusOK || final.Status != "completed" || final.DoctorUID != uids["doctor"] || resp.Header.Get("ETag") != `"4"` {
		t.Errorf("final encounter %d %+v ETag %q", resp.Status, final, resp.Header.Get("ETag"))
	}
	resp = c.Do(t, apitest.Request{Method: http.MethodGet, Path: path + "/events", Token: tokens["doctor"]})
	var evs struct{ Items []e2eEvent }
	resp.Decode(t, &evs)
	wantEvs := []e2eEvent{
		{1, "check_in", "", "waiting", uids["receptionist"], "receptionist", ""},
		{2, "triage", "waiting", "triaged", uids["nurse"], "nurse", ""},
		{3, "start", "triaged", "in_consultation", uids["doctor"], "doctor", ""},
		{4, "complete", "in_consultation", "completed", uids["doctor"], "doctor", ""},
	}
	if diff := cmp.Diff(wantEvs, evs.Items); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	resp = c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/encounters?status=completed&pageSize=5", Token: tokens["nurse"]})
	var page struct{ Items []e2eEncounter }
	resp.Decode(t, &page)
	if resp.Status != http.StatusOK || len(page.Items) != 1 || page.Items[0].ID != enc.ID {
		t.Errorf("completed list: %d %+v", resp.Status, page.Items)
	}

	// The patient may be checked in again now that the encounter is closed.
	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/encounters", Token: tokens["nurse"],
		Body: map[string]any{"patientId": patient, "chiefComplaint": "follow-up", "arrivalMode": "walk_in"}})
	if resp.Status != http.StatusCreated {
		t.Errorf("check-in after completion: %d %s", resp.Status, resp.Body)
	}

	// Every change reached encounter-events, keyed by the clinic, in order.
	msgs := pullClinic(t, project, sub, clinic, 5)
	var types []string
	for _, m := range msgs {
		if m.GetOrderingKey() != clinic {
			t.Errorf("ordering key %q, want %q", m.GetOrderingKey(), clinic)
		}
		types = append(types, m.GetAttributes()["type"])
	}
	want := []string{"encounter.checked_in", "encounter.transitioned", "encounter.transitioned", "encounter.transitioned", "encounter.checked_in"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("published types (-want +got):\n%s", diff)
	}
}

// subscribeEncounterEvents creates an ordered pull subscription on the stack's
// encounter-events topic for this test.
func subscribeEncounterEvents(t *testing.T, project string) string {
	t.Helper()
	ctx := context.Background()
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	name := fmt.Sprintf("projects/%s/subscriptions/e2e-encounters-%s", project, randomSuffix())
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: name, Topic: fmt.Sprintf("projects/%s/topics/encounter-events", project),
		AckDeadlineSeconds: 60, EnableMessageOrdering: true,
	}); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	t.Cleanup(func() {
		ps, err := pubsub.NewClient(context.Background(), project)
		if err == nil {
			_ = ps.SubscriptionAdminClient.DeleteSubscription(context.Background(), &pubsubpb.DeleteSubscriptionRequest{Subscription: name})
			_ = ps.Close()
		}
	})
	return name
}

// pullClinic pulls from sub until n messages of clinic have arrived (others are
// acknowledged and skipped), in delivery order.
func pullClinic(t *testing.T, project, sub, clinic string, n int) []*pubsubpb.PubsubMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	var got []*pubsubpb.PubsubMessage
	for len(got) < n {
		resp, err := ps.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 50})
		if err != nil {
			t.Fatalf("Pull after %d of %d messages: %v", len(got), n, err)
		}
		var acks []string
		for _, rm := range resp.GetReceivedMessages() {
			acks = append(acks, rm.GetAckId())
			if rm.GetMessage().GetAttributes()["clinicId"] == clinic {
				got = append(got, rm.GetMessage())
			}
		}
		if len(acks) > 0 {
			if err := ps.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: acks}); err != nil {
				t.Fatalf("Acknowledge: %v", err)
			}
		}
	}
	return got
}
