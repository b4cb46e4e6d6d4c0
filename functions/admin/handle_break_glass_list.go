package admin

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// GrantList is the body of GET /v1/access/break-glass.
type GrantList struct {
	Grants any `json:"items"`
}

func (s *server) handleListBreakGlass(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	grants, err := d.access.List(r.Context(), p.ClinicID, r.URL.Query().Get("active") == "true")
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, GrantList{Grants: grants})
}
