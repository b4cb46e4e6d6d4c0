package admin

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// handleRevokeStaffSessions answers DELETE /v1/staff/{uid}/sessions: the member is signed
// out of every device.
func (s *server) handleRevokeStaffSessions(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	out, err := d.staff.RevokeSessions(r.Context(), p, r.PathValue("uid"))
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, out)
}
