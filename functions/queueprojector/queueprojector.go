// Package queueprojector is the `queue-projector` function: a Pub/Sub push consumer of encounter-events that keeps each clinic's queue board
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
	"github.com/medi-os/medi/shared/events"
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
}

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
	opts := events.HandleOptions{ProjectID: cfg.ProjectID, Logger: env.Logger}
	return func(ctx context.Context, ce event.Event) error {
		return events.HandleEnvelope(ctx, ce, opts, proj.Apply)
	}, nil
}
