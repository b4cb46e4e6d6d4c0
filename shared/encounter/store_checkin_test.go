package encounter_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
)

func TestCheckIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sub := f.subscribe()
	rec := f.actor(auth.RoleReceptionist)
	ctx, requestID := reqCtx(rec)
	patient := f.patient(f.clinic)
	before := time.Now().UTC()

	enc, err := f.store.CheckIn(ctx, rec, encounter.CheckIn{
		PatientID: " " + patient + " ", ChiefComplaint: "  fever and cough for 3 days ", ArrivalMode: encounter.ArrivalAmbulance,
	}, commitmark.Marker{})
	if err != nil {
		t.Fatalf("CheckIn: %v", err)
	}
	if !docid.Valid(enc.ID) || enc.ArrivedAt.Before(before.Truncate(time.Microsecond)) {
		t.Fatalf("encounter id %q arrived %v", enc.ID, enc.ArrivedAt)
	}
	want := encounter.Encounter{
		ID: enc.ID, ClinicID: f.clinic, PatientID: patient, Status: encounter.StatusWaiting,
		ChiefComplaint: "fever and cough for 3 days", ArrivalMode: encounter.ArrivalAmbulance,
		ArrivedAt: enc.ArrivedAt, StatusTimes: map[string]time.Time{"waiting": enc.ArrivedAt},
		EventCount: 1, Version: 1, CreatedBy: rec.UID, UpdatedAt: enc.ArrivedAt,
	}
	if diff := cmp.Diff(want, enc); diff != "" {
		t.Errorf("returned encounter (-want +got):\n%s", diff)
	}
	stored, err := f.store.Get(ctx, f.clinic, enc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored encounter (-want +got):\n%s", diff)
	}
	wantEvent := encounter.Event{Seq: 1, Action: encounter.ActionCheckIn, From: "", To: encounter.StatusWaiting,
		ActorUID: rec.UID, ActorRole: "receptionist", At: enc.ArrivedAt, RequestID: requestID}
	if diff := cmp.Diff([]encounter.Event{wantEvent}, f.events(enc.ID)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if id, ok := f.openPointer(patient); !ok || id != enc.ID {
		t.Errorf("open pointer = %q, %v; want %q", id, ok, enc.ID)
	}
	records := f.auditRecords(f.clinic)
	if len(records) != 1 {
		t.Fatalf("audit records = %+v, want 1", records)
	}
	if r := records[0]; r.Action != encounter.AuditCheckIn || r.ResourceType != "encounter" || r.ResourceID != enc.ID ||
		r.PatientID != patient || r.ActorUID != rec.UID || r.ActorRole != "receptionist" || r.RequestID != requestID {
		t.Errorf("audit record = %+v", r)
	}

	// Firestore writes of one check-in: every document below the clinic, minus the
	// patient written by the test.
	counts := countDocuments(t, f.fs.Collection("clinics").Doc(f.clinic))
	delete(counts, "patients")
	wantCounts := map[string]int{"encounters": 1, "encounters/*/events": 1, "openEncounters": 1, "audit": 1}
	if diff := cmp.Diff(wantCounts, counts); diff != "" {
		t.Errorf("documents written by a check-in (-want +got):\n%s", diff)
	}
	t.Logf("documents written per check-in: %d besides the audit record (%v)", len(wantCounts)-1, counts)

	// The change is published with the clinic as ordering key and ids only.
	msg := f.pull(sub, 1)[0]
	if got := msg.GetOrderingKey(); got != f.clinic {
		t.Errorf("ordering key = %q, want the clinic %q", got, f.clinic)
	}
	wantID := events.DeriveEventID(encounter.EventTypeCheckedIn, f.clinic, enc.ID+"/1")
	wantAttrs := map[string]string{"eventId": wantID, "type": encounter.EventTypeCheckedIn, "schemaVersion": "1", "clinicId": f.clinic}
	if diff := cmp.Diff(wantAttrs, msg.GetAttributes()); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if strings.Contains(string(msg.GetData()), "fever") {
		t.Error("the published event carries the chief complaint")
	}
	var env events.Envelope
	if err := json.Unmarshal(msg.GetData(), &env); err != nil {
		t.Fatal(err)
	}
	var change encounter.Change
	if err := env.DecodeData(&change); err != nil {
		t.Fatal(err)
	}
	wantChange := encounter.Change{EncounterID: enc.ID, PatientID: patient, Seq: 1, Action: encounter.ActionCheckIn,
		From: "", To: encounter.StatusWaiting, At: enc.ArrivedAt, Version: 1}
	if diff := cmp.Diff(wantChange, change); diff != "" {
		t.Errorf("event data (-want +got):\n%s", diff)
	}
	if env.RequestID != requestID || !env.OccurredAt.Equal(enc.ArrivedAt) {
		t.Errorf("envelope request id %q occurredAt %v, want %q %v", env.RequestID, env.OccurredAt, requestID, enc.ArrivedAt)
	}
}

