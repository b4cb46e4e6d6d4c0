// Package triage is the `triage` HTTP function: the explainable
// triage engine on a body (POST /v1/triage/assess), assessments recorded for an encounter,
// the nurse's confirmation or override of the level, and an encounter's triage history.
// It decodes, calls shared/triagerecord, and encodes.
package triage

import (
	"context"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	engine "github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triagerecord"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// EncounterEventsTopic is the Pub/Sub topic (id or full name) of encounter facts.
	EncounterEventsTopic string `env:"MEDI_TOPIC_ENCOUNTER_EVENTS, default=encounter-events"`
}

// Function is the deployable, registered in functions.go as "triage".
var Function = app.NewHTTP("triage", func() *Config { return new(Config) }, setup)

// assessments is what the handlers need of shared/triagerecord.
type assessments interface {
	Record(ctx context.Context, clinicID, encounterID string, in engine.Input, commit commitmark.Marker) (triagerecord.Recorded, error)
	Confirm(ctx context.Context, req triagerecord.ConfirmRequest) (triagerecord.Confirmed, error)
	History(ctx context.Context, clinicID, encounterID string) (triagerecord.History, error)
}

func setup(ctx context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	deps := newLazyDeps(env.Platform, cfg.EncounterEventsTopic)
	h := &handlers{svc: deps}
	clinical := env.Require(auth.RoleNurse, auth.RoleDoctor)

	rt.Handle(http.MethodPost, "/v1/triage/assess",
		httpx.Chain(http.HandlerFunc(handleAssess), env.Require(auth.RoleNurse, auth.RoleDoctor, auth.RoleAdmin)))
	rt.Handle(http.MethodPost, "/v1/triage/{encounterId}", httpx.Chain(http.HandlerFunc(h.handleRecord), clinical, deps.idempotent))
	rt.Handle(http.MethodGet, "/v1/triage/{encounterId}", httpx.Chain(http.HandlerFunc(h.handleGet), clinical))
	rt.Handle(http.MethodPost, "/v1/triage/{encounterId}/confirm", httpx.Chain(http.HandlerFunc(h.handleConfirm), clinical, deps.idempotent))
	return nil
}

// lazyDeps creates the Firestore-backed service and the idempotency middleware on the
// first request that needs them, never at setup, so that listing the routes needs no
// credentials and a failed client creation is retried by the next request.
type lazyDeps struct {
	svc  *app.Lazy[*triagerecord.Service]
	idem *app.Lazy[httpx.Middleware]
}

func newLazyDeps(p *app.Platform, topic string) *lazyDeps {
	return &lazyDeps{
		svc: app.NewLazy(func(ctx context.Context) (*triagerecord.Service, error) {
			fs, err := p.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return triagerecord.NewService(fs, newLazyPublisher(p), topic), nil
		}),
		idem: app.NewLazy(func(ctx context.Context) (httpx.Middleware, error) {
			fs, err := p.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return idempotency.Middleware(fs, idempotency.Options{Scope: callerScope, AuditReplay: audit.ReplayAuditor(fs)}), nil
		}),
	}
}

// idempotent honours Idempotency-Key on a mutation (after authentication).
func (d *lazyDeps) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw, err := d.idem.Get(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
		mw(next).ServeHTTP(w, r)
	})
}

// Record implements assessments.
func (d *lazyDeps) Record(ctx context.Context, clinicID, encounterID string, in engine.Input, commit commitmark.Marker) (triagerecord.Recorded, error) {
	s, err := d.svc.Get(ctx)
	if err != nil {
		return triagerecord.Recorded{}, httpx.Unavailable(2, err)
	}
	return s.Record(ctx, clinicID, encounterID, in, commit)
}

// Confirm implements assessments.
func (d *lazyDeps) Confirm(ctx context.Context, req triagerecord.ConfirmRequest) (triagerecord.Confirmed, error) {
	s, err := d.svc.Get(ctx)
	if err != nil {
		return triagerecord.Confirmed{}, httpx.Unavailable(2, err)
	}
	return s.Confirm(ctx, req)
}

// History implements assessments.
func (d *lazyDeps) History(ctx context.Context, clinicID, encounterID string) (triagerecord.History, error) {
	s, err := d.svc.Get(ctx)
	if err != nil {
		return triagerecord.History{}, httpx.Unavailable(2, err)
	}
	return s.History(ctx, clinicID, encounterID)
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
