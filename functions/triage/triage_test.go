package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/triagerecord"
	"github.com/medi-os/medi/tests/apitest"
)

// contractBase is the server URL the OpenAPI contract checks in-process responses with.
const contractBase = "http://triage.test"

// server is the function built in-process against this test's own Firestore project,
// with staff of one clinic signed in through the Auth emulator.
type server struct {
	h        http.Handler
	contract *apitest.Contract
	fs       *firestore.Client
	clinic   string
	tokens   map[string]string // role -> ID token
}

func newServer(t *testing.T) *server {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	h, err := Function.Handler(ctx, &Config{
		Base:                 config.Base{ProjectID: project, Tier: config.Dev, AuthProjectID: testenv.AuthProject(), Version: "test"},
		EncounterEventsTopic: "encounter-events",
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	s := &server{h: h, contract: apitest.NewContract(t, contractBase), fs: fs, clinic: "clinic-" + project, tokens: map[string]string{}}
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		s.tokens[role] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": role, "clinicId": s.clinic}))
	}
	s.tokens["other-clinic nurse"] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "other-" + project}))
	return s
}

type response struct {
	Status int
	Header http.Header
	Body   struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   *struct {
			Code    string `json:"code"`
			Details struct {
				Reason string `json:"reason"`
				Fields []struct {
					Field string `json:"field"`
				} `json:"fields"`
			} `json:"details"`
		} `json:"error"`
	}
}

func (r *response) code() string {
	if r.Body.Error == nil {
		return ""
	}
	return r.Body.Error.Code
}

func (r *response) fields() []string {
	var out []string
	if r.Body.Error != nil {
		for _, f := range r.Body.Error.Details.Fields {
			out = append(out, f.Field)
		}
	}
	return out
}

func (s *server) do(t *testing.T, method, path, role string, body any, header ...string) *response {
	t.Helper()
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		raw = b
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[role])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	// Every response is checked against docs/openapi.yaml.
	check, err := http.NewRequest(method, contractBase+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	check.Header = req.Header
	s.contract.Check(t, check, rec.Code, rec.Header(), rec.Body.Bytes())
	out := &response{Status: rec.Code, Header: rec.Header()}
	if err := json.Unmarshal(rec.Body.Bytes(), &out.Body); err != nil {
		t.Fatalf("%s %s: not the envelope: %s", method, path, rec.Body)
	}
	return out
}

// seed writes a waiting encounter (or with status st) of clinic and returns its id.
func (s *server) seed(t *testing.T, clinic string, st encounter.Status) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	e := encounter.Encounter{ClinicID: clinic, PatientID: "p-1", Status: st, ChiefComplaint: "seeded",
		ArrivalMode: encounter.ArrivalWalkIn, ArrivedAt: now, StatusTimes: map[string]time.Time{string(st): now},
		EventCount: 1, Version: 1, CreatedBy: "seed", UpdatedAt: now}
	ref := s.fs.Collection("clinics").Doc(clinic).Collection("encounters").NewDoc()
	if _, err := ref.Create(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	// The patient, 40 years old (validInput's age; the record's age applies).
	birth := now.AddDate(-40, 0, -100).Format(time.DateOnly)
	if _, err := s.fs.Collection("clinics").Doc(clinic).Collection("patients").Doc(e.PatientID).
		Set(context.Background(), map[string]any{"birthDate": birth}); err != nil {
		t.Fatal(err)
	}
	return ref.ID
}