func TestCheckInRefusesPatientWithOpenEncounter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.checkIn()
	rec := f.actor(auth.RoleNurse)
	ctx, _ := reqCtx(rec)

	_, err := f.store.CheckIn(ctx, rec, encounter.CheckIn{PatientID: first.PatientID, ChiefComplaint: "again", ArrivalMode: encounter.ArrivalWalkIn}, commitmark.Marker{})
	he := wantError(t, err, http.StatusConflict, apierr.CodeConflict)
	if diff := cmp.Diff(map[string]string{"reason": encounter.ReasonOpenEncounter, "encounterId": first.ID}, he.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	var oe *encounter.OpenEncounterError
	if !errors.As(err, &oe) || oe.EncounterID != first.ID {
		t.Errorf("cause = %v, want *OpenEncounterError naming %s", err, first.ID)
	}
	// Still one encounter, one pointer, one audit record.
	counts := countDocuments(t, f.fs.Collection("clinics").Doc(f.clinic))
	if counts["encounters"] != 1 || counts["openEncounters"] != 1 || counts["audit"] != 1 {
		t.Errorf("documents after the refused check-in: %v", counts)
	}
}

func TestCheckInConcurrentForOnePatient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	patient := f.patient(f.clinic)
	const n = 6
	type result struct {
		enc encounter.Encounter
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := f.actor(auth.RoleReceptionist)
			ctx, _ := reqCtx(rec)
			enc, err := f.store.CheckIn(ctx, rec, encounter.CheckIn{PatientID: patient, ChiefComplaint: "dizzy", ArrivalMode: encounter.ArrivalWalkIn}, commitmark.Marker{})
			results[i] = result{enc, err}
		})
	}
	wg.Wait()

	var winners []string
	for _, r := range results {
		if r.err == nil {
			winners = append(winners, r.enc.ID)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d check-ins succeeded, want exactly 1: %+v", len(winners), results)
	}
	for _, r := range results {
		if r.err == nil {
			continue
		}
		var oe *encounter.OpenEncounterError
		if !errors.As(r.err, &oe) || oe.EncounterID != winners[0] {
			t.Errorf("loser err = %v, want 409 naming %s", r.err, winners[0])
		}
	}
	counts := countDocuments(t, f.fs.Collection("clinics").Doc(f.clinic))
	if counts["encounters"] != 1 || counts["openEncounters"] != 1 || counts["encounters/*/events"] != 1 {
		t.Errorf("documents after concurrent check-ins: %v", counts)
	}
	if id, _ := f.openPointer(patient); id != winners[0] {
		t.Errorf("open pointer = %q, want %q", id, winners[0])
	}
}

func TestCheckInRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	own := f.patient(f.clinic)
	foreign := f.patient("other-" + f.clinic)
	long := strings.Repeat("é", encounter.MaxChiefComplaintLength+1)
	ok := strings.Repeat("é", encounter.MaxChiefComplaintLength)

	for _, tc := range []struct {
		name      string
		role      auth.Role
		in        encounter.CheckIn
		status    int
		badFields []string
		succeeds  bool
	}{
		{name: "doctor may not check in", role: auth.RoleDoctor, in: encounter.CheckIn{PatientID: own, ChiefComplaint: "x", ArrivalMode: "walk_in"}, status: http.StatusForbidden},
		{name: "unknown patient", role: auth.RoleReceptionist, in: encounter.CheckIn{PatientID: "nobody", ChiefComplaint: "x", ArrivalMode: "walk_in"}, status: http.StatusNotFound},
		{name: "patient of another clinic", role: auth.RoleAdmin, in: encounter.CheckIn{PatientID: foreign, ChiefComplaint: "x", ArrivalMode: "walk_in"}, status: http.StatusNotFound},
		{name: "everything missing", role: auth.RoleNurse, in: encounter.CheckIn{}, status: http.StatusBadRequest, badFields: []string{"patientId", "chiefComplaint", "arrivalMode"}},
		{name: "blank complaint", role: auth.RoleNurse, in: encounter.CheckIn{PatientID: own, ChiefComplaint: " \n ", ArrivalMode: "walk_in"}, status: http.StatusBadRequest, badFields: []string{"chiefComplaint"}},
		{name: "complaint too long", role: auth.RoleNurse, in: encounter.CheckIn{PatientID: own, ChiefComplaint: long, ArrivalMode: "walk_in"}, status: http.StatusBadRequest, badFields: []string{"chiefComplaint"}},
		{name: "control character", role: auth.RoleNurse, in: encounter.CheckIn{PatientID: own, ChiefComplaint: "a\x00b", ArrivalMode: "walk_in"}, status: http.StatusBadRequest, badFields: []string{"chiefComplaint"}},
		{name: "unknown arrival mode", role: auth.RoleNurse, in: encounter.CheckIn{PatientID: own, ChiefComplaint: "x", ArrivalMode: "helicopter"}, status: http.StatusBadRequest, badFields: []string{"arrivalMode"}},
		{name: "patient id with a slash", role: auth.RoleNurse, in: encounter.CheckIn{PatientID: own + "/x", ChiefComplaint: "x", ArrivalMode: "walk_in"}, status: http.StatusBadRequest, badFields: []string{"patientId"}},
		{name: "500 characters are fine", role: auth.RoleNurse, in: encounter.CheckIn{PatientID: own, ChiefComplaint: ok, ArrivalMode: "private_vehicle"}, succeeds: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.actor(tc.role)
			ctx, _ := reqCtx(p)
			_, err := f.store.CheckIn(ctx, p, tc.in, commitmark.Marker{})
			if tc.succeeds {
				if err != nil {
					t.Fatalf("CheckIn: %v", err)
				}
				return
			}
			var he *apierr.Error
			if !errors.As(err, &he) || httpx.FromAPI(he).Status != tc.status {
				t.Fatalf("err = %v, want status %d", err, tc.status)
			}
			if tc.badFields == nil {
				return
			}
			var got []string
			for _, fe := range he.Details.(map[string]any)["fields"].([]apierr.FieldError) {
				got = append(got, fe.Field)
			}
			if diff := cmp.Diff(tc.badFields, got); diff != "" {
				t.Errorf("invalid fields (-want +got):\n%s", diff)
			}
		})
	}
	if records := f.auditRecords(f.clinic); len(records) != 1 {
		t.Errorf("audit records = %d, want 1 (the one successful check-in)", len(records))
	}
}

func TestCheckInReplacesStalePointer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	patient := f.patient(f.clinic)
	// A pointer naming an encounter that does not exist (e.g. restored from an old backup).
	ref := f.fs.Collection("clinics").Doc(f.clinic).Collection(encounter.CollectionOpen).Doc(patient)
	if _, err := ref.Set(context.Background(), map[string]any{"encounterId": "gone", "since": time.Now()}); err != nil {
		t.Fatal(err)
	}
	p := f.actor(auth.RoleReceptionist)
	ctx, _ := reqCtx(p)
	enc, err := f.store.CheckIn(ctx, p, encounter.CheckIn{PatientID: patient, ChiefComplaint: "x", ArrivalMode: "walk_in"}, commitmark.Marker{})
	if err != nil {
		t.Fatalf("CheckIn with a stale pointer: %v", err)
	}
	if id, _ := f.openPointer(patient); id != enc.ID {
		t.Errorf("pointer = %q, want %q", id, enc.ID)
	}
}
