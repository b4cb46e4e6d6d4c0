package triagerecord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/triage"
)

// wantError checks that err is an *apierr.Error with status and code (and details.reason
// when reason is not empty).
func wantError(t *testing.T, err error, status int, code, reason string) *apierr.Error {
	t.Helper()
	var he *apierr.Error
	if !errors.As(err, &he) {
		t.Fatalf("error = %v, want *apierr.Error %d %s", err, status, code)
	}
	if httpx.FromAPI(he).Status != status || he.Code != code {
		t.Fatalf("error = %d %s (%s), want %d %s", httpx.FromAPI(he).Status, he.Code, he.Message, status, code)
	}
	if reason != "" {
		got := ""
		switch d := he.Details.(type) {
		case map[string]string:
			got = d["reason"]
		case map[string]any:
			got, _ = d["reason"].(string)
		}
		if got != reason {
			t.Fatalf("details.reason = %q, want %q (details %v)", got, reason, he.Details)
		}
	}
	return he
}

func TestRecordFirstAssessmentTriagesTheEncounter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.seedEncounter(t, encounter.StatusWaiting, 5*time.Minute, nil)
	before := f.encounter(t, id)

	rec, err := f.svc.Record(as(f.nurse), f.clinic, id, adultInput(), commitmark.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Transitioned || rec.Encounter.Status != encounter.StatusTriaged {
		t.Errorf("transitioned %v status %s, want true triaged", rec.Transitioned, rec.Encounter.Status)
	}

	// The assessment document: input and result, JSON-safe.
	snap, err := f.fs.Collection("clinics").Doc(f.clinic).Collection("encounters").Doc(id).
		Collection(Collection).Doc("000001").Get(context.Background())
	if err != nil {
		t.Fatalf("assessment 000001 not stored: %v", err)
	}
	var stored Record
	if err := snap.DataTo(&stored); err != nil {
		t.Fatal(err)
	}
	stored.ID = snap.Ref.ID
	stored.normalize()
	if diff := cmp.Diff(rec.Assessment, stored); diff != "" {
		t.Errorf("stored assessment differs from the returned one (-returned +stored):\n%s", diff)
	}
	// Replay: the stored input (with the age taken from the patient record) gives the stored
	// result again.
	raw, err := json.Marshal(stored.Input)
	if err != nil {
		t.Fatal(err)
	}
	var replay triage.Input
	if err := json.Unmarshal(raw, &replay); err != nil {
		t.Fatal(err)
	}
	if replay.AgeYears == nil || *replay.AgeYears != 40 {
		t.Errorf("stored age %v, want 40 years from the birth date", replay.AgeYears)
	}
	want := NewResult(triage.Assess(replay))
	if diff := cmp.Diff(want, stored.Result); diff != "" {
		t.Errorf("stored result (-want +got):\n%s", diff)
	}
	if stored.Result.Level != 3 || len(stored.Result.NEWS2.Items) != 7 || len(stored.Result.QSOFA.Items) != 3 {
		t.Errorf("result level %d, %d NEWS2 items, %d qSOFA items; want 3, 7, 3",
			stored.Result.Level, len(stored.Result.NEWS2.Items), len(stored.Result.QSOFA.Items))
	}
	vitals, _ := stored.Input["vitals"].(map[string]any)
	if got := vitals["heartRate"]; got != float64(80) {
		t.Errorf("stored input vitals.heartRate = %v, want 80", got)
	}
	if stored.AssessedBy != f.nurse.UID || stored.AssessedByRole != "nurse" || stored.Seq != 1 {
		t.Errorf("stored by %s/%s seq %d", stored.AssessedBy, stored.AssessedByRole, stored.Seq)
	}

	// The encounter: status, status time, version, event count, triage.
	after := f.encounter(t, id)
	if after.Status != encounter.StatusTriaged || after.Version != before.Version+1 || after.EventCount != before.EventCount+1 {
		t.Errorf("encounter status %s version %d eventCount %d, want triaged %d %d",
			after.Status, after.Version, after.EventCount, before.Version+1, before.EventCount+1)
	}
	if after.StatusTimes[string(encounter.StatusTriaged)].IsZero() {
		t.Error("statusTimes.triaged not set")
	}
	wantTriage := &encounter.Triage{Level: 3, ProposedLevel: 3, AssessmentID: "000001", AssessedAt: stored.AssessedAt,
		AssessedBy: f.nurse.UID, EngineVersion: triage.EngineVersion}
	if diff := cmp.Diff(wantTriage, after.Triage); diff != "" {
		t.Errorf("encounter triage (-want +got):\n%s", diff)
	}

	// The event appended to the encounter.
	evSnap, err := f.fs.Collection("clinics").Doc(f.clinic).Collection("encounters").Doc(id).
		Collection("events").Doc(encounter.EventID(after.EventCount)).Get(context.Background())
	if err != nil {
		t.Fatalf("event %d not appended: %v", after.EventCount, err)
	}
	var ev encounter.Event
	if err := evSnap.DataTo(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.Action != encounter.ActionTriage || ev.From != encounter.StatusWaiting || ev.To != encounter.StatusTriaged || ev.ActorUID != f.nurse.UID {
		t.Errorf("event = %+v", ev)
	}

	// Audited in the transaction; both facts published.
	if got := actions(f.auditRecords(t, id)); !slices.Contains(got, ActionRecord) || !slices.Contains(got, encounter.AuditTransition) {
		t.Errorf("audit actions = %v, want %s and %s", got, ActionRecord, encounter.AuditTransition)
	}
	if n := len(f.pub.ofType(encounter.EventTypeTransitioned)); n != 1 {
		t.Errorf("%d encounter.transitioned events, want 1", n)
	}
	triaged := f.pub.ofType(events.TypeEncounterTriaged)
	if len(triaged) != 1 {
		t.Fatalf("%d encounter.triaged events, want 1", len(triaged))
	}
	var data TriagedEvent
	if err := triaged[0].Envelope.DecodeData(&data); err != nil {
		t.Fatal(err)
	}
	wantData := TriagedEvent{EncounterID: id, PatientID: before.PatientID, AssessmentID: "000001", Level: 3, ProposedLevel: 3, Version: after.Version}
	if diff := cmp.Diff(wantData, data); diff != "" {
		t.Errorf("encounter.triaged data (-want +got):\n%s", diff)
	}
	if triaged[0].OrderingKey != f.clinic || triaged[0].Topic != "encounter-events" || triaged[0].Envelope.ClinicID != f.clinic {
		t.Errorf("published to %s with key %s clinic %s", triaged[0].Topic, triaged[0].OrderingKey, triaged[0].Envelope.ClinicID)
	}
}

func TestReassessmentKeepsStatusAndNeverLowersTheLevelOnItsOwn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.seedEncounter(t, encounter.StatusWaiting, 5*time.Minute, nil)
	ctx := as(f.nurse)

	steps := []struct {
		name       string
		in         triage.Input
		confirm    *int
		wantTriage encounter.Triage // assessment id, level, proposed, confirmed
	}{
		{"first: level 3", adultInput(), nil, encounter.Triage{AssessmentID: "000001", Level: 3, ProposedLevel: 3}},
		{"confirmed 3, re-assessed 3: confirmation stands", adultInput(), lp(3), encounter.Triage{AssessmentID: "000002", Level: 3, ProposedLevel: 3, Confirmed: true}},
		{"re-assessed 2 (pain 8): level raised, unconfirmed", withPain(8), nil, encounter.Triage{AssessmentID: "000003", Level: 2, ProposedLevel: 2}},
		{"re-assessed 3: level stays 2", adultInput(), nil, encounter.Triage{AssessmentID: "000004", Level: 2, ProposedLevel: 3}},
	}
	for _, st := range steps {
		if st.confirm != nil {
			if _, err := f.svc.Confirm(ctx, ConfirmRequest{ClinicID: f.clinic, EncounterID: id, Level: triage.Level(*st.confirm)}); err != nil {
				t.Fatalf("%s: confirm: %v", st.name, err)
			}
		}
		rec, err := f.svc.Record(ctx, f.clinic, id, st.in, commitmark.Marker{})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		e := f.encounter(t, id)
		if e.Status != encounter.StatusTriaged {
			t.Errorf("%s: status %s, want triaged", st.name, e.Status)
		}
		got := encounter.Triage{AssessmentID: e.Triage.AssessmentID, Level: e.Triage.Level,
			ProposedLevel: e.Triage.ProposedLevel, Confirmed: e.Triage.Confirmed}
		if diff := cmp.Diff(st.wantTriage, got); diff != "" {
			t.Errorf("%s: triage (-want +got):\n%s", st.name, diff)
		}
		if rec.Transitioned != (st.wantTriage.AssessmentID == "000001") {
			t.Errorf("%s: transitioned = %v", st.name, rec.Transitioned)
		}
	}
	e := f.encounter(t, id)
	if e.EventCount != 2 {
		t.Errorf("eventCount = %d, want 2 (check-in, triage): re-assessments append no transition", e.EventCount)
	}
	h, err := f.svc.History(ctx, f.clinic, id)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range h.Assessments {
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"000001", "000002", "000003", "000004"}, ids); diff != "" {
		t.Errorf("history ids (-want +got):\n%s", diff)
	}
	if h.Current == nil || h.Current.ID != "000004" {
		t.Errorf("current = %+v, want 000004", h.Current)
	}
	if got := h.Assessments[0].Confirmations; len(got) != 1 || got[0].Level != 3 || got[0].Change != string(triage.Unchanged) {
		t.Errorf("confirmations of 000001 = %+v", got)
	}
	if n := len(f.pub.ofType(events.TypeEncounterTriaged)); n != 5 {
		t.Errorf("%d encounter.triaged events, want 5 (4 assessments, 1 confirmation)", n)
	}
	if got := actions(f.auditRecords(t, id)); got[len(got)-1] != ActionRead {
		t.Errorf("last audit action = %v, want the history read %s", got, ActionRead)
	}
}

func TestRecordRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := uniqueID("clinic")
	inConsultation := f.seedEncounter(t, encounter.StatusInConsultation, time.Hour, nil)
	retriaged := f.seedEncounter(t, encounter.StatusTriaged, time.Hour, func(e *encounter.Encounter) {
		e.StatusTimes[string(encounter.StatusInConsultation)] = e.ArrivedAt.Add(10 * time.Minute)
	})
	completed := f.seedEncounter(t, encounter.StatusCompleted, time.Hour, nil)
	cancelled := f.seedEncounter(t, encounter.StatusCancelled, time.Hour, nil)
	waiting := f.seedEncounter(t, encounter.StatusWaiting, time.Hour, nil)
	otherClinic := f.seedEncounterIn(t, other, encounter.StatusWaiting, time.Hour, nil)
	receptionist := auth.Principal{UID: uniqueID("rec"), Role: auth.RoleReceptionist, ClinicID: f.clinic}

	noVitals := adultInput()
	noVitals.Vitals = triage.Vitals{HeartRate: ip(80)}

	for _, tc := range []struct {
		name        string
		caller      auth.Principal
		id          string
		in          triage.Input
		status      int
		code        string
		reason      string
		wantFields  []string
		wantUntouch bool
	}{
		{"in consultation: frozen", f.nurse, inConsultation, adultInput(), 409, apierr.CodeFailedPrecondition, ReasonLevelFrozen, nil, true},
		{"back from consultation: frozen", f.nurse, retriaged, adultInput(), 409, apierr.CodeFailedPrecondition, ReasonLevelFrozen, nil, true},
		{"completed: frozen", f.nurse, completed, adultInput(), 409, apierr.CodeFailedPrecondition, ReasonLevelFrozen, nil, true},
		{"cancelled: illegal", f.nurse, cancelled, adultInput(), 409, apierr.CodeConflict, ReasonIllegalTransition, nil, true},
		{"other clinic's encounter: 404", f.nurse, otherClinic, adultInput(), 404, apierr.CodeNotFound, "", nil, false},
		{"no such encounter: 404", f.nurse, "nope", adultInput(), 404, apierr.CodeNotFound, "", nil, false},
		{"receptionist may not triage", receptionist, waiting, adultInput(), 403, apierr.CodePermissionDenied, "", nil, true},
		{"vital signs missing", f.nurse, waiting, noVitals, 400, apierr.CodeInvalidArgument, ReasonVitalsRequired,
			[]string{triage.FieldRespiratoryRate, triage.FieldSpO2, triage.FieldTemperature, triage.FieldSystolicBP}, true},
		{"invalid input", f.nurse, waiting, triage.Input{AgeYears: ip(200), ChiefComplaint: "x"}, 400, apierr.CodeInvalidArgument, "", []string{"ageYears"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.svc.Record(as(tc.caller), f.clinic, tc.id, tc.in, commitmark.Marker{})
			he := wantError(t, err, tc.status, tc.code, tc.reason)
			if tc.wantFields != nil {
				if diff := cmp.Diff(tc.wantFields, fieldNames(he)); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
			}
			if tc.wantUntouch {
				e := f.encounter(t, tc.id)
				if e.Version != 1 || e.Triage != nil {
					t.Errorf("refused assessment changed the encounter: version %d triage %+v", e.Version, e.Triage)
				}
			}
		})
	}
}

