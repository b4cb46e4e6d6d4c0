package tasks

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"
)

const (
	testAudience = "https://scribe-worker-abc-ew.a.run.app"
	testKeyID    = "test-key-1"
)

var (
	signingKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
	otherKey   = sync.OnceValue(func() *rsa.PrivateKey { return mustRSAKey() })
)

func mustRSAKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// googleCerts serves key as the JWKS Google publishes at oauth2/v3/certs and returns an
// HTTP client that sends requests for that URL to it (and fails any other request).
func googleCerts(t *testing.T, key *rsa.PublicKey) *http.Client {
	t.Helper()
	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": testKeyID,
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jwks)
	}))
	t.Cleanup(srv.Close)
	target, _ := url.Parse(srv.URL)
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "www.googleapis.com" || r.URL.Path != "/oauth2/v3/certs" {
			return nil, fmt.Errorf("unexpected request to %s", r.URL)
		}
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		r.Host = target.Host
		return http.DefaultTransport.RoundTrip(r)
	})}
}

// signToken makes an RS256 JWT with claims, signed by key under kid.
func signToken(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// cloudTasksClaims are the claims of a token Cloud Tasks sends for the test invoker.
func cloudTasksClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":            "https://accounts.google.com",
		"aud":            testAudience,
		"azp":            "112233445566778899",
		"sub":            "112233445566778899",
		"email":          testInvoker,
		"email_verified": true,
		"iat":            now.Add(-time.Minute).Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	}
}

func TestOIDCVerifier(t *testing.T) {
	t.Parallel()
	v, err := NewOIDCVerifier(t.Context(), OIDCConfig{Audience: testAudience, ServiceAccountEmail: testInvoker},
		option.WithHTTPClient(googleCerts(t, &signingKey().PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(map[string]any)) string {
		c := cloudTasksClaims()
		change(c)
		return "Bearer " + signToken(t, signingKey(), testKeyID, c)
	}
	valid := with(func(map[string]any) {})
	validParts := strings.Split(strings.TrimPrefix(valid, "Bearer "), ".")

	cases := []struct {
		name    string
		header  string // Authorization
		wantErr string // "" means accepted
	}{
		{"valid token", valid, ""},
		{"lower-case scheme", "bearer " + strings.TrimPrefix(valid, "Bearer "), ""},
		{"issuer without scheme", with(func(c map[string]any) { c["iss"] = "accounts.google.com" }), ""},
		{"email in other case", with(func(c map[string]any) { c["email"] = strings.ToUpper(testInvoker) }), ""},
		{"missing header", "", "no bearer token"},
		{"basic auth", "Basic dXNlcjpwYXNz", "no bearer token"},
		{"empty bearer", "Bearer ", "no bearer token"},
		{"not a jwt", "Bearer abc", "three segments"},
		{"wrong audience", with(func(c map[string]any) { c["aud"] = "https://mailer-abc-ew.a.run.app" }), "audience"},
		{"expired", with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "expired"},
		{"wrong email", with(func(c map[string]any) { c["email"] = "someone@medi-test.iam.gserviceaccount.com" }), "invoker service account"},
		{"no email", with(func(c map[string]any) { delete(c, "email") }), "invoker service account"},
		{"email not verified", with(func(c map[string]any) { c["email_verified"] = false }), "not verified"},
		{"email_verified as string", with(func(c map[string]any) { c["email_verified"] = "true" }), "not verified"},
		{"other issuer", with(func(c map[string]any) { c["iss"] = "https://evil.example" }), "not issued by Google"},
		{"signed by another key", "Bearer " + signToken(t, otherKey(), testKeyID, cloudTasksClaims()), "verification error"},
		{"unknown key id", "Bearer " + signToken(t, signingKey(), "other-kid", cloudTasksClaims()), "matching cert"},
		{"claims swapped after signing", "Bearer " + validParts[0] + "." +
			strings.Split(strings.TrimPrefix(with(func(c map[string]any) { c["email"] = "x@y.z" }), "Bearer "), ".")[1] +
			"." + validParts[2], "verification error"},
		{"signature removed by Cloud Run", "Bearer " + validParts[0] + "." + validParts[1] + ".SIGNATURE_REMOVED_BY_GOOGLE", "removed by Cloud Run"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/tasks/scribe", strings.NewReader(`{}`))
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			err := v.Verify(r)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("Verify = %v, want ErrUnauthenticated", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Verify = %q, want it to mention %q", err, tc.wantErr)
			}
			if tok := strings.TrimPrefix(tc.header, "Bearer "); len(tok) > 20 && strings.Contains(err.Error(), tok) {
				t.Errorf("error contains the token: %v", err)
			}
		})
	}
}

func TestNewOIDCVerifierValidatesConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]OIDCConfig{
		"no audience": {ServiceAccountEmail: testInvoker},
		"no invoker":  {Audience: testAudience},
	} {
		if _, err := NewOIDCVerifier(t.Context(), cfg); err == nil {
			t.Errorf("%s: NewOIDCVerifier succeeded, want an error", name)
		}
	}
}

func TestSecretVerifier(t *testing.T) {
	t.Parallel()
	v, err := NewSecretVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		secret  string // "" means no header
		wantErr string
	}{
		{"right secret", testSecret, ""},
		{"wrong secret", "local-task-secret-for-tesTS", "wrong task secret"},
		{"prefix of the secret", testSecret[:10], "wrong task secret"},
		{"secret with suffix", testSecret + "x", "wrong task secret"},
		{"missing header", "", "no X-Medi-Task-Secret header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/", nil)
			if tc.secret != "" {
				r.Header.Set(SecretHeader, tc.secret)
			}
			err := v.Verify(r)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Verify = %v, want ErrUnauthenticated mentioning %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testSecret[:10]) {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
	if _, err := NewSecretVerifier(""); err == nil {
		t.Error("NewSecretVerifier(\"\") succeeded")
	}
}
