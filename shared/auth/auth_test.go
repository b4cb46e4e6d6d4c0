package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/testenv"
)

func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// wantAuthError checks the status, code and reason of err.
func wantAuthError(t *testing.T, err error, status int, reason string) {
	t.Helper()
	var e *httpx.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *httpx.Error", err)
	}
	if e.Status != status {
		t.Errorf("status = %d, want %d (%v)", e.Status, status, err)
	}
	if reason != "" {
		var got string
		switch d := e.Details.(type) {
		case map[string]string:
			got = d["reason"]
		case map[string]any:
			got, _ = d["reason"].(string)
		}
		if got != reason {
			t.Errorf("reason = %q, want %q", got, reason)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	c := testenv.AuthClient(t)
	a := auth.New(c)
	staff := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-a"})
	token := testenv.SignIn(t, staff)

	t.Run("valid token", func(t *testing.T) {
		t.Parallel()
		p, err := a.Authenticate(bearer(token))
		if err != nil {
			t.Fatal(err)
		}
		if p.UID != staff.UID || p.Role != auth.RoleNurse || p.ClinicID != "clinic-a" || p.Email != staff.Email {
			t.Errorf("principal = %+v", p)
		}
		if p.AuthTime.IsZero() {
			t.Error("auth time missing")
		}
	})
	for _, tc := range []struct {
		name, header string
		status       int
		reason       string
	}{
		{"no header", "", 401, auth.ReasonMissing},
		{"wrong scheme", "Basic abc", 401, auth.ReasonScheme},
		{"no scheme", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", 401, auth.ReasonScheme},
		{"bearer alone", "Bearer", 401, auth.ReasonMissing},
		{"empty bearer", "Bearer ", 401, auth.ReasonMissing},
		{"garbage", "Bearer not-a-jwt", 401, auth.ReasonInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			_, err := a.Authenticate(r)
			wantAuthError(t, err, tc.status, tc.reason)
		})
	}
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		// An emulator-style token whose exp has passed: everything else is right.
		past := time.Now().Add(-2 * time.Hour)
		tok := unsignedToken(t, map[string]any{
			"iss": "https://securetoken.google.com/" + testenv.AuthProject(), "aud": testenv.AuthProject(),
			"sub": staff.UID, "user_id": staff.UID, "iat": past.Unix(), "auth_time": past.Unix(),
			"exp": past.Add(time.Hour).Unix(), "role": "nurse", "clinicId": "clinic-a",
			"firebase": map[string]any{"sign_in_provider": "password"},
		})
		_, err := a.Authenticate(bearer(tok))
		wantAuthError(t, err, 401, auth.ReasonExpired)
	})
	t.Run("other project", func(t *testing.T) {
		t.Parallel()
		app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: "demo-some-other-project"})
		if err != nil {
			t.Fatal(err)
		}
		other, err := app.Auth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, err = auth.New(other).Authenticate(bearer(token))
		wantAuthError(t, err, 401, auth.ReasonInvalid)
	})
}

func unsignedToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(b) + "."
}

func TestRevokedAndDisabled(t *testing.T) {
	t.Parallel()
	c := testenv.AuthClient(t)
	a := auth.New(c)
	ctx := context.Background()

	t.Run("revoked", func(t *testing.T) {
		t.Parallel()
		s := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "clinic-a"})
		token := testenv.SignIn(t, s)
		if _, err := a.Authenticate(bearer(token)); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
		// Revocation has one-second granularity: the token must be issued in an earlier second.
		time.Sleep(1100 * time.Millisecond)
		if err := c.RevokeRefreshTokens(ctx, s.UID); err != nil {
			t.Fatal(err)
		}
		_, err := a.Authenticate(bearer(token))
		wantAuthError(t, err, 401, auth.ReasonRevoked)
	})
	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		s := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "clinic-a"})
		token := testenv.SignIn(t, s)
		if _, err := c.UpdateUser(ctx, s.UID, (&fbauth.UserToUpdate{}).Disabled(true)); err != nil {
			t.Fatal(err)
		}
		_, err := a.Authenticate(bearer(token))
		wantAuthError(t, err, 401, auth.ReasonDisabled)
	})
	t.Run("deleted", func(t *testing.T) {
		t.Parallel()
		s := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "clinic-a"})
		token := testenv.SignIn(t, s)
		if err := c.DeleteUser(ctx, s.UID); err != nil {
			t.Fatal(err)
		}
		_, err := a.Authenticate(bearer(token))
		wantAuthError(t, err, 401, auth.ReasonInvalid)
	})
	t.Run("no role claims", func(t *testing.T) {
		t.Parallel()
		s := testenv.NewStaff(t, nil)
		_, err := a.Authenticate(bearer(testenv.SignIn(t, s)))
		wantAuthError(t, err, 403, auth.ReasonNoRole)
	})
	t.Run("unknown role", func(t *testing.T) {
		t.Parallel()
		s := testenv.NewStaff(t, map[string]any{"role": "superuser", "clinicId": "clinic-a"})
		_, err := a.Authenticate(bearer(testenv.SignIn(t, s)))
		wantAuthError(t, err, 403, auth.ReasonNoRole)
	})
}

