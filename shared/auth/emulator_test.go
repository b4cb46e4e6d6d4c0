package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/testenv"
)

// The emulator verifier reads the emulator's tokens and session cookies as the Admin SDK
// does, and refuses what the SDK refuses.
func TestEmulatorVerifier(t *testing.T) {
	t.Parallel()
	c := testenv.AuthClient(t)
	ctx := context.Background()
	v := auth.NewEmulatorVerifier(c, testenv.AuthProject())
	s := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-ev"})
	idToken := testenv.SignIn(t, s)

	want, err := c.VerifyIDToken(ctx, idToken)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.VerifyIDToken(ctx, idToken)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ID token differs from the SDK's reading (-sdk +emulator verifier):\n%s", diff)
	}
	cookie, err := c.SessionCookie(ctx, idToken, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantCookie, err := c.VerifySessionCookie(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	gotCookie, err := v.VerifySessionCookie(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantCookie, gotCookie); diff != "" {
		t.Errorf("session cookie differs from the SDK's reading (-sdk +emulator verifier):\n%s", diff)
	}
	// A cookie is not an ID token, nor the other way round.
	if _, err := v.VerifyIDToken(ctx, cookie); err == nil {
		t.Error("a session cookie was accepted as an ID token")
	}
	if _, err := v.VerifySessionCookie(ctx, idToken); err == nil {
		t.Error("an ID token was accepted as a session cookie")
	}

	a := auth.New(v)
	if p, err := a.Authenticate(bearer(idToken)); err != nil || p.UID != s.UID || p.Role != auth.RoleNurse {
		t.Errorf("Authenticate = %+v, %v", p, err)
	}
	now := time.Now()
	claims := func(iss, aud string, iat, exp time.Time) map[string]any {
		return map[string]any{
			"iss": iss, "aud": aud, "sub": s.UID, "user_id": s.UID, "iat": iat.Unix(), "auth_time": iat.Unix(),
			"exp": exp.Unix(), "role": "nurse", "clinicId": "clinic-ev", "firebase": map[string]any{"sign_in_provider": "password"},
		}
	}
	iss, aud := "https://securetoken.google.com/"+testenv.AuthProject(), testenv.AuthProject()
	for _, tc := range []struct {
		name   string
		token  string
		reason string
	}{
		{"expired", unsignedToken(t, claims(iss, aud, now.Add(-2*time.Hour), now.Add(-time.Hour))), auth.ReasonExpired},
		{"other audience", unsignedToken(t, claims(iss, "demo-other", now, now.Add(time.Hour))), auth.ReasonInvalid},
		{"other issuer", unsignedToken(t, claims("https://securetoken.google.com/demo-other", aud, now, now.Add(time.Hour))), auth.ReasonInvalid},
		{"issued in the future", unsignedToken(t, claims(iss, aud, now.Add(time.Hour), now.Add(2*time.Hour))), auth.ReasonInvalid},
		{"signed (not an emulator token)", "eyJhbGciOiJSUzI1NiJ9." + strings.SplitN(unsignedToken(t, claims(iss, aud, now, now.Add(time.Hour))), ".", 2)[1], auth.ReasonInvalid},
		{"garbage", "a.b.c", auth.ReasonInvalid},
	} {
		_, err := a.Authenticate(bearer(tc.token))
		t.Run(tc.name, func(t *testing.T) { wantAuthError(t, err, 401, tc.reason) })
	}
}
