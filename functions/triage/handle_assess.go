package triage

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	engine "github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triagerecord"
)

// handleAssess is POST /v1/triage/assess: the engine on the body, nothing stored, for the
// nurse's app to show the proposal while the nurse types.
func handleAssess(w http.ResponseWriter, r *http.Request) {
	var in engine.Input
	if err := httpx.Bind(w, r, &in, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	res, err := triagerecord.Assess(in)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, res)
}
