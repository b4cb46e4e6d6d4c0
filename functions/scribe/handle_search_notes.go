package scribe

import (
	"net/http"
	"strings"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/httpx"
)

// searchNotesRequest is the body of POST /v1/notes/search: exactly one criterion (ids
// are searched in a body, never in a query string).
type searchNotesRequest struct {
	EncounterID string `json:"encounterId"`
	PatientID   string `json:"patientId"`
}

// handleSearchNotes lists the clinic's notes of an encounter or of a patient.
func (s *server) handleSearchNotes(w http.ResponseWriter, r *http.Request) {
	var req searchNotesRequest
	if err := httpx.Bind(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	enc, pat := strings.TrimSpace(req.EncounterID), strings.TrimSpace(req.PatientID)
	if (enc == "") == (pat == "") {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "encounterId", Message: "give exactly one of encounterId and patientId"}}))
		return
	}
	for _, c := range []struct{ field, id string }{{"encounterId", enc}, {"patientId", pat}} {
		if c.id != "" && !docid.Valid(c.id) {
			httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: c.field, Message: "not an id"}}))
			return
		}
	}
	st, ok := lazy(w, r, s.notes)
	if !ok {
		return
	}
	field, value, rtype := "encounterId", enc, "encounter"
	if pat != "" {
		field, value, rtype = "patientId", pat, "patient"
	}
	p := principal(r)
	list, err := st.List(r.Context(), p.ClinicID, field, value)
	if err != nil {
		writeError(w, r, err)
		return
	}
	rec := audit.New(r.Context(), p.ClinicID, "note.search", rtype, value)
	if pat != "" {
		rec = rec.ForPatient(pat)
	} else if len(list) > 0 {
		rec = rec.ForPatient(list[0].PatientID)
	}
	if !auditRead(w, r, st.Firestore(), rec) {
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, map[string]any{"items": list})
}
