// Package auth is the `auth` HTTP function: who am I, staff, sessions, access and the
// audit trail (DESIGN.md section 3). It decodes, calls shared logic, and encodes.
package auth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/access"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/ratelimit"
	"github.com/medi-os/medi/shared/sessions"
	"github.com/medi-os/medi/shared/staff"
	"github.com/medi-os/medi/shared/tasks"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig

	// FreshAuthMaxAge is how recent the caller's sign-in must be for sensitive actions
	// (staff changes); older tokens get 401 reauthentication_required.
	FreshAuthMaxAge time.Duration `env:"MEDI_FRESH_AUTH_MAX_AGE, default=10m"`

	// Rate limits of the credential endpoints (counters in Firestore).
	ResetPerAccountPerHour  int `env:"MEDI_RATELIMIT_RESET_ACCOUNT_PER_HOUR, default=5"`
	ResetPerIPPer10Min      int `env:"MEDI_RATELIMIT_RESET_IP_PER_10MIN, default=30"`
	SessionPerAccountPer5Mn int `env:"MEDI_RATELIMIT_SESSION_ACCOUNT_PER_5MIN, default=10"`
	SessionPerIPPerMinute   int `env:"MEDI_RATELIMIT_SESSION_IP_PER_MIN, default=60"`

	// OutboxDir is the dev outbox folder listed by GET /v1/dev/outbox (dev only).
	OutboxDir string `env:"MEDI_DEV_OUTBOX_DIR"`
	// MailerURL is the mailer function's URL (mail task target).
	MailerURL string `env:"MEDI_FUNCTION_URL_MAILER"`
	// AccessEventsTopic receives break-glass alerts.
	AccessEventsTopic string `env:"MEDI_ACCESS_EVENTS_TOPIC, default=access-events"`
}

// Function is the deployable, registered in functions.go as "auth".
var Function = app.NewHTTP("auth", func() *Config { return new(Config) }, setup)

// server holds the function's dependencies, created on first use.
type server struct {
	cfg  *Config
	env  *app.Env
	deps *app.Lazy[*deps]
	now  func() time.Time
}

type deps struct {
	fs       *firestore.Client
	users    *fbauth.Client
	staff    *staff.Service
	sessions *sessions.Store
	limiter  *ratelimit.Limiter
	chain    *audit.Chain
	access   *access.Store
	mail     *mail.Queue
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	s := &server{cfg: cfg, env: env, now: time.Now}
	enq := app.NewLazy(func(ctx context.Context) (tasks.Enqueuer, error) {
		return env.Enqueuer(cfg.TasksConfig)
	})
	s.deps = app.NewLazy(func(ctx context.Context) (*deps, error) {
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
		q := mail.NewQueue(enq.Get, func() (string, error) {
			if cfg.MailerURL == "" {
				return "", errors.New("MEDI_FUNCTION_URL_MAILER is not set: mail cannot be queued")
			}
			return cfg.MailerURL, nil
		})
		return &deps{
			fs: fs, users: users, mail: q,
			staff:    staff.New(users, fs, q),
			sessions: sessions.New(users, fs, nil),
			limiter:  ratelimit.New(fs, nil),
			chain:    audit.NewChain(fs),
			access:   access.New(fs, events.NewPubSubPublisher(ps), cfg.AccessEventsTopic, nil),
		}, nil
	})

	signedIn := env.Require()
	admin := env.Require(auth.RoleAdmin)
	fresh := auth.RequireFresh(cfg.FreshAuthMaxAge, nil)

	rt.Handle(http.MethodGet, "/v1/me", signedIn(http.HandlerFunc(s.handleMe)))

	rt.Handle(http.MethodPost, "/v1/staff", admin(fresh(http.HandlerFunc(s.handleCreateStaff))))
	rt.Handle(http.MethodGet, "/v1/staff", admin(http.HandlerFunc(s.handleListStaff)))
	// The doctor directory, for every role (a nurse names the doctor of a consultation).
	// ServeMux prefers this literal to /v1/staff/{uid}, which stays admin-only.
	rt.Handle(http.MethodGet, "/v1/staff/doctors", signedIn(http.HandlerFunc(s.handleListDoctors)))
	rt.Handle(http.MethodGet, "/v1/staff/{uid}", admin(http.HandlerFunc(s.handleGetStaff)))
	rt.Handle(http.MethodPatch, "/v1/staff/{uid}", admin(fresh(http.HandlerFunc(s.handleUpdateStaff))))

	rt.Handle(http.MethodPost, "/v1/auth/password-reset", http.HandlerFunc(s.handlePasswordReset))
	rt.Handle(http.MethodPost, "/v1/auth/email-verification", signedIn(http.HandlerFunc(s.handleEmailVerification)))

	rt.Handle(http.MethodPost, "/v1/sessions", http.HandlerFunc(s.handleCreateSession))
	rt.Handle(http.MethodDelete, "/v1/sessions", http.HandlerFunc(s.handleDeleteSession))

	rt.Handle(http.MethodPost, "/v1/access/break-glass", env.Require(auth.RoleDoctor, auth.RoleNurse)(http.HandlerFunc(s.handleBreakGlass)))
	rt.Handle(http.MethodGet, "/v1/access/break-glass", admin(http.HandlerFunc(s.handleListBreakGlass)))
	rt.Handle(http.MethodDelete, "/v1/access/break-glass/{id}", admin(http.HandlerFunc(s.handleRevokeBreakGlass)))

	rt.Handle(http.MethodGet, "/v1/audit", admin(http.HandlerFunc(s.handleListAudit)))
	rt.Handle(http.MethodGet, "/v1/audit/verify", admin(http.HandlerFunc(s.handleVerifyAudit)))

	if cfg.Tier == config.Dev {
		dir := cfg.OutboxDir
		if dir == "" {
			dir = mail.DefaultOutboxDir(cfg.ProjectID)
		}
		rt.Handle(http.MethodGet, "/v1/dev/outbox", outboxHandler(dir))
	}
	return nil
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

// Body size limit of this function's requests.
const maxBody = 64 << 10
