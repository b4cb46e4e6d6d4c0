package patients

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/httpxtest"
	"github.com/medi-os/medi/shared/patient"
)

// fuzzHandlers are the patients function's handlers without backends: a request that
// gets as far as the store is answered 503, which the fuzz target reads as "passed
// decoding and validation".
func fuzzHandlers() *handlers {
	return &handlers{store: app.NewLazy(func(context.Context) (*patient.Store, error) {
		return nil, errors.New("no backend in fuzzing")
	})}
}

// FuzzUpdateHandler runs PATCH /v1/patients/{id} in process with any body, content
// type (application/json or application/merge-patch+json) and If-Match: every refusal
// is a 4xx with its stable code, never a 5xx, and only a well-formed If-Match and a
// patch that ParsePatch accepts reach the store.
func FuzzUpdateHandler(f *testing.F) {
	f.Add([]byte(`{"givenName":"Ana","phone":null}`), `"3"`, false)
	f.Add([]byte(`{"allergies":[{"substance":"latex","severity":"mild"}]}`), `"1"`, true)
	f.Add([]byte(`{"givenName":"Ana"}`), `*`, false)
	f.Fuzz(func(t *testing.T, body []byte, ifMatch string, mergePatch bool) {
		r := httptest.NewRequest(http.MethodPatch, "/v1/patients/p1", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if mergePatch {
			r.Header.Set("Content-Type", mergePatchType)
		}
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		r.SetPathValue("id", "p1")
		r = httpxtest.Quiet(r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UID: "u1", ClinicID: "c1", Role: auth.RoleReceptionist})))
		rec := httptest.NewRecorder()
		fuzzHandlers().update(rec, r)
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if rec.Code == http.StatusServiceUnavailable {
			if _, _, err := httpx.IfMatch(r, true); err != nil {
				t.Fatalf("reached the store with If-Match %q", ifMatch)
			}
			if _, err := patient.ParsePatch(body); err != nil {
				t.Fatalf("reached the store with a patch ParsePatch refuses: %v", err)
			}
		}
	})
}
