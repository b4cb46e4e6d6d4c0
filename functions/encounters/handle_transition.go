package encounters

import (
	"net/http"
	"strconv"
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
	if v, ok, err := ifMatchVersion(r); err != nil {
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

// ifMatchVersion reads If-Match: one entity tag, "<version>" (W/ and a bare number are
// accepted too); "*" or no header means no condition.
func ifMatchVersion(r *http.Request) (int64, bool, error) {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return 0, false, nil
	}
	bad := httpx.InvalidFields([]apierr.FieldError{{Field: "If-Match", Message: `must be one entity tag "<version>" as sent in ETag`}})
	if len(vals) > 1 {
		return 0, false, bad
	}
	v := strings.TrimSpace(vals[0])
	if v == "*" {
		return 0, false, nil
	}
	v = strings.TrimPrefix(v, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, false, bad
	}
	return n, true, nil
}