// validInput is a complete adult assessment: level 3 at point D.
func validInput() map[string]any {
	return map[string]any{
		"ageYears": 40, "chiefComplaint": "twisted ankle", "mentalStatus": "A", "painScore": 4,
		"expectedResources": []string{"labs", "ecg_xray"},
		"vitals": map[string]any{"heartRate": 80, "respiratoryRate": 16, "systolicBP": 125, "diastolicBP": 80,
			"spo2": 98, "temperatureC": 36.8, "onSupplementalOxygen": false},
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.seed(t, s.clinic, encounter.StatusWaiting)
	for _, tc := range []struct {
		method, path string
		body         any
		allowed      map[string]bool // roles that get past authorization
	}{
		{"POST", "/v1/triage/assess", validInput(), map[string]bool{"nurse": true, "doctor": true, "admin": true}},
		{"POST", "/v1/triage/" + id, map[string]any{}, map[string]bool{"nurse": true, "doctor": true}},
		{"POST", "/v1/triage/" + id + "/confirm", map[string]any{}, map[string]bool{"nurse": true, "doctor": true}},
		{"GET", "/v1/triage/" + id, nil, map[string]bool{"nurse": true, "doctor": true}},
	} {
		for _, role := range []string{"receptionist", "nurse", "doctor", "admin", ""} {
			resp := s.do(t, tc.method, tc.path, role, tc.body)
			switch {
			case role == "":
				if resp.Status != http.StatusUnauthorized {
					t.Errorf("%s %s without token: %d, want 401", tc.method, tc.path, resp.Status)
				}
			case tc.allowed[role]:
				if resp.Status == http.StatusForbidden || resp.Status == http.StatusUnauthorized {
					t.Errorf("%s %s as %s: %d, want past authorization", tc.method, tc.path, role, resp.Status)
				}
			default:
				if resp.Status != http.StatusForbidden || resp.code() != "permission_denied" {
					t.Errorf("%s %s as %s: %d %s, want 403 permission_denied", tc.method, tc.path, role, resp.Status, resp.code())
				}
			}
		}
	}
}

func TestAssessEndpoint(t *testing.T) {
	t.Parallel()
	s := newServer(t)

	resp := s.do(t, "POST", "/v1/triage/assess", "nurse", validInput())
	if resp.Status != http.StatusOK {
		t.Fatalf("assess: %d %s", resp.Status, resp.Body.Data)
	}
	var res triagerecord.Result
	if err := json.Unmarshal(resp.Body.Data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Level != 3 || res.DecisionPoint != "D" || len(res.Reasons) == 0 || len(res.NEWS2.Items) != 7 ||
		len(res.QSOFA.Items) != 3 || res.TargetMinutes != 30 || res.VitalsRequired || res.EngineVersion == "" ||
		!res.Reassessment.Applicable {
		t.Errorf("result = %+v", res)
	}

	impossible := validInput()
	impossible["ageYears"] = 121
	impossible["painScore"] = 11
	impossible["vitals"] = map[string]any{"heartRate": 301, "respiratoryRate": 81, "systolicBP": 301,
		"spo2": 101, "temperatureC": 45.1}
	resp = s.do(t, "POST", "/v1/triage/assess", "nurse", impossible)
	if resp.Status != http.StatusBadRequest || resp.code() != "invalid_argument" {
		t.Fatalf("impossible values: %d %s", resp.Status, resp.code())
	}
	want := []string{"ageYears", "painScore", "vitals.heartRate", "vitals.respiratoryRate", "vitals.systolicBP",
		"vitals.spo2", "vitals.temperatureC"}
	if diff := cmp.Diff(want, resp.fields()); diff != "" {
		t.Errorf("one error per field (-want +got):\n%s", diff)
	}

	for name, raw := range map[string]any{
		"unknown field": map[string]any{"ageYears": 40, "chiefComplaint": "x", "heartRate": 80},
		"wrong type":    map[string]any{"ageYears": "forty", "chiefComplaint": "x"},
	} {
		if resp := s.do(t, "POST", "/v1/triage/assess", "nurse", raw); resp.Status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, resp.Status)
		}
	}
}

