// Package scribesweeper is the `scribe-sweeper` function: Cloud Scheduler calls it every
// minute (HTTP POST with an OIDC token of its own invoker service account) and it ends
// scribe sessions that stopped moving (scribe.Sweeper): a session in uploaded,
// transcribing or drafting unchanged for MEDI_SCRIBE_STALE_AFTER gets its scribe job
// enqueued again, and one uploaded MEDI_SCRIBE_GIVE_UP_AFTER ago without a draft fails
// with processing_timed_out; one still awaiting its upload MEDI_SCRIBE_ABANDON_AFTER after it
// was made fails with upload_not_received. Runs are idempotent and may overlap.
package scribesweeper

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/scribe"
)

// Name is the function's entry point and Cloud Run service name.
const Name = "scribe-sweeper"

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// TasksConfig enqueues scribe jobs (the tasks invoker account, the dev secret).
	app.TasksConfig
	// SchedulerInvokerSA is the service account Cloud Scheduler's OIDC tokens are issued
	// to (staging/prod); tokens of any other principal are refused.
	SchedulerInvokerSA string `env:"MEDI_SCHEDULER_INVOKER_SA"`
	// StaleAfter: a session unchanged this long gets its job again.
	StaleAfter time.Duration `env:"MEDI_SCRIBE_STALE_AFTER, default=10m"`
	// GiveUpAfter: a session uploaded this long ago without a draft fails.
	GiveUpAfter time.Duration `env:"MEDI_SCRIBE_GIVE_UP_AFTER, default=30m"`
	// AbandonAfter: a session still awaiting its upload this long after it was made fails
	// (longer than the upload link's lifetime plus the longest upload).
	AbandonAfter time.Duration `env:"MEDI_SCRIBE_ABANDON_AFTER, default=2h"`
	// Limit bounds the sessions one run looks at.
	Limit int `env:"MEDI_SCRIBE_SWEEP_LIMIT, default=200"`
}

// Validate checks the bounds and, where deployed, the scheduler's account.
func (c *Config) Validate() error {
	var errs []error
	if c.StaleAfter <= 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_SCRIBE_STALE_AFTER", Err: errors.New("must be positive")})
	}
	if c.GiveUpAfter <= c.StaleAfter {
		errs = append(errs, &config.VarError{Var: "MEDI_SCRIBE_GIVE_UP_AFTER", Err: errors.New("must be longer than MEDI_SCRIBE_STALE_AFTER")})
	}
	if c.AbandonAfter < 30*time.Minute {
		errs = append(errs, &config.VarError{Var: "MEDI_SCRIBE_ABANDON_AFTER", Err: errors.New("must be at least 30m (the upload link's 15 minutes and the upload through it)")})
	}
	if c.Limit < 1 {
		errs = append(errs, &config.VarError{Var: "MEDI_SCRIBE_SWEEP_LIMIT", Err: errors.New("must be at least 1")})
	}
	if c.Tier.IsDeployed() && c.SchedulerInvokerSA == "" {
		errs = append(errs, &config.VarError{Var: "MEDI_SCHEDULER_INVOKER_SA", Err: errors.New("required in staging and prod")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "scribe-sweeper".
var Function = app.NewHTTP(Name, func() *Config { return new(Config) }, setup)

// Sweeper is what a run needs (*scribe.Sweeper).
type Sweeper interface {
	Sweep(ctx context.Context) (scribe.SweepReport, error)
}

type server struct {
	sweeper *app.Lazy[Sweeper]
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	s := &server{
		sweeper: app.NewLazy(func(ctx context.Context) (Sweeper, error) {
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			q, err := env.Enqueuer(cfg.TasksConfig)
			if err != nil {
				return nil, err
			}
			url, err := app.FunctionURL("scribe-worker")
			if err != nil {
				return nil, err
			}
			return &scribe.Sweeper{Sessions: scribe.NewStore(fs), Tasks: q, WorkerURL: url + "/",
				StaleAfter: cfg.StaleAfter, GiveUpAfter: cfg.GiveUpAfter, AbandonAfter: cfg.AbandonAfter, Limit: cfg.Limit}, nil
		}),
	}
	// Only Cloud Scheduler's calls run (app.SchedulerVerifier).
	rt.HandleFunc(http.MethodPost, "/{$}", app.Scheduled(
		app.SchedulerVerifier(cfg.Tier, Name, cfg.SchedulerInvokerSA, cfg.DevSecret), s.handleRun))
	return nil
}
