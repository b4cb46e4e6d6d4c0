package scribe

import (
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/transcript"
)

// transcriptView is the answer of GET /v1/scribe/sessions/{id}/transcript.
type transcriptView struct {
	SessionID string `json:"sessionId"`
	NoteID    string `json:"noteId,omitempty"`
	transcript.Transcript
}

// handleGetTranscript returns the transcript of a session of the doctor's clinic (the
// parsed upload or the speech provider's result), so that the doctor can check the
// evidence spans of the draft against what was said. The read is audited before
// anything is returned; after retention has purged it the answer is 404.
func (s *server) handleGetTranscript(w http.ResponseWriter, r *http.Request) {
	st, sess, ok := s.pathSession(w, r)
	if !ok {
		return
	}
	p := principal(r)
	t, err := st.Transcript(r.Context(), p.ClinicID, sess.ID)
	if errors.Is(err, scribe.ErrNotFound) {
		if !sess.PurgedAt.IsZero() {
			httpx.WriteError(w, r, httpx.NotFound("the transcript was deleted by retention"))
			return
		}
		httpx.WriteError(w, r, httpx.NotFound("the session has no transcript yet"))
		return
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !auditRead(w, r, st.Firestore(), audit.New(r.Context(), p.ClinicID, "scribe.transcript.read", "scribeSession", sess.ID).ForPatient(sess.PatientID)) {
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, transcriptView{SessionID: sess.ID, NoteID: sess.NoteID, Transcript: t})
}
