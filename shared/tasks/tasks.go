// Package tasks enqueues work for the internal HTTP workers (scribe-worker on queue
// "scribe", summarize-worker on "summaries", mailer on "mail") and lets those workers check
// that a request really is a task delivery.
//
// Producers depend on the small [Enqueuer] interface. Production uses [CloudTasks] (Cloud
// Tasks HTTP targets with an OIDC token for the invoker service account); the local stack
// uses [Local], a dispatcher that POSTs to the worker with retries and backoff. Workers
// check deliveries with a [Verifier]: [OIDCVerifier] in staging and production,
// [SecretVerifier] (a shared header secret) in development.
//
// # De-duplication
//
// A [Task] names itself ([Task.Name], usually [TaskID] of the event that caused it, e.g.
// bucket, object and generation of an upload). Enqueuing a name that is already queued (or
// was recently) is not an error: the work is already on its way, so Enqueue returns nil.
// Callers that want to know use the concrete types' Create method, which also reports
// whether this call created the task. Workers must still be idempotent: Cloud Tasks
// delivers at least once.
//
// Task bodies may hold identifiers of patient records; they are never logged.
package tasks

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"
)

// Queues of the workers (Cloud Tasks queue ids, see terraform/).
const (
	QueueScribe    = "scribe"    // handled by scribe-worker
	QueueSummaries = "summaries" // handled by summarize-worker
	QueueMail      = "mail"      // handled by mailer
)

// Request headers Cloud Tasks sets on HTTP target deliveries; [Local] sets them too.
const (
	HeaderQueueName  = "X-CloudTasks-QueueName"
	HeaderTaskName   = "X-CloudTasks-TaskName"
	HeaderRetryCount = "X-CloudTasks-TaskRetryCount"
)

// Task is one unit of work for a worker.
type Task struct {
	// Queue is the Cloud Tasks queue id, e.g. [QueueScribe].
	Queue string
	// Name de-duplicates the task within its queue: a second task with the same name is
	// not created. It must match [A-Za-z0-9_-]{1,500}; use [TaskID] to derive one from
	// arbitrary parts. Empty means no de-duplication (a name is generated).
	Name string
	// URL is the worker endpoint the task is POSTed to (absolute http or https URL).
	URL string
	// Body is the JSON request body.
	Body []byte
	// ScheduleTime, if not zero, is the earliest time the task is dispatched.
	ScheduleTime time.Time
}

// Enqueuer hands tasks to the queueing system. Enqueue returns once the task is accepted
// (not when the worker has run it). A task whose name is already queued is not an error.
type Enqueuer interface {
	Enqueue(ctx context.Context, t Task) error
}

// ErrInvalidTask is wrapped by errors for tasks that can never be enqueued (bad queue,
// name, URL or body). Retrying such a call is pointless.
var ErrInvalidTask = errors.New("tasks: invalid task")

var (
	queueIDPattern = regexp.MustCompile(`^[A-Za-z0-9-]{1,100}$`)
	taskIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,500}$`)
)

// TaskID hashes parts (e.g. bucket, object name and generation) into a valid task name:
// 64 lowercase hex characters. Equal parts give equal ids; the parts are length-prefixed,
// so ("ab", "c") and ("a", "bc") differ. The hash spreads names evenly, which Cloud Tasks
// recommends, and keeps whatever the parts contain out of task names and logs.
func TaskID(parts ...string) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// validate checks what both implementations need. Error messages name the field, never
// the body.
func (t Task) validate() error {
	if !queueIDPattern.MatchString(t.Queue) {
		return fmt.Errorf("%w: queue %q must match [A-Za-z0-9-]{1,100}", ErrInvalidTask, t.Queue)
	}
	if t.Name != "" && !taskIDPattern.MatchString(t.Name) {
		return fmt.Errorf("%w: name must match [A-Za-z0-9_-]{1,500} (use tasks.TaskID)", ErrInvalidTask)
	}
	if _, err := parseTargetURL(t.URL); err != nil {
		return err
	}
	if !json.Valid(t.Body) {
		return fmt.Errorf("%w: body is not one valid JSON value", ErrInvalidTask)
	}
	return nil
}

func parseTargetURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%w: url must be an absolute http(s) URL without credentials", ErrInvalidTask)
	}
	return u, nil
}

// safeURL returns scheme, host and path of raw for logs (no query, no credentials).
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// Delivery describes the task a worker request carries, from the headers Cloud Tasks (or
// [Local]) sets. Log it to correlate worker runs with tasks; use TaskName to de-duplicate.
type Delivery struct {
	Queue      string
	TaskName   string
	RetryCount int // 0 on the first attempt
}

// DeliveryFromRequest reads the Cloud Tasks headers of r. Missing or malformed headers
// give zero values; call a [Verifier] first, the headers are only trustworthy then.
func DeliveryFromRequest(r *http.Request) Delivery {
	d := Delivery{
		Queue:    r.Header.Get(HeaderQueueName),
		TaskName: r.Header.Get(HeaderTaskName),
	}
	if n, err := strconv.Atoi(r.Header.Get(HeaderRetryCount)); err == nil && n >= 0 {
		d.RetryCount = n
	}
	return d
}
