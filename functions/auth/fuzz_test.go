package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/httpx/httpxtest"
)

// fuzzServer is the auth function's server without backends: a request that gets as
// far as Firestore, Auth or the rate limiter is answered 503, which the fuzz targets
// read as "passed decoding and validation".
func fuzzServer() *server {
	return &server{cfg: &Config{}, deps: app.NewLazy(func(context.Context) (*deps, error) {
		return nil, errors.New("no backend in fuzzing")
	})}
}

// fuzzRequest is an unauthenticated POST with body (both endpoints are public).
func fuzzRequest(path string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return httpxtest.Quiet(r)
}

// FuzzPasswordResetHandler runs POST /v1/auth/password-reset in process: every refusal
// is a 4xx with its stable code, and only one e-mail address reaches the rate limiter
// and the mail queue.
func FuzzPasswordResetHandler(f *testing.F) {
	f.Add([]byte(`{"email":"nurse@example.org"}`))
	f.Add([]byte(`{"email":"Nurse <nurse@example.org>, b@example.org"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		fuzzServer().handlePasswordReset(rec, fuzzRequest("/v1/auth/password-reset", body))
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if rec.Code == http.StatusServiceUnavailable {
			var in PasswordResetRequest
			if err := json.Unmarshal(body, &in); err != nil {
				t.Fatalf("reached the backend with a body that does not decode: %v", err)
			}
			email := strings.ToLower(strings.TrimSpace(in.Email))
			if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
				t.Fatal("reached the backend without one e-mail address")
			}
		}
	})
}

// FuzzSessionCreateHandler runs POST /v1/sessions in process: every refusal is a 4xx
// with its stable code, and only a body with an ID token reaches the backends.
func FuzzSessionCreateHandler(f *testing.F) {
	f.Add([]byte(`{"idToken":"eyJhbGciOiJSUzI1NiJ9.e30.sig"}`))
	f.Add([]byte(`{"idToken":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		fuzzServer().handleCreateSession(rec, fuzzRequest("/v1/sessions", body))
		httpxtest.RequireClientError(t, rec, http.StatusServiceUnavailable)
		if rec.Code == http.StatusServiceUnavailable {
			var in SessionRequest
			if err := json.Unmarshal(body, &in); err != nil || in.IDToken == "" {
				t.Fatal("reached the backends without an ID token")
			}
		}
	})
}
