// Package summarizeevents invalidates history summaries: Pub/Sub push consumers of the
// note-events topic ("summarize-note-events": note.approved) and of encounter-events
// ("summarize-encounter-events": every encounter change) that mark the patient's stored
// summary stale and enqueue its regeneration on the "summaries" queue. Events are
// de-duplicated on their event id, and the task is named by patient and source hash, so
// any number of events and readers seeing the same records enqueue one task.
package summarizeevents

import (
	"context"
	"errors"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/summary"
)

// Function names (entry points and dedupe consumer names).
const (
	NoteEventsName      = "summarize-note-events"
	EncounterEventsName = "summarize-encounter-events"
	workerName          = "summarize-worker"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig
}

// NoteFunction consumes note-events; registered in functions.go.
var NoteFunction = app.NewCloudEvent(NoteEventsName, func() *Config { return new(Config) }, setupFor(NoteEventsName))

// EncounterFunction consumes encounter-events; registered in functions.go.
var EncounterFunction = app.NewCloudEvent(EncounterEventsName, func() *Config { return new(Config) }, setupFor(EncounterEventsName))

func setupFor(name string) app.EventSetupFunc[*Config] {
	return func(ctx context.Context, cfg *Config, env *app.Env) (app.EventHandler, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		q, err := env.Enqueuer(cfg.TasksConfig)
		if err != nil {
			return nil, err
		}
		url, err := app.FunctionURL(workerName)
		if err != nil {
			return nil, err
		}
		svc := summary.NewService(fs, nil, q, url)
		opts := events.HandleOptions{ProjectID: cfg.ProjectID, Logger: env.Logger,
			Dedupe: events.NewDeduper(fs, 0), Consumer: name}
		return func(ctx context.Context, ce event.Event) error {
			return events.HandleEnvelope(ctx, ce, opts, func(ctx context.Context, env events.Envelope) error {
				return Apply(ctx, svc, env)
			})
		}, nil
	}
}

// Invalidator is what Apply needs of summary.Service.
type Invalidator interface {
	Invalidate(ctx context.Context, clinicID, patientID string) error
}

// Relevant reports whether an event of type typ changes a summary's sources.
func Relevant(typ string) bool {
	return typ == notes.TypeNoteApproved || strings.HasPrefix(typ, "encounter.")
}

// Apply invalidates the summary of the event's patient. Irrelevant events are ignored;
// an event without a patient or of a patient that no longer exists is dropped
// (permanent); other failures are retried.
func Apply(ctx context.Context, inv Invalidator, env events.Envelope) error {
	if !Relevant(env.Type) {
		return nil
	}
	var data struct {
		PatientID string `json:"patientId"`
	}
	if err := env.DecodeData(&data); err != nil {
		return events.Permanent(err)
	}
	if data.PatientID == "" || env.ClinicID == "" {
		return events.Permanent(errors.New("event names no clinic or patient"))
	}
	err := inv.Invalidate(ctx, env.ClinicID, data.PatientID)
	if errors.Is(err, summary.ErrPatientNotFound) {
		return events.Permanent(err)
	}
	return err
}
