package tasks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	cloudtasks "cloud.google.com/go/cloudtasks/apiv2"
	"cloud.google.com/go/cloudtasks/apiv2/cloudtaskspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/medi-os/medi/shared/logging"
)

// AudienceFunc gives the OIDC token audience for a task URL. The worker's [OIDCVerifier]
// must expect the same value.
type AudienceFunc func(taskURL string) string

// OriginAudience uses scheme and host of the task URL ("https://scribe-worker-xyz.a.run.app"),
// which is the Cloud Run service URL that Cloud Run itself accepts as audience.
func OriginAudience(taskURL string) string {
	u, err := url.Parse(taskURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// FixedAudience uses aud for every task (e.g. a Cloud Run custom audience).
func FixedAudience(aud string) AudienceFunc {
	return func(string) string { return aud }
}

// CloudTasksConfig configures [CloudTasks].
type CloudTasksConfig struct {
	// ProjectID and Location (e.g. "europe-west1") hold the queues.
	ProjectID string
	Location  string
	// ServiceAccountEmail is the invoker account Cloud Tasks signs OIDC tokens as; the
	// workers accept only this account. The caller needs iam.serviceAccounts.actAs on it.
	ServiceAccountEmail string
	// Audience gives the token audience per task; nil means [OriginAudience].
	Audience AudienceFunc
	// DispatchDeadline bounds one delivery attempt (Cloud Tasks allows 15s to 30m);
	// zero leaves the Cloud Tasks default of 10 minutes.
	DispatchDeadline time.Duration
}

func (c CloudTasksConfig) validate() error {
	var errs []error
	if c.ProjectID == "" {
		errs = append(errs, errors.New("project id is required"))
	}
	if c.Location == "" {
		errs = append(errs, errors.New("location is required"))
	}
	if !strings.Contains(c.ServiceAccountEmail, "@") {
		errs = append(errs, errors.New("invoker service account email is required"))
	}
	if d := c.DispatchDeadline; d != 0 && (d < 15*time.Second || d > 30*time.Minute) {
		errs = append(errs, fmt.Errorf("dispatch deadline %v outside 15s..30m", d))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("tasks: cloud tasks config: %w", err)
	}
	return nil
}

// ClientFunc returns the Cloud Tasks API client (the process's, created by its owner on
// first use: shared/app's platform).
type ClientFunc func(context.Context) (*cloudtasks.Client, error)

// CloudTasks enqueues tasks as Cloud Tasks HTTP tasks: POST to the task URL with a JSON
// body and an OIDC token of the invoker service account. It is safe for concurrent use.
type CloudTasks struct {
	cfg    CloudTasksConfig
	client ClientFunc
}

var _ Enqueuer = (*CloudTasks)(nil)

// NewCloudTasks checks cfg and returns an enqueuer creating tasks with the client that
// client returns; it does not contact the API.
func NewCloudTasks(cfg CloudTasksConfig, client ClientFunc) (*CloudTasks, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, errors.New("tasks: cloud tasks: no client")
	}
	if cfg.Audience == nil {
		cfg.Audience = OriginAudience
	}
	return &CloudTasks{cfg: cfg, client: client}, nil
}

// Enqueue creates t; a task of the same name that already exists is not an error.
func (c *CloudTasks) Enqueue(ctx context.Context, t Task) error {
	_, err := c.Create(ctx, t)
	return err
}

// Create creates t and reports whether it did: created is false with a nil error when a
// task of that name exists (or existed recently: Cloud Tasks keeps names of deleted or
// completed tasks reserved for up to about an hour, longer for some queues).
func (c *CloudTasks) Create(ctx context.Context, t Task) (created bool, err error) {
	if err := t.validate(); err != nil {
		return false, err
	}
	if u, _ := parseTargetURL(t.URL); u.Scheme != "https" {
		// The OIDC token would travel in clear text.
		return false, fmt.Errorf("%w: url must use https for Cloud Tasks", ErrInvalidTask)
	}
	aud := c.cfg.Audience(t.URL)
	if aud == "" {
		return false, fmt.Errorf("%w: no OIDC audience for the task url", ErrInvalidTask)
	}
	client, err := c.client(ctx)
	if err != nil {
		return false, fmt.Errorf("tasks: cloud tasks client: %w", err)
	}

	parent := fmt.Sprintf("projects/%s/locations/%s/queues/%s", c.cfg.ProjectID, c.cfg.Location, t.Queue)
	pt := &cloudtaskspb.Task{
		MessageType: &cloudtaskspb.Task_HttpRequest{HttpRequest: &cloudtaskspb.HttpRequest{
			Url:        t.URL,
			HttpMethod: cloudtaskspb.HttpMethod_POST,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       t.Body,
			AuthorizationHeader: &cloudtaskspb.HttpRequest_OidcToken{OidcToken: &cloudtaskspb.OidcToken{
				ServiceAccountEmail: c.cfg.ServiceAccountEmail,
				Audience:            aud,
			}},
		}},
	}
	if t.Name != "" {
		pt.Name = parent + "/tasks/" + t.Name
	}
	if !t.ScheduleTime.IsZero() {
		pt.ScheduleTime = timestamppb.New(t.ScheduleTime)
	}
	if c.cfg.DispatchDeadline > 0 {
		pt.DispatchDeadline = durationpb.New(c.cfg.DispatchDeadline)
	}

	log := logging.FromContext(ctx).With("queue", t.Queue, "task", t.Name)
	_, err = client.CreateTask(ctx, &cloudtaskspb.CreateTaskRequest{Parent: parent, Task: pt})
	switch {
	case err == nil:
		log.DebugContext(ctx, "task created")
		return true, nil
	case status.Code(err) == codes.AlreadyExists:
		log.InfoContext(ctx, "task already queued, not created again")
		return false, nil
	default:
		return false, fmt.Errorf("tasks: create task in queue %q: %w", t.Queue, err)
	}
}
