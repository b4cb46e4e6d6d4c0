package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/httpxtest"
	engine "github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triagerecord"
)

// fuzzRequest is a POST with body from a nurse of clinic c1, as the auth middleware
// leaves it.
func fuzzRequest(path string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httpxtest.Quiet(r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UID: "u1", ClinicID: "c1", Role: auth.RoleNurse})))
}

// FuzzAssessHandler runs POST /v1/triage/assess in process on arbitrary bodies. The
// handler is pure (nothing stored), so the whole path is checked: every answer is a 200
// with a level 1..5, a decision point and reasons, or a 4xx with its stable code
// (never a 5xx); a 400 for invalid fields lists them.
func FuzzAssessHandler(f *testing.F) {
	f.Add([]byte(`{"ageYears":54,"chiefComplaint":"chest pain","vitals":{"heartRate":96,"respiratoryRate":18,"systolicBP":132,"spo2":97,"temperatureC":37.6},"painScore":6}`))
	f.Add([]byte(`{"ageMonths":1,"ageDays":10,"chiefComplaint":"fever","vitals":{"temperatureC":38.4},"expectedResources":[]}`))
	f.Add([]byte(`{"ageYears":200,"chiefComplaint":"x","mentalStatus":"Q","vitals":{"spo2":150}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		handleAssess(rec, fuzzRequest("/v1/triage/assess", body))
		env := httpxtest.RequireClientError(t, rec, http.StatusOK)
		if rec.Code != http.StatusOK {
			return
		}
		var res triagerecord.Result
		if err := json.Unmarshal(env.Data, &res); err != nil {
			t.Fatalf("200 without a result: %v", err)
		}
		if !engine.Level(res.Level).Valid() || len(res.Reasons) == 0 || len(res.DecisionPoint) != 1 || !strings.Contains("ABPCDML", res.DecisionPoint) {
			t.Fatalf("level %d at %q with %d reasons", res.Level, res.DecisionPoint, len(res.Reasons))
		}
		var in engine.Input
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatalf("200 for a body that does not decode: %v", err)
		}
		if errs := engine.Validate(in); len(errs) > 0 {
			t.Fatalf("200 for an input with invalid fields: %v", errs)
		}
	})
}

// errBackend stands for the store: a request that reaches it passed decoding and
// validation.
var errBackend = httpx.Unavailable(1, errors.New("no backend in fuzzing"))

// fuzzAssessments records what reached the service and answers 503.
type fuzzAssessments struct{ confirms []triagerecord.ConfirmRequest }

func (f *fuzzAssessments) Record(context.Context, string, string, engine.Input, commitmark.Marker) (triagerecord.Recorded, error) {
	return triagerecord.Recorded{}, errBackend
}

func (f *fuzzAssessments) Confirm(_ context.Context, req triagerecord.ConfirmRequest) (triagerecord.Confirmed, error) {
	f.confirms = append(f.confirms, req)
	return triagerecord.Confirmed{}, errBackend
}

func (f *fuzzAssessments) History(context.Context, string, string) (triagerecord.History, error) {
	return triagerecord.History{}, errBackend
}

// FuzzConfirmHandler runs POST /v1/triage/{encounterId}/confirm in process with a
// service that refuses everything with 503: the handler answers a 4xx with its stable
// code for every body it refuses, and only a level 1..5 of the caller's clinic and
// encounter ever reaches the service.
func FuzzConfirmHandler(f *testing.F) {
	f.Add([]byte(`{"level":2}`))
	f.Add([]byte(`{"level":4,"reason":"reassessed: pain settled","assessmentId":"a-1"}`))
	f.Add([]byte(`{"level":0}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		svc := &fuzzAssessments{}
		h := &handlers{svc: svc}
		r := fuzzRequest("/v1/triage/enc-1/confirm", body)
		r.SetPathValue("encounterId", "enc-1")
		rec := httptest.NewRecorder()
		h.handleConfirm(rec, r)
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if got, want := len(svc.confirms), map[bool]int{true: 1, false: 0}[rec.Code == http.StatusServiceUnavailable]; got != want {
			t.Fatalf("status %d with %d calls of the service", rec.Code, got)
		}
		for _, c := range svc.confirms {
			if !c.Level.Valid() || c.ClinicID != "c1" || c.EncounterID != "enc-1" {
				t.Fatalf("service called with %+v", c)
			}
		}
	})
}

// FuzzRecordHandler runs POST /v1/triage/{encounterId} in process with a service that
// refuses everything with 503: every body the binder refuses is a 4xx with its stable
// code, and nothing else but the service's answer comes back.
func FuzzRecordHandler(f *testing.F) {
	f.Add([]byte(`{"ageYears":30,"chiefComplaint":"ankle injury","vitals":{"heartRate":80}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := &handlers{svc: &fuzzAssessments{}}
		r := fuzzRequest("/v1/triage/enc-1", body)
		r.SetPathValue("encounterId", "enc-1")
		rec := httptest.NewRecorder()
		h.handleRecord(rec, r)
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
	})
}
