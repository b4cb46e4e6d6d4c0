package admin

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// handleLiftBreakGlassBlock lifts the block a revoked grant puts on its grantee's new
// grants on the same patient (DELETE /v1/access/break-glass/{id}/block).
func (s *server) handleLiftBreakGlassBlock(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	g, err := d.access.LiftBlock(r.Context(), p, r.PathValue("id"))
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, g)
}
