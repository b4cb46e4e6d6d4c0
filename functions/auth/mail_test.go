package auth_test

import (
	"bytes"
	"net/http"
	"testing"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/auth/authtest"
	"github.com/medi-os/medi/shared/mail"
)

// A reset request answers the same for an existing and an unknown address; both are
// queued (the mailer finds out), and the per-account limit answers 429.
func TestPasswordResetIsEnumerationSafeAndRateLimited(t *testing.T) {
	t.Parallel()
	f := authtest.New(t, func(c *authfn.Config) { c.ResetPerAccountPerHour = 2 })
	known, _ := f.Staff(t, "nurse", f.Clinic)
	unknown := "nobody-" + authtest.NewEmail(t)

	var bodies [][]byte
	for _, addr := range []string{known.Email, unknown} {
		resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": addr})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("reset: %d %s", resp.Status, resp.Env.Data)
		}
		bodies = append(bodies, resp.Env.Data)
		f.Mail.WaitFor(t, mail.KindPasswordReset, addr)
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Errorf("answers differ: %s vs %s", bodies[0], bodies[1])
	}

	if resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": unknown}); resp.Status != http.StatusAccepted {
		t.Fatalf("second request: %d", resp.Status)
	}
	resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": unknown})
	if resp.Status != http.StatusTooManyRequests || resp.Code() != "rate_limited" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third request: %d %q Retry-After %q, want 429 rate_limited", resp.Status, resp.Code(), resp.Header.Get("Retry-After"))
	}
	if resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "bad"}); resp.Status != http.StatusBadRequest {
		t.Errorf("invalid address: %d, want 400", resp.Status)
	}
}

func TestPerIPLimit(t *testing.T) {
	t.Parallel()
	f := authtest.New(t, func(c *authfn.Config) { c.ResetPerIPPer10Min = 1 })
	ip := []string{"X-Forwarded-For", "203.0.113.77"}
	if resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "a-" + authtest.NewEmail(t)}, ip...); resp.Status != 202 {
		t.Fatalf("first: %d", resp.Status)
	}
	if resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "b-" + authtest.NewEmail(t)}, ip...); resp.Status != 429 {
		t.Errorf("second from the same IP: %d, want 429", resp.Status)
	}
	other := []string{"X-Forwarded-For", "203.0.113.78"}
	if resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": "c-" + authtest.NewEmail(t)}, other...); resp.Status != 202 {
		t.Errorf("another IP: %d, want 202", resp.Status)
	}
}

func TestEmailVerification(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	s, token := f.Staff(t, "doctor", f.Clinic)
	if resp := f.Do(t, http.MethodPost, "/v1/auth/email-verification", token, nil); resp.Status != http.StatusAccepted {
		t.Fatalf("verification: %d %s", resp.Status, resp.Env.Data)
	}
	f.Mail.WaitFor(t, mail.KindEmailVerification, s.Email)
	if resp := f.Do(t, http.MethodPost, "/v1/auth/email-verification", "", nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("without token: %d, want 401", resp.Status)
	}
}
