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

// TestPerIPLimit counts password resets per client address: the second-to-last
// X-Forwarded-For entry, which the load balancer appends ("<client>, <load balancer>").
func TestPerIPLimit(t *testing.T) {
	t.Parallel()
	f := authtest.New(t, func(c *authfn.Config) { c.ResetPerIPPer10Min = 1 })
	reset := func(xff ...string) int {
		var header []string
		for _, v := range xff {
			header = append(header, "X-Forwarded-For", v)
		}
		return f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": authtest.NewEmail(t)}, header...).Status
	}
	if got := reset("203.0.113.77, 35.191.0.1"); got != 202 {
		t.Fatalf("first: %d", got)
	}
	if got := reset("198.51.100.9, 203.0.113.77, 35.191.0.1"); got != 429 {
		t.Errorf("second from the same client, with a forged first entry: %d, want 429", got)
	}
	if got := reset("203.0.113.78, 35.191.0.1"); got != 202 {
		t.Errorf("another client: %d, want 202", got)
	}
}

// TestPerIPLimitWithoutTheLoadBalancer: a client that reaches the function directly and
// sends an X-Forwarded-For of its own choosing is counted by its connection's address;
// before the fix each forged address got its own counter.
func TestPerIPLimitWithoutTheLoadBalancer(t *testing.T) {
	t.Parallel()
	f := authtest.New(t, func(c *authfn.Config) { c.ResetPerIPPer10Min = 1 })
	for i, forged := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		resp := f.Do(t, http.MethodPost, "/v1/auth/password-reset", "", map[string]string{"email": authtest.NewEmail(t)}, "X-Forwarded-For", forged)
		if want := map[bool]int{true: 202, false: 429}[i == 0]; resp.Status != want {
			t.Errorf("request %d with X-Forwarded-For %s: %d, want %d", i+1, forged, resp.Status, want)
		}
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