// TestUnsignedTokenRejectedOutsideEmulator checks that a production-mode client (no
// FIREBASE_AUTH_EMULATOR_HOST) refuses the unsigned tokens the emulator issues. Not
// parallel: it clears the variable for its duration.
func TestUnsignedTokenRejectedOutsideEmulator(t *testing.T) {
	testenv.Require(t, "FIREBASE_AUTH_EMULATOR_HOST")
	s := testenv.NewStaff(t, map[string]any{"role": "admin", "clinicId": "clinic-a"})
	token := testenv.SignIn(t, s)
	t.Setenv("FIREBASE_AUTH_EMULATOR_HOST", "")
	ctx := context.Background()
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: testenv.AuthProject()},
		option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "unused"})))
	if err != nil {
		t.Fatal(err)
	}
	prod, err := app.Auth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = auth.New(prod).Authenticate(bearer(token))
	wantAuthError(t, err, 401, auth.ReasonInvalid)
}

func TestRequire(t *testing.T) {
	t.Parallel()
	a := auth.New(testenv.AuthClient(t))
	nurse := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-r"}))
	var seen auth.Principal
	h := a.Require(auth.RoleNurse, auth.RoleDoctor)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = auth.FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))
	onlyAdmin := a.Require(auth.RoleAdmin)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("handler ran for a nurse on an admin route")
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, bearer(nurse))
	if rec.Code != http.StatusNoContent || seen.Role != auth.RoleNurse {
		t.Errorf("nurse on nurse route: status %d, principal %+v", rec.Code, seen)
	}
	rec = httptest.NewRecorder()
	onlyAdmin.ServeHTTP(rec, bearer(nurse))
	if rec.Code != http.StatusForbidden {
		t.Errorf("nurse on admin route: status %d, want 403", rec.Code)
	}
	// The refusal names the action (the route's pattern, not the ids in the path) and the
	// roles allowed.
	mux := http.NewServeMux()
	mux.Handle("/v1/staff/{uid}", onlyAdmin)
	req := bearer(nurse)
	req.URL.Path = "/v1/staff/u123"
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var env struct {
		Error struct {
			Message string `json:"message"`
			Details struct {
				Reason       string   `json:"reason"`
				Action       string   `json:"action"`
				AllowedRoles []string `json:"allowedRoles"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatal(err)
	}
	if d := env.Error.Details; rec.Code != http.StatusForbidden || d.Reason != auth.ReasonRole || d.Action != "GET /v1/staff/{uid}" ||
		len(d.AllowedRoles) != 1 || d.AllowedRoles[0] != "admin" || !strings.Contains(env.Error.Message, "GET /v1/staff/{uid}") {
		t.Errorf("nurse on admin route: status %d, error %+v", rec.Code, env.Error)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, bearer(""))
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("no token: status %d, WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

func TestInClinic(t *testing.T) {
	t.Parallel()
	p := auth.Principal{UID: "u", Role: auth.RoleDoctor, ClinicID: "clinic-a"}
	if err := p.InClinic("clinic-a", "patient"); err != nil {
		t.Errorf("own clinic: %v", err)
	}
	for _, other := range []string{"clinic-b", ""} {
		if err := p.InClinic(other, "patient"); httpx.AsError(err).Status != http.StatusNotFound {
			t.Errorf("clinic %q: got %v, want 404", other, err)
		}
	}
}
