package scribe

import (
	"net/http"
	"strconv"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/httpx"
)

// handleListVersions lists every version of a note, oldest first.
func (s *server) handleListVersions(w http.ResponseWriter, r *http.Request) {
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
	vs, err := st.Versions(r.Context(), p.ClinicID, n.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !auditRead(w, r, st.Firestore(), audit.New(r.Context(), p.ClinicID, "note.versions.read", "note", n.ID).ForPatient(n.PatientID)) {
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, map[string]any{"items": vs})
}

// handleGetVersion returns one version of a note.
func (s *server) handleGetVersion(w http.ResponseWriter, r *http.Request) {
	num, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || num < 1 {
		httpx.WriteError(w, r, httpx.NotFound("version not found"))
		return
	}
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
	v, err := st.Version(r.Context(), p.ClinicID, n.ID, num)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !auditRead(w, r, st.Firestore(), audit.New(r.Context(), p.ClinicID, "note.version.read", "note", n.ID).ForPatient(n.PatientID)) {
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, v)
}
