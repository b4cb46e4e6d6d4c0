package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// handleListAudit lists the caller's clinic's audit records, newest first, after sealing
// the records not yet chained (so that listed records carry their seq and hash).
func (s *server) handleListAudit(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	q := r.URL.Query()
	f := audit.Filter{ClinicID: p.ClinicID, ActorUID: q.Get("actor"), PatientID: q.Get("patient"),
		Action: q.Get("action"), PageToken: q.Get("pageToken")}
	var fe []apierr.FieldError
	for _, tv := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(tv.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fe = append(fe, apierr.FieldError{Field: tv.name, Message: "must be an RFC 3339 time"})
			}
			*tv.dst = t
		}
	}
	size, err := pageSize(r, audit.MaxPageSize)
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	f.PageSize = size
	if len(fe) > 0 {
		httpx.WriteError(w, r, httpx.InvalidFields(fe))
		return
	}
	if _, err := d.chain.Seal(r.Context(), p.ClinicID); err != nil {
		logging.FromContext(r.Context()).Warn("audit sealing failed before listing", "error", err.Error())
	}
	page, err := audit.List(r.Context(), d.fs, f)
	if errors.Is(err, audit.ErrBadPageToken) {
		httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "pageToken", Message: "invalid"}}))
		return
	}
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, page)
}
