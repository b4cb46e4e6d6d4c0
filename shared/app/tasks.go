package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
)

// TasksConfig is embedded by the config of every function that enqueues Cloud Tasks or
// serves as a task worker.
type TasksConfig struct {
	// Location is the Cloud Tasks region (staging/prod).
	Location string `env:"MEDI_TASKS_LOCATION"`
	// InvokerServiceAccount is the service account whose OIDC token Cloud Tasks attaches
	// (staging/prod); workers accept only tokens of this account.
	InvokerServiceAccount string `env:"MEDI_TASKS_INVOKER_SA"`
	// DevSecret is the shared header secret of the local dispatcher (dev only).
	DevSecret config.Secret `env:"MEDI_DEV_TASK_SECRET"`
}

// FunctionURL returns the URL of another function of the suite (task targets), from
// MEDI_FUNCTION_URL_<NAME> (NAME upper-cased, dashes as underscores), which Terraform and
// the local stack set.
func FunctionURL(name string) (string, error) {
	v := "MEDI_FUNCTION_URL_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	u := os.Getenv(v)
	if u == "" {
		return "", fmt.Errorf("%s is not set: the URL of function %s is unknown", v, name)
	}
	return u, nil
}

// Enqueuer returns the tier's task queue: Cloud Tasks in staging/prod (with the
// platform's Cloud Tasks client, created on the first enqueue), the local dispatcher
// (HTTP POST with retries and backoff) in dev.
func (e *Env) Enqueuer(c TasksConfig) (tasks.Enqueuer, error) {
	if e.Tier.IsDeployed() {
		if c.Location == "" || c.InvokerServiceAccount == "" {
			return nil, errors.New("MEDI_TASKS_LOCATION and MEDI_TASKS_INVOKER_SA are required to enqueue Cloud Tasks")
		}
		return tasks.NewCloudTasks(tasks.CloudTasksConfig{
			ProjectID: e.ProjectID, Location: c.Location, ServiceAccountEmail: c.InvokerServiceAccount,
		}, e.Platform.CloudTasks)
	}
	if c.DevSecret == "" {
		return nil, errors.New("MEDI_DEV_TASK_SECRET is required for the local task dispatcher")
	}
	return tasks.NewLocal(tasks.LocalConfig{Secret: c.DevSecret.Reveal()})
}

// NewTaskVerifier returns how a worker checks that a request comes from its queue: the
// OIDC token of the invoker account for the worker's own URL in staging/prod (signature
// checked by Cloud Run's invoker IAM check, claims here), the shared header secret in dev.
func NewTaskVerifier(ctx context.Context, tier config.Tier, self string, c TasksConfig) (tasks.Verifier, error) {
	if tier.IsDeployed() {
		aud, err := FunctionURL(self)
		if err != nil {
			return nil, err
		}
		// Workers are deployed with Cloud Run's invoker IAM check on (only the invoker
		// account holds run.invoker; terraform/modules/function), which verifies the
		// signature and hands over the token without it; the claims are checked here.
		return tasks.NewOIDCVerifier(ctx, tasks.OIDCConfig{Audience: tasks.OriginAudience(aud),
			ServiceAccountEmail: c.InvokerServiceAccount, PlatformVerified: true})
	}
	return tasks.NewSecretVerifier(c.DevSecret.Reveal())
}

// MailQueue returns the queue mail is sent through: tasks for the mailer function at
// mailerURL (MEDI_FUNCTION_URL_MAILER) on the tier's task queue, which is created on the
// first mail. Without mailerURL every send fails with an error naming the variable.
func (e *Env) MailQueue(c TasksConfig, mailerURL string) *mail.Queue {
	enq := NewLazy(func(context.Context) (tasks.Enqueuer, error) { return e.Enqueuer(c) })
	return mail.NewQueue(enq.Get, func() (string, error) {
		if mailerURL == "" {
			return "", errors.New("MEDI_FUNCTION_URL_MAILER is not set: mail cannot be queued")
		}
		return mailerURL, nil
	})
}
