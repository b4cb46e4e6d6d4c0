package auth

import (
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/ratelimit"
)

// SessionRequest is the body of POST /v1/sessions.
type SessionRequest struct {
	IDToken string `json:"idToken"`
}

// SessionInfo describes the session the cookie carries.
type SessionInfo struct {
	UID                string    `json:"uid"`
	ClinicID           string    `json:"clinicId"`
	ExpiresAt          time.Time `json:"expiresAt"`
	IdleTimeoutSeconds int       `json:"idleTimeoutSeconds"`
}

func (s *server) handleCreateSession(w http.ResponseWriter, r *http.Request) {
	var in SessionRequest
	if err := httpx.Bind(w, r, &in, maxBody); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if in.IDToken == "" {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "idToken", Message: "required"}}))
		return
	}
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if err := d.limiter.Check(ctx, ratelimit.Rule{Name: "session:ip", Key: ratelimit.ClientIP(r),
		Limit: ratelimit.Limit{N: s.cfg.SessionPerIPPerMinute, Window: time.Minute}}); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	sess, err := d.sessions.Create(ctx, in.IDToken, func(p auth.Principal) error {
		return d.limiter.Check(ctx, ratelimit.Rule{Name: "session:account", Key: p.UID,
			Limit: ratelimit.Limit{N: s.cfg.SessionPerAccountPer5Mn, Window: 5 * time.Minute}})
	})
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: auth.SessionCookieName, Value: sess.Cookie, Path: "/", MaxAge: int(sess.MaxAge.Seconds()),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	httpx.WriteJSON(w, r, http.StatusCreated, SessionInfo{
		UID: sess.UID, ClinicID: sess.ClinicID, ExpiresAt: sess.ExpiresAt,
		IdleTimeoutSeconds: int(sess.IdleTimeout.Seconds()),
	})
}
