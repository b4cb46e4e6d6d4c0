// Package patients is the `patients` HTTP function: register,
// search, read and update a clinic's patients and list their encounters. It decodes,
// calls shared/patient, and encodes; one handler per file.
//
// Endpoints (see docs/openapi.yaml):
//
//	POST  /v1/patients                  register (receptionist, nurse, admin); Idempotency-Key
//	POST  /v1/patients/search           search, criteria in the body (every staff role)
//	GET   /v1/patients/{id}             read (every staff role); ETag is the version
//	PATCH /v1/patients/{id}             merge-patch update with If-Match (every staff role)
//	GET   /v1/patients/{id}/encounters  the patient's encounters, newest first (every staff role)
//
// The clinic always comes from the caller's token: a patient id of another clinic is
// answered 404 like a missing one.
package patients

import (
	"context"

	"cloud.google.com/go/firestore"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/patient"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
}

// Function is the deployable, registered in functions.go as "patients".
var Function = app.NewHTTP("patients", func() *Config { return new(Config) }, setup)

// Who may do what. Registration is a front-desk act (doctors may read, search and
// update, e.g. allergies and problems, but not register).
var (
	registerRoles = []auth.Role{auth.RoleReceptionist, auth.RoleNurse, auth.RoleAdmin}
	staffRoles    = []auth.Role{auth.RoleReceptionist, auth.RoleNurse, auth.RoleDoctor, auth.RoleAdmin}
)

func setup(_ context.Context, _ *Config, env *app.Env, rt *httpx.Router) error {
	h := newHandlers(env.Platform)
	register := env.Require(registerRoles...)
	staff := env.Require(staffRoles...)
	rt.Handle(http.MethodPost, "/v1/patients", httpx.Chain(http.HandlerFunc(h.create), register, h.idempotent))
	rt.Handle(http.MethodPost, "/v1/patients/search", httpx.Chain(http.HandlerFunc(h.search), staff))
	rt.Handle(http.MethodGet, "/v1/patients/{id}", httpx.Chain(http.HandlerFunc(h.get), staff))
	rt.Handle(http.MethodPatch, "/v1/patients/{id}", httpx.Chain(http.HandlerFunc(h.update), staff, h.idempotent))
	rt.Handle(http.MethodGet, "/v1/patients/{id}/encounters", httpx.Chain(http.HandlerFunc(h.encounters), staff))
	return nil
}

// handlers holds what the handlers share. The Firestore client behind both is created
// on the first request that needs it (never at setup, so that listing routes needs no
// credentials).
type handlers struct {
	store       *app.Lazy[*patient.Store]
	idempotency *app.Lazy[httpx.Middleware]
	grants      *app.Lazy[*breakglass.Store]
	firestore   func(context.Context) (*firestore.Client, error)
}

func newHandlers(platform *app.Platform) *handlers {
	return &handlers{
		firestore: platform.Firestore,
		store: app.NewLazy(func(ctx context.Context) (*patient.Store, error) {
			fs, err := platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return patient.NewStore(fs), nil
		}),
		grants: app.NewLazy(func(ctx context.Context) (*breakglass.Store, error) {
			fs, err := platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			// Reads only: no publisher needed.
			return breakglass.New(fs, nil, "", nil), nil
		}),
		idempotency: app.NewLazy(func(ctx context.Context) (httpx.Middleware, error) {
			fs, err := platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return idempotency.Middleware(fs, idempotency.Options{Scope: callerScope, AuditReplay: audit.ReplayAuditor(fs)}), nil
		}),
	}
}

// callerScope keys idempotency records by caller and clinic.
func callerScope(r *http.Request) string {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		return ""
	}
	return p.UID + "|" + p.ClinicID
}

// idempotent honours Idempotency-Key on a mutation (after authentication).
func (h *handlers) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw, err := h.idempotency.Get(r.Context())
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(2, err))
			return
		}
		mw(next).ServeHTTP(w, r)
	})
}

// storeFor returns the store and the caller, or writes the error and returns ok false.
func (h *handlers) storeFor(w http.ResponseWriter, r *http.Request) (*patient.Store, auth.Principal, bool) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		httpx.WriteError(w, r, httpx.Unauthenticated("missing principal"))
		return nil, p, false
	}
	st, err := h.store.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return nil, p, false
	}
	return st, p, true
}
