package encounters

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
)

// handleGetEncounter returns one encounter of the caller's clinic (another clinic's id
// is 404). The read is audited; without its audit record the data is not returned.
func (s *server) handleGetEncounter(w http.ResponseWriter, r *http.Request) {
	st, ok := s.encounterStore(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	enc, err := st.Get(r.Context(), p.ClinicID, r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := st.RecordRead(r.Context(), p.ClinicID, encounter.AuditRead, enc); err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	w.Header().Set("ETag", etag(enc.Version))
	httpx.WriteJSON(w, r, http.StatusOK, enc)
}
