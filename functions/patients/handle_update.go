package patients

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/patient"
)

// mergePatchType is the media type of RFC 7396 bodies, accepted like application/json.
const mergePatchType = "application/merge-patch+json"

// update applies a merge patch to a patient, provided If-Match names its current
// version: 400 when If-Match is missing or malformed, 412 (with the current ETag)
// when it is stale.
func (h *handlers) update(w http.ResponseWriter, r *http.Request) {
	version, herr := ifMatchVersion(r)
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

// ifMatchVersion reads the version from If-Match: exactly one strong entity tag
// "<version>" as sent in ETag. A missing header is 400 rather than 428, so that every
// client error but a stale version shares the invalid_argument code.
func ifMatchVersion(r *http.Request) (int64, *httpx.Error) {
	field := func(msg string) *httpx.Error {
		return httpx.InvalidFields([]apierr.FieldError{{Field: "If-Match", Message: msg}})
	}
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return 0, field(`is required: send the ETag of the version you read, e.g. If-Match: "3"`)
	}
	v := strings.TrimSpace(values[0])
	if len(values) > 1 || strings.Contains(v, ",") || v == "*" {
		return 0, field("must name exactly one version")
	}
	inner, ok := strings.CutPrefix(v, `"`)
	if ok {
		inner, ok = strings.CutSuffix(inner, `"`)
	}
	n, err := strconv.ParseInt(inner, 10, 64)
	if !ok || err != nil || n < 1 || strconv.FormatInt(n, 10) != inner {
		return 0, field(`must be a version's ETag, e.g. "3"`)
	}
	return n, nil
}
