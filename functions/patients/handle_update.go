package patients

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/patient"
)

// mergePatchType is the media type of RFC 7396 bodies, accepted like application/json.
const mergePatchType = "application/merge-patch+json"

// update applies a merge patch to a patient, provided If-Match names its current
// version (httpx.IfMatch, required): 428 when If-Match is missing, 400 when malformed, 412
// (with the current ETag) when it is weak or stale.
func (h *handlers) update(w http.ResponseWriter, r *http.Request) {
	version, _, herr := httpx.IfMatch(r, true)
	if herr != nil {
		httpx.WriteError(w, r, herr)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == mergePatchType {
		r.Header.Set("Content-Type", "application/json")
	}
	var body json.RawMessage
	if err := httpx.Bind(w, r, &body, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	patch, err := patient.ParsePatch(body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	st, caller, ok := h.storeFor(w, r)
	if !ok {
		return
	}
	p, err := st.Update(r.Context(), caller.ClinicID, r.PathValue("id"), version, patch)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(p.Version))
	httpx.WriteJSON(w, r, http.StatusOK, p)
}
