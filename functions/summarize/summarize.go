// Package summarize is the `summarize` HTTP function: it serves a
// patient's history summary, cached by the hash of its source records, and enqueues its
// regeneration on the "summaries" queue (handled by summarize-worker). Logic lives in
// shared/summary.
//
// Endpoints (see docs/openapi.yaml):
//
//	GET /v1/summaries/{patientId}[?refresh=true]  doctor, nurse
//	GET /v1/summaries/usage[?months=6]            admin: the clinic's model spend and budget
//
// The clinic always comes from the caller's token: a patient of another clinic is
// answered 404 like a missing one. Every read is audited (fail closed).
package summarize

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/ratelimit"
	"github.com/medi-os/medi/shared/summary"
)

// WorkerName is the function regeneration tasks go to.
const WorkerName = "summarize-worker"

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig
	// RefreshLimit forced rebuilds are allowed per patient and RefreshWindow.
	RefreshLimit  int           `env:"MEDI_SUMMARY_REFRESH_LIMIT, default=3"`
	RefreshWindow time.Duration `env:"MEDI_SUMMARY_REFRESH_WINDOW, default=10m"`
	// MonthlyBudgetUSD is the default monthly model budget per clinic that
	// GET /v1/summaries/usage reports (the value summarize-worker enforces).
	MonthlyBudgetUSD float64 `env:"MEDI_LLM_MONTHLY_BUDGET_USD, default=50"`
}

// Validate checks the refresh limit.
func (c *Config) Validate() error {
	var errs []error
	if c.RefreshLimit < 1 {
		errs = append(errs, &config.VarError{Var: "MEDI_SUMMARY_REFRESH_LIMIT", Err: errors.New("must be at least 1")})
	}
	if c.RefreshWindow < time.Second {
		errs = append(errs, &config.VarError{Var: "MEDI_SUMMARY_REFRESH_WINDOW", Err: errors.New("must be at least 1s")})
	}
	if c.MonthlyBudgetUSD < 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_LLM_MONTHLY_BUDGET_USD", Err: errors.New("must not be negative")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "summarize".
var Function = app.NewHTTP("summarize", func() *Config { return new(Config) }, setup)

// readers may read summaries.
var readers = []auth.Role{auth.RoleDoctor, auth.RoleNurse}

// handlers holds what the handlers share; clients are created on first use.
type handlers struct {
	cfg     *Config
	service *app.Lazy[*summary.Service]
	limiter *app.Lazy[*ratelimit.Limiter]
	ledger  *app.Lazy[*llm.FirestoreLedger]
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	h := &handlers{
		cfg: cfg,
		service: app.NewLazy(func(ctx context.Context) (*summary.Service, error) {
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			q, err := env.Enqueuer(cfg.TasksConfig)
			if err != nil {
				return nil, err
			}
			url, err := app.FunctionURL(WorkerName)
			if err != nil {
				return nil, err
			}
			return summary.NewService(fs, nil, q, url), nil
		}),
		limiter: app.NewLazy(func(ctx context.Context) (*ratelimit.Limiter, error) {
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return ratelimit.New(fs, nil), nil
		}),
	}
	h.ledger = app.NewLazy(func(ctx context.Context) (*llm.FirestoreLedger, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		return &llm.FirestoreLedger{FS: fs, DefaultCapUSD: cfg.MonthlyBudgetUSD}, nil
	})
	rt.Handle(http.MethodGet, "/v1/summaries/{patientId}", httpx.Chain(http.HandlerFunc(h.get), env.Require(readers...)))
	rt.Handle(http.MethodGet, "/v1/summaries/usage", httpx.Chain(http.HandlerFunc(h.usage), env.Require(auth.RoleAdmin)))
	return nil
}
