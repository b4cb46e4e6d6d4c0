package summarizeworker

import (
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/summary"
	"github.com/medi-os/medi/shared/tasks"
)

// Result is the body of a handled delivery.
type Result struct {
	// Outcome is written, unchanged (the stored summary already had the records'
	// hash) or dropped (no such patient, or an undecodable job).
	Outcome string `json:"outcome"`
	Engine  string `json:"engine,omitempty"`
}

func (wk *worker) handleTask(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := wk.verify.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	if err := v.Verify(r); err != nil {
		httpx.WriteError(w, r, httpx.Unauthenticated("not a task delivery").WithCause(err))
		return
	}
	del := tasks.DeliveryFromRequest(r)
	log := logging.FromContext(ctx).With("queue", del.Queue, "task", del.TaskName, "retry", del.RetryCount)
	var job summary.Job
	if err := httpx.Bind(w, r, &job, 16<<10); err != nil || job.ClinicID == "" || job.PatientID == "" {
		// It will never decode: acknowledge so that it is not retried forever.
		log.Error("summary task dropped: invalid job")
		httpx.WriteJSON(w, r, http.StatusOK, Result{Outcome: "dropped"})
		return
	}
	svc, err := wk.service.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	out, err := svc.Regenerate(ctx, job)
	switch {
	case errors.Is(err, summary.ErrPatientNotFound):
		log.Warn("summary task dropped: no such patient")
		httpx.WriteJSON(w, r, http.StatusOK, Result{Outcome: "dropped"})
	case err != nil:
		// 503: the queue retries with backoff.
		log.Warn("summary regeneration failed; the queue retries", "error", err.Error())
		httpx.WriteError(w, r, httpx.Unavailable(5, errors.Join(errors.New("summary regeneration failed"), err)))
	case out.Wrote:
		httpx.WriteJSON(w, r, http.StatusOK, Result{Outcome: "written", Engine: out.Stored.Engine})
	default:
		httpx.WriteJSON(w, r, http.StatusOK, Result{Outcome: "unchanged", Engine: out.Stored.Engine})
	}
}
