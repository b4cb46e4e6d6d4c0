package scribe

import (
	"net/http"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/httpx"
)

// handleGetNote returns a note of the caller's clinic (current content and status).
func (s *server) handleGetNote(w http.ResponseWriter, r *http.Request) {
	st, ok := lazy(w, r, s.notes)
	if !ok {
		return
	}
	p := principal(r)
	n, err := st.Get(r.Context(), p.ClinicID, r.PathValue("id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !auditRead(w, r, st.Firestore(), audit.New(r.Context(), p.ClinicID, "note.read", "note", n.ID).ForPatient(n.PatientID)) {
		return
	}
	w.Header().Set("ETag", etag(n.CurrentVersion))
	httpx.WriteJSON(w, r, http.StatusOK, n)
}
