// Package encounteroutbox is the `encounter-outbox` function: it re-sends the encounter
// events whose publish failed after their change committed. Such an event is recorded in
// its clinic's outbox (clinics/{c}/encounterOutbox/{eventId}, encounter.Store.Announce)
// while Pub/Sub is unreachable; Cloud Scheduler calls this function every minute (HTTP POST
// with an OIDC token of its own invoker service account) and it publishes what the outboxes
// hold on encounter-events, deleting each entry once published
// (encounter.Store.RedeliverOutbox). The events keep their ids, so a consumer that already
// saw one ignores it. A run is bounded; what is left goes with the next run.
package encounteroutbox

import (
	"context"
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
)

// Name is the function's entry point and Cloud Run service name.
const Name = "encounter-outbox"

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// SchedulerInvokerSA is the service account Cloud Scheduler's OIDC tokens are issued
	// to (staging/prod); tokens of any other principal are refused.
	SchedulerInvokerSA string `env:"MEDI_SCHEDULER_INVOKER_SA"`
	// DevSecret authenticates calls on the local stack (the shared task secret).
	DevSecret config.Secret `env:"MEDI_DEV_TASK_SECRET"`
	// EncounterEventsTopic is where the events are re-sent.
	EncounterEventsTopic string `env:"MEDI_TOPIC_ENCOUNTER_EVENTS, default=encounter-events"`
	// Batch bounds the events one run re-sends.
	Batch int `env:"MEDI_ENCOUNTER_OUTBOX_BATCH, default=200"`
}

// Validate checks the batch and, where deployed, the scheduler's account.
func (c *Config) Validate() error {
	var errs []error
	if c.Batch < 1 {
		errs = append(errs, &config.VarError{Var: "MEDI_ENCOUNTER_OUTBOX_BATCH", Err: errors.New("must be at least 1")})
	}
	if c.Tier.IsDeployed() && c.SchedulerInvokerSA == "" {
		errs = append(errs, &config.VarError{Var: "MEDI_SCHEDULER_INVOKER_SA", Err: errors.New("required in staging and prod")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "encounter-outbox".
var Function = app.NewHTTP(Name, func() *Config { return new(Config) }, setup)

// Outbox is what a run needs of the encounter store.
type Outbox interface {
	RedeliverOutbox(ctx context.Context, limit int) (int, error)
}

type server struct {
	cfg    *Config
	outbox *app.Lazy[Outbox]
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	s := &server{
		cfg: cfg,
		outbox: app.NewLazy(func(ctx context.Context) (Outbox, error) {
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			ps, err := env.Platform.PubSub(ctx)
			if err != nil {
				return nil, err
			}
			return encounter.NewStore(fs, events.NewPubSubPublisher(ps), cfg.EncounterEventsTopic), nil
		}),
	}
	// Only Cloud Scheduler's calls run (app.SchedulerVerifier).
	rt.HandleFunc(http.MethodPost, "/{$}", app.Scheduled(
		app.SchedulerVerifier(cfg.Tier, Name, cfg.SchedulerInvokerSA, cfg.DevSecret), s.handleRun))
	return nil
}
