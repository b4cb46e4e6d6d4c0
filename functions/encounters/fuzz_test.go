package encounters

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/httpxtest"
)

// fuzzServer is the queue function's server without backends: a request that gets as
// far as the store is answered 503, which the fuzz targets read as "passed decoding
// and validation".
func fuzzServer() *server {
	return &server{cfg: &Config{}, store: app.NewLazy(func(context.Context) (*encounter.Store, error) {
		return nil, errors.New("no backend in fuzzing")
	})}
}

// fuzzRequest is a POST with body from a receptionist of clinic c1.
func fuzzRequest(path string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httpxtest.Quiet(r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UID: "u1", ClinicID: "c1", Role: auth.RoleReceptionist})))
}

// FuzzCheckInHandler runs POST /v1/encounters in process: every body the handler
// refuses is a 4xx with its stable code, never a 5xx. (The check-in's fields are
// validated in shared/encounter; FuzzCheckIn covers that.)
func FuzzCheckInHandler(f *testing.F) {
	f.Add([]byte(`{"patientId":"p-1","chiefComplaint":"cough","arrivalMode":"walk_in"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		fuzzServer().handleCheckIn(rec, fuzzRequest("/v1/encounters", body))
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
	})
}

// FuzzTransitionHandler runs POST /v1/encounters/{id}/transitions in process with any
// body and If-Match header: every refusal is a 4xx with its stable code, and only a
// request with a target status and a well-formed (or no) If-Match reaches the store.
func FuzzTransitionHandler(f *testing.F) {
	f.Add([]byte(`{"to":"triaged"}`), "")
	f.Add([]byte(`{"to":"in_consultation","doctorUid":"d1"}`), `"3"`)
	f.Add([]byte(`{"to":"cancelled","reason":"left"}`), `W/"0"`)
	f.Fuzz(func(t *testing.T, body []byte, ifMatch string) {
		r := fuzzRequest("/v1/encounters/e1/transitions", body)
		r.SetPathValue("id", "e1")
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		rec := httptest.NewRecorder()
		fuzzServer().handleTransition(rec, r)
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if rec.Code == http.StatusServiceUnavailable {
			var req transitionRequest
			if err := json.Unmarshal(body, &req); err != nil || strings.TrimSpace(req.To) == "" {
				t.Fatalf("reached the store without a target status (%v)", err)
			}
			if _, _, err := httpx.IfMatch(r, false); err != nil {
				t.Fatalf("reached the store with If-Match %q", ifMatch)
			}
		}
	})
}
