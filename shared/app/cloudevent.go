package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/logging"
)

// EventHandler handles one CloudEvent. Return nil to acknowledge (including a
// deliberately dropped event), an error to have the event redelivered; see
// events.Handle for the retry-or-drop discipline.
type EventHandler func(ctx context.Context, ce event.Event) error

// EventSetupFunc builds a CloudEvent function's handler; it runs once per instance, on
// the first event.
type EventSetupFunc[C Configurable] func(ctx context.Context, cfg C, env *Env) (EventHandler, error)

// CloudEventFunction is one deployable event-triggered function (Pub/Sub via Eventarc,
// Cloud Storage via Eventarc).
type CloudEventFunction[C Configurable] struct {
	name    string
	newCfg  func() C
	setup   EventSetupFunc[C]
	handler *Lazy[EventHandler]
}

// NewCloudEvent declares a CloudEvent function.
func NewCloudEvent[C Configurable](name string, newCfg func() C, setup EventSetupFunc[C]) *CloudEventFunction[C] {
	f := &CloudEventFunction[C]{name: name, newCfg: newCfg, setup: setup}
	f.handler = NewLazy(func(ctx context.Context) (EventHandler, error) {
		cfg := f.newCfg()
		if err := loadConfig(ctx, cfg); err != nil {
			return nil, err
		}
		return f.Handler(ctx, cfg)
	})
	return f
}

// Name is the function's entry point name.
func (f *CloudEventFunction[C]) Name() string { return f.name }

// CheckConfig checks the configuration without network (see HTTPFunction.CheckConfig).
func (f *CloudEventFunction[C]) CheckConfig() error {
	return config.Load(context.Background(), f.newCfg(), config.WithoutSecretResolution())
}

// Handler builds the handler from an explicit config (tests use their own project).
func (f *CloudEventFunction[C]) Handler(ctx context.Context, cfg C) (EventHandler, error) {
	base := cfg.BaseConfig()
	env := newEnv(f.name, base)
	h, err := f.setup(ctx, cfg, env)
	if err != nil {
		return nil, fmt.Errorf("%s: setup: %w", f.name, err)
	}
	return withDeadline(h, base.RequestTimeout), nil
}

// withDeadline bounds each event's handling by timeout (MEDI_REQUEST_TIMEOUT; 0 means
// none). It is set shorter than the subscription's ack deadline, so a backend that hangs
// makes the delivery fail and Pub/Sub (or Eventarc) redeliver it, instead of the push
// waiting until the ack deadline with the instance's slot held.
func withDeadline(h EventHandler, timeout time.Duration) EventHandler {
	if timeout <= 0 {
		return h
	}
	return func(ctx context.Context, ce event.Event) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return h(ctx, ce)
	}
}

// Handle is the entry point registered with the framework. A setup failure is returned
// as an error, so the event is redelivered rather than lost. Events are tracked for the
// graceful shutdown on SIGTERM; a draining instance returns an error (redelivery).
func (f *CloudEventFunction[C]) Handle(ctx context.Context, ce event.Event) error {
	return processDrainer.handleEvent(func() error {
		h, err := f.handler.Get(ctx)
		if err != nil {
			logging.Default().Error("function not ready", "function", f.name, "error", err.Error())
			return err
		}
		return h(ctx, ce)
	})
}

// EventDeployable is what RegisterCloudEvent needs of a function.
type EventDeployable interface {
	Name() string
	CheckConfig() error
	Handle(context.Context, event.Event) error
}

// RegisterCloudEvent registers f with the functions framework; like RegisterHTTP it
// checks the configuration at start-up when this instance serves f.
func RegisterCloudEvent(f EventDeployable) {
	functions.CloudEvent(f.Name(), f.Handle)
	if IsTarget(f.Name()) {
		if err := f.CheckConfig(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: refusing to start: %v\n", f.Name(), err)
			os.Exit(78)
		}
		handleShutdown(f.Name())
	}
}
