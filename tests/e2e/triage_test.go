package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/triagerecord"
	"github.com/medi-os/medi/tests/apitest"
)

// stackFirestore is an admin client of the stack's Firestore project, for seeding what
// another function owns and for checking what the API wrote.
func stackFirestore(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "MEDI_STACK_PROJECT")
	fs, err := firestore.NewClient(context.Background(), os.Getenv("MEDI_STACK_PROJECT"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	return fs
}

func randomID(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// seedWaitingEncounter writes a checked-in encounter (status waiting, first event
// counted) directly, as the queue function's check-in leaves it, and returns its id.
func seedWaitingEncounter(t *testing.T, fs *firestore.Client, clinic string, arrivedAgo time.Duration) string {
	t.Helper()
	arrived := time.Now().UTC().Add(-arrivedAgo).Truncate(time.Microsecond)
	ref := fs.Collection("clinics").Doc(clinic).Collection("encounters").NewDoc()
	e := encounter.Encounter{ClinicID: clinic, PatientID: randomID("patient"), Status: encounter.StatusWaiting,
		ChiefComplaint: "ankle", ArrivalMode: encounter.ArrivalWalkIn, ArrivedAt: arrived,
		StatusTimes: map[string]time.Time{string(encounter.StatusWaiting): arrived}, EventCount: 1, Version: 1,
		CreatedBy: "e2e", UpdatedAt: arrived}
	if _, err := ref.Create(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	// The patient, 34 years old: the age of triageBody, taken from the record.
	birth := time.Now().UTC().AddDate(-34, 0, -100).Format(time.DateOnly)
	if _, err := fs.Collection("clinics").Doc(clinic).Collection("patients").Doc(e.PatientID).
		Set(context.Background(), map[string]any{"birthDate": birth}); err != nil {
		t.Fatal(err)
	}
	return ref.ID
}

// triageBody is a complete adult assessment: ESI 3 at point D.
func triageBody() map[string]any {
	return map[string]any{
		"ageYears": 34, "sex": "male", "chiefComplaint": "fell on outstretched hand, wrist swollen",
		"complaintCategory": "minor_injury", "arrivalMode": "walk_in", "injury": true, "mentalStatus": "A",
		"painScore": 5, "expectedResources": []string{"ecg_xray", "parenteral_medication"},
		"vitals": map[string]any{"heartRate": 88, "respiratoryRate": 16, "systolicBP": 132, "diastolicBP": 84,
			"spo2": 98, "temperatureC": 36.9, "onSupplementalOxygen": false},
	}
}

func errorFields(t *testing.T, r *apitest.Response) (reason string, fields []string) {
	t.Helper()
	var d struct {
		Reason string `json:"reason"`
		Fields []struct {
			Field string `json:"field"`
		} `json:"fields"`
	}
	if r.Envelope.Error == nil {
		t.Fatalf("no error in %s", r.Body)
	}
	_ = json.Unmarshal(r.Envelope.Error.Details, &d)
	for _, f := range d.Fields {
		fields = append(fields, f.Field)
	}
	return d.Reason, fields
}

func TestTriageAssessThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	clinic := randomID("clinic-triage")
	nurse := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": clinic}))
	receptionist := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "receptionist", "clinicId": clinic}))

	resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/triage/assess", Token: nurse, Body: triageBody()})
	if resp.Status != http.StatusOK {
		t.Fatalf("assess: %d %s", resp.Status, resp.Body)
	}
	var res triagerecord.Result
	resp.Decode(t, &res)
	if res.Level != 3 || res.DecisionPoint != "D" || len(res.Reasons) == 0 || res.NEWS2.Aggregate != 0 || res.TargetMinutes != 30 {
		t.Errorf("assess result: level %d at %s, NEWS2 %d, target %d, reasons %v", res.Level, res.DecisionPoint,
			res.NEWS2.Aggregate, res.TargetMinutes, res.Reasons)
	}

	impossible := triageBody()
	impossible["vitals"] = map[string]any{"heartRate": 350, "spo2": 120, "temperatureC": 50}
	impossible["painScore"] = 12
	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/triage/assess", Token: nurse, Body: impossible})
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("impossible values: %d", resp.Status)
	}
	if _, fields := errorFields(t, resp); !cmp.Equal(fields, []string{"painScore", "vitals.heartRate", "vitals.spo2", "vitals.temperatureC"}) {
		t.Errorf("fields = %v, want one per impossible value", fields)
	}

	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/triage/assess", Token: receptionist, Body: triageBody()})
	if resp.Status != http.StatusForbidden {
		t.Errorf("receptionist: %d, want 403", resp.Status)
	}
}

func TestTriageRecordConfirmAndReadThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	fs := stackFirestore(t)
	clinic := randomID("clinic-triage")
	nurse := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": clinic}))
	doctor := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": clinic}))
	stranger := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": randomID("clinic-other")}))
	id := seedWaitingEncounter(t, fs, clinic, 10*time.Minute)
	path := "/v1/triage/" + id

	// No level without vital signs.
	noVitals := triageBody()
	noVitals["vitals"] = map[string]any{"heartRate": 88, "spo2": 98}
	resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: path, Token: nurse, Body: noVitals})
	if reason, fields := errorFields(t, resp); resp.Status != http.StatusBadRequest || reason != "vitals_required" ||
		!cmp.Equal(fields, []string{"vitals.respiratoryRate", "vitals.temperatureC", "vitals.systolicBP"}) {
		t.Fatalf("missing vitals: %d %s %v", resp.Status, reason, fields)
	}

	// Another clinic's nurse cannot see that the encounter exists.
	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: path, Token: stranger, Body: triageBody()})
	if resp.Status != http.StatusNotFound {
		t.Errorf("other clinic: %d, want 404", resp.Status)
	}

	// Record, retried with the same Idempotency-Key.
	key := map[string]string{"Idempotency-Key": randomID("triage")}
	var rec triagerecord.Recorded
	for i := range 2 {
		resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: path, Token: nurse, Body: triageBody(), Header: key})
		if resp.Status != http.StatusCreated {
			t.Fatalf("record %d: %d %s", i, resp.Status, resp.Body)
		}
		resp.Decode(t, &rec)
	}
	if resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("the retry was not replayed")
	}
	if rec.Assessment.ID != "000001" || !rec.Transitioned || rec.Encounter.Status != encounter.StatusTriaged ||
		rec.Encounter.Triage == nil || rec.Encounter.Triage.Level != 3 {
		t.Fatalf("recorded = %+v", rec)
	}
	snap, err := fs.Collection("clinics").Doc(clinic).Collection("encounters").Doc(id).Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var stored encounter.Encounter
	if err := snap.DataTo(&stored); err != nil {
		t.Fatal(err)
	}
	if stored.Status != encounter.StatusTriaged || stored.EventCount != 2 || stored.Triage == nil || stored.Triage.AssessmentID != "000001" {
		t.Errorf("stored encounter: status %s, eventCount %d, triage %+v", stored.Status, stored.EventCount, stored.Triage)
	}

	// Confirm: a down-triage needs a reason.
	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: path + "/confirm", Token: nurse, Body: map[string]any{"level": 4}})
	if reason, _ := errorFields(t, resp); resp.Status != http.StatusBadRequest || reason != "reason_required" {
		t.Fatalf("down-triage without reason: %d %s", resp.Status, reason)
	}
	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: path + "/confirm", Token: nurse,
		Body: map[string]any{"level": 4, "reason": "isolated wrist injury, X-ray only", "assessmentId": "000001"}})
	if resp.Status != http.StatusOK {
		t.Fatalf("down-triage with reason: %d %s", resp.Status, resp.Body)
	}
	var conf triagerecord.Confirmed
	resp.Decode(t, &conf)
	if conf.Change != "down_triage" || conf.Level != 4 || conf.PreviousLevel != 3 {
		t.Errorf("confirmed = %+v", conf)
	}

	// Read: the assessment in force and its history.
	resp = c.Do(t, apitest.Request{Method: http.MethodGet, Path: path, Token: doctor})
	if resp.Status != http.StatusOK {
		t.Fatalf("get: %d %s", resp.Status, resp.Body)
	}
	var h triagerecord.History
	resp.Decode(t, &h)
	if h.Current == nil || h.Current.ID != "000001" || len(h.Assessments) != 1 || len(h.Current.Confirmations) != 1 ||
		h.Current.Confirmations[0].Reason != "isolated wrist injury, X-ray only" || h.Encounter.Triage.Level != 4 {
		t.Errorf("history = %+v", h)
	}

	// Once a doctor has seen the patient, the level is frozen.
	if _, err := snap.Ref.Update(context.Background(), []firestore.Update{
		{Path: "status", Value: encounter.StatusInConsultation},
		{FieldPath: firestore.FieldPath{"statusTimes", "in_consultation"}, Value: time.Now().UTC()},
	}); err != nil {
		t.Fatal(err)
	}
	resp = c.Do(t, apitest.Request{Method: http.MethodPost, Path: path + "/confirm", Token: doctor, Body: map[string]any{"level": 2}})
	if reason, _ := errorFields(t, resp); resp.Status != http.StatusConflict || resp.Envelope.Code() != "failed_precondition" || reason != "level_frozen" {
		t.Errorf("confirm after consultation: %d %s %s, want 409 failed_precondition level_frozen", resp.Status, resp.Envelope.Code(), reason)
	}
}
