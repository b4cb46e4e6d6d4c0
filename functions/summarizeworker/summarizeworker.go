// Package summarizeworker is the `summarize-worker` function: Cloud Tasks (queue
// "summaries") POSTs a job per patient and source hash; it rebuilds the patient's history
// summary from the current records and stores it at clinics/{c}/summaries/{patientId}
// (shared/summary). Duplicate deliveries write once: a summary that already has the
// records' hash is left as it is.
package summarizeworker

import (
	"context"
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/summary"
	"github.com/medi-os/medi/shared/tasks"
)

// Name is the function's name (entry point, task target).
const Name = "summarize-worker"

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig
	// Engine is "deterministic" (default, and the fallback) or "gemini" (Vertex AI).
	Engine string `env:"MEDI_SUMMARY_ENGINE, default=deterministic"`
	// GeminiModel and VertexLocation select the model of the gemini engine.
	GeminiModel    string `env:"MEDI_GEMINI_MODEL, default=gemini-2.5-flash"`
	VertexLocation string `env:"MEDI_VERTEX_LOCATION, default=europe-west1"`
	// Prices of the model in US dollars per million tokens, for llmUsage.
	GeminiInputPrice  float64 `env:"MEDI_GEMINI_PRICE_INPUT_PER_MTOK, default=0.30"`
	GeminiOutputPrice float64 `env:"MEDI_GEMINI_PRICE_OUTPUT_PER_MTOK, default=2.50"`
	// MonthlyBudgetUSD caps each clinic's model spend per calendar month (UTC) unless the
	// clinic document sets llmMonthlyBudgetUsd; 0 means no cap.
	MonthlyBudgetUSD float64 `env:"MEDI_LLM_MONTHLY_BUDGET_USD, default=50"`
}

// Validate checks the engine choice and the prices.
func (c *Config) Validate() error {
	var errs []error
	if c.Engine != summary.EngineDeterministic && c.Engine != summary.EngineGemini {
		errs = append(errs, &config.VarError{Var: "MEDI_SUMMARY_ENGINE", Err: errors.New("must be deterministic or gemini")})
	}
	if c.GeminiInputPrice < 0 || c.GeminiOutputPrice < 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_GEMINI_PRICE_INPUT_PER_MTOK", Err: errors.New("prices must not be negative")})
	}
	if c.MonthlyBudgetUSD < 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_LLM_MONTHLY_BUDGET_USD", Err: errors.New("must not be negative")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "summarize-worker".
var Function = app.NewHTTP(Name, func() *Config { return new(Config) }, setup)

type worker struct {
	verify  *app.Lazy[tasks.Verifier]
	service *app.Lazy[*summary.Service]
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	wk := &worker{
		verify: app.NewLazy(func(ctx context.Context) (tasks.Verifier, error) {
			return app.NewTaskVerifier(ctx, cfg.Tier, Name, cfg.TasksConfig)
		}),
		service: app.NewLazy(func(ctx context.Context) (*summary.Service, error) {
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			b := &summary.Builder{}
			if cfg.Engine == summary.EngineGemini {
				c, err := env.Platform.GenAI(ctx, cfg.VertexLocation)
				if err != nil {
					return nil, err
				}
				b.Engine = &summary.Gemini{LLM: &llm.Client{GenAI: c, Model: cfg.GeminiModel,
					Price:  llm.Price{InputPerMTok: cfg.GeminiInputPrice, OutputPerMTok: cfg.GeminiOutputPrice},
					Ledger: &llm.FirestoreLedger{FS: fs, DefaultCapUSD: cfg.MonthlyBudgetUSD}}}
			}
			// The worker only builds; it never enqueues.
			return summary.NewService(fs, b, nil, ""), nil
		}),
	}
	rt.Handle(http.MethodPost, summary.TaskPath, http.HandlerFunc(wk.handleTask))
	return nil
}
