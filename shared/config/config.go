// Package config reads a function's configuration from its environment once, at start-up.
//
// Each function declares a struct that embeds [Base] and adds its own fields with
// go-envconfig tags, then calls [Load]:
//
//	type Config struct {
//		config.Base
//		UploadsBucket string        `env:"UPLOADS_BUCKET, required"`
//		SMTPPassword  config.Secret `env:"SMTP_PASSWORD, required"`
//	}
//
//	var cfg Config
//	if err := config.Load(ctx, &cfg); err != nil { ... } // names every bad variable
//
// Values of the form secret://projects/P/secrets/S/versions/V are resolved through Secret
// Manager (see package secrets). Fields holding secrets should have type [Secret], which
// never prints its value. Never log a whole resolved configuration.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Names of the environment variables read into [Base].
const (
	EnvTier      = "MEDI_ENV"
	EnvProjectID = "GOOGLE_CLOUD_PROJECT"
	EnvVersion   = "MEDI_VERSION"
	EnvLogLevel  = "LOG_LEVEL"
	EnvService   = "K_SERVICE"
)

// Tier is the environment a function runs in.
type Tier string

// The tiers. Dev is a developer machine or CI with emulators; staging and prod are real
// Google Cloud projects.
const (
	Dev     Tier = "dev"
	Staging Tier = "staging"
	Prod    Tier = "prod"
)

// ParseTier returns the tier named s ("dev", "staging" or "prod", exactly). Its error
// wraps [ErrInvalidTier].
func ParseTier(s string) (Tier, error) {
	switch t := Tier(s); t {
	case Dev, Staging, Prod:
		return t, nil
	}
	return "", fmt.Errorf("%w (got %q)", ErrInvalidTier, s)
}

