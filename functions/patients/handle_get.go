package patients

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
)

// get returns one patient of the caller's clinic with its version as ETag.
func (h *handlers) get(w http.ResponseWriter, r *http.Request) {
	st, caller, ok := h.storeFor(w, r)
	if !ok {
		return
	}
	p, err := st.Get(r.Context(), caller.ClinicID, r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	httpx.WriteJSON(w, r, http.StatusOK, p)
}
