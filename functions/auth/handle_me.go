package auth

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/staff"
)

// Me is the body of GET /v1/me.
type Me struct {
	UID      string    `json:"uid"`
	Email    string    `json:"email"`
	Role     auth.Role `json:"role"`
	ClinicID string    `json:"clinicId"`
	// Profile is users/{uid}; null for an account created outside staff management or
	// when the profile store is unreachable (identity still answers).
	Profile *staff.Profile `json:"profile"`
}

func (s *server) handleMe(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	me := Me{UID: p.UID, Email: p.Email, Role: p.Role, ClinicID: p.ClinicID}
	if d, err := s.deps.Get(r.Context()); err == nil {
		prof, ok, err := d.staff.Lookup(r.Context(), p.UID)
		switch {
		case err != nil:
			logging.FromContext(r.Context()).Warn("profile unavailable for /v1/me", "error", err.Error())
		case ok:
			me.Profile = &prof
		}
	}
	httpx.WriteJSON(w, r, http.StatusOK, me)
}
