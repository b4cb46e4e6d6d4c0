package encounters

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
)

// handleListEncounters lists the clinic's encounters, most recent arrival first.
// Query (ids and statuses only, never patient data): status (repeated or
// comma-separated), pageSize, pageToken. Every encounter returned is audited.
func (s *server) handleListEncounters(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "status", "pageSize", "pageToken")
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	size, err := q.pageSize()
	if err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	var statuses []encounter.Status
	for _, v := range q["status"] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				statuses = append(statuses, encounter.Status(part))
			}
		}
	}
	st, ok := s.encounterStore(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	page, err := st.List(r.Context(), p.ClinicID, encounter.ListOptions{
		Statuses: statuses, PageSize: size, PageToken: q.Get("pageToken"),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := st.RecordRead(r.Context(), p.ClinicID, encounter.AuditList, page.Items...); err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, page)
}

// query is a request's query string, checked against the parameters an endpoint knows.
type query url.Values

// parseQuery refuses unknown parameters and repeated single-valued ones (all but
// status), so that a client never believes a filter was applied when it was not.
func parseQuery(r *http.Request, known ...string) (query, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, httpx.BadRequest("malformed query string")
	}
	var fields []apierr.FieldError
	for k, vs := range vals {
		switch {
		case !slices.Contains(known, k):
			fields = append(fields, apierr.FieldError{Field: k, Message: "unknown query parameter; allowed: " + strings.Join(known, ", ")})
		case k != "status" && len(vs) > 1:
			fields = append(fields, apierr.FieldError{Field: k, Message: "must be given once"})
		}
	}
	if len(fields) > 0 {
		return nil, httpx.InvalidFields(fields)
	}
	return query(vals), nil
}

// Get returns the first value of k.
func (q query) Get(k string) string { return url.Values(q).Get(k) }

// pageSize returns pageSize (0 when absent: the store's default).
func (q query) pageSize() (int, error) {
	v := q.Get("pageSize")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > encounter.MaxPageSize {
		return 0, httpx.InvalidFields([]apierr.FieldError{{Field: "pageSize", Message: "must be a number from 1 to " + strconv.Itoa(encounter.MaxPageSize)}})
	}
	return n, nil
}
