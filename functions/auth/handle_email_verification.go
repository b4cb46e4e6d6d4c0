package auth

import (
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	medimail "github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/ratelimit"
)

// handleEmailVerification queues a verification mail to the caller's own address.
func (s *server) handleEmailVerification(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	if p.Email == "" {
		httpx.WriteError(w, r, httpx.PreconditionFailed("the account has no e-mail address"))
		return
	}
	err := d.limiter.Check(r.Context(),
		ratelimit.Rule{Name: "verify:account", Key: p.UID, Limit: ratelimit.Limit{N: s.cfg.ResetPerAccountPerHour, Window: time.Hour}})
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if err := d.mail.Enqueue(r.Context(), medimail.Task{Kind: medimail.KindEmailVerification, To: p.Email}); err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusAccepted, Accepted{Status: "queued"})
}