func TestRecordConfirmAndGet(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.seed(t, s.clinic, encounter.StatusWaiting)

	// Missing vital signs: 400 naming them, nothing stored.
	noVitals := validInput()
	noVitals["vitals"] = map[string]any{"heartRate": 80}
	resp := s.do(t, "POST", "/v1/triage/"+id, "nurse", noVitals)
	if resp.Status != http.StatusBadRequest || resp.Body.Error.Details.Reason != triagerecord.ReasonVitalsRequired {
		t.Fatalf("no vitals: %d %+v", resp.Status, resp.Body.Error)
	}
	if diff := cmp.Diff([]string{"vitals.respiratoryRate", "vitals.spo2", "vitals.temperatureC", "vitals.systolicBP"}, resp.fields()); diff != "" {
		t.Errorf("missing vitals (-want +got):\n%s", diff)
	}

	// Record, with an idempotency key retried.
	var first triagerecord.Recorded
	for i := range 2 {
		resp = s.do(t, "POST", "/v1/triage/"+id, "nurse", validInput(), idempotency.HeaderKey, "k-"+id)
		if resp.Status != http.StatusCreated {
			t.Fatalf("record %d: %d %s", i, resp.Status, resp.Body.Data)
		}
		if i == 1 && resp.Header.Get(idempotency.HeaderReplayed) != "true" {
			t.Error("retry with the same Idempotency-Key was not replayed")
		}
		if err := json.Unmarshal(resp.Body.Data, &first); err != nil {
			t.Fatal(err)
		}
	}
	if first.Assessment.ID != "000001" || first.Encounter.Status != encounter.StatusTriaged || first.Encounter.Triage.Level != 3 {
		t.Errorf("recorded = %+v", first)
	}

	// Other clinic: 404 on every endpoint.
	for _, c := range []struct{ method, path string }{{"POST", "/v1/triage/" + id}, {"POST", "/v1/triage/" + id + "/confirm"}, {"GET", "/v1/triage/" + id}} {
		var body any = validInput()
		if c.method == "GET" {
			body = nil
		} else if c.path != "/v1/triage/"+id {
			body = map[string]any{"level": 2}
		}
		if resp := s.do(t, c.method, c.path, "other-clinic nurse", body); resp.Status != http.StatusNotFound || resp.code() != "not_found" {
			t.Errorf("%s %s from another clinic: %d %s, want 404", c.method, c.path, resp.Status, resp.code())
		}
	}

	// Down-triage without a reason: 400; with a reason: accepted and audited.
	resp = s.do(t, "POST", "/v1/triage/"+id+"/confirm", "nurse", map[string]any{"level": 4})
	if resp.Status != http.StatusBadRequest || resp.Body.Error.Details.Reason != triagerecord.ReasonReasonRequired {
		t.Fatalf("down-triage without reason: %d %+v", resp.Status, resp.Body.Error)
	}
	if diff := cmp.Diff([]string{"reason"}, resp.fields()); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	resp = s.do(t, "POST", "/v1/triage/"+id+"/confirm", "nurse", map[string]any{"level": 4, "reason": "only needs an X-ray", "assessmentId": "000001"})
	if resp.Status != http.StatusOK {
		t.Fatalf("down-triage with reason: %d %+v", resp.Status, resp.Body.Error)
	}
	var c triagerecord.Confirmed
	_ = json.Unmarshal(resp.Body.Data, &c)
	if c.Change != "down_triage" || c.Level != 4 || c.PreviousLevel != 3 || !c.Encounter.Triage.Confirmed {
		t.Errorf("confirmed = %+v", c)
	}
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(audit.Collection).
		Where("action", "==", triagerecord.ActionDownTriage).Documents(context.Background()).GetAll()
	if err != nil || len(docs) != 1 {
		t.Fatalf("down-triage audit records: %d, %v", len(docs), err)
	}
	var ar audit.Record
	_ = docs[0].DataTo(&ar)
	if ar.Reason != "only needs an X-ray" || ar.ResourceID != id || ar.ActorRole != "nurse" || ar.PatientID != "p-1" {
		t.Errorf("audit record = %+v", ar)
	}

	// Missing level: 400.
	if resp := s.do(t, "POST", "/v1/triage/"+id+"/confirm", "nurse", map[string]any{"reason": "x"}); resp.Status != http.StatusBadRequest {
		t.Errorf("confirm without level: %d", resp.Status)
	}

	// GET: current and history.
	resp = s.do(t, "GET", "/v1/triage/"+id, "doctor", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("get: %d", resp.Status)
	}
	var h triagerecord.History
	_ = json.Unmarshal(resp.Body.Data, &h)
	if h.Current == nil || h.Current.ID != "000001" || len(h.Assessments) != 1 || len(h.Current.Confirmations) != 1 ||
		h.Encounter.Triage.Level != 4 {
		t.Errorf("history = %+v", h)
	}
}

