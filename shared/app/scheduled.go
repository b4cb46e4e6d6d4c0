package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/tasks"
)

// SchedulerVerifier returns how a scheduled job (a function Cloud Scheduler calls) checks
// its caller, made on first use: like a task worker (NewTaskVerifier), the OIDC token of the
// scheduler's own invoker account sa for the function's URL in staging/prod, the local
// stack's shared secret in dev. A deployed job without sa refuses every call.
func SchedulerVerifier(tier config.Tier, self, sa string, devSecret config.Secret) *Lazy[tasks.Verifier] {
	return NewLazy(func(ctx context.Context) (tasks.Verifier, error) {
		if tier.IsDeployed() && sa == "" {
			return nil, errors.New("MEDI_SCHEDULER_INVOKER_SA is required")
		}
		return NewTaskVerifier(ctx, tier, self, TasksConfig{InvokerServiceAccount: sa, DevSecret: devSecret})
	})
}

// Scheduled runs a scheduled job's handler for the calls v accepts. It answers 503 (retry
// after 5 s) when the verifier cannot be made, and 401 unauthenticated ("not a scheduler
// call") when the call is not the scheduler's, without running job.
func Scheduled(v *Lazy[tasks.Verifier], job http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		verifier, err := v.Get(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(5, err))
			return
		}
		if err := verifier.Verify(r); err != nil {
			httpx.WriteError(w, r, httpx.Unauthenticated("not a scheduler call").WithCause(err))
			return
		}
		job(w, r)
	}
}
