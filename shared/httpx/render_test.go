package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medi-os/medi/shared/apierr"
)

const (
	testTraceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	testTraceparent = "00-" + testTraceID + "-00f067aa0ba902b7-01"
)

func TestWriteJSON_Envelope(t *testing.T) {
	t.Parallel()
	type patient struct {
		ID   string `json:"id"`
		Note string `json:"note"`
	}
	h, _ := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusCreated, patient{ID: "p1", Note: "<script>"})
	}))
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("traceparent", testTraceparent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)

	if rec.Code != http.StatusCreated {
		t.Fatalf("status = %d, want 201", rec.Code)
	}
	env := decodeEnvelope(t, rec)
	if !env.Success {
		t.Error("success = false")
	}
	if env.Error != nil {
		t.Errorf("error = %+v, want null", env.Error)
	}
	var got patient
	if err := json.Unmarshal(env.Data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(patient{ID: "p1", Note: "<script>"}, got); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
	wantServerRequestID(t, env.RequestID)
	if got := rec.Header().Get("X-Request-Id"); got != env.RequestID {
		t.Errorf("X-Request-Id = %q, want requestId %q", got, env.RequestID)
	}
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
		t.Errorf("Content-Length = %q, want %q", got, want)
	}
	if strings.Contains(rec.Body.String(), "<script>") {
		t.Errorf("HTML not escaped in body %s", rec.Body)
	}
}

func TestWriteJSON_RequestIDSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		want   string // "" means: a fresh id
	}{
		{name: "traceparent", header: http.Header{"Traceparent": {testTraceparent}}, want: testTraceID},
		{name: "cloud trace context", header: http.Header{"X-Cloud-Trace-Context": {"105445aa7843bc8bf206b12000100000/1;o=1"}}, want: "105445aa7843bc8bf206b12000100000"},
		{name: "none", header: http.Header{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, logs := stack(okHandler("x"))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header = tc.header
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			env := decodeEnvelope(t, rec)
			wantServerRequestID(t, env.RequestID)
			if got := rec.Header().Get("X-Request-Id"); got != env.RequestID {
				t.Errorf("X-Request-Id = %q, want requestId %q", got, env.RequestID)
			}
			line := logs.find(t, "request")
			if line["requestId"] != env.RequestID {
				t.Errorf("log requestId = %v, want %q", line["requestId"], env.RequestID)
			}
			trace, _ := line["logging.googleapis.com/trace"].(string)
			if tc.want != "" && trace != "projects/test-project/traces/"+tc.want {
				t.Errorf("log trace = %v, want the client's trace %q", trace, tc.want)
			}
			if !strings.HasPrefix(trace, "projects/test-project/traces/") || strings.HasSuffix(trace, env.RequestID) {
				t.Errorf("log trace = %v, want a trace of its own (request id %q)", trace, env.RequestID)
			}
		})
	}
}