func TestFrozenLevel(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.seed(t, s.clinic, encounter.StatusWaiting)
	if resp := s.do(t, "POST", "/v1/triage/"+id, "nurse", validInput()); resp.Status != http.StatusCreated {
		t.Fatalf("record: %d", resp.Status)
	}
	if _, err := s.fs.Collection("clinics").Doc(s.clinic).Collection("encounters").Doc(id).Update(context.Background(), []firestore.Update{
		{Path: "status", Value: encounter.StatusInConsultation},
		{FieldPath: firestore.FieldPath{"statusTimes", "in_consultation"}, Value: time.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		body any
	}{
		{"/v1/triage/" + id, validInput()},
		{"/v1/triage/" + id + "/confirm", map[string]any{"level": 2}},
		{"/v1/triage/" + id + "/confirm", map[string]any{"level": 5, "reason": "better"}},
	} {
		resp := s.do(t, "POST", c.path, "doctor", c.body)
		if resp.Status != http.StatusConflict || resp.code() != "failed_precondition" || resp.Body.Error.Details.Reason != triagerecord.ReasonLevelFrozen {
			t.Errorf("POST %s after consultation: %d %s, want 409 failed_precondition level_frozen", c.path, resp.Status, resp.code())
		}
	}
}

// An assessment whose commit succeeded but whose answer was lost to a 5xx (which releases
// the key's record) is retried: the retry answers with the recorded assessment instead of
// recording a second one.
func TestRecordRetryAfterALostAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	id := s.seed(t, s.clinic, encounter.StatusWaiting)
	release := func() {
		t.Helper()
		docs, err := s.fs.Collection(idempotency.Collection).Documents(ctx).GetAll()
		if err != nil || len(docs) == 0 {
			t.Fatalf("idempotency records: %d, %v", len(docs), err)
		}
		for _, d := range docs {
			if err := idempotency.Release(ctx, d.Ref); err != nil {
				t.Fatal(err)
			}
		}
	}
	record := func(input map[string]any) triagerecord.Recorded {
		t.Helper()
		resp := s.do(t, "POST", "/v1/triage/"+id, "nurse", input, idempotency.HeaderKey, "k-"+id)
		if resp.Status != http.StatusCreated || resp.Header.Get(idempotency.HeaderReplayed) == "true" {
			t.Fatalf("record: %d replayed=%q %s", resp.Status, resp.Header.Get(idempotency.HeaderReplayed), resp.Body.Data)
		}
		var out triagerecord.Recorded
		if err := json.Unmarshal(resp.Body.Data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := record(validInput())
	release()
	again := record(validInput())
	if again.Assessment.ID != first.Assessment.ID || again.Encounter.Status != encounter.StatusTriaged {
		t.Errorf("retry answered assessment %s (%s), want %s", again.Assessment.ID, again.Encounter.Status, first.Assessment.ID)
	}
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection("encounters").Doc(id).Collection(triagerecord.Collection).Documents(ctx).GetAll()
	if err != nil || len(docs) != 1 {
		t.Errorf("%d assessments stored (%v), want 1", len(docs), err)
	}
	// Another assessment under the released key is a re-assessment of its own.
	release()
	other := validInput()
	other["painScore"] = 6
	if got := record(other); got.Assessment.ID == first.Assessment.ID {
		t.Errorf("another request under the same key answered the first assessment %s", got.Assessment.ID)
	}
}
