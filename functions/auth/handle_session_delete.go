package auth

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// LoggedOut is the body of DELETE /v1/sessions.
type LoggedOut struct {
	Status string `json:"status"`
}

// handleDeleteSession logs out: the session record is deleted and the user's refresh
// tokens revoked (every session and ID token of the user stops working). A bearer-token
// caller is logged out everywhere the same way.
func (s *server) handleDeleteSession(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	if c, err := r.Cookie(auth.SessionCookieName); err == nil && c.Value != "" && r.Header.Get("Authorization") == "" {
		if err := d.sessions.End(r.Context(), c.Value); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
	} else {
		a, err := s.env.Authenticator(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
		p, err := a.Authenticate(r)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if err := d.sessions.EndForUser(r.Context(), p.UID); err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: auth.SessionCookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	httpx.WriteJSON(w, r, http.StatusOK, LoggedOut{Status: "logged_out"})
}
