package patients

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/patient"
)

// registered is the answer to a registration: the patient, and the clinic's other patients
// with the same name and birth date when there are any (a likely duplicate record).
type registered struct {
	patient.Patient
	PossibleDuplicates []patient.Summary `json:"possibleDuplicates,omitempty"`
}

// create registers a patient: 201 with the patient, its Location and ETag, and
// possibleDuplicates when the clinic already has patients with that name and birth date;
// 409 with the existing patient's id when the MRN is taken.
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
	// The likely duplicates are looked up alongside the registration's transaction, not
	// after it: the answer waits for one round trip fewer.
	lookup := st.StartDuplicateLookup(r.Context(), caller.ClinicID, reg)
	p, err := st.Create(r.Context(), caller.ClinicID, reg, idempotency.MarkerFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	// The registration has committed: a failed look-up only loses the warning.
	dups, err := lookup.Result(r.Context(), p)
	if err != nil {
		logging.FromContext(r.Context()).Warn("likely-duplicate check failed after a registration", "error", err.Error())
	}
	w.Header().Set("Location", "/v1/patients/"+p.ID)
	w.Header().Set("ETag", etag(p.Version))
	httpx.WriteJSON(w, r, http.StatusCreated, registered{Patient: p, PossibleDuplicates: dups})
}
