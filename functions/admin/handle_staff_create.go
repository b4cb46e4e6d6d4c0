package admin

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/staff"
)

func (s *server) handleCreateStaff(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	var in staff.NewStaff
	if err := httpx.Bind(w, r, &in, maxBody); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	p, _ := auth.FromContext(r.Context())
	out, err := d.staff.Create(r.Context(), p, in)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/staff/"+out.UID)
	httpx.WriteJSON(w, r, http.StatusCreated, out)
}
