package auditseal

import (
	"net/http"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// handleRun seals every clinic's pending records within the run's bounds. It answers 200
// with the counts (audit.SweepReport), or 503 (with the counts as details) when listing the clinics or
// sealing one of them failed, so that Cloud Scheduler retries; what was sealed stays
// sealed.
func (s *server) handleRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sealer, err := s.sealer.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
		return
	}
	rep, err := sealer.SealAll(ctx, audit.SweepOptions{
		MaxPerClinic: s.cfg.MaxPerClinic,
		MaxRecords:   s.cfg.MaxPerRun,
		Deadline:     s.now().Add(s.cfg.TimeBudget),
	})
	log := logging.FromContext(ctx).With("clinics", rep.Clinics, "clinicsSealed", rep.ClinicsSealed,
		"sealed", rep.Sealed, "pending", rep.Pending, "failed", rep.Failed)
	if err != nil {
		log.Warn("audit seal run incomplete; the scheduler retries", "error", err.Error())
		httpx.WriteError(w, r, httpx.Unavailable(60, err).WithDetails(rep))
		return
	}
	if rep.Broken > 0 {
		// A chain that no longer verifies from its anchor: the trail was altered after it
		// was anchored. The anchor stays where it was; an operator must investigate
		// (docs/reliability.md, "Audit trail").
		log.Error("audit chain broken: verification from the latest anchor failed", "broken", rep.Broken)
	}
	log.Info("audit seal run", "anchored", rep.Anchored)
	httpx.WriteJSON(w, r, http.StatusOK, rep)
}