func TestWriteError_Envelope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		err         error
		wantStatus  int
		wantCode    string
		wantMessage string
		wantDetails string
		wantHeader  http.Header
		notInBody   string
	}{
		{
			name:        "api error with details",
			err:         InvalidFields([]apierr.FieldError{{Field: "dob", Message: "must be a date"}}),
			wantStatus:  400,
			wantCode:    CodeInvalidArgument,
			wantMessage: "1 invalid field(s)",
			wantDetails: `{"fields":[{"field":"dob","message":"must be a date"}]}`,
		},
		{
			name:        "not found",
			err:         NotFound("patient not found"),
			wantStatus:  404,
			wantCode:    CodeNotFound,
			wantMessage: "patient not found",
			wantDetails: "null",
		},
		{
			name:        "wrapped api error",
			err:         fmt.Errorf("load: %w", Conflict("version mismatch")),
			wantStatus:  409,
			wantCode:    CodeConflict,
			wantMessage: "version mismatch",
			wantDetails: "null",
		},
		{
			name:        "header carried",
			err:         Unavailable(3, errors.New("firestore down at 10.0.0.1")),
			wantStatus:  503,
			wantCode:    CodeUnavailable,
			wantMessage: "service temporarily unavailable; retry later",
			wantDetails: "null",
			wantHeader:  http.Header{"Retry-After": {"3"}},
			notInBody:   "10.0.0.1",
		},
		{
			name:        "plain error is internal and hidden",
			err:         errors.New("query for Jane Roe failed"),
			wantStatus:  500,
			wantCode:    CodeInternal,
			wantMessage: "internal error; quote the requestId when reporting it",
			wantDetails: "null",
			notInBody:   "Jane Roe",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, logs := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				WriteError(w, r, tc.err)
			}))
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Header.Set("traceparent", testTraceparent)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)

			env := wantError(t, rec, tc.wantStatus, tc.wantCode)
			if env.Error.Message != tc.wantMessage {
				t.Errorf("message = %q, want %q", env.Error.Message, tc.wantMessage)
			}
			if got := string(env.Error.Details); got != tc.wantDetails && !(tc.wantDetails == "null" && got == "") {
				t.Errorf("details = %s, want %s", got, tc.wantDetails)
			}
			wantServerRequestID(t, env.RequestID)
			for k, v := range tc.wantHeader {
				if diff := cmp.Diff(v, rec.Header().Values(k)); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", k, diff)
				}
			}
			if tc.notInBody != "" && strings.Contains(rec.Body.String(), tc.notInBody) {
				t.Errorf("body leaks the cause %q: %s", tc.notInBody, rec.Body)
			}
			if tc.wantStatus >= 500 {
				line := logs.find(t, "request failed")
				if line["severity"] != "ERROR" {
					t.Errorf("severity = %v, want ERROR", line["severity"])
				}
				if tc.notInBody != "" && !strings.Contains(fmt.Sprint(line["error"]), tc.notInBody) {
					t.Errorf("log error = %v, want the cause for operators", line["error"])
				}
			} else {
				line := logs.find(t, "request rejected")
				if line["code"] != tc.wantCode {
					t.Errorf("log code = %v, want %q", line["code"], tc.wantCode)
				}
			}
		})
	}
}

func TestWrite_Head(t *testing.T) {
	t.Parallel()
	h, _ := stack(okHandler("hello"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != 200 {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if rec.Body.Len() != 0 {
		t.Errorf("HEAD response has a body: %s", rec.Body)
	}
	if rec.Header().Get("Content-Length") == "0" || rec.Header().Get("Content-Length") == "" {
		t.Errorf("Content-Length = %q, want the length of the GET body", rec.Header().Get("Content-Length"))
	}
}

func TestWriteJSON_EncodingFailure(t *testing.T) {
	t.Parallel()
	h, logs := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, map[string]any{"bad": func() {}})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	env := wantError(t, rec, http.StatusInternalServerError, CodeInternal)
	if env.RequestID == "" {
		t.Error("requestId is empty")
	}
	logs.find(t, "encoding response failed")
}

// WriteMedia answers the value itself with the route's media type (no envelope), with the
// same request id header and length as an envelope answer; an encoding failure still
// answers the error envelope.
func TestWriteMedia(t *testing.T) {
	t.Parallel()
	h, _ := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			WriteMedia(w, r, http.StatusOK, "application/fhir+json", map[string]any{"f": func() {}})
			return
		}
		WriteMedia(w, r, http.StatusOK, "application/fhir+json", map[string]any{"resourceType": "Bundle", "div": "<p>"})
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/fhir+json" {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"resourceType": "Bundle", "div": "<p>"}, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	wantServerRequestID(t, rec.Header().Get("X-Request-Id"))
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
		t.Errorf("Content-Length = %q, want %q", got, want)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/bad", nil))
	if env := decodeEnvelope(t, rec); rec.Code != http.StatusInternalServerError || env.Error == nil || env.Error.Code != "internal" {
		t.Errorf("unencodable value: %d %s, want the 500 error envelope", rec.Code, rec.Body)
	}
}
