// Package mailer is the `mailer` task worker (Cloud Tasks queue "mail"): it verifies
// that a request is a task delivery, then renders and sends the mail (package mail).
// Transient failures answer 503 so that the queue retries with backoff; permanent ones
// are recorded and acknowledged.
package mailer

import (
	"context"
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
)

// Config is the function's configuration, read from the environment.
type Config struct {
	config.Base
	app.TasksConfig

	// SMTP relay (staging and prod). The password is a secret:// reference.
	SMTPHost     string        `env:"MEDI_SMTP_HOST"`
	SMTPPort     int           `env:"MEDI_SMTP_PORT, default=587"`
	SMTPUsername string        `env:"MEDI_SMTP_USERNAME"`
	SMTPPassword config.Secret `env:"MEDI_SMTP_PASSWORD"`
	MailFrom     string        `env:"MEDI_MAIL_FROM, default=Medi OS <no-reply@medi-os.invalid>"`

	// OutboxDir is the dev outbox folder (local stack only; default per project in the
	// temp dir).
	OutboxDir string `env:"MEDI_DEV_OUTBOX_DIR"`
}

// Validate requires the SMTP settings wherever mail really leaves: every deployed
// environment, dev included (on Cloud Run). Only the local stack writes to the outbox.
func (c *Config) Validate() error {
	var errs []error
	if c.LocalStack() {
		return nil
	}
	if c.SMTPHost == "" {
		errs = append(errs, &config.VarError{Var: "MEDI_SMTP_HOST", Err: errors.New("required outside the local stack")})
	}
	if c.SMTPPassword == "" {
		errs = append(errs, &config.VarError{Var: "MEDI_SMTP_PASSWORD", Err: errors.New("required outside the local stack")})
	}
	if c.OutboxDir != "" {
		errs = append(errs, &config.VarError{Var: "MEDI_DEV_OUTBOX_DIR", Err: errors.New("the dev outbox exists in the local stack only; unset it")})
	}
	return errors.Join(errs...)
}

// Function is the deployable, registered in functions.go as "mailer".
var Function = app.NewHTTP("mailer", func() *Config { return new(Config) }, setup)

type worker struct {
	verify  *app.Lazy[tasks.Verifier]
	deliver *app.Lazy[*mail.Deliverer]
}

func setup(_ context.Context, cfg *Config, env *app.Env, rt *httpx.Router) error {
	w := &worker{
		verify: app.NewLazy(func(ctx context.Context) (tasks.Verifier, error) {
			return app.NewTaskVerifier(ctx, cfg.Tier, "mailer", cfg.TasksConfig)
		}),
		deliver: app.NewLazy(func(ctx context.Context) (*mail.Deliverer, error) {
			provider, err := newProvider(cfg)
			if err != nil {
				return nil, err
			}
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			links, err := env.Platform.Auth(ctx)
			if err != nil {
				return nil, err
			}
			return mail.NewDeliverer(provider, links, fs), nil
		}),
	}
	rt.Handle(http.MethodPost, mail.TaskPath, http.HandlerFunc(w.handleTask))
	return nil
}

func newProvider(cfg *Config) (mail.Provider, error) {
	if !cfg.LocalStack() {
		return mail.NewSMTP(mail.SMTPConfig{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword.Reveal(), From: cfg.MailFrom,
		})
	}
	dir := cfg.OutboxDir
	if dir == "" {
		dir = mail.DefaultOutboxDir(cfg.ProjectID)
	}
	return mail.NewOutbox(dir)
}
