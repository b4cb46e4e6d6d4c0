// Package scribeworker is the `scribe-worker` function: Cloud Tasks (queue "scribe")
// POSTs a job per accepted upload; it parses or transcribes, drafts the SOAP note with
// evidence links, stores version 1 and publishes note.drafted (DESIGN.md section 3).
package scribeworker

import (
	"context"
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/tasks"
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
	// SpeechModel enables Speech-to-Text v2 for audio uploads ("medical_conversation",
	// "chirp_2", ...). Empty: no speech provider; audio sessions fail with
	// speech_not_configured.
	SpeechModel    string `env:"MEDI_SPEECH_MODEL"`
	SpeechLocation string `env:"MEDI_SPEECH_LOCATION, default=global"`
	SpeechLanguage string `env:"MEDI_SPEECH_LANGUAGE, default=en-US"`
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
			Objects:  scribe.GCSObjects{Client: gcs},
			Drafter:  scribe.Deterministic{},
		}
		switch cfg.Drafter {
		case "", "deterministic":
		case "gemini":
			c, err := env.Platform.GenAI(ctx, cfg.VertexLocation)
			if err != nil {
				return nil, err
			}
			w.Drafter = &scribe.Gemini{Client: c, Model: cfg.GeminiModel,
				Price: scribe.Price{InputPerMTok: cfg.GeminiInputPrice, OutputPerMTok: cfg.GeminiOutputPrice}}
			w.Fallback = scribe.Deterministic{}
		default:
			return nil, errors.New("MEDI_SCRIBE_DRAFTER must be deterministic or gemini")
		}
		if cfg.SpeechModel != "" {
			c, err := env.Platform.Speech(ctx, cfg.SpeechLocation)
			if err != nil {
				return nil, err
			}
			w.Speech = &scribe.GoogleSpeech{Client: c, Model: cfg.SpeechModel, Language: cfg.SpeechLanguage,
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
