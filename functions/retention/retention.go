// Package retention is the `retention` function: Cloud Scheduler calls it (HTTP POST with
// an OIDC token of its own invoker service account) and it deletes raw scribe uploads and
// transcripts whose note was approved longer ago than the clinic's retention period.
// Bucket lifecycle rules are the backstop, not the mechanism.
package retention

import (
	"context"
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/retention"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/uploads"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// SchedulerInvokerSA is the service account Cloud Scheduler's OIDC tokens are issued
	// to (staging/prod); tokens of any other principal are refused.
	SchedulerInvokerSA string `env:"MEDI_SCHEDULER_INVOKER_SA"`
	// DevSecret authenticates calls on the local stack (the shared task secret).
	DevSecret config.Secret `env:"MEDI_DEV_TASK_SECRET"`
	// DefaultDays applies to clinics without scribeRetentionDays.
	DefaultDays int `env:"MEDI_SCRIBE_RETENTION_DAYS, default=30"`
}

// Validate refuses a configuration the function cannot run with: in staging and prod the
// scheduler's invoker account (no other caller is accepted), and a positive default period.
func (c *Config) Validate() error {
	var errs []error
	if c.Tier.IsDeployed() && c.SchedulerInvokerSA == "" {
		errs = append(errs, &config.VarError{Var: "MEDI_SCHEDULER_INVOKER_SA", Err: errors.New("required in staging and prod")})
	}
	if c.DefaultDays < 1 {
		errs = append(errs, &config.VarError{Var: "MEDI_SCRIBE_RETENTION_DAYS", Err: errors.New("must be at least 1")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "retention".
var Function = app.NewHTTP("retention", func() *Config { return new(Config) }, setup)

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	job := app.NewLazy(func(ctx context.Context) (*retention.Job, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		gcs, err := env.Platform.Storage(ctx)
		if err != nil {
			return nil, err
		}
		return &retention.Job{Sessions: scribe.NewStore(fs), Objects: uploads.GCS{Client: gcs}, DefaultDays: cfg.DefaultDays}, nil
	})
	// Only Cloud Scheduler's calls run (app.SchedulerVerifier).
	verifier := app.SchedulerVerifier(cfg.Tier, "retention", cfg.SchedulerInvokerSA, cfg.DevSecret)
	rt.HandleFunc(http.MethodPost, "/{$}", app.Scheduled(verifier, func(w http.ResponseWriter, r *http.Request) {
		j, err := job.Get(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
		rep, err := j.Run(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(60, err))
			return
		}
		logging.FromContext(r.Context()).Info("retention run", "clinics", rep.Clinics, "examined", rep.Examined, "purged", rep.Purged, "kept", rep.Kept, "failed", rep.Failed)
		httpx.WriteJSON(w, r, http.StatusOK, rep)
	}))
	return nil
}
