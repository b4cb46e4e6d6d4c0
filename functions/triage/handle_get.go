package triage

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/httpx"
)

// handleGet is GET /v1/triage/{encounterId}: the assessment in force and every
// assessment of the encounter (an audited read).
func (h *handlers) handleGet(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id, ok := encounterID(r)
	if !ok {
		httpx.WriteError(w, r, httpx.NotFound("encounter not found"))
		return
	}
	hist, err := h.svc.History(r.Context(), p.ClinicID, id)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, hist)
}

// encounterID returns the path's encounter id and whether it can name an encounter.
func encounterID(r *http.Request) (string, bool) {
	id := r.PathValue("encounterId")
	return id, docid.Valid(id)
}
