// Package admin is the administrative surface of the suite: staff accounts and the doctor
// directory (/v1/staff), break-glass emergency access (/v1/access/break-glass), the audit
// trail and its verification (/v1/audit), and in the local stack only the mail outbox
// (/v1/dev/outbox). It decodes, calls shared/staff, shared/breakglass and shared/audit,
// and encodes; one handler per file.
//
// These routes are served by the deployed function "auth" (functions/auth mounts them with
// Mount), so that function names, URLs, service accounts and the load balancer stay as
// they are; authentication itself (who am I, sign-in sessions, password reset) stays in
// functions/auth.
package admin

import (
	"context"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/staff"
)

// Config is the administrative surface's configuration, read from the environment as part
// of the configuration of the function that mounts it.
type Config struct {
	// FreshAuthMaxAge is how recent the caller's sign-in must be for staff changes; older
	// tokens get 401 reauthentication_required.
	FreshAuthMaxAge time.Duration `env:"MEDI_FRESH_AUTH_MAX_AGE, default=10m"`
	// OutboxDir is the dev outbox folder listed by GET /v1/dev/outbox (local stack only).
	OutboxDir string `env:"MEDI_DEV_OUTBOX_DIR"`
	// AccessEventsTopic receives break-glass grants, for the admins' alerts.
	AccessEventsTopic string `env:"MEDI_ACCESS_EVENTS_TOPIC, default=access-events"`
	// AuditAnchorBucket is the Cloud Storage bucket of the audit chain's anchors, read by
	// GET /v1/audit/verify (required in staging and prod; empty on the local stack:
	// verification then starts from the first record).
	AuditAnchorBucket string `env:"MEDI_AUDIT_ANCHOR_BUCKET"`
}

// server holds the handlers' dependencies, created on first use.
type server struct {
	deps *app.Lazy[*deps]
}

type deps struct {
	fs     *firestore.Client
	staff  *staff.Service
	chain  *audit.Chain
	access *breakglass.Store
}

// Mount registers the administrative routes on rt. Invitations are queued on mailQueue.
func Mount(cfg *Config, env *app.Env, mailQueue *mail.Queue, rt *httpx.Router) {
	s := &server{deps: app.NewLazy(func(ctx context.Context) (*deps, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		users, err := env.Platform.Auth(ctx)
		if err != nil {
			return nil, err
		}
		ps, err := env.Platform.PubSub(ctx)
		if err != nil {
			return nil, err
		}
		chain, err := app.AuditChain(ctx, env.Platform, fs, cfg.AuditAnchorBucket)
		if err != nil {
			return nil, err
		}
		return &deps{
			fs:     fs,
			staff:  staff.New(users, fs, mailQueue),
			chain:  chain,
			access: breakglass.New(fs, events.NewPubSubPublisher(ps), cfg.AccessEventsTopic, nil),
		}, nil
	})}

	signedIn := env.Require()
	admin := env.Require(auth.RoleAdmin)
	fresh := auth.RequireFresh(cfg.FreshAuthMaxAge, nil)

	rt.Handle(http.MethodPost, "/v1/staff", admin(fresh(http.HandlerFunc(s.handleCreateStaff))))
	rt.Handle(http.MethodGet, "/v1/staff", admin(http.HandlerFunc(s.handleListStaff)))
	// The doctor directory, for every role (a nurse names the doctor of a consultation).
	// ServeMux prefers this literal to /v1/staff/{uid}, which stays admin-only.
	rt.Handle(http.MethodGet, "/v1/staff/doctors", signedIn(http.HandlerFunc(s.handleListDoctors)))
	rt.Handle(http.MethodGet, "/v1/staff/{uid}", admin(http.HandlerFunc(s.handleGetStaff)))
	rt.Handle(http.MethodPatch, "/v1/staff/{uid}", admin(fresh(http.HandlerFunc(s.handleUpdateStaff))))
	rt.Handle(http.MethodDelete, "/v1/staff/{uid}/sessions", admin(fresh(http.HandlerFunc(s.handleRevokeStaffSessions))))

	rt.Handle(http.MethodPost, "/v1/access/break-glass", env.Require(auth.RoleDoctor, auth.RoleNurse)(http.HandlerFunc(s.handleBreakGlass)))
	rt.Handle(http.MethodGet, "/v1/access/break-glass", admin(http.HandlerFunc(s.handleListBreakGlass)))
	rt.Handle(http.MethodDelete, "/v1/access/break-glass/{id}", admin(http.HandlerFunc(s.handleRevokeBreakGlass)))
	rt.Handle(http.MethodDelete, "/v1/access/break-glass/{id}/block", admin(http.HandlerFunc(s.handleLiftBreakGlassBlock)))

	rt.Handle(http.MethodGet, "/v1/audit", admin(http.HandlerFunc(s.handleListAudit)))
	rt.Handle(http.MethodGet, "/v1/audit/verify", admin(http.HandlerFunc(s.handleVerifyAudit)))

	// The dev outbox holds every mail's sign-in links in clear, for anyone who may call
	// it: it exists in the local stack only, never in a deployed environment (dev
	// included), where mail goes through the SMTP relay.
	if env.LocalStack {
		dir := cfg.OutboxDir
		if dir == "" {
			dir = mail.DefaultOutboxDir(env.ProjectID)
		}
		rt.Handle(http.MethodGet, "/v1/dev/outbox", outboxHandler(dir))
	}
}

// get returns the dependencies or writes 503.
func (s *server) get(w http.ResponseWriter, r *http.Request) (*deps, bool) {
	d, err := s.deps.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return nil, false
	}
	return d, true
}

// Body size limit of the administrative requests.
const maxBody = 64 << 10
