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
	st, sess, ok := s.pathSession(w, r)
	if !ok {
		return
	}
	if !auditRead(w, r, st.Firestore(), audit.New(r.Context(), principal(r).ClinicID, "scribe.session.read", "scribeSession", sess.ID).ForPatient(sess.PatientID)) {
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, sess)
}

// pathSession reads the session {id} of the caller's clinic, or answers 404 (or the
// store's error) and returns false.
func (s *server) pathSession(w http.ResponseWriter, r *http.Request) (*scribe.Store, scribe.Session, bool) {
	st, ok := lazy(w, r, s.sessions)
	if !ok {
		return nil, scribe.Session{}, false
	}
	sess, err := st.Get(r.Context(), principal(r).ClinicID, r.PathValue("id"))
	if errors.Is(err, scribe.ErrNotFound) {
		httpx.WriteError(w, r, httpx.NotFound("session not found"))
		return nil, scribe.Session{}, false
	}
	if err != nil {
		writeError(w, r, err)
		return nil, scribe.Session{}, false
	}
	return st, sess, true
}
