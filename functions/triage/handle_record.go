package triage

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	engine "github.com/medi-os/medi/shared/triage"
)

// handleRecord is POST /v1/triage/{encounterId}: records an assessment for an encounter
// of the caller's clinic, moving it waiting -> triaged on the first assessment.
func (h *handlers) handleRecord(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id, ok := encounterID(r)
	if !ok {
		httpx.WriteError(w, r, httpx.NotFound("encounter not found"))
		return
	}
	var in engine.Input
	if err := httpx.Bind(w, r, &in, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	rec, err := h.svc.Record(r.Context(), p.ClinicID, id, in, idempotency.MarkerFrom(r.Context()))
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/triage/"+id)
	httpx.WriteJSON(w, r, http.StatusCreated, rec)
}
