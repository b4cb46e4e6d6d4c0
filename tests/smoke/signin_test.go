package smoke

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Runs always (no deployed environment needed): the sign-in the smoke tests rely on,
// against a fake of Identity Platform's signInWithPassword.
func TestSmokeToken(t *testing.T) {
	t.Parallel()
	const password = "correct horse battery staple"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Query().Get("key") != "api-key" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":{"message":"API_KEY_INVALID"}}`, http.StatusBadRequest)
			return
		}
		var in struct {
			Email             string `json:"email"`
			Password          string `json:"password"`
			ReturnSecureToken bool   `json:"returnSecureToken"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !in.ReturnSecureToken {
			http.Error(w, `{"error":{"message":"INVALID_REQUEST"}}`, http.StatusBadRequest)
			return
		}
		switch {
		case in.Email == "mfa@example.com":
			w.Write([]byte(`{"mfaPendingCredential":"x"}`))
		case in.Email == "smoke@example.com" && in.Password == password:
			w.Write([]byte(`{"idToken":"id-token-1"}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":{"message":"INVALID_LOGIN_CREDENTIALS"}}`))
		}
	}))
	t.Cleanup(srv.Close)

	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{name: "token given", env: map[string]string{"MEDI_SMOKE_ID_TOKEN": "given", "MEDI_SMOKE_API_KEY": "api-key"}, want: "given"},
		{name: "password sign-in", env: map[string]string{"MEDI_SMOKE_API_KEY": "api-key", "MEDI_SMOKE_EMAIL": "smoke@example.com", "MEDI_SMOKE_PASSWORD": password}, want: "id-token-1"},
		{name: "no credentials", env: map[string]string{"MEDI_SMOKE_EMAIL": "smoke@example.com"}, wantErr: errNoCredentials.Error()},
		{name: "wrong password", env: map[string]string{"MEDI_SMOKE_API_KEY": "api-key", "MEDI_SMOKE_EMAIL": "smoke@example.com", "MEDI_SMOKE_PASSWORD": "wrong " + password}, wantErr: "status 400 INVALID_LOGIN_CREDENTIALS"},
		{name: "wrong key", env: map[string]string{"MEDI_SMOKE_API_KEY": "other", "MEDI_SMOKE_EMAIL": "smoke@example.com", "MEDI_SMOKE_PASSWORD": password}, wantErr: "API_KEY_INVALID"},
		{name: "account with a second factor", env: map[string]string{"MEDI_SMOKE_API_KEY": "api-key", "MEDI_SMOKE_EMAIL": "mfa@example.com", "MEDI_SMOKE_PASSWORD": password}, wantErr: "second factor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := smokeToken(t.Context(), func(k string) string { return tt.env[k] }, srv.URL)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("smokeToken error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "api-key") {
					t.Errorf("error %q reveals a credential", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("token mismatch (-want +got):\n%s", diff)
			}
		})
	}

	// A transport failure must not print the URL (it carries the key).
	_, err := smokeToken(t.Context(), envMap{"MEDI_SMOKE_API_KEY": "api-key", "MEDI_SMOKE_EMAIL": "a", "MEDI_SMOKE_PASSWORD": "b"}.get, "http://127.0.0.1:1/signin")
	if err == nil || strings.Contains(err.Error(), "api-key") {
		t.Errorf("unreachable endpoint: error %v (must exist and not hold the key)", err)
	}
	if errors.Is(err, errNoCredentials) {
		t.Errorf("unreachable endpoint reported as missing credentials")
	}
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }
