// Package smoke checks a deployed environment through its load balancer, after every
// deploy (cloudbuild.yaml): the release is live, the URL map reaches every public
// function, authentication is enforced, and a signed-in read works.
//
// The tests are skipped unless MEDI_SMOKE_BASE_URL is set (e.g.
// https://api.staging.medi-os.example). Other variables:
//
//	MEDI_SMOKE_VERSION     release that must be live (MEDI_VERSION of the functions); the
//	                       health check waits for it up to MEDI_SMOKE_WAIT (default 3m)
//	MEDI_SMOKE_ID_TOKEN    ID token of the smoke account, or instead:
//	MEDI_SMOKE_API_KEY     Identity Platform web API key, with
//	MEDI_SMOKE_EMAIL       the smoke account (a staff account without patient access
//	MEDI_SMOKE_PASSWORD    needs, no second factor) to sign in with
//	MEDI_SMOKE_REQUIRE_AUTH=1  fail (not skip) the signed-in read when no credentials
//
// Every response is checked against docs/openapi.yaml where the API documents it.
package smoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medi-os/medi/tests/apitest"
)

// baseURL returns MEDI_SMOKE_BASE_URL or skips the test.
func baseURL(t *testing.T) string {
	t.Helper()
	u := strings.TrimRight(os.Getenv("MEDI_SMOKE_BASE_URL"), "/")
	if u == "" {
		t.Skip("MEDI_SMOKE_BASE_URL is not set: no deployed environment to smoke-test")
	}
	if _, err := url.ParseRequestURI(u); err != nil {
		t.Fatalf("MEDI_SMOKE_BASE_URL %q: %v", u, err)
	}
	return u
}

func waitBudget(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("MEDI_SMOKE_WAIT")
	if v == "" {
		return 3 * time.Minute
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("MEDI_SMOKE_WAIT %q: %v", v, err)
	}
	return d
}

var httpClient = &http.Client{
	Timeout: 30 * time.Second,
	// Redirects are checked, not followed.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// TestHealth waits until the load balancer serves the expected release.
func TestHealth(t *testing.T) {
	t.Parallel()
	base := baseURL(t)
	want := os.Getenv("MEDI_SMOKE_VERSION")
	c := apitest.NewClient(t, base)
	deadline := time.Now().Add(waitBudget(t))
	for {
		resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/health"})
		var h struct{ Status, Version, Function string }
		if resp.Status == http.StatusOK {
			resp.Decode(t, &h)
		}
		switch {
		case resp.Status == http.StatusOK && h.Status == "ok" && (want == "" || h.Version == want):
			if resp.Envelope.RequestID == "" {
				t.Error("health response has no requestId")
			}
			return
		case time.Now().After(deadline):
			t.Fatalf("GET /v1/health: status %d, health %+v; want 200 ok with version %q", resp.Status, h, want)
		}
		t.Logf("waiting for the release: status %d, version %q", resp.Status, h.Version)
		time.Sleep(10 * time.Second)
	}
}

// TestRoutesReachFunctions checks that each public function's prefix reaches a function
// that refuses an anonymous request with the API's error envelope (not the load
// balancer's own error page, which would mean a broken route or backend).
func TestRoutesReachFunctions(t *testing.T) {
	t.Parallel()
	base := baseURL(t)
	for _, path := range []string{"/v1/me", "/v1/patients", "/v1/encounters", "/v1/queue", "/v1/triage", "/v1/notes", "/v1/summaries"} {
		t.Run(strings.TrimPrefix(path, "/v1/"), func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, base+path, "")
			var env struct {
				Success   bool   `json:"success"`
				RequestID string `json:"requestId"`
				Error     struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatalf("GET %s: status %d, not the API's JSON envelope (%v): %.200s", path, resp.StatusCode, err, body)
			}
			if env.Success || env.RequestID == "" {
				t.Errorf("GET %s anonymously: %d %s", path, resp.StatusCode, body)
			}
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("GET %s anonymously: status %d (%s), want 401 (or 404/405 from the function's router)", path, resp.StatusCode, env.Error.Code)
			}
		})
	}
}

