package patients

import (
	"net/http"
	"strconv"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
)

// encounters lists a patient's encounters, newest arrival first. Query parameters:
// pageSize (1-50, default 20) and pageToken (the previous page's nextPageToken);
// neither carries patient data.
func (h *handlers) encounters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 0
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n == 0 { // an explicit 0 is out of range, not "default"
			httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "pageSize", Message: "must be an integer between 1 and 50"}}))
			return
		}
		size = n
	}
	st, caller, ok := h.storeFor(w, r)
	if !ok {
		return
	}
	page, err := st.ListEncounters(r.Context(), caller.ClinicID, r.PathValue("id"), size, q.Get("pageToken"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, page)
}
