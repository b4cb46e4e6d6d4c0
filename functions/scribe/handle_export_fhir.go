package scribe

import (
	"net/http"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/notes"
)

// handleExportFHIR exports the note's current version as a FHIR R4 Bundle holding a
// DocumentReference and its Composition, served as the resource itself
// (application/fhir+json, no envelope) so a FHIR client reads it as is; errors keep the
// API's error envelope.
func (s *server) handleExportFHIR(w http.ResponseWriter, r *http.Request) {
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
	v, err := st.Version(r.Context(), p.ClinicID, n.ID, n.CurrentVersion)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !auditRead(w, r, st.Firestore(), audit.New(r.Context(), p.ClinicID, "note.export", "note", n.ID).ForPatient(n.PatientID)) {
		return
	}
	httpx.WriteMedia(w, r, http.StatusOK, notes.FHIRMediaType, notes.FHIRExport(n, v))
}