func fieldNames(he *apierr.Error) []string {
	var fields []apierr.FieldError
	switch d := he.Details.(type) {
	case map[string]any:
		fields, _ = d["fields"].([]apierr.FieldError)
	}
	var out []string
	for _, f := range fields {
		out = append(out, f.Field)
	}
	return out
}

func TestRecordPointAWithoutVitals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.seedEncounter(t, encounter.StatusWaiting, time.Minute, nil)
	in := triage.Input{ChiefComplaint: "collapsed", Flags: triage.Flags{Pulseless: true}}
	rec, err := f.svc.Record(as(f.nurse), f.clinic, id, in, commitmark.Marker{})
	if err != nil {
		t.Fatalf("point A without vital signs must be recorded: %v", err)
	}
	if rec.Assessment.Result.Level != 1 || rec.Assessment.Result.DecisionPoint != "A" || rec.Encounter.Triage.Level != 1 {
		t.Errorf("recorded level %d at %s, triage %+v", rec.Assessment.Result.Level, rec.Assessment.Result.DecisionPoint, rec.Encounter.Triage)
	}
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	doctor := auth.Principal{UID: uniqueID("doc"), Role: auth.RoleDoctor, ClinicID: f.clinic}

	// triaged returns a new encounter assessed at level 3 (proposed, unconfirmed).
	triaged := func(t *testing.T) string {
		id := f.seedEncounter(t, encounter.StatusWaiting, 5*time.Minute, nil)
		if _, err := f.svc.Record(as(f.nurse), f.clinic, id, adultInput(), commitmark.Marker{}); err != nil {
			t.Fatal(err)
		}
		return id
	}

	t.Run("equal, up and down with reason", func(t *testing.T) {
		t.Parallel()
		id := triaged(t)
		for _, st := range []struct {
			level  triage.Level
			reason string
			change triage.LevelChange
			action string
		}{
			{3, "", triage.Unchanged, ActionConfirm},
			{2, "", triage.UpTriage, ActionUpTriage},
			{4, "pain settled after analgesia", triage.DownTriage, ActionDownTriage},
		} {
			c, err := f.svc.Confirm(as(f.nurse), ConfirmRequest{ClinicID: f.clinic, EncounterID: id, Level: st.level, Reason: st.reason})
			if err != nil {
				t.Fatalf("confirm %d: %v", st.level, err)
			}
			if c.Change != st.change || c.Level != int(st.level) || !c.Encounter.Triage.Confirmed || c.Encounter.Triage.Level != int(st.level) {
				t.Errorf("confirm %d: %+v triage %+v", st.level, c, c.Encounter.Triage)
			}
			recs := f.auditRecords(t, id)
			last := recs[len(recs)-1]
			if last.Action != st.action || last.Reason != st.reason || last.ActorUID != f.nurse.UID || last.PatientID == "" {
				t.Errorf("confirm %d: audit %+v, want action %s reason %q", st.level, last, st.action, st.reason)
			}
		}
		e := f.encounter(t, id)
		if e.Triage.Level != 4 || e.Triage.ProposedLevel != 3 || !e.Triage.Confirmed || e.Status != encounter.StatusTriaged {
			t.Errorf("encounter triage %+v status %s", e.Triage, e.Status)
		}
		h, err := f.svc.History(as(f.nurse), f.clinic, id)
		if err != nil {
			t.Fatal(err)
		}
		var changes []string
		for _, c := range h.Current.Confirmations {
			changes = append(changes, c.Change+":"+c.Reason)
		}
		if diff := cmp.Diff([]string{"unchanged:", "up_triage:", "down_triage:pain settled after analgesia"}, changes); diff != "" {
			t.Errorf("confirmations (-want +got):\n%s", diff)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		id := triaged(t)
		notAssessed := f.seedEncounter(t, encounter.StatusWaiting, time.Minute, nil)
		frozen := triaged(t)
		if _, err := f.fs.Collection("clinics").Doc(f.clinic).Collection("encounters").Doc(frozen).Update(context.Background(),
			[]firestore.Update{{Path: "status", Value: encounter.StatusInConsultation}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			caller auth.Principal
			req    ConfirmRequest
			status int
			code   string
			reason string
		}{
			{"down without reason", f.nurse, ConfirmRequest{EncounterID: id, Level: 4}, 400, apierr.CodeInvalidArgument, ReasonReasonRequired},
			{"down with blank reason", f.nurse, ConfirmRequest{EncounterID: id, Level: 5, Reason: "  \n"}, 400, apierr.CodeInvalidArgument, ReasonReasonRequired},
			{"invalid level", f.nurse, ConfirmRequest{EncounterID: id, Level: 6}, 400, apierr.CodeInvalidArgument, ""},
			{"stale assessment", f.nurse, ConfirmRequest{EncounterID: id, Level: 3, AssessmentID: "000009"}, 409, apierr.CodeConflict, ReasonStaleAssessment},
			{"not assessed", f.nurse, ConfirmRequest{EncounterID: notAssessed, Level: 3}, 409, apierr.CodeFailedPrecondition, ReasonNotAssessed},
			{"frozen: up", doctor, ConfirmRequest{EncounterID: frozen, Level: 2}, 409, apierr.CodeFailedPrecondition, ReasonLevelFrozen},
			{"frozen: down with reason", f.nurse, ConfirmRequest{EncounterID: frozen, Level: 4, Reason: "better"}, 409, apierr.CodeFailedPrecondition, ReasonLevelFrozen},
			{"no such encounter", f.nurse, ConfirmRequest{EncounterID: "missing", Level: 3}, 404, apierr.CodeNotFound, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.req.ClinicID = f.clinic
				_, err := f.svc.Confirm(as(tc.caller), tc.req)
				wantError(t, err, tc.status, tc.code, tc.reason)
			})
		}
		for _, enc := range []string{id, frozen} {
			e := f.encounter(t, enc)
			if e.Triage.Level != 3 || e.Triage.Confirmed {
				t.Errorf("refused confirmations changed the triage: %+v", e.Triage)
			}
		}
	})

	t.Run("frozen level may be confirmed unchanged", func(t *testing.T) {
		t.Parallel()
		id := triaged(t)
		if _, err := f.fs.Collection("clinics").Doc(f.clinic).Collection("encounters").Doc(id).Update(context.Background(),
			[]firestore.Update{{Path: "status", Value: encounter.StatusInConsultation}}); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.Confirm(as(doctor), ConfirmRequest{ClinicID: f.clinic, EncounterID: id, Level: 3})
		if err != nil || c.Change != triage.Unchanged {
			t.Fatalf("confirm unchanged after consultation: %+v, %v", c, err)
		}
	})
}

func TestHistoryOfOtherClinicIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.seedEncounter(t, encounter.StatusWaiting, time.Minute, nil)
	if _, err := f.svc.Record(as(f.nurse), f.clinic, id, adultInput(), commitmark.Marker{}); err != nil {
		t.Fatal(err)
	}
	stranger := auth.Principal{UID: uniqueID("nurse"), Role: auth.RoleNurse, ClinicID: uniqueID("clinic")}
	_, err := f.svc.History(as(stranger), stranger.ClinicID, id)
	wantError(t, err, http.StatusNotFound, apierr.CodeNotFound, "")
}
