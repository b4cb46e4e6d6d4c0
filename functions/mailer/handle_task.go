package mailer

import (
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
)

// Result is the body of a handled delivery.
type Result struct {
	Outcome string `json:"outcome"`
}

func (wk *worker) handleTask(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := wk.verify.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
		return
	}
	if err := v.Verify(r); err != nil {
		httpx.WriteError(w, r, httpx.Unauthenticated("not a task delivery"))
		return
	}
	del := tasks.DeliveryFromRequest(r)
	log := logging.FromContext(ctx).With("queue", del.Queue, "task", del.TaskName, "retry", del.RetryCount)
	var t mail.Task
	if err := httpx.Bind(w, r, &t, 64<<10); err != nil {
		// A body that cannot be decoded never will be: acknowledge so that it is not
		// retried forever.
		log.Error("mail task dropped: undecodable body")
		httpx.WriteJSON(w, r, http.StatusOK, Result{Outcome: "dropped"})
		return
	}
	d, err := wk.deliver.Get(ctx)
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
		return
	}
	// Every delivery of one task carries its name: the mail goes out once however
	// often (and however concurrently) the queue delivers it.
	outcome, err := d.DeliverOnce(ctx, mail.DeliveryKey(del, t), t)
	switch {
	case errors.Is(err, mail.ErrInProgress):
		log.Info("mail task already being sent by another delivery; the queue retries")
		httpx.WriteError(w, r, httpx.Unavailable(5, err))
	case errors.Is(err, mail.ErrInvalid):
		log.Error("mail task dropped: invalid", "kind", t.Kind, "error", err.Error())
		httpx.WriteJSON(w, r, http.StatusOK, Result{Outcome: "dropped"})
	case err != nil:
		log.Warn("mail delivery failed; the queue retries", "kind", t.Kind, "error", err.Error())
		httpx.WriteError(w, r, httpx.Unavailable(10, err))
	default:
		log.Info("mail task done", "kind", t.Kind, "outcome", outcome)
		httpx.WriteJSON(w, r, http.StatusOK, Result{Outcome: outcome})
	}
}
