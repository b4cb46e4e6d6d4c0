package encounteroutbox

import (
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// Run is the body of a run's answer.
type Run struct {
	// Published is how many events were re-sent (and removed from the outboxes).
	Published int `json:"published"`
}

// handleRun re-sends up to Batch outbox entries. It answers 200 with the count, or 503
// (with the count as details) when reading the outboxes or publishing an entry failed;
// what failed stays in its outbox for the next run.
func (s *server) handleRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	outbox, err := s.outbox.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
		return
	}
	n, err := outbox.RedeliverOutbox(ctx, s.cfg.Batch)
	log := logging.FromContext(ctx).With("published", n)
	if err != nil {
		log.Warn("encounter outbox partly re-sent; the next run retries", "error", err.Error())
		httpx.WriteError(w, r, httpx.Unavailable(60, err).WithDetails(Run{Published: n}))
		return
	}
	if n > 0 {
		log.Info("encounter outbox re-sent")
	}
	httpx.WriteJSON(w, r, http.StatusOK, Run{Published: n})
}
