// Package auth is the deployed function "auth": authentication (who am I, web sign-in
// sessions, password reset and e-mail verification). It also serves the administrative
// surface (staff, break-glass, audit trail, dev outbox), which lives in functions/admin and
// is mounted here so that the deployed function, its URL and its service account stay as
// they are. It decodes, calls shared logic, and encodes; one handler per file.
package auth

import (
	"context"
	"errors"
	"net/http"

	"github.com/medi-os/medi/functions/admin"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/ratelimit"
	"github.com/medi-os/medi/shared/sessions"
	"github.com/medi-os/medi/shared/staff"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig
	// Admin configures the administrative routes (functions/admin).
	Admin admin.Config

	// Rate limits of the credential endpoints (counters in Firestore).
	ResetPerAccountPerHour  int `env:"MEDI_RATELIMIT_RESET_ACCOUNT_PER_HOUR, default=5"`
	ResetPerIPPer10Min      int `env:"MEDI_RATELIMIT_RESET_IP_PER_10MIN, default=30"`
	SessionPerAccountPer5Mn int `env:"MEDI_RATELIMIT_SESSION_ACCOUNT_PER_5MIN, default=10"`
	SessionPerIPPerMinute   int `env:"MEDI_RATELIMIT_SESSION_IP_PER_MIN, default=60"`

	// MailerURL is the mailer function's URL (mail task target).
	MailerURL string `env:"MEDI_FUNCTION_URL_MAILER"`
}

// Validate requires, where deployed, the bucket of the audit chain's anchors.
func (c *Config) Validate() error {
	if c.Tier.IsDeployed() && c.Admin.AuditAnchorBucket == "" {
		return &config.VarError{Var: "MEDI_AUDIT_ANCHOR_BUCKET", Err: errors.New("required in staging and prod")}
	}
	return nil
}

// Function is the deployable, registered in functions.go as "auth".
var Function = app.NewHTTP("auth", func() *Config { return new(Config) }, setup)

// server holds the function's dependencies, created on first use.
type server struct {
	cfg  *Config
	env  *app.Env
	deps *app.Lazy[*deps]
}

type deps struct {
	staff    *staff.Service
	sessions *sessions.Store
	limiter  *ratelimit.Limiter
	mail     *mail.Queue
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	s := &server{cfg: cfg, env: env}
	mailQueue := env.MailQueue(cfg.TasksConfig, cfg.MailerURL)
	s.deps = app.NewLazy(func(ctx context.Context) (*deps, error) {
		fs, err := env.Platform.Firestore(ctx)
		if err != nil {
			return nil, err
		}
		users, err := env.Platform.Auth(ctx)
		if err != nil {
			return nil, err
		}
		return &deps{
			mail:     mailQueue,
			staff:    staff.New(users, fs, mailQueue),
			sessions: sessions.New(users, fs, nil),
			limiter:  ratelimit.New(fs, nil),
		}, nil
	})

	signedIn := env.Require()
	rt.Handle(http.MethodGet, "/v1/me", signedIn(http.HandlerFunc(s.handleMe)))

	rt.Handle(http.MethodPost, "/v1/auth/password-reset", http.HandlerFunc(s.handlePasswordReset))
	rt.Handle(http.MethodPost, "/v1/auth/email-verification", signedIn(http.HandlerFunc(s.handleEmailVerification)))

	rt.Handle(http.MethodPost, "/v1/sessions", http.HandlerFunc(s.handleCreateSession))
	rt.Handle(http.MethodDelete, "/v1/sessions", http.HandlerFunc(s.handleDeleteSession))

	admin.Mount(&cfg.Admin, env, mailQueue, rt)
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
