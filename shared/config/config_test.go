package config_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/google/go-cmp/cmp"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/secrets"
)

// hostPort is a string-kinded type with a decoder whose error quotes the value, as many
// decoders do.
type hostPort string

func (h *hostPort) EnvDecode(_ context.Context, s string) error {
	if !strings.Contains(s, ":") {
		return fmt.Errorf("%q is not host:port", s)
	}
	*h = hostPort(s)
	return nil
}

type dbConfig struct {
	Addr     hostPort      `env:"ADDR, required"`
	Password config.Secret `env:"PASSWORD"`
}

type mailConfig struct {
	From     string        `env:"FROM"`
	Password config.Secret `env:"PASSWORD"`
}

// scribeConfig is a function's configuration as a function package would declare it.
type scribeConfig struct {
	config.Base
	UploadsBucket  string        `env:"UPLOADS_BUCKET, required"`
	MaxUploadBytes int64         `env:"MAX_UPLOAD_BYTES, default=1048576"`
	Timeout        time.Duration `env:"TIMEOUT, default=30s"`
	Languages      []string      `env:"LANGUAGES, default=en"`
	APIKey         config.Secret `env:"API_KEY"`
	DB             dbConfig      `env:", prefix=DB_"`
	Mail           *mailConfig   `env:", prefix=MAIL_, noinit"`
}

func (c *scribeConfig) Validate() error {
	var errs []error
	if c.MaxUploadBytes <= 0 {
		errs = append(errs, config.Invalid("MAX_UPLOAD_BYTES", "must be positive"))
	}
	if c.Tier == config.Prod && c.APIKey == "" {
		errs = append(errs, config.Invalid("API_KEY", "required in prod"))
	}
	if len(c.Languages) > 3 {
		errs = append(errs, errors.New("at most 3 languages"))
	}
	return errors.Join(errs...)
}

