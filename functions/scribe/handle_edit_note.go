package scribe

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/notes"
)

// editRequest is the body of PUT /v1/notes/{id} and POST /v1/notes/{id}/amend.
type editRequest struct {
	BaseVersion int            `json:"baseVersion"`
	Content     *notes.Content `json:"content"`
}

// handleEditNote stores edited content as a new version; baseVersion must be the current
// version (412 otherwise).
func (s *server) handleEditNote(w http.ResponseWriter, r *http.Request) {
	var req editRequest
	if err := httpx.Bind(w, r, &req, 256<<10); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	s.apply(w, r, notes.Change{Action: notes.ActionEdit, BaseVersion: req.BaseVersion, Content: req.Content})
}

// apply validates and performs a change, answering the note.
func (s *server) apply(w http.ResponseWriter, r *http.Request, ch notes.Change) {
	if (ch.Action == notes.ActionEdit || ch.Action == notes.ActionAmend) && ch.Content == nil {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "content", Message: "required"}}))
		return
	}
	if ch.BaseVersion < 0 {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "baseVersion", Message: "must be a version number"}}))
		return
	}
	// If-Match follows the suite's one rule (httpx.IfMatch); baseVersion in the body is
	// the same condition for clients that cannot set headers. Given both, they must agree.
	if v, ok, herr := httpx.IfMatch(r, false); herr != nil {
		httpx.WriteError(w, r, herr)
		return
	} else if ok {
		if ch.BaseVersion != 0 && int64(ch.BaseVersion) != v {
			httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "baseVersion", Message: "must match If-Match when both are sent"}}))
			return
		}
		ch.BaseVersion = int(v)
	}
	if (ch.Action == notes.ActionEdit || ch.Action == notes.ActionAmend) && ch.BaseVersion == 0 {
		httpx.WriteError(w, r, httpx.NewError(http.StatusPreconditionRequired, httpx.CodePreconditionRequired,
			`an edit names the version it is based on: send If-Match with the note's ETag, e.g. If-Match: "3" (or baseVersion)`))
		return
	}
	st, ok := lazy(w, r, s.notes)
	if !ok {
		return
	}
	n, err := st.Apply(r.Context(), principal(r).ClinicID, r.PathValue("id"), ch)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", etag(n.CurrentVersion))
	httpx.WriteJSON(w, r, http.StatusOK, n)
}

// actionRequest is the body of submit, approve and reject.
type actionRequest struct {
	BaseVersion int    `json:"baseVersion"`
	Reason      string `json:"reason"`
}

// action serves POST /v1/notes/{id}/{submit|approve|reject|amend}.
func (s *server) action(a notes.Action) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a == notes.ActionAmend {
			var req editRequest
			if err := httpx.Bind(w, r, &req, 256<<10); err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			s.apply(w, r, notes.Change{Action: a, BaseVersion: req.BaseVersion, Content: req.Content})
			return
		}
		var req actionRequest
		if err := httpx.Bind(w, r, &req, 0); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if a != notes.ActionReject && strings.TrimSpace(req.Reason) != "" {
			httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "reason", Message: fmt.Sprintf("only reject takes a reason, not %s", a)}}))
			return
		}
		s.apply(w, r, notes.Change{Action: a, BaseVersion: req.BaseVersion, Reason: req.Reason})
	})
}

// etag is the entity tag of a note version.
func etag(version int) string { return httpx.ETag(int64(version)) }
