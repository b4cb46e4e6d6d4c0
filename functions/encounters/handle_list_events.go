package encounters

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
)

// handleListEvents returns a page of an encounter's events (who, when, from, to, why),
// in order. Query: pageSize, pageToken. The read is audited.
func (s *server) handleListEvents(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "pageSize", "pageToken")
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	size, err := q.pageSize()
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	st, ok := s.encounterStore(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	enc, page, err := st.Events(r.Context(), p.ClinicID, r.PathValue("id"), size, q.Get("pageToken"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := st.RecordRead(r.Context(), p.ClinicID, encounter.AuditReadEvents, enc); err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, page)
}
