package summarize

import (
	"net/http"
	"strconv"
	"time"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// usage answers GET /v1/summaries/usage: the caller's clinic's model spend per month
// (every purpose of the shared ledger: scribe drafts, history summaries) against the
// monthly budget in force, for the admin's chart. ?months=1..24 (default 6). No patient data: not audited.
func (h *handlers) usage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	caller, ok := auth.FromContext(ctx)
	if !ok {
		httpx.WriteError(w, r, httpx.Unauthenticated("missing principal"))
		return
	}
	months := 6
	q := r.URL.Query()
	for k := range q {
		if k != "months" {
			httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: k, Message: "unknown query parameter"}}))
			return
		}
	}
	if v := q.Get("months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 24 {
			httpx.WriteError(w, r, httpx.InvalidFields([]apierr.FieldError{{Field: "months", Message: "must be a whole number from 1 to 24"}}))
			return
		}
		months = n
	}
	l, err := h.ledger.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	rep, err := l.Report(ctx, caller.ClinicID, time.Now(), months)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, rep)
}
