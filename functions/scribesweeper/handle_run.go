package scribesweeper

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// handleRun sweeps once. It answers 200 with the counts (scribe.SweepReport), or 503
// (with the counts as details) when the query or a session failed, so that Cloud
// Scheduler retries; what was decided stays decided.
func (s *server) handleRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sw, err := s.sweeper.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
		return
	}
	rep, err := sw.Sweep(ctx)
	log := logging.FromContext(ctx).With("stale", rep.Stale, "requeued", rep.Requeued, "failed", rep.Failed)
	if err != nil {
		log.Warn("scribe sweep incomplete; the scheduler retries", "error", err.Error())
		httpx.WriteError(w, r, httpx.Unavailable(30, err).WithDetails(rep))
		return
	}
	if rep.Stale > 0 {
		log.Info("scribe sweep")
	}
	httpx.WriteJSON(w, r, http.StatusOK, rep)
}
