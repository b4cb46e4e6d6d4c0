package encounters_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx/idempotency"
)

func TestCheckInEndpoint(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	patient := s.patient()
	body := map[string]any{"patientId": patient, "chiefComplaint": "sprained ankle", "arrivalMode": "private_vehicle"}

	rec, env := s.do(request{method: http.MethodPost, path: "/v1/encounters", role: "receptionist", body: body,
		header: map[string]string{"Idempotency-Key": "checkin-1"}})
	if rec.Code != http.StatusCreated || !env.Success {
		t.Fatalf("check-in: %d %s", rec.Code, rec.Body)
	}
	enc := decode[encounter.Encounter](t, env.Data)
	if enc.PatientID != patient || enc.Status != encounter.StatusWaiting || enc.ChiefComplaint != "sprained ankle" ||
		enc.ArrivalMode != encounter.ArrivalPrivateVehicle || enc.ClinicID != s.clinic || enc.CreatedBy != s.uids["receptionist"] {
		t.Errorf("encounter = %+v", enc)
	}
	if got, want := rec.Header().Get("Location"), "/v1/encounters/"+enc.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := rec.Header().Get("ETag"); got != `"1"` {
		t.Errorf(`ETag = %q, want "1"`, got)
	}

	// A retry with the same key replays the first answer: same encounter, no second one.
	rec2, env2 := s.do(request{method: http.MethodPost, path: "/v1/encounters", role: "receptionist", body: body,
		header: map[string]string{"Idempotency-Key": "checkin-1"}})
	if rec2.Code != http.StatusCreated || rec2.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d replayed=%q %s", rec2.Code, rec2.Header().Get("Idempotent-Replayed"), rec2.Body)
	}
	if again := decode[encounter.Encounter](t, env2.Data); again.ID != enc.ID {
		t.Errorf("retry answered encounter %s, want %s", again.ID, enc.ID)
	}

	// Without the key, a second check-in of the patient is a conflict naming the open one.
	rec3, env3 := s.do(request{method: http.MethodPost, path: "/v1/encounters", role: "nurse", body: body})
	if rec3.Code != http.StatusConflict || env3.code() != "conflict" {
		t.Fatalf("duplicate: %d %s", rec3.Code, rec3.Body)
	}
	details := decode[map[string]string](t, env3.Error.Details)
	if diff := cmp.Diff(map[string]string{"reason": "open_encounter", "encounterId": enc.ID}, details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	if got := s.auditActions()[encounter.AuditCheckIn]; got != 1 {
		t.Errorf("%d check-in audit records, want 1", got)
	}
}

func TestCheckInEndpointRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	patient := s.patient()
	valid := map[string]any{"patientId": patient, "chiefComplaint": "rash", "arrivalMode": "walk_in"}
	for _, tc := range []struct {
		name        string
		role        string
		body        any
		raw         string
		contentType string
		status      int
		code        string
		fields      string
	}{
		{name: "no token", body: valid, status: http.StatusUnauthorized, code: "unauthenticated"},
		{name: "doctor may not check in", role: "doctor", body: valid, status: http.StatusForbidden, code: "permission_denied"},
		{name: "wrong content type", role: "receptionist", raw: `{"patientId":"x"}`, contentType: "text/plain", status: http.StatusUnsupportedMediaType, code: "unsupported_media_type"},
		{name: "malformed JSON", role: "receptionist", raw: `{"patientId":`, status: http.StatusBadRequest, code: "invalid_argument"},
		{name: "unknown field", role: "receptionist", body: map[string]any{"patientId": patient, "chiefComplaint": "x", "arrivalMode": "walk_in", "name": "Ada"}, status: http.StatusBadRequest, code: "invalid_argument", fields: "name"},
		{name: "missing fields", role: "receptionist", body: map[string]any{}, status: http.StatusBadRequest, code: "invalid_argument", fields: "patientId,chiefComplaint,arrivalMode"},
		{name: "complaint too long", role: "receptionist", body: map[string]any{"patientId": patient, "chiefComplaint": strings.Repeat("a", 501), "arrivalMode": "walk_in"}, status: http.StatusBadRequest, code: "invalid_argument", fields: "chiefComplaint"},
		{name: "bad arrival mode", role: "receptionist", body: map[string]any{"patientId": patient, "chiefComplaint": "x", "arrivalMode": "teleported"}, status: http.StatusBadRequest, code: "invalid_argument", fields: "arrivalMode"},
		{name: "unknown patient", role: "receptionist", body: map[string]any{"patientId": "nobody", "chiefComplaint": "x", "arrivalMode": "walk_in"}, status: http.StatusNotFound, code: "not_found"},
		{name: "patient of another clinic", role: "other-clinic", body: valid, status: http.StatusNotFound, code: "not_found"},
		{name: "bad idempotency key", role: "receptionist", body: valid, status: http.StatusBadRequest, code: "invalid_argument", fields: "Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := request{method: http.MethodPost, path: "/v1/encounters", role: tc.role, body: tc.body, contentType: tc.contentType}
			if tc.raw != "" {
				r.raw = []byte(tc.raw)
			}
			if tc.name == "bad idempotency key" {
				r.header = map[string]string{"Idempotency-Key": "é"}
			}
			rec, env := s.do(r)
			if rec.Code != tc.status || env.code() != tc.code || env.Success || env.RequestID == "" {
				t.Fatalf("status %d code %q, want %d %q: %s", rec.Code, env.code(), tc.status, tc.code, rec.Body)
			}
			if tc.fields == "" {
				return
			}
			d := decode[struct {
				Fields []struct{ Field string } `json:"fields"`
			}](t, env.Error.Details)
			var got []string
			for _, f := range d.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != tc.fields {
				t.Errorf("fields = %v, want %s", got, tc.fields)
			}
		})
	}
	// Nothing was checked in, so the valid body still works.
	rec, _ := s.do(request{method: http.MethodPost, path: "/v1/encounters", role: "admin", body: valid})
	if rec.Code != http.StatusCreated {
		t.Errorf("valid check-in after the refusals: %d %s", rec.Code, rec.Body)
	}
}

