package encounters_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/medi-os/medi/functions/encounters"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx/httpxtest"
	"github.com/medi-os/medi/shared/testenv"
)

// server is the queue function built in-process against the emulators, with Firestore
// and Pub/Sub in a project of the test's own and tokens from the Auth emulator.
type server struct {
	t       *testing.T
	h       http.Handler
	fs      *firestore.Client
	project string
	clinic  string
	tokens  map[string]string // role -> ID token of a staff member of clinic
	uids    map[string]string // role -> uid
}

func newServer(t *testing.T) *server {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	h, err := encounters.Function.Handler(ctx, &encounters.Config{
		Base:                 config.Base{ProjectID: project, Tier: config.Dev, Version: "test", AuthProjectID: testenv.AuthProject()},
		EncounterEventsTopic: encounter.DefaultTopic,
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: fmt.Sprintf("projects/%s/topics/%s", project, encounter.DefaultTopic)}); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, h: h, fs: fs, project: project, clinic: "clinic-" + randomHex(4), tokens: map[string]string{}, uids: map[string]string{}}
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		staff := testenv.NewStaff(t, map[string]any{"role": role, "clinicId": s.clinic})
		s.tokens[role], s.uids[role] = testenv.SignIn(t, staff), staff.UID
		s.user(staff.UID, role, s.clinic)
	}
	other := testenv.NewStaff(t, map[string]any{"role": "admin", "clinicId": "other-" + s.clinic})
	s.tokens["other-clinic"] = testenv.SignIn(t, other)
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// user writes users/{uid} as the auth function keeps it.
func (s *server) user(uid, role, clinic string) {
	s.t.Helper()
	if _, err := s.fs.Collection("users").Doc(uid).Set(context.Background(), map[string]any{
		"role": role, "clinicId": clinic, "disabled": false,
	}); err != nil {
		s.t.Fatal(err)
	}
}

// patient writes a synthetic patient of the clinic and returns its id.
func (s *server) patient() string {
	s.t.Helper()
	id := "p-" + randomHex(6)
	if _, err := s.fs.Collection("clinics").Doc(s.clinic).Collection("patients").Doc(id).Set(context.Background(),
		map[string]any{"givenName": "Test", "familyName": "Patient"}); err != nil {
		s.t.Fatal(err)
	}
	return id
}

// envelope is a decoded response body.
type envelope struct{ httpxtest.Envelope }

func (e envelope) code() string { return e.Code() }

// request describes one call; Body is marshalled unless Raw is set.
type request struct {
	method, path, role string
	body               any
	raw                []byte
	contentType        string
	header             map[string]string
}

func (s *server) do(r request) (*httptest.ResponseRecorder, envelope) {
	s.t.Helper()
	var body []byte
	switch {
	case r.raw != nil:
		body = r.raw
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			s.t.Fatal(err)
		}
		body = b
	}
	req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
	if body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if tok := s.tokens[r.role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	var env envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		s.t.Fatalf("%s %s: body is not an envelope: %v: %s", r.method, r.path, err, rec.Body)
	}
	return rec, env
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, raw)
	}
	return v
}

// checkIn checks a new patient in as the receptionist and returns the encounter.
func (s *server) checkIn() encounter.Encounter {
	s.t.Helper()
	rec, env := s.do(request{method: http.MethodPost, path: "/v1/encounters", role: "receptionist",
		body: map[string]any{"patientId": s.patient(), "chiefComplaint": "abdominal pain", "arrivalMode": "walk_in"}})
	if rec.Code != http.StatusCreated {
		s.t.Fatalf("check-in: %d %s", rec.Code, rec.Body)
	}
	return decode[encounter.Encounter](s.t, env.Data)
}

// transition moves id as role and fails the test unless it succeeds.
func (s *server) transition(id, role string, body map[string]any) encounter.Encounter {
	s.t.Helper()
	rec, env := s.do(request{method: http.MethodPost, path: "/v1/encounters/" + id + "/transitions", role: role, body: body})
	if rec.Code != http.StatusOK {
		s.t.Fatalf("transition %v as %s: %d %s", body, role, rec.Code, rec.Body)
	}
	return decode[struct{ Encounter encounter.Encounter }](s.t, env.Data).Encounter
}

// auditActions counts the clinic's audit records by action.
func (s *server) auditActions() map[string]int {
	s.t.Helper()
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(audit.Collection).Documents(context.Background()).GetAll()
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			s.t.Fatal(err)
		}
		out[r.Action]++
	}
	return out
}
