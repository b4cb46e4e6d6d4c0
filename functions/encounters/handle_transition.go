package encounters

import (
	"net/http"
	"strings"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
)

// transitionRequest is the body of POST /v1/encounters/{id}/transitions.
type transitionRequest struct {
	To        string `json:"to"`
	Reason    string `json:"reason"`
	DoctorUID string `json:"doctorUid"`
}

// transitionResponse is what a transition answers: the encounter as it now is and the
// event appended.
type transitionResponse struct {
	Encounter encounter.Encounter `json:"encounter"`
	Event     encounter.Event     `json:"event"`
}

// handleTransition moves an encounter to another status (optionally If-Match: "<version>").
func (s *server) handleTransition(w http.ResponseWriter, r *http.Request) {
	var req transitionRequest
	if err := httpx.Bind(w, r, &req, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	if strings.TrimSpace(req.To) == "" {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "to", Message: "required"}}))
		return
	}
	var opts []encounter.TransitionOption
	if v, ok, err := httpx.IfMatch(r, false); err != nil {
		httpx.WriteError(w, r, err)
		return
	} else if ok {
		opts = append(opts, encounter.IfVersion(v))
	}
	if req.DoctorUID != "" {
		opts = append(opts, encounter.AssignDoctor(req.DoctorUID))
	}
	st, ok := s.encounterStore(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	enc, ev, err := st.Transition(r.Context(), p.ClinicID, r.PathValue("id"), encounter.Status(strings.TrimSpace(req.To)), req.Reason, p, opts...)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(enc.Version))
	httpx.WriteJSON(w, r, http.StatusOK, transitionResponse{Encounter: enc, Event: ev})
}
