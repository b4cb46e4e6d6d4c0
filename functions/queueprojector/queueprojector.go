// Package queueprojector is the `queue-projector` function (DESIGN.md section 3): a
// Pub/Sub push consumer of encounter-events that keeps each clinic's queue board
// (clinics/{clinicId}/boards/queue) current. It decodes the event and hands it to
// queue.Projector, which rebuilds the board from the source of truth; see package
// queue and docs/queue.md.
package queueprojector

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // clinic time zones for the arrival forecast, whatever the base image has

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/queue"
)

// Name is the function's name (entry point and dedupe consumer name).
const Name = "queue-projector"

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// HistoryTTL is how long an instance reuses what it learned from a clinic's
	// history (consultation durations, level mix, arrival profile).
	HistoryTTL time.Duration `env:"MEDI_QUEUE_HISTORY_TTL, default=5m"`
	// EncounterEventsTopic is where the board tick redelivers the encounter outbox.
	EncounterEventsTopic string `env:"MEDI_TOPIC_ENCOUNTER_EVENTS, default=encounter-events"`
}

// outboxBatch bounds the outbox entries one board tick redelivers.
const outboxBatch = 200

// Function is the deployable, registered in functions.go as "queue-projector".
var Function = app.NewCloudEvent(Name, func() *Config { return new(Config) }, setup)

// setup runs on the first event of an instance. No dedupe store: every rebuild reads
// the source of truth and a board is only replaced by one built from a newer read, so
// a redelivered event is harmless, and the projector skips events its board already
// reflects at the cost of two reads instead of a dedupe read and write.
func setup(ctx context.Context, cfg *Config, env *app.Env) (app.EventHandler, error) {
	if cfg.HistoryTTL < 0 {
		return nil, fmt.Errorf("MEDI_QUEUE_HISTORY_TTL must not be negative")
	}
	fs, err := env.Platform.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	proj := queue.NewProjector(fs, queue.ProjectorOptions{HistoryTTL: cfg.HistoryTTL})
	outbox := app.NewLazy(func(ctx context.Context) (*encounter.Store, error) {
		ps, err := env.Platform.PubSub(ctx)
		if err != nil {
			return nil, err
		}
		return encounter.NewStore(fs, events.NewPubSubPublisher(ps), cfg.EncounterEventsTopic), nil
	})
	apply := func(ctx context.Context, e events.Envelope) error {
		err := proj.Apply(ctx, e)
		if e.Type == queue.TypeRebuildRequested && e.ClinicID == "" {
			redeliverOutbox(ctx, outbox)
		}
		return err
	}
	opts := events.HandleOptions{ProjectID: cfg.ProjectID, Logger: env.Logger}
	return func(ctx context.Context, ce event.Event) error {
		return events.HandleEnvelope(ctx, ce, opts, apply)
	}, nil
}

// redeliverOutbox publishes the encounter events whose publish failed after their
// commit (encounter.Store.Announce recorded them during a Pub/Sub outage). The board
// tick calls it: the tick itself arrives through Pub/Sub, so the pipe is working again,
// and it comes every minute. A failure is logged and left to the next tick.
func redeliverOutbox(ctx context.Context, outbox *app.Lazy[*encounter.Store]) {
	log := logging.FromContext(ctx)
	st, err := outbox.Get(ctx)
	if err != nil {
		log.Warn("encounter outbox not redelivered: no publisher", "error", err.Error())
		return
	}
	n, err := st.RedeliverOutbox(ctx, outboxBatch)
	if err != nil {
		log.Warn("encounter outbox partly redelivered; the next tick retries", "published", n, "error", err.Error())
		return
	}
	if n > 0 {
		log.Info("encounter outbox redelivered", "published", n)
	}
}
