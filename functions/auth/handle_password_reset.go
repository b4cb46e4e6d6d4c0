package auth

import (
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	medimail "github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/ratelimit"
)

// PasswordResetRequest is the body of POST /v1/auth/password-reset.
type PasswordResetRequest struct {
	Email string `json:"email"`
}

// Accepted is the body of the 202 answers of the mail endpoints.
type Accepted struct {
	Status string `json:"status"`
}

// handlePasswordReset queues a reset mail and answers 202 whether or not an account has
// the address: the mailer looks the account up, so the work done here (and its timing)
// is the same either way.
func (s *server) handlePasswordReset(w http.ResponseWriter, r *http.Request) {
	var in PasswordResetRequest
	if err := httpx.Bind(w, r, &in, maxBody); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "email", Message: "must be one e-mail address"}}))
		return
	}
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	err := d.limiter.Check(r.Context(),
		ratelimit.Rule{Name: "reset:ip", Key: ratelimit.ClientIP(r), Limit: ratelimit.Limit{N: s.cfg.ResetPerIPPer10Min, Window: 10 * time.Minute}},
		ratelimit.Rule{Name: "reset:account", Key: medimail.AddressKey(email), Limit: ratelimit.Limit{N: s.cfg.ResetPerAccountPerHour, Window: time.Hour}},
	)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if err := d.mail.Enqueue(r.Context(), medimail.Task{Kind: medimail.KindPasswordReset, To: email}); err != nil {
		logging.FromContext(r.Context()).Error("password reset mail not queued", "error", err.Error())
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusAccepted, Accepted{Status: "queued"})
}
