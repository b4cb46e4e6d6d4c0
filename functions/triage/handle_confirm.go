package triage

import (
	"net/http"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	engine "github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triagerecord"
)

// ConfirmRequest is the body of POST /v1/triage/{encounterId}/confirm.
type ConfirmRequest struct {
	// Level is the ESI level the nurse accepts, 1..5.
	Level *int `json:"level"`
	// Reason is required when Level is less urgent than the level in force.
	Reason string `json:"reason,omitempty"`
	// AssessmentID, when given, must be the assessment in force (guards against confirming
	// a proposal that a newer assessment replaced).
	AssessmentID string `json:"assessmentId,omitempty"`
}

// handleConfirm is POST /v1/triage/{encounterId}/confirm: the nurse confirms the level in
// force or overrides it (a less urgent level needs a reason and is audited as a
// down-triage; the level is frozen once a doctor has seen the patient).
func (h *handlers) handleConfirm(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	id, ok := encounterID(r)
	if !ok {
		httpx.WriteError(w, r, httpx.NotFound("encounter not found"))
		return
	}
	var body ConfirmRequest
	if err := httpx.Bind(w, r, &body, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if body.Level == nil {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "level", Message: "required: the ESI level 1..5 the nurse accepts"}}))
		return
	}
	if *body.Level < 1 || *body.Level > 5 {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "level", Message: "must be between 1 and 5"}}))
		return
	}
	c, err := h.svc.Confirm(r.Context(), triagerecord.ConfirmRequest{
		ClinicID: p.ClinicID, EncounterID: id, Level: engine.Level(*body.Level),
		Reason: body.Reason, AssessmentID: body.AssessmentID,
	})
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, c)
}
