package scribe

import (
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/scribe"
)

// handleGetSession returns a session of the caller's clinic with its status, timings
// and, when failed, the reason.
func (s *server) handleGetSession(w http.ResponseWriter, r *http.Request) {
	st, ok := lazy(w, r, s.sessions)
	if !ok {
		return
	}
	p := principal(r)
	sess, err := st.Get(r.Context(), p.ClinicID, r.PathValue("id"))
	if errors.Is(err, scribe.ErrNotFound) {
		httpx.WriteError(w, r, httpx.NotFound("session not found"))
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !auditRead(w, r, st.Firestore(), audit.New(r.Context(), p.ClinicID, "scribe.session.read", "scribeSession", sess.ID).ForPatient(sess.PatientID)) {
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, sess)
}
