package auth_test

import (
	"bytes"
	"net/http"
	"testing"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/shared/mail"
)

// A reset request answers the same for an existing and an unknown address; both are
// queued (the mailer finds out), and the per-account limit answers 429.
func TestPasswordResetIsEnumerationSafeAndRateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *authfn.Config) { c.ResetPerAccountPerHour = 2 })
	known, _ := f.staff(t, "nurse", f.clinic)
	unknown := "nobody-" + newEmail(t)

	var bodies [][]byte
	for _, addr := range []string{known.Email, unknown} {
		resp := f.do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": addr})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("reset: %d %s", resp.Status, resp.Env.Data)
		}
		bodies = append(bodies, resp.Env.Data)
		f.mail.waitFor(t, mail.KindPasswordReset, addr)
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Errorf("answers differ: %s vs %s", bodies[0], bodies[1])
	}

	if resp := f.do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": unknown}); resp.Status != http.StatusAccepted {
		t.Fatalf("second request: %d", resp.Status)
	}
	resp := f.do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": unknown})
	if resp.Status != http.StatusTooManyRequests || resp.code() != "rate_limited" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third request: %d %q Retry-After %q, want 429 rate_limited", resp.Status, resp.code(), resp.Header.Get("Retry-After"))
	}
	if resp := f.do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "bad"}); resp.Status != http.StatusBadRequest {
		t.Errorf("invalid address: %d, want 400", resp.Status)
	}
}

func TestPerIPLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *authfn.Config) { c.ResetPerIPPer10Min = 1 })
	ip := []string{"X-Forwarded-For", "203.0.113.77"}
	if resp := f.do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "a-" + newEmail(t)}, ip...); resp.Status != 202 {
		t.Fatalf("first: %d", resp.Status)
	}
	if resp := f.do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "b-" + newEmail(t)}, ip...); resp.Status != 429 {
		t.Errorf("second from the same IP: %d, want 429", resp.Status)
	}
	other := []string{"X-Forwarded-For", "203.0.113.78"}
	if resp := f.do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "c-" + newEmail(t)}, other...); resp.Status != 202 {
		t.Errorf("another IP: %d, want 202", resp.Status)
	}
}

func TestEmailVerification(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s, token := f.staff(t, "doctor", f.clinic)
	if resp := f.do(t, http.MethodPost, "/v1/auth/email-verification", token, nil); resp.Status != http.StatusAccepted {
		t.Fatalf("verification: %d %s", resp.Status, resp.Env.Data)
	}
	f.mail.waitFor(t, mail.KindEmailVerification, s.Email)
	if resp := f.do(t, http.MethodPost, "/v1/auth/email-verification", "", nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("without token: %d, want 401", resp.Status)
	}
}

func TestDevOutboxOnlyInDev(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if resp := f.do(t, http.MethodGet, "/v1/dev/outbox", "", nil); resp.Status != http.StatusOK {
		t.Errorf("dev: %d, want 200", resp.Status)
	}
	prod := newFixture(t, func(c *authfn.Config) { c.Tier = "staging" })
	if resp := prod.do(t, http.MethodGet, "/v1/dev/outbox", "", nil); resp.Status != http.StatusNotFound {
		t.Errorf("staging: %d, want 404", resp.Status)
	}
}