// env returns a minimal valid dev environment with the given changes ("" deletes).
func env(changes map[string]string) map[string]string {
	m := map[string]string{
		"GOOGLE_CLOUD_PROJECT": "medi-dev",
		"UPLOADS_BUCKET":       "uploads",
		"DB_ADDR":              "127.0.0.1:5432",
	}
	for k, v := range changes {
		if v == "\x00" {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

const unset = "\x00"

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want scribeConfig
	}{
		{
			name: "defaults",
			env:  env(nil),
			want: scribeConfig{
				Base:           config.Base{Tier: config.Dev, ProjectID: "medi-dev", Version: "dev", LogLevel: config.LogLevel(slog.LevelInfo), RequestTimeout: 10 * time.Second},
				UploadsBucket:  "uploads",
				MaxUploadBytes: 1 << 20,
				Timeout:        30 * time.Second,
				Languages:      []string{"en"},
				DB:             dbConfig{Addr: "127.0.0.1:5432"},
			},
		},
		{
			name: "everything set",
			env: env(map[string]string{
				"MEDI_ENV":         "prod",
				"MEDI_VERSION":     "2026.03.01-abc123",
				"LOG_LEVEL":        "WARN",
				"K_SERVICE":        "scribe",
				"MAX_UPLOAD_BYTES": "52428800",
				"TIMEOUT":          "2m",
				"LANGUAGES":        "en,fr",
				"API_KEY":          "plain-key",
				"DB_PASSWORD":      "plain-db",
				"MAIL_FROM":        "clinic@example.com",
			}),
			want: scribeConfig{
				Base:           config.Base{Tier: config.Prod, ProjectID: "medi-dev", Version: "2026.03.01-abc123", LogLevel: config.LogLevel(slog.LevelWarn), Service: "scribe", RequestTimeout: 10 * time.Second},
				UploadsBucket:  "uploads",
				MaxUploadBytes: 50 << 20,
				Timeout:        2 * time.Minute,
				Languages:      []string{"en", "fr"},
				APIKey:         "plain-key",
				DB:             dbConfig{Addr: "127.0.0.1:5432", Password: "plain-db"},
				Mail:           &mailConfig{From: "clinic@example.com"},
			},
		},
		{
			name: "staging with debug logs",
			env:  env(map[string]string{"MEDI_ENV": "staging", "LOG_LEVEL": "debug"}),
			want: scribeConfig{
				Base:           config.Base{Tier: config.Staging, ProjectID: "medi-dev", Version: "dev", LogLevel: config.LogLevel(slog.LevelDebug), RequestTimeout: 10 * time.Second},
				UploadsBucket:  "uploads",
				MaxUploadBytes: 1 << 20,
				Timeout:        30 * time.Second,
				Languages:      []string{"en"},
				DB:             dbConfig{Addr: "127.0.0.1:5432"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got scribeConfig
			if err := config.Load(t.Context(), &got, config.WithEnvironment(tc.env)); err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// problems returns the messages of the problems in err, which must be a *config.Error.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, p.Error())
	}
	if want := "config: " + strings.Join(got, "; "); err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	return got
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "empty environment",
			env:  map[string]string{},
			want: []string{
				"GOOGLE_CLOUD_PROJECT: required",
				"UPLOADS_BUCKET: required",
				"DB_ADDR: required",
			},
		},
		{
			name: "bad tier and missing project",
			env:  env(map[string]string{"MEDI_ENV": "production", "GOOGLE_CLOUD_PROJECT": unset}),
			want: []string{
				`MEDI_ENV: must be one of dev, staging, prod (got "production")`,
				"GOOGLE_CLOUD_PROJECT: required",
			},
		},
		{
			name: "tier names are exact",
			env:  env(map[string]string{"MEDI_ENV": "Prod"}),
			want: []string{`MEDI_ENV: must be one of dev, staging, prod (got "Prod")`},
		},
		{
			name: "empty tier",
			env:  env(map[string]string{"MEDI_ENV": ""}),
			want: []string{`MEDI_ENV: must be one of dev, staging, prod (got "")`},
		},
		{
			name: "empty project",
			env:  env(map[string]string{"GOOGLE_CLOUD_PROJECT": ""}),
			want: []string{"GOOGLE_CLOUD_PROJECT: must not be empty"},
		},
		{
			name: "decoding errors in every field",
			env: env(map[string]string{
				"LOG_LEVEL":        "verbose",
				"MAX_UPLOAD_BYTES": "lots",
				"TIMEOUT":          "forever",
				"DB_ADDR":          "db.internal",
			}),
			want: []string{
				`LOG_LEVEL: must be one of debug, info, warn, error (got "verbose")`,
				`MAX_UPLOAD_BYTES: strconv.ParseInt: parsing "lots": invalid syntax`,
				`TIMEOUT: time: invalid duration "forever"`,
				`DB_ADDR: "db.internal" is not host:port`,
			},
		},
		{
			name: "Validate problems join the others",
			env: env(map[string]string{
				"MEDI_ENV":         "prod",
				"UPLOADS_BUCKET":   unset,
				"MAX_UPLOAD_BYTES": "0",
				"LANGUAGES":        "en,fr,de,nl",
			}),
			want: []string{
				"UPLOADS_BUCKET: required",
				"MAX_UPLOAD_BYTES: must be positive",
				"API_KEY: required in prod",
				"at most 3 languages",
			},
		},
		{
			name: "Validate does not repeat a variable that failed to decode",
			env:  env(map[string]string{"MAX_UPLOAD_BYTES": "-"}),
			want: []string{`MAX_UPLOAD_BYTES: strconv.ParseInt: parsing "-": invalid syntax`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var cfg scribeConfig
			err := config.Load(t.Context(), &cfg, config.WithEnvironment(tc.env))
			if diff := cmp.Diff(tc.want, problems(t, err)); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadErrorsWrapSentinels(t *testing.T) {
	t.Parallel()
	var cfg scribeConfig
	err := config.Load(t.Context(), &cfg, config.WithEnvironment(map[string]string{
		"MEDI_ENV":                    "bogus",
		"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
	}))
	for _, want := range []error{config.ErrRequired, config.ErrInvalidTier} {
		if !errors.Is(err, want) {
			t.Errorf("errors.Is(%v, %v) = false, want true", err, want)
		}
	}
	var ve *config.VarError
	if !errors.As(err, &ve) || ve.Var != "MEDI_ENV" {
		t.Errorf("first VarError = %+v, want one for MEDI_ENV", ve)
	}
}

// withoutBase is a config that does not embed config.Base.
type withoutBase struct {
	Bucket string `env:"BUCKET"`
}

func TestLoadChecksTierWithoutBase(t *testing.T) {
	t.Parallel()
	var cfg withoutBase
	err := config.Load(t.Context(), &cfg, config.WithEnvironment(map[string]string{"MEDI_ENV": "qa", "BUCKET": "b"}))
	if diff := cmp.Diff([]string{`MEDI_ENV: must be one of dev, staging, prod (got "qa")`}, problems(t, err)); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s", diff)
	}
	if err := config.Load(t.Context(), &cfg, config.WithEnvironment(map[string]string{"MEDI_ENV": "prod", "PUBSUB_EMULATOR_HOST": "x"})); !errors.Is(err, config.ErrEmulatorHost) {
		t.Errorf("Load in prod with an emulator host: err = %v, want ErrEmulatorHost", err)
	}
}

func TestLoadEmulatorHosts(t *testing.T) {
	t.Parallel()
	emulators := map[string]string{
		"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
		"FIRESTORE_EMULATOR_HOST":     "127.0.0.1:8681",
		"PUBSUB_EMULATOR_HOST":        "127.0.0.1:8682",
		"STORAGE_EMULATOR_HOST":       "",
	}
	for _, tc := range []struct {
		tier      string
		cloudRun  bool // K_SERVICE set: a deployed environment
		refused   bool
		wantWhere string
	}{
		{"dev", false, false, ""},
		{"dev", true, true, "a deployed dev environment"},
		{"staging", true, true, "staging"},
		{"prod", false, true, "prod"},
	} {
		for name, value := range emulators {
			t.Run(fmt.Sprintf("%s cloud run %v/%s", tc.tier, tc.cloudRun, name), func(t *testing.T) {
				t.Parallel()
				var cfg scribeConfig
				vars := map[string]string{
					"MEDI_ENV": tc.tier,
					"API_KEY":  "k",
					name:       value,
				}
				if tc.cloudRun {
					vars["K_SERVICE"] = "scribe"
				}
				err := config.Load(t.Context(), &cfg, config.WithEnvironment(env(vars)))
				if !tc.refused {
					if err != nil {
						t.Fatalf("Load in %s with %s set: %v", tc.tier, name, err)
					}
					return
				}
				got := problems(t, err)
				if len(got) != 1 {
					t.Fatalf("problems = %q, want exactly one", got)
				}
				if !errors.Is(err, config.ErrEmulatorHost) {
					t.Errorf("error %v does not wrap ErrEmulatorHost", err)
				}
				if !strings.HasPrefix(got[0], name+": ") || !strings.Contains(got[0], " in "+tc.wantWhere+" ") {
					t.Errorf("problem %q does not name %s and %s", got[0], name, tc.wantWhere)
				}
				if name == "FIREBASE_AUTH_EMULATOR_HOST" && !strings.Contains(got[0], "accepts unsigned ID tokens") {
					t.Errorf("problem %q does not explain the unsigned-token risk", got[0])
				}
			})
		}
	}
}

func TestLoadNamesEveryEmulatorHost(t *testing.T) {
	t.Parallel()
	var cfg scribeConfig
	err := config.Load(t.Context(), &cfg, config.WithEnvironment(env(map[string]string{
		"MEDI_ENV":                    "prod",
		"API_KEY":                     "k",
		"PUBSUB_EMULATOR_HOST":        "127.0.0.1:8682",
		"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099",
		"EMULATOR_HOST_NOTES":         "not an emulator variable",
	})))
	var names []string
	for _, p := range problems(t, err) {
		name, _, _ := strings.Cut(p, ":")
		names = append(names, name)
	}
	if diff := cmp.Diff([]string{"FIREBASE_AUTH_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST"}, names); diff != "" {
		t.Errorf("refused variables mismatch (-want +got):\n%s", diff)
	}
}

// memorySecrets is an in-memory secrets.Accessor.
type memorySecrets map[string]string // resource name -> payload

func (m memorySecrets) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest, _ ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	v, ok := m[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", req.GetName())
	}
	return &secretmanagerpb.AccessSecretVersionResponse{Name: req.GetName(), Payload: &secretmanagerpb.SecretPayload{Data: []byte(v)}}, nil
}

const (
	apiKeyRef   = "secret://projects/medi-prod/secrets/scribe-api-key/versions/4"
	apiKeyValue = "sk-live-0123456789"
	dbPassRef   = "secret://projects/medi-prod/secrets/db-password/versions/latest"
	dbPassValue = "correct horse battery staple"
	badAddrRef  = "secret://projects/medi-prod/secrets/db-addr/versions/1"
	badAddrVal  = "no-port-in-this-secret-value"
	bucketRef   = "secret://projects/medi-prod/secrets/bucket/versions/2"
)

func newResolver() *secrets.Resolver {
	return secrets.NewResolver(memorySecrets{
		strings.TrimPrefix(apiKeyRef, secrets.Scheme):  apiKeyValue,
		strings.TrimPrefix(dbPassRef, secrets.Scheme):  dbPassValue,
		strings.TrimPrefix(badAddrRef, secrets.Scheme): badAddrVal,
		strings.TrimPrefix(bucketRef, secrets.Scheme):  "uploads-from-secret",
	}, 0)
}

func TestLoadResolvesSecrets(t *testing.T) {
	t.Parallel()
	for _, tier := range []string{"dev", "staging", "prod"} {
		t.Run(tier, func(t *testing.T) {
			t.Parallel()
			var cfg scribeConfig
			err := config.Load(t.Context(), &cfg, config.WithResolver(newResolver()), config.WithEnvironment(env(map[string]string{
				"MEDI_ENV":       tier,
				"API_KEY":        apiKeyRef,
				"DB_PASSWORD":    dbPassRef,
				"UPLOADS_BUCKET": bucketRef,
				"MAIL_FROM":      "plain@example.com",
			})))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := map[string]string{
				"API_KEY":        cfg.APIKey.Reveal(),
				"DB_PASSWORD":    cfg.DB.Password.Reveal(),
				"UPLOADS_BUCKET": cfg.UploadsBucket,
				"MAIL_FROM":      cfg.Mail.From,
			}
			want := map[string]string{
				"API_KEY":        apiKeyValue,
				"DB_PASSWORD":    dbPassValue,
				"UPLOADS_BUCKET": "uploads-from-secret",
				"MAIL_FROM":      "plain@example.com",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("resolved values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// In staging and prod, Load opens the Secret Manager resolver it is given only when it
// meets a reference, once per Load; without one a reference is an error naming the
// variable, never a client Load would create itself.
func TestLoadOpensSecretManagerOnlyForReferences(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		apiKey   string
		open     bool // WithSecretManager given
		wantOpen int
		wantErr  string
	}{
		{"reference", apiKeyRef, true, 1, ""},
		{"plain value", "plain-key", true, 0, ""},
		{"reference without Secret Manager", apiKeyRef, false, 0, "API_KEY: " + config.ErrNoSecretResolver.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opened := 0
			opts := []config.Option{config.WithEnvironment(env(map[string]string{
				"MEDI_ENV": "prod", "API_KEY": tc.apiKey, "DB_PASSWORD": tc.apiKey,
				"UPLOADS_BUCKET": "b", "MAIL_FROM": "m@example.com",
			}))}
			if tc.open {
				opts = append(opts, config.WithSecretManager(func(context.Context) (config.SecretResolver, error) {
					opened++
					return newResolver(), nil
				}))
			}
			var cfg scribeConfig
			err := config.Load(t.Context(), &cfg, opts...)
			if opened != tc.wantOpen {
				t.Errorf("Secret Manager opened %d times, want %d", opened, tc.wantOpen)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if want := map[bool]string{true: apiKeyValue, false: "plain-key"}[tc.apiKey == apiKeyRef]; cfg.APIKey.Reveal() != want {
					t.Errorf("API_KEY = %q, want %q", cfg.APIKey.Reveal(), want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Load = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// secretsByName lets a test config read secret references into more field types.
type secretsConfig struct {
	config.Base
	APIKey   config.Secret `env:"API_KEY"`
	Password string        `env:"PASSWORD"`
	Limit    int           `env:"LIMIT"`
	Addr     hostPort      `env:"ADDR"`
	Missing  config.Secret `env:"MISSING"`
	Typo     config.Secret `env:"TYPO"`
}

func TestLoadSecretProblems(t *testing.T) {
	t.Parallel()
	missingRef := "secret://projects/medi-prod/secrets/nope/versions/1"
	typoRef := "secret://projects/medi-prod/secrets/db-password"
	var cfg secretsConfig
	err := config.Load(t.Context(), &cfg, config.WithResolver(newResolver()), config.WithEnvironment(map[string]string{
		"MEDI_ENV":             "prod",
		"GOOGLE_CLOUD_PROJECT": "medi-prod",
		"API_KEY":              apiKeyRef,
		"PASSWORD":             dbPassRef,
		"LIMIT":                apiKeyRef,
		"ADDR":                 badAddrRef,
		"MISSING":              missingRef,
		"TYPO":                 typoRef,
	}))
	got := problems(t, err)
	want := []string{
		"LIMIT: secret references are supported only in string fields, not in int",
		"ADDR: the value read from Secret Manager is not a valid config_test.hostPort (details withheld to keep the secret out of logs)",
		"MISSING: secrets: access " + missingRef + ": ",
		"TYPO: secrets: malformed secret reference \"" + typoRef + "\": ",
	}
	if len(got) != len(want) {
		t.Fatalf("problems = %q, want %d like %q", got, len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
	if code := status.Code(errors.Unwrap(errors.Unwrap(err.(*config.Error).Problems[2]))); code != codes.NotFound {
		t.Errorf("MISSING problem's gRPC code = %v, want NotFound", code)
	}
	if !errors.Is(err, secrets.ErrMalformedReference) {
		t.Errorf("error %v does not wrap secrets.ErrMalformedReference", err)
	}
	for _, v := range []string{apiKeyValue, dbPassValue, badAddrVal} {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error %q contains the secret value %q", err, v)
		}
	}
	// The fields that resolved are filled.
	if cfg.APIKey.Reveal() != apiKeyValue || cfg.Password != dbPassValue {
		t.Errorf("resolved fields = %q, %q; want %q, %q", cfg.APIKey.Reveal(), cfg.Password, apiKeyValue, dbPassValue)
	}
}

func TestLoadSecretReferenceInDevWithoutResolver(t *testing.T) {
	t.Parallel()
	var cfg scribeConfig
	err := config.Load(t.Context(), &cfg, config.WithEnvironment(env(map[string]string{
		"API_KEY":     apiKeyRef,
		"DB_PASSWORD": dbPassRef,
	})))
	got := problems(t, err)
	var names []string
	for _, p := range got {
		name, _, _ := strings.Cut(p, ":")
		names = append(names, name)
	}
	if diff := cmp.Diff([]string{"API_KEY", "DB_PASSWORD"}, names); diff != "" {
		t.Errorf("variables named mismatch (-want +got):\n%s", diff)
	}
	if !errors.Is(err, config.ErrNoSecretResolver) {
		t.Errorf("error %v does not wrap ErrNoSecretResolver", err)
	}
}

func TestLoadRejectsNonStructs(t *testing.T) {
	t.Parallel()
	var cfg scribeConfig
	var nilCfg *scribeConfig
	s := "x"
	for _, dst := range []any{nil, cfg, nilCfg, &s} {
		err := config.Load(t.Context(), dst, config.WithEnvironment(env(nil)))
		if err == nil || !strings.Contains(err.Error(), "pointer to a struct") {
			t.Errorf("Load(%T) error = %v, want a pointer-to-struct error", dst, err)
		}
	}
}

// TestLoadProcessEnvironment reads the real process environment (so it cannot run in
// parallel), including the emulator variables the test runner may have set.
func TestLoadProcessEnvironment(t *testing.T) {
	t.Setenv("MEDI_ENV", "prod")
	t.Setenv("GOOGLE_CLOUD_PROJECT", "medi-prod")
	t.Setenv("MEDI_CONFIGTEST_EMULATOR_HOST", "127.0.0.1:1")
	var cfg withoutBase
	err := config.Load(t.Context(), &cfg)
	if !errors.Is(err, config.ErrEmulatorHost) || !strings.Contains(err.Error(), "MEDI_CONFIGTEST_EMULATOR_HOST: ") {
		t.Errorf("Load error = %v, want MEDI_CONFIGTEST_EMULATOR_HOST refused", err)
	}

	t.Setenv("MEDI_ENV", "dev")
	t.Setenv("BUCKET", "from-process")
	if err := config.Load(t.Context(), &cfg); err != nil {
		t.Fatalf("Load in dev: %v", err)
	}
	if cfg.Bucket != "from-process" {
		t.Errorf("Bucket = %q, want %q", cfg.Bucket, "from-process")
	}
}