// TestAuthenticationRequired checks that an anonymous request for the caller's profile
// is refused.
func TestAuthenticationRequired(t *testing.T) {
	t.Parallel()
	c := apitest.NewClient(t, baseURL(t))
	resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me"})
	if resp.Status != http.StatusUnauthorized || resp.Envelope.Code() != "unauthenticated" {
		t.Errorf("GET /v1/me without a token: %d %s, want 401 unauthenticated", resp.Status, resp.Body)
	}
}

// TestSignedInRead reads the smoke account's own profile.
func TestSignedInRead(t *testing.T) {
	t.Parallel()
	base := baseURL(t)
	token, err := smokeToken(t.Context(), os.Getenv, identityEndpoint)
	if errors.Is(err, errNoCredentials) {
		if os.Getenv("MEDI_SMOKE_REQUIRE_AUTH") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	c := apitest.NewClient(t, base)
	resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: token})
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /v1/me signed in: %d %s", resp.Status, resp.Body)
	}
	var me struct{ UID, Role string }
	resp.Decode(t, &me)
	if me.UID == "" || me.Role == "" {
		t.Errorf("GET /v1/me = %+v, want the account's uid and role", me)
	}
}

// TestPlainHTTPRedirects checks that http:// answers only with a redirect to https://.
func TestPlainHTTPRedirects(t *testing.T) {
	t.Parallel()
	base := baseURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" {
		t.Skip("base URL is not https")
	}
	u.Scheme = "http"
	resp, _ := get(t, u.String()+"/v1/health", "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(loc, "https://"+u.Host+"/v1/health") {
		t.Errorf("GET http://%s/v1/health: %d Location %q, want 301 to https", u.Host, resp.StatusCode, loc)
	}
}

func get(t *testing.T, rawURL, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", rawURL, err)
	}
	return resp, body
}

// identityEndpoint is Identity Platform's password sign-in.
const identityEndpoint = "https://identitytoolkit.googleapis.com/v1/accounts:signInWithPassword"

var errNoCredentials = errors.New("no smoke credentials: set MEDI_SMOKE_ID_TOKEN, or MEDI_SMOKE_API_KEY, MEDI_SMOKE_EMAIL and MEDI_SMOKE_PASSWORD")

// smokeToken returns MEDI_SMOKE_ID_TOKEN or signs the smoke account in with its password.
// Errors never include the password or the token.
func smokeToken(ctx context.Context, getenv func(string) string, endpoint string) (string, error) {
	if tok := getenv("MEDI_SMOKE_ID_TOKEN"); tok != "" {
		return tok, nil
	}
	key, email, password := getenv("MEDI_SMOKE_API_KEY"), getenv("MEDI_SMOKE_EMAIL"), getenv("MEDI_SMOKE_PASSWORD")
	if key == "" || email == "" || password == "" {
		return "", errNoCredentials
	}
	body, err := json.Marshal(map[string]any{"email": email, "password": password, "returnSecureToken": true})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"?key="+url.QueryEscape(key), strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		var uerr *url.Error // its message would hold the URL, with the key
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return "", fmt.Errorf("signing in the smoke account: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		IDToken              string `json:"idToken"`
		MFAPendingCredential string `json:"mfaPendingCredential"`
		Error                struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return "", fmt.Errorf("signing in the smoke account: status %d, unreadable answer: %w", resp.StatusCode, err)
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("signing in the smoke account: status %d %s", resp.StatusCode, out.Error.Message)
	case out.MFAPendingCredential != "":
		return "", errors.New("signing in the smoke account: it has a second factor; use an account without one")
	case out.IDToken == "":
		return "", errors.New("signing in the smoke account: no idToken in the answer")
	}
	return out.IDToken, nil
}
