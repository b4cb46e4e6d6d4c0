package admin

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// handleVerifyAudit seals pending records, then recomputes the clinic's chain and
// reports the first break (200 either way: the report is the answer).
func (s *server) handleVerifyAudit(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	if _, err := d.chain.Seal(r.Context(), p.ClinicID); err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	v, err := d.chain.Verify(r.Context(), p.ClinicID)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	httpx.WriteJSON(w, r, http.StatusOK, v)
}
