// Package app is the scaffolding every Medi OS function shares: configuration loaded
// and checked at start, lazily created clients, the standard middleware, and the health
// endpoint. A function package only declares its config and routes.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/sessions"
)

// Configurable is a function's config struct: it embeds config.Base.
type Configurable interface {
	BaseConfig() *config.Base
}

// Env is what a function's routes are built with.
type Env struct {
	Name     string
	Logger   *slog.Logger
	Platform *Platform
	// ProjectID and Tier repeat the function's base config for convenience.
	ProjectID string
	Tier      config.Tier
	// LocalStack is set when the function runs in the local stack (dev tier, not on Cloud
	// Run: config.Base.LocalStack), where local conveniences such as the mail outbox exist.
	LocalStack bool
	auth       *Lazy[*auth.Authenticator]
}

func newEnv(name string, base *config.Base) *Env {
	platform := NewPlatform(base.ProjectID)
	if base.AuthProjectID != "" {
		platform.UseAuthProject(base.AuthProjectID)
	}
	env := &Env{
		Name:       name,
		Logger:     logging.New(os.Stdout, base.LogLevel),
		Platform:   platform,
		ProjectID:  base.ProjectID,
		Tier:       base.Tier,
		LocalStack: base.LocalStack(),
	}
	authProject := base.ProjectID
	if base.AuthProjectID != "" {
		authProject = base.AuthProjectID
	}
	env.auth = NewLazy(func(ctx context.Context) (*auth.Authenticator, error) {
		c, err := platform.Auth(ctx)
		if err != nil {
			return nil, err
		}
		if os.Getenv("FIREBASE_AUTH_EMULATOR_HOST") != "" {
			// The Admin SDK would look the account up on every verification in emulator
			// mode; verify locally as production does (dev tier only: the others refuse
			// emulator hosts).
			v := auth.NewEmulatorVerifier(c, authProject)
			return auth.New(v).WithSessions(lazySessions{platform: platform, fb: v}), nil
		}
		// Bearer tokens, or else the web session cookie with its server-side idle timeout
		// (Firestore is reached only when a request carries the cookie).
		return auth.New(c).WithSessions(lazySessions{platform: platform, fb: c}), nil
	})
	return env
}

// Authenticator returns the process's token authenticator (created on first use).
func (e *Env) Authenticator(ctx context.Context) (*auth.Authenticator, error) { return e.auth.Get(ctx) }

// Require is auth middleware for a route: authenticate, then check the caller's role.
func (e *Env) Require(roles ...auth.Role) httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, err := e.Authenticator(r.Context())
			if err != nil {
				httpx.WriteError(w, r, httpx.Unavailable(2, err))
				return
			}
			a.Require(roles...)(next).ServeHTTP(w, r)
		})
	}
}

// SetupFunc builds a function's routes. It may create the clients it needs (through
// env.Platform); it runs once per instance, on the first request.
type SetupFunc[C Configurable] func(ctx context.Context, cfg C, env *Env, rt *httpx.Router) error

// HTTPFunction is one deployable HTTP function.
type HTTPFunction[C Configurable] struct {
	name    string
	newCfg  func() C
	setup   SetupFunc[C]
	handler *Lazy[http.Handler]
}

// NewHTTP declares an HTTP function. newCfg returns a pointer to a zero config struct.
func NewHTTP[C Configurable](name string, newCfg func() C, setup SetupFunc[C]) *HTTPFunction[C] {
	f := &HTTPFunction[C]{name: name, newCfg: newCfg, setup: setup}
	f.handler = NewLazy(f.build)
	return f
}

// Name is the function's entry point name.
func (f *HTTPFunction[C]) Name() string { return f.name }

// CheckConfig loads the configuration from the environment without resolving secrets,
// reporting every problem at once. functions.go calls it at start-up for the function
// the instance serves, so that a misconfigured deployment refuses to start.
func (f *HTTPFunction[C]) CheckConfig() error {
	return config.Load(context.Background(), f.newCfg(), config.WithoutSecretResolution())
}

// Routes lists the function's endpoints (for contract and authorization tests) by
// building its router without serving.
func (f *HTTPFunction[C]) Routes(ctx context.Context) ([]httpx.Route, error) {
	cfg := f.newCfg()
	if err := config.Load(ctx, cfg, config.WithoutSecretResolution()); err != nil {
		return nil, err
	}
	rt, err := f.router(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return rt.Routes(), nil
}

func (f *HTTPFunction[C]) build(ctx context.Context) (http.Handler, error) {
	cfg := f.newCfg()
	if err := loadConfig(ctx, cfg); err != nil {
		return nil, err
	}
	return f.Handler(ctx, cfg)
}

// Handler builds the complete handler (middleware, health, routes) from an explicit
// config: tests use it to point a function at their own emulator project.
func (f *HTTPFunction[C]) Handler(ctx context.Context, cfg C) (http.Handler, error) {
	rt, err := f.router(ctx, cfg)
	if err != nil {
		return nil, err
	}
	base := cfg.BaseConfig()
	return httpx.Stack(rt, httpx.StackOptions{
		Logger:         logging.New(os.Stdout, base.LogLevel),
		ProjectID:      base.ProjectID,
		CORSOrigins:    base.CORSOrigins,
		RequestTimeout: base.RequestTimeout,
	}), nil
}

func (f *HTTPFunction[C]) router(ctx context.Context, cfg C) (*httpx.Router, error) {
	base := cfg.BaseConfig()
	env := newEnv(f.name, base)
	rt := httpx.NewRouter()
	rt.HandleFunc(http.MethodGet, "/v1/health", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, r, http.StatusOK, Health{Status: "ok", Version: base.Version, Function: f.name})
	})
	if err := f.setup(ctx, cfg, env, rt); err != nil {
		return nil, fmt.Errorf("%s: setup: %w", f.name, err)
	}
	return rt, nil
}

// Health is the body of GET /v1/health.
type Health struct {
	Status   string `json:"status"`
	Version  string `json:"version"`
	Function string `json:"function"`
}

// ServeHTTP is the function's entry point. The first request builds the handler; when
// that fails (a backend unreachable, a secret not yet readable) the request gets a 503
// and the next request tries again. Requests are tracked for the graceful shutdown on
// SIGTERM (see handleShutdown); once the instance drains they are refused with 503.
func (f *HTTPFunction[C]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	processDrainer.serveHTTP(w, r, http.HandlerFunc(f.serve))
}

func (f *HTTPFunction[C]) serve(w http.ResponseWriter, r *http.Request) {
	h, err := f.handler.Get(r.Context())
	if err != nil {
		logging.Default().Error("function not ready", "function", f.name, "error", err.Error())
		w.Header().Set("Retry-After", "2")
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	h.ServeHTTP(w, r)
}

// IsTarget reports whether this instance serves function name (FUNCTION_TARGET, set by
// Cloud Run functions and by the local stack).
func IsTarget(name string) bool {
	return strings.TrimSpace(os.Getenv("FUNCTION_TARGET")) == name
}

// lazySessions verifies session cookies with the process's Firestore client, created on
// the first cookie rather than with the authenticator.
type lazySessions struct {
	platform *Platform
	fb       sessions.Firebase
}

func (l lazySessions) VerifySession(ctx context.Context, cookie string) (*fbauth.Token, error) {
	fs, err := l.platform.Firestore(ctx)
	if err != nil {
		return nil, httpx.Unavailable(2, err)
	}
	return sessions.New(l.fb, fs, nil).VerifySession(ctx, cookie)
}
