package patients

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/patient"
)

// search finds patients by the criteria in the body (never in the URL).
func (h *handlers) search(w http.ResponseWriter, r *http.Request) {
	var c patient.Criteria
	if err := httpx.Bind(w, r, &c, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	st, caller, ok := h.storeFor(w, r)
	if !ok {
		return
	}
	page, err := st.Search(r.Context(), caller.ClinicID, c)
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, page)
}
