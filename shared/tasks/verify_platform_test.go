package tasks

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/option"
)

// TestOIDCVerifierPlatformVerified covers workers behind Cloud Run's invoker IAM check,
// which receive the token with its signature replaced: the claims must still be right.
func TestOIDCVerifierPlatformVerified(t *testing.T) {
	t.Parallel()
	v, err := NewOIDCVerifier(t.Context(), OIDCConfig{Audience: testAudience, ServiceAccountEmail: testInvoker, PlatformVerified: true},
		option.WithHTTPClient(googleCerts(t, &signingKey().PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	stripped := func(change func(map[string]any)) string {
		c := cloudTasksClaims()
		change(c)
		parts := strings.Split(signToken(t, signingKey(), testKeyID, c), ".")
		return "Bearer " + parts[0] + "." + parts[1] + "." + signatureRemoved
	}
	for _, tc := range []struct {
		name, header, wantErr string
	}{
		{"claims right", stripped(func(map[string]any) {}), ""},
		{"wrong audience", stripped(func(c map[string]any) { c["aud"] = "https://other-abc-ew.a.run.app" }), "audience"},
		{"expired", stripped(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "expired"},
		{"wrong email", stripped(func(c map[string]any) { c["email"] = "someone@x.iam.gserviceaccount.com" }), "invoker service account"},
		{"unverified email", stripped(func(c map[string]any) { c["email_verified"] = false }), "not verified"},
		{"other issuer", stripped(func(c map[string]any) { c["iss"] = "https://evil.example" }), "not issued by Google"},
		{"garbage payload", "Bearer a.!!!." + signatureRemoved, "malformed"},
		// A token that still carries a signature is verified cryptographically as always.
		{"forged signature", "Bearer " + signToken(t, otherKey(), testKeyID, cloudTasksClaims()), "verification error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/tasks/scribe", strings.NewReader(`{}`))
			r.Header.Set("Authorization", tc.header)
			err := v.Verify(r)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Verify = %v, want ErrUnauthenticated mentioning %q", err, tc.wantErr)
			}
		})
	}
}
