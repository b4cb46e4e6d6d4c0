// Package auditseal is the `audit-seal` function: Cloud Scheduler calls it every five
// minutes (HTTP POST with an OIDC token of its own invoker service account) and it
// appends every clinic's pending audit records to the clinic's hash chain
// (audit.Chain.SealAll), so that a record edited after it was written is detected by
// verification even if no admin listed or verified the trail in between. Each run does
// bounded work; what is left is sealed by the next run. Runs are idempotent and may
// overlap (each batch is one transaction on the clinic's chain head).
package auditseal

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
)

// Name is the function's entry point and Cloud Run service name.
const Name = "audit-seal"

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// SchedulerInvokerSA is the service account Cloud Scheduler's OIDC tokens are issued
	// to (staging/prod); tokens of any other principal are refused.
	SchedulerInvokerSA string `env:"MEDI_SCHEDULER_INVOKER_SA"`
	// DevSecret authenticates calls on the local stack (the shared task secret).
	DevSecret config.Secret `env:"MEDI_DEV_TASK_SECRET"`
	// MaxPerClinic and MaxPerRun bound the records one run chains.
	MaxPerClinic int `env:"MEDI_AUDIT_SEAL_MAX_PER_CLINIC, default=2000"`
	MaxPerRun    int `env:"MEDI_AUDIT_SEAL_MAX_PER_RUN, default=20000"`
	// TimeBudget is how long a run starts new clinics; it must stay well below the
	// function's timeout and the schedule's period.
	TimeBudget time.Duration `env:"MEDI_AUDIT_SEAL_TIME_BUDGET, default=2m"`
	// AnchorBucket is the Cloud Storage bucket where each run anchors every clinic's
	// verified chain head (shared/audit, anchors); required in staging and prod.
	AnchorBucket string `env:"MEDI_AUDIT_ANCHOR_BUCKET"`
}

// Validate checks the bounds and, where deployed, the scheduler's account.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxPerClinic < 1 {
		errs = append(errs, &config.VarError{Var: "MEDI_AUDIT_SEAL_MAX_PER_CLINIC", Err: errors.New("must be at least 1")})
	}
	if c.MaxPerRun < 1 {
		errs = append(errs, &config.VarError{Var: "MEDI_AUDIT_SEAL_MAX_PER_RUN", Err: errors.New("must be at least 1")})
	}
	if c.TimeBudget <= 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_AUDIT_SEAL_TIME_BUDGET", Err: errors.New("must be positive")})
	}
	if c.Tier.IsDeployed() && c.SchedulerInvokerSA == "" {
		errs = append(errs, &config.VarError{Var: "MEDI_SCHEDULER_INVOKER_SA", Err: errors.New("required in staging and prod")})
	}
	if c.Tier.IsDeployed() && c.AnchorBucket == "" {
		errs = append(errs, &config.VarError{Var: "MEDI_AUDIT_ANCHOR_BUCKET", Err: errors.New("required in staging and prod")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "audit-seal".
var Function = app.NewHTTP(Name, func() *Config { return new(Config) }, setup)

// Sealer is what a run needs of the audit chain (*audit.Chain).
type Sealer interface {
	SealAll(ctx context.Context, opts audit.SweepOptions) (audit.SweepReport, error)
}

type server struct {
	cfg    *Config
	sealer *app.Lazy[Sealer]
	now    func() time.Time
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	s := &server{
		cfg: cfg,
		now: time.Now,
		sealer: app.NewLazy(func(ctx context.Context) (Sealer, error) {
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return app.AuditChain(ctx, env.Platform, fs, cfg.AnchorBucket)
		}),
	}
	// Only Cloud Scheduler's calls run (app.SchedulerVerifier).
	rt.HandleFunc(http.MethodPost, "/{$}", app.Scheduled(
		app.SchedulerVerifier(cfg.Tier, Name, cfg.SchedulerInvokerSA, cfg.DevSecret), s.handleRun))
	return nil
}
