// Package triage is the `triage` HTTP function (DESIGN.md section 3): the explainable
// triage engine on a body (POST /v1/triage/assess), assessments recorded for an encounter,
// the nurse's confirmation or override of the level, and an encounter's triage history.
// It decodes, calls shared/assessment, and encodes.
package triage

import (
	"context"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/assessment"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	engine "github.com/medi-os/medi/shared/triage"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// EncounterEventsTopic is the Pub/Sub topic (id or full name) of encounter facts.
	EncounterEventsTopic string `env:"MEDI_TOPIC_ENCOUNTER_EVENTS, default=encounter-events"`
}

// Function is the deployable, registered in functions.go as "triage".
var Function = app.NewHTTP("triage", func() *Config { return new(Config) }, setup)

// assessments is what the handlers need of shared/assessment.
type assessments interface {
	Record(ctx context.Context, clinicID, encounterID string, in engine.Input) (assessment.Recorded, error)
	Confirm(ctx context.Context, req assessment.ConfirmRequest) (assessment.Confirmed, error)
	History(ctx context.Context, clinicID, encounterID string) (assessment.History, error)
}

func setup(ctx context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	fs, err := env.Platform.Firestore(ctx)
	if err != nil {
		return err
	}
	svc := assessment.NewService(fs, newLazyPublisher(env.Platform), cfg.EncounterEventsTopic)
	h := &handlers{svc: svc}
	idem := idempotency.Middleware(fs, idempotency.Options{Scope: callerScope})
	clinical := env.Require(auth.RoleNurse, auth.RoleDoctor)

	rt.Handle(http.MethodPost, "/v1/triage/assess",
		httpx.Chain(http.HandlerFunc(handleAssess), env.Require(auth.RoleNurse, auth.RoleDoctor, auth.RoleAdmin)))
	rt.Handle(http.MethodPost, "/v1/triage/{encounterId}", httpx.Chain(http.HandlerFunc(h.handleRecord), clinical, idem))
	rt.Handle(http.MethodGet, "/v1/triage/{encounterId}", httpx.Chain(http.HandlerFunc(h.handleGet), clinical))
	rt.Handle(http.MethodPost, "/v1/triage/{encounterId}/confirm", httpx.Chain(http.HandlerFunc(h.handleConfirm), clinical, idem))
	return nil
}

type handlers struct {
	svc assessments
}

// callerScope scopes idempotency keys to the caller and their clinic.
func callerScope(r *http.Request) string {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		return ""
	}
	return p.ClinicID + "/" + p.UID
}

// lazyPublisher creates the Pub/Sub publisher on first publish, so that a function
// instance that never records an assessment never opens a Pub/Sub connection.
type lazyPublisher struct {
	l *app.Lazy[*events.PubSubPublisher]
}

func newLazyPublisher(p *app.Platform) *lazyPublisher {
	return &lazyPublisher{l: app.NewLazy(func(ctx context.Context) (*events.PubSubPublisher, error) {
		c, err := p.PubSub(ctx)
		if err != nil {
			return nil, err
		}
		return events.NewPubSubPublisher(c), nil
	})}
}

// Publish implements events.Publisher.
func (lp *lazyPublisher) Publish(ctx context.Context, topic string, e events.Envelope, orderingKey string) (string, error) {
	p, err := lp.l.Get(ctx)
	if err != nil {
		return "", err
	}
	return p.Publish(ctx, topic, e, orderingKey)
}
