package patients

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/patient"
)

// create registers a patient: 201 with the patient, its Location and ETag; 409 with
// the existing patient's id when the MRN is taken.
func (h *handlers) create(w http.ResponseWriter, r *http.Request) {
	var reg patient.Registration
	if err := httpx.Bind(w, r, &reg, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	st, caller, ok := h.storeFor(w, r)
	if !ok {
		return
	}
	p, err := st.Create(r.Context(), caller.ClinicID, reg, idempotency.MarkerFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/patients/"+p.ID)
	w.Header().Set("ETag", etag(p.Version))
	httpx.WriteJSON(w, r, http.StatusCreated, p)
}
