// Package scribeworker is the `scribe-worker` function: Cloud Tasks (queue "scribe")
// POSTs a job per accepted upload; it parses or transcribes, drafts the SOAP note with
// evidence links, stores version 1 and publishes note.drafted.
package scribeworker

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/speech"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/uploads"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig
	// NoteEventsTopic receives note.drafted.
	NoteEventsTopic string `env:"MEDI_TOPIC_NOTE_EVENTS, default=note-events"`
	// Drafter is "deterministic" (default, and the fallback) or "gemini" (Vertex AI).
	Drafter string `env:"MEDI_SCRIBE_DRAFTER, default=deterministic"`
	// GeminiModel and VertexLocation select the model for the gemini drafter.
	GeminiModel    string `env:"MEDI_GEMINI_MODEL, default=gemini-2.5-flash"`
	VertexLocation string `env:"MEDI_VERTEX_LOCATION, default=europe-west1"`
	// Prices of the model in US dollars per million tokens, for llmUsage.costUsd.
	GeminiInputPrice  float64 `env:"MEDI_GEMINI_PRICE_INPUT_PER_MTOK, default=0.30"`
	GeminiOutputPrice float64 `env:"MEDI_GEMINI_PRICE_OUTPUT_PER_MTOK, default=2.50"`
	// MonthlyBudgetUSD caps each clinic's model spend per calendar month (UTC) unless the
	// clinic document sets llmMonthlyBudgetUsd; 0 means no cap. Shared with the
	// summarizer: both draw on the clinic's one ledger.
	MonthlyBudgetUSD float64 `env:"MEDI_LLM_MONTHLY_BUDGET_USD, default=50"`
	// ModelTimeout bounds each model call; ModelAttempts is how often a 429/503 is tried.
	ModelTimeout  time.Duration `env:"MEDI_LLM_TIMEOUT, default=60s"`
	ModelAttempts int           `env:"MEDI_LLM_ATTEMPTS, default=4"`
	// SpeechModel enables Speech-to-Text v2 for audio uploads ("medical_conversation",
	// "chirp_2", ...). Empty: no speech provider; audio sessions fail with
	// speech_not_configured.
	SpeechModel    string `env:"MEDI_SPEECH_MODEL"`
	SpeechLocation string `env:"MEDI_SPEECH_LOCATION, default=global"`
	SpeechLanguage string `env:"MEDI_SPEECH_LANGUAGE, default=en-US"`
}

// Validate checks the drafter choice, prices, budget and the model call's bounds.
func (c *Config) Validate() error {
	var errs []error
	if c.Drafter != "" && c.Drafter != "deterministic" && c.Drafter != "gemini" {
		errs = append(errs, &config.VarError{Var: "MEDI_SCRIBE_DRAFTER", Err: errors.New("must be deterministic or gemini")})
	}
	if c.GeminiInputPrice < 0 || c.GeminiOutputPrice < 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_GEMINI_PRICE_INPUT_PER_MTOK", Err: errors.New("prices must not be negative")})
	}
	if c.MonthlyBudgetUSD < 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_LLM_MONTHLY_BUDGET_USD", Err: errors.New("must not be negative")})
	}
	if c.ModelTimeout <= 0 {
		errs = append(errs, &config.VarError{Var: "MEDI_LLM_TIMEOUT", Err: errors.New("must be positive")})
	}
	if c.ModelAttempts < 1 || c.ModelAttempts > 10 {
		errs = append(errs, &config.VarError{Var: "MEDI_LLM_ATTEMPTS", Err: errors.New("must be between 1 and 10")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "scribe-worker".
var Function = app.NewHTTP("scribe-worker", func() *Config { return new(Config) }, setup)

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	verifier := app.NewLazy(func(ctx context.Context) (tasks.Verifier, error) {
		return app.NewTaskVerifier(ctx, cfg.Tier, "scribe-worker", cfg.TasksConfig)
	})
	worker := app.NewLazy(func(ctx context.Context) (*scribe.Worker, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		ps, err := env.Platform.PubSub(ctx)
		if err != nil {
			return nil, err
		}
		gcs, err := env.Platform.Storage(ctx)
		if err != nil {
			return nil, err
		}
		w := &scribe.Worker{
			Sessions: scribe.NewStore(fs),
			Notes:    notes.NewStore(fs, events.NewPubSubPublisher(ps), cfg.NoteEventsTopic),
			Patients: patient.NewStore(fs),
			Objects:  uploads.GCS{Client: gcs},
		}
		switch cfg.Drafter {
		case "", "deterministic":
		case "gemini":
			c, err := env.Platform.GenAI(ctx, cfg.VertexLocation)
			if err != nil {
				return nil, err
			}
			w.Model = &notedraft.Model{LLM: &llm.Client{GenAI: c, Model: cfg.GeminiModel,
				Price:  llm.Price{InputPerMTok: cfg.GeminiInputPrice, OutputPerMTok: cfg.GeminiOutputPrice},
				Ledger: &llm.FirestoreLedger{FS: fs, DefaultCapUSD: cfg.MonthlyBudgetUSD}, Timeout: cfg.ModelTimeout, Attempts: cfg.ModelAttempts}}
		default:
			return nil, errors.New("MEDI_SCRIBE_DRAFTER must be deterministic or gemini")
		}
		if cfg.SpeechModel != "" {
			c, err := env.Platform.Speech(ctx, cfg.SpeechLocation)
			if err != nil {
				return nil, err
			}
			w.Speech = &speech.Recognizer{Client: c, Model: cfg.SpeechModel, Language: cfg.SpeechLanguage,
				Recognizer: "projects/" + cfg.ProjectID + "/locations/" + cfg.SpeechLocation + "/recognizers/_"}
		}
		return w, nil
	})
	rt.HandleFunc(http.MethodPost, "/{$}", func(w http.ResponseWriter, r *http.Request) {
		v, err := verifier.Get(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
		if err := v.Verify(r); err != nil {
			httpx.WriteError(w, r, httpx.Unauthenticated("not a task delivery").WithCause(err))
			return
		}
		var job scribe.Job
		if err := httpx.Bind(w, r, &job, 0); err != nil {
			httpx.WriteError(w, r, err) // 4xx: not retried
			return
		}
		if job.ClinicID == "" || job.SessionID == "" || job.Generation <= 0 {
			httpx.WriteError(w, r, httpx.BadRequest("job lacks clinicId, sessionId or generation"))
			return
		}
		wk, err := worker.Get(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
		if err := wk.Run(r.Context(), job); err != nil {
			// 503: Cloud Tasks retries with backoff.
			httpx.WriteError(w, r, httpx.Unavailable(5, errors.Join(errors.New("scribe job failed"), err)))
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, map[string]string{"status": "done"})
	})
	return nil
}
