package admin

import (
	"net/http"
	"strconv"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/staff"
)

func (s *server) handleListStaff(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	size, err := pageSize(r, staff.MaxPageSize)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	p, _ := auth.FromContext(r.Context())
	page, err := d.staff.List(r.Context(), p.ClinicID, size, r.URL.Query().Get("pageToken"))
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, page)
}

// pageSize reads the pageSize query parameter (absent: 0, the default).
func pageSize(r *http.Request, max int) (int, error) {
	v := r.URL.Query().Get("pageSize")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, httpx.InvalidFields([]apierr.FieldError{{Field: "pageSize", Message: "must be an integer from 1 to " + strconv.Itoa(max)}})
	}
	return n, nil
}
