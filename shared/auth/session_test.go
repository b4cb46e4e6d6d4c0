package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

type fakeSessions struct {
	tok *fbauth.Token
	err error
}

func (f fakeSessions) VerifySession(context.Context, string) (*fbauth.Token, error) {
	return f.tok, f.err
}

type noTokens struct{}

func (noTokens) VerifyIDToken(context.Context, string) (*fbauth.Token, error) {
	return nil, context.DeadlineExceeded
}

// GetUser answers the account of the cookies below: enabled, never revoked, a nurse of c1.
func (noTokens) GetUser(_ context.Context, uid string) (*fbauth.UserRecord, error) {
	return &fbauth.UserRecord{UserInfo: &fbauth.UserInfo{UID: uid},
		CustomClaims: map[string]any{"role": "nurse", "clinicId": "c1"}}, nil
}

func TestSessionCookieAuthentication(t *testing.T) {
	t.Parallel()
	tok := &fbauth.Token{UID: "u1", AuthTime: time.Now().Unix(), Claims: map[string]any{"role": "nurse", "clinicId": "c1"}}
	for _, tc := range []struct {
		name     string
		sessions auth.SessionVerifier
		cookie   bool
		status   int
		reason   string
	}{
		{"valid cookie", fakeSessions{tok: tok}, true, 0, ""},
		{"idle session", fakeSessions{err: auth.ErrSessionIdle}, true, 401, auth.ReasonSessionIdle},
		{"ended session", fakeSessions{err: auth.ErrSessionUnknown}, true, 401, auth.ReasonSessionRevoked},
		{"no cookie", fakeSessions{tok: tok}, false, 401, auth.ReasonMissing},
		{"sessions disabled", nil, true, 401, auth.ReasonMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := auth.New(noTokens{})
			if tc.sessions != nil {
				a.WithSessions(tc.sessions)
			}
			r := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
			if tc.cookie {
				r.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: "cookie"})
			}
			p, err := a.Authenticate(r)
			if tc.status == 0 {
				if err != nil || p.UID != "u1" || p.ClinicID != "c1" {
					t.Fatalf("Authenticate = %+v, %v", p, err)
				}
				return
			}
			wantAuthError(t, err, tc.status, tc.reason)
		})
	}
}

func TestRequireFresh(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		authTime time.Time
		status   int
	}{
		{"just signed in", now.Add(-time.Minute), http.StatusOK},
		{"at the limit", now.Add(-5 * time.Minute), http.StatusOK},
		{"too old", now.Add(-5*time.Minute - time.Second), http.StatusUnauthorized},
		{"unknown", time.Time{}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := auth.RequireFresh(5*time.Minute, func() time.Time { return now })(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				httpx.WriteJSON(w, r, http.StatusOK, "ok")
			}))
			r := httptest.NewRequest(http.MethodPost, "/v1/staff", nil)
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{UID: "u", Role: auth.RoleAdmin, ClinicID: "c", AuthTime: tc.authTime}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status == http.StatusUnauthorized {
				err := auth.CheckFresh(auth.Principal{AuthTime: tc.authTime}, 5*time.Minute, now)
				wantAuthError(t, err, 401, auth.ReasonReauthRequired)
				// A number in the details is a JSON number.
				if d, _ := err.(*httpx.Error).Details.(map[string]any); d["maxAgeSeconds"] != 300 {
					t.Errorf("details.maxAgeSeconds = %#v, want the number 300", d["maxAgeSeconds"])
				}
			}
		})
	}
}
