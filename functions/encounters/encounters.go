// Package encounters serves a patient's way through the department: encounters (check-in,
// transitions, reads) under /v1/encounters and the live queue board that follows from them
// under /v1/queue. It decodes, calls shared/encounter and shared/queue, and encodes; one
// handler per file.
//
// It is deployed as the function named "queue" (its entry point, Cloud Run service and
// Terraform file service_queue.tf keep that name: renaming a deployed function replaces
// its service, URL and service account, which clients and alerting refer to).
package encounters

import (
	"context"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	// EncounterEventsTopic is the Pub/Sub topic id every encounter change is published on.
	EncounterEventsTopic string `env:"MEDI_TOPIC_ENCOUNTER_EVENTS, default=encounter-events"`
}

// Function is the deployable, registered in functions.go under its deployed name "queue".
var Function = app.NewHTTP("queue", func() *Config { return new(Config) }, setup)

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	s := newServer(cfg, env)
	s.encounterRoutes(rt)
	registerQueueRoutes(cfg, env, rt)
	return nil
}

// server holds what the handlers share. Clients are created on first use (never at
// set-up, which also runs to list routes without any backend).
type server struct {
	cfg   *Config
	env   *app.Env
	store *app.Lazy[*encounter.Store]
}

func newServer(cfg *Config, env *app.Env) *server {
	s := &server{cfg: cfg, env: env}
	s.store = app.NewLazy(func(ctx context.Context) (*encounter.Store, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		ps, err := env.Platform.PubSub(ctx)
		if err != nil {
			return nil, err
		}
		return encounter.NewStore(fs, events.NewPubSubPublisher(ps), cfg.EncounterEventsTopic), nil
	})
	return s
}

func (s *server) encounterRoutes(rt *httpx.Router) {
	staff := s.env.Require()
	rt.Handle(http.MethodPost, "/v1/encounters", httpx.Chain(http.HandlerFunc(s.handleCheckIn),
		s.env.Require(encounter.CheckInRoles...), s.idempotent()))
	rt.Handle(http.MethodGet, "/v1/encounters", staff(http.HandlerFunc(s.handleListEncounters)))
	rt.Handle(http.MethodGet, "/v1/encounters/{id}", staff(http.HandlerFunc(s.handleGetEncounter)))
	rt.Handle(http.MethodGet, "/v1/encounters/{id}/events", staff(http.HandlerFunc(s.handleListEvents)))
	rt.Handle(http.MethodPost, "/v1/encounters/{id}/transitions", httpx.Chain(http.HandlerFunc(s.handleTransition),
		staff, s.idempotent()))
}

// idempotent honours Idempotency-Key (after authentication: keys are scoped to the
// caller). The middleware needs the Firestore client, so it is built on first use.
func (s *server) idempotent() httpx.Middleware {
	return func(next http.Handler) http.Handler {
		h := app.NewLazy(func(ctx context.Context) (http.Handler, error) {
			fs, err := s.env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return idempotency.Middleware(fs, idempotency.Options{Scope: callerScope, AuditReplay: audit.ReplayAuditor(fs)})(next), nil
		})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hh, err := h.Get(r.Context())
			if err != nil {
				httpx.WriteError(w, r, httpx.Unavailable(2, err))
				return
			}
			hh.ServeHTTP(w, r)
		})
	}
}

// callerScope scopes idempotency keys to the caller (clinic and uid).
func callerScope(r *http.Request) string {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		return ""
	}
	return p.ClinicID + "/" + p.UID
}

// encounterStore returns the process's store, or writes a 503.
func (s *server) encounterStore(w http.ResponseWriter, r *http.Request) (*encounter.Store, bool) {
	st, err := s.store.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return nil, false
	}
	return st, true
}

// writeError answers err: refusals as they are, a Firestore outage as 503, anything
// else as 500 (the cause goes to the log only).
func writeError(w http.ResponseWriter, r *http.Request, err error) { httpx.WriteError(w, r, err) }

// etag is the entity tag of an encounter version.
func etag(version int64) string { return httpx.ETag(version) }