// A check-in whose commit succeeded but whose answer was a 5xx (the request deadline ran
// out after the commit) has its idempotency record released, so the retry runs the handler
// again. The retry must get the encounter it created, not a 409, and nothing twice; a
// different request under the same key, or the same request under another key, is
// still a conflict.
func TestCheckInRetryAfterALostAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	patient := s.patient()
	body := map[string]any{"patientId": patient, "chiefComplaint": "chest pain", "arrivalMode": "walk_in"}
	key := map[string]string{"Idempotency-Key": "checkin-lost-answer"}
	rec, env := s.do(request{method: http.MethodPost, path: "/v1/encounters", role: "receptionist", body: body, header: key})
	if rec.Code != http.StatusCreated {
		t.Fatalf("check-in: %d %s", rec.Code, rec.Body)
	}
	enc := decode[encounter.Encounter](t, env.Data)
	// What a 5xx answer does to the key: its record is released.
	ctx := context.Background()
	recs, err := s.fs.Collection(idempotency.Collection).Documents(ctx).GetAll()
	if err != nil || len(recs) != 1 {
		t.Fatalf("idempotency records: %d, %v", len(recs), err)
	}
	if err := idempotency.Release(ctx, recs[0].Ref); err != nil {
		t.Fatal(err)
	}

	rec2, env2 := s.do(request{method: http.MethodPost, path: "/v1/encounters", role: "receptionist", body: body, header: key})
	if rec2.Code != http.StatusCreated {
		t.Fatalf("retry after the lost answer: %d %s", rec2.Code, rec2.Body)
	}
	if again := decode[encounter.Encounter](t, env2.Data); again.ID != enc.ID || again.Version != 1 {
		t.Errorf("retry answered encounter %s v%d, want %s v1", again.ID, again.Version, enc.ID)
	}
	if got := s.auditActions()[encounter.AuditCheckIn]; got != 1 {
		t.Errorf("%d check-in audit records, want 1", got)
	}
	events, err := s.fs.Collection("clinics").Doc(s.clinic).Collection("encounters").Doc(enc.ID).Collection("events").Documents(ctx).GetAll()
	if err != nil || len(events) != 1 {
		t.Errorf("encounter events: %d, %v; want the one check-in", len(events), err)
	}

	for name, r := range map[string]request{
		"same key, another request": {method: http.MethodPost, path: "/v1/encounters", role: "receptionist",
			body:   map[string]any{"patientId": patient, "chiefComplaint": "chest pain since noon", "arrivalMode": "walk_in"},
			header: key},
		"same request, another key": {method: http.MethodPost, path: "/v1/encounters", role: "receptionist", body: body,
			header: map[string]string{"Idempotency-Key": "checkin-another"}},
		"same request and key, another caller": {method: http.MethodPost, path: "/v1/encounters", role: "nurse", body: body,
			header: key},
	} {
		// Each as a retry after a lost answer: the key's record is released.
		recs, err := s.fs.Collection(idempotency.Collection).Documents(ctx).GetAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range recs {
			if err := idempotency.Release(ctx, d.Ref); err != nil {
				t.Fatal(err)
			}
		}
		rec, env := s.do(r)
		if rec.Code != http.StatusConflict || env.code() != "conflict" {
			t.Errorf("%s: %d %s, want 409 open_encounter", name, rec.Code, rec.Body)
			continue
		}
		if d := decode[map[string]string](t, env.Error.Details); d["reason"] != encounter.ReasonOpenEncounter || d["encounterId"] != enc.ID {
			t.Errorf("%s: details %v, want the open encounter", name, d)
		}
	}
}
