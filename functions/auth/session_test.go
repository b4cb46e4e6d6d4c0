package auth_test

import (
	"net/http"
	"strings"
	"testing"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/auth/authtest"
	"github.com/medi-os/medi/shared/auth"
)

func TestSessionCookieLifecycle(t *testing.T) {
	t.Parallel()
	f := authtest.New(t, func(c *authfn.Config) { c.SessionPerAccountPer5Mn = 2 })
	s, token := f.Staff(t, "receptionist", f.Clinic)

	resp := f.Do(t, http.MethodPost, "/v1/sessions", "", map[string]string{"idToken": token})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create session: %d %s", resp.Status, resp.Env.Data)
	}
	var info authfn.SessionInfo
	resp.Decode(t, &info)
	if info.UID != s.UID || info.IdleTimeoutSeconds != 15*60 {
		t.Errorf("session = %+v, want default idle 900 s", info)
	}
	setCookie := resp.Header.Get("Set-Cookie")
	for _, attr := range []string{auth.SessionCookieName + "=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age="} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, attr)
		}
	}
	cookie := strings.SplitN(setCookie, ";", 2)[0]

	// The cookie authenticates like a token.
	resp = f.Do(t, http.MethodGet, "/v1/me", "", nil, "Cookie", cookie)
	var me authfn.Me
	resp.Decode(t, &me)
	if resp.Status != http.StatusOK || me.UID != s.UID {
		t.Fatalf("me with cookie: %d %+v", resp.Status, me)
	}
	// Logout ends it.
	if resp := f.Do(t, http.MethodDelete, "/v1/sessions", "", nil, "Cookie", cookie); resp.Status != http.StatusOK ||
		!strings.Contains(resp.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d Set-Cookie %q", resp.Status, resp.Header.Get("Set-Cookie"))
	}
	if resp := f.Do(t, http.MethodGet, "/v1/me", "", nil, "Cookie", cookie); resp.Status != http.StatusUnauthorized {
		t.Errorf("cookie after logout: %d, want 401", resp.Status)
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"missing token", map[string]string{}, 400},
		{"garbage token", map[string]string{"idToken": "garbage"}, 401},
		{"unknown field", map[string]string{"idToken": token, "extra": "x"}, 400},
	} {
		if resp := f.Do(t, http.MethodPost, "/v1/sessions", "", tc.body); resp.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.Status, tc.status)
		}
	}
}

func TestSessionCreationRateLimit(t *testing.T) {
	t.Parallel()
	f := authtest.New(t, func(c *authfn.Config) { c.SessionPerAccountPer5Mn = 1 })
	s, token := f.Staff(t, "nurse", f.Clinic)
	if resp := f.Do(t, http.MethodPost, "/v1/sessions", "", map[string]string{"idToken": token}); resp.Status != http.StatusCreated {
		t.Fatalf("first: %d", resp.Status)
	}
	resp := f.Do(t, http.MethodPost, "/v1/sessions", "", map[string]string{"idToken": token})
	if resp.Status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second for %s: %d, want 429 with Retry-After", s.UID, resp.Status)
	}
}
