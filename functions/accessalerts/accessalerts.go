// Package accessalerts is the `access-alerts` function: the Pub/Sub push consumer of the
// access-events topic that tells a clinic's admins about break-glass access to one of
// their patients. For each grant event it queues one alert mail per active admin of the
// patient's clinic on the mail queue (breakglass.Notifier; the mailer sends it), and logs
// "break_glass_alerted" with ids and counts for the log-based metric.
//
// Delivery discipline (events.HandleEnvelope): events are de-duplicated on their event id,
// and each mail task is named by event id and admin uid, so any number of deliveries of
// one event, concurrent or not, queue one mail per admin; the mailer sends each task once.
// Undecodable or inconsistent events are dropped and logged; backend failures are retried
// and, after the subscription's attempts, dead-lettered (access-events-dlq).
package accessalerts

import (
	"context"
	"errors"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
)

// Name is the function's entry point and its dedupe consumer name.
const Name = "access-alerts"

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig
	// MailerURL is the mailer function's URL (mail task target).
	MailerURL string `env:"MEDI_FUNCTION_URL_MAILER, required"`
}

// Function is the deployable, registered in functions.go as "access-alerts".
var Function = app.NewCloudEvent(Name, func() *Config { return new(Config) }, setup)

// setup runs on the first event: clients are created then, not at start.
func setup(ctx context.Context, cfg *Config, env *app.Env) (app.EventHandler, error) {
	fs, err := env.Platform.Firestore(ctx)
	if err != nil {
		return nil, err
	}
	enq := app.NewLazy(func(ctx context.Context) (tasks.Enqueuer, error) {
		return env.Enqueuer(cfg.TasksConfig)
	})
	q := mail.NewQueue(enq.Get, func() (string, error) {
		if cfg.MailerURL == "" {
			return "", errors.New("MEDI_FUNCTION_URL_MAILER is not set: mail cannot be queued")
		}
		return cfg.MailerURL, nil
	})
	n := breakglass.NewNotifier(breakglass.NewFirestoreDirectory(fs), q)
	opts := events.HandleOptions{ProjectID: cfg.ProjectID, Logger: env.Logger,
		Dedupe: events.NewDeduper(fs, 0), Consumer: Name}
	return func(ctx context.Context, ce event.Event) error {
		return events.HandleEnvelope(ctx, ce, opts, n.Notify)
	}, nil
}