// EnvDecode implements envconfig.DecoderCtx, so that an invalid MEDI_ENV is reported as
// such.
func (t *Tier) EnvDecode(_ context.Context, s string) error {
	v, err := ParseTier(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// IsDeployed reports whether t is a real Google Cloud environment (staging or prod), where
// emulators are refused and secret references are read from Secret Manager.
func (t Tier) IsDeployed() bool { return t == Staging || t == Prod }

// LogLevel is a slog.Level read from the environment ("debug", "info", "warn", "error",
// any case, with an optional offset such as "warn+2").
type LogLevel slog.Level

// Level implements slog.Leveler.
func (l LogLevel) Level() slog.Level { return slog.Level(l) }

// String returns the level's name, such as "INFO".
func (l LogLevel) String() string { return slog.Level(l).String() }

// EnvDecode implements envconfig.DecoderCtx.
func (l *LogLevel) EnvDecode(_ context.Context, s string) error {
	var v slog.Level
	if err := v.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("must be one of debug, info, warn, error (got %q)", s)
	}
	*l = LogLevel(v)
	return nil
}

// Base is the configuration every function has. Embed it in a function's config struct.
type Base struct {
	// Tier is the environment, dev unless MEDI_ENV says otherwise.
	Tier Tier `env:"MEDI_ENV, default=dev"`
	// ProjectID is the Google Cloud project the function runs in and whose resources
	// (Firestore, Pub/Sub, Cloud Tasks, ...) it uses.
	ProjectID string `env:"GOOGLE_CLOUD_PROJECT, required"`
	// Version is the build stamped at deployment, reported in logs and health output.
	Version string `env:"MEDI_VERSION, default=dev"`
	// LogLevel is the minimum level logged: debug, info, warn or error. It is a
	// slog.Leveler, to pass to logging.New.
	LogLevel LogLevel `env:"LOG_LEVEL, default=info"`
	// Service is the Cloud Run service name (set by Cloud Run; empty elsewhere).
	Service string `env:"K_SERVICE"`
	// AuthProjectID is the project of the Identity Platform / Firebase Auth tenant that
	// issues staff ID tokens, when it is not ProjectID.
	AuthProjectID string `env:"MEDI_AUTH_PROJECT"`
	// CORSOrigins are the browser origins (scheme://host[:port]) allowed to call the API.
	CORSOrigins []string `env:"MEDI_CORS_ORIGINS"`
	// RequestTimeout is the deadline of every HTTP request's and every event's
	// handling: a backend that hangs makes the request a 503 with Retry-After instead of
	// a hang (shared/httpx Deadline), and the event a failed delivery that Pub/Sub
	// redelivers (app.CloudEventFunction). 10s for the public API, shorter than the
	// apps' own timeout; task and scheduler workers set it from their Cloud Run timeout,
	// event functions below their subscription's ack deadline. 0 means none.
	RequestTimeout time.Duration `env:"MEDI_REQUEST_TIMEOUT, default=10s"`
}

// BaseConfig returns b; every function's config embeds Base and so satisfies
// app.Configurable.
func (b *Base) BaseConfig() *Base { return b }

// OnCloudRun reports whether the function runs on Cloud Run (which sets K_SERVICE), in any
// tier: a deployed dev environment is on Cloud Run too.
func (b *Base) OnCloudRun() bool { return b.Service != "" }

// LocalStack reports whether the function runs in the local stack (scripts/dev,
// scripts/test): the dev tier, not on Cloud Run. Local conveniences that would open an
// account to anyone (the dev mail outbox) exist only there.
func (b *Base) LocalStack() bool { return b.Tier == Dev && !b.OnCloudRun() }

// configBase lets Load find an embedded Base in any config struct.
func (b *Base) configBase() *Base { return b }

type hasBase interface{ configBase() *Base }

// validate checks what the tags cannot express; failed names the variables that already
// have a problem.
func (b *Base) validate(failed map[string]bool) []error {
	var errs []error
	if b.ProjectID == "" && !failed[EnvProjectID] {
		errs = append(errs, &VarError{Var: EnvProjectID, Err: errors.New("must not be empty")})
	}
	if b.RequestTimeout < 0 && !failed["MEDI_REQUEST_TIMEOUT"] {
		errs = append(errs, &VarError{Var: "MEDI_REQUEST_TIMEOUT", Err: errors.New("must not be negative")})
	}
	return errs
}

// SecretResolver replaces secret references by secret values and returns other values
// unchanged. *secrets.Resolver satisfies it.
type SecretResolver interface {
	Resolve(ctx context.Context, value string) (string, error)
}

// Option configures [Load].
type Option func(*loadOptions)

type loadOptions struct {
	env         map[string]string // nil: the process environment
	resolver    SecretResolver
	newResolver func(ctx context.Context) (SecretResolver, func() error, error)
	syntaxOnly  bool
}

// WithoutSecretResolution checks secret references for form only and leaves them
// unresolved: the start-up check of a function's configuration, which must not use the
// network. The real Load, with resolution, happens on first use.
func WithoutSecretResolution() Option {
	return func(o *loadOptions) { o.syntaxOnly = true }
}

// WithEnvironment makes Load read env instead of the process environment (for tests).
func WithEnvironment(env map[string]string) Option {
	return func(o *loadOptions) {
		if env == nil {
			env = map[string]string{}
		}
		o.env = env
	}
}

// WithResolver makes Load resolve secret references through r, in any tier.
func WithResolver(r SecretResolver) Option {
	return func(o *loadOptions) { o.resolver = r }
}

// WithSecretManager makes Load resolve secret references in staging and prod through the
// resolver open returns; open is called only when Load meets a reference (the process's
// Secret Manager client is then created, once, by its owner: shared/app's platform).
// Without it or [WithResolver], a reference is an error; in dev references are always an
// error unless [WithResolver] is given.
func WithSecretManager(open func(ctx context.Context) (SecretResolver, error)) Option {
	return func(o *loadOptions) {
		o.newResolver = func(ctx context.Context) (SecretResolver, func() error, error) {
			r, err := open(ctx)
			return r, nil, err
		}
	}
}

// Load fills the struct dst points to from the environment: it decodes every field with
// an `env` tag (go-envconfig syntax, nested and embedded structs included), resolves
// secret references in string fields, checks [Base] when dst embeds it, refuses emulator
// settings in staging and prod, and finally calls dst's Validate() error method if it has
// one.
//
// All problems are reported together in one *[Error], each naming its variable. No
// error contains a value resolved from a secret. On error dst may be partly filled and
// must not be used.
func Load(ctx context.Context, dst any, opts ...Option) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: Load needs a non-nil pointer to a struct, got %T", dst)
	}
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}

	l := &loader{ctx: ctx, opts: o, failed: make(map[string]bool)}
	if o.env != nil {
		l.lookuper = envconfig.MapLookuper(o.env)
		l.names = func() []string {
			names := make([]string, 0, len(o.env))
			for k := range o.env {
				names = append(names, k)
			}
			return names
		}
	} else {
		l.lookuper = envconfig.OsLookuper()
		l.names = func() []string {
			var names []string
			for _, kv := range os.Environ() {
				k, _, _ := strings.Cut(kv, "=")
				names = append(names, k)
			}
			return names
		}
	}
	defer l.closeResolver()

	// The tier decides how secrets are resolved, so it is read before anything else.
	tierValue, ok := l.lookuper.Lookup(EnvTier)
	if !ok {
		tierValue = string(Dev)
	}
	tier, tierErr := ParseTier(tierValue)
	l.tier = tier

	l.walkStruct(rv.Elem(), l.lookuper, inherited{}, "", map[reflect.Type]bool{})

	if tierErr != nil && !l.failed[EnvTier] {
		l.add(EnvTier, tierErr)
	}
	if b, ok := dst.(hasBase); ok {
		l.addAll(b.configBase().validate(l.failed))
	}
	// On Cloud Run an emulator variable is refused in every tier, dev included.
	if service, _ := l.lookuper.Lookup(EnvService); tier.IsDeployed() || service != "" {
		l.checkEmulators()
	}
	if v, ok := dst.(interface{ Validate() error }); ok {
		l.addValidation(v.Validate())
	}

	if len(l.problems) > 0 {
		return &Error{Problems: l.problems}
	}
	return nil
}

// checkEmulators refuses *_EMULATOR_HOST variables: Google Cloud and Firebase clients
// silently switch to an emulator, without authentication, when one is set.
func (l *loader) checkEmulators() {
	names := l.names()
	slices.Sort(names)
	for _, name := range names {
		if !strings.HasSuffix(name, "_EMULATOR_HOST") {
			continue
		}
		why := "clients would connect, unauthenticated, to an emulator instead of the real service"
		if name == "FIREBASE_AUTH_EMULATOR_HOST" {
			why = "with it set, the Firebase Admin SDK accepts unsigned ID tokens, so anyone could sign in as anyone"
		}
		where := string(l.tier)
		if !l.tier.IsDeployed() {
			where = "a deployed " + where + " environment"
		}
		l.add(name, fmt.Errorf("%w in %s (%s); unset it", ErrEmulatorHost, where, why))
	}
}
