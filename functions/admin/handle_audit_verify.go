package admin

import (
	"net/http"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
)

// verifySealBound bounds the pending records a verification seals first (the scheduled
// seal chains the rest).
const verifySealBound = 1000

// handleVerifyAudit seals pending records (at most verifySealBound), then recomputes the
// clinic's chain from its latest anchored checkpoint to the head (audit.Chain.Verify, at
// most audit.DefaultVerifyTail records) and reports the first break and the checkpoint it
// trusted (200 either way: the report is the answer).
func (s *server) handleVerifyAudit(w http.ResponseWriter, r *http.Request) {
	d, ok := s.get(w, r)
	if !ok {
		return
	}
	p, _ := auth.FromContext(r.Context())
	if _, err := d.chain.SealUpTo(r.Context(), p.ClinicID, verifySealBound); err != nil {
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
