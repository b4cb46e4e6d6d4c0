package tasks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/medi-os/medi/shared/logging"
)

// SecretHeader carries the shared secret with which [Local] authenticates its deliveries
// and [SecretVerifier] checks them (development only; production uses OIDC tokens).
const SecretHeader = "X-Medi-Task-Secret"

// ErrClosed is returned by [Local.Enqueue] after [Local.Close].
var ErrClosed = errors.New("tasks: local dispatcher closed")

// Defaults of [LocalConfig].
const (
	DefaultAttemptTimeout = 10 * time.Minute // Cloud Tasks' default dispatch deadline
	// NameReservation is how long a task name stays taken after its task ended (Cloud
	// Tasks: about an hour after a task was executed or deleted).
	NameReservation = time.Hour
)

// DefaultRetry is the retry policy of a queue [QueueRetry] does not name: Cloud Tasks'
// defaults for a new queue.
var DefaultRetry = RetryPolicy{MaxAttempts: 100, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Hour, MaxDoublings: 16}

// LocalConfig configures [Local]. Zero values take the defaults above.
type LocalConfig struct {
	// Secret is sent in [SecretHeader]; the workers' [SecretVerifier] holds the same value.
	Secret string
	// Retry gives each queue's retry policy; nil means [QueueRetry] (production's). A
	// queue it does not name gets [DefaultRetry].
	Retry map[string]RetryPolicy
	// AttemptTimeout bounds one delivery attempt (the dispatch deadline).
	AttemptTimeout time.Duration
	// Client sends the requests; nil means a client that does not follow redirects (as
	// Cloud Tasks, a redirect counts as a failed attempt).
	Client *http.Client
	// Now returns the time (time.Now when nil); tests move it to expire name reservations.
	Now func() time.Time
}

// Local is the development stand-in for Cloud Tasks: Enqueue accepts a task and returns;
// a goroutine then POSTs the body to the task URL with the headers Cloud Tasks sets plus
// [SecretHeader]. A 2xx answer ends the task. Any other answer, a network error or an
// attempt past the dispatch deadline is retried as Cloud Tasks retries it: after the
// backoff of the queue's [RetryPolicy] (production's, [QueueRetry]), until the policy
// gives the task up (error log, never the body). Task names are remembered per queue
// while the task runs and for [NameReservation] after; a name taken is not dispatched
// again, even if its task failed (Cloud Tasks likewise keeps names reserved).
//
// Unlike Cloud Tasks, tasks live in the memory of the process that enqueued them: they
// are lost when it stops. The scribe sweeper (shared/scribe) re-enqueues scribe jobs
// whose session stopped moving, whatever the cause.
//
// Call Close at shutdown to drain in-flight tasks. Local is safe for concurrent use.
type Local struct {
	cfg    LocalConfig
	ctx    context.Context // cancelled when Close stops waiting: aborts attempts and waits
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	seen     map[string]time.Time // queue + "/" + name -> when its task ended (zero: running)
	inflight int
	idle     chan struct{} // closed while inflight == 0
}

var _ Enqueuer = (*Local)(nil)

// NewLocal returns a dispatcher; it starts no goroutine until the first task.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Secret == "" {
		return nil, errors.New("tasks: local dispatcher needs a shared secret")
	}
	if cfg.Retry == nil {
		cfg.Retry = QueueRetry
	}
	for q, p := range cfg.Retry {
		if p.MinBackoff <= 0 || p.MaxBackoff < p.MinBackoff || p.MaxAttempts == 0 || p.MaxAttempts < -1 {
			return nil, fmt.Errorf("tasks: local dispatcher: retry policy of queue %q: need 0 < min backoff <= max backoff and max attempts >= 1 or -1", q)
		}
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &Local{cfg: cfg, ctx: ctx, cancel: cancel, seen: make(map[string]time.Time), idle: idle}, nil
}

// policy is the retry policy of queue.
func (l *Local) policy(queue string) RetryPolicy {
	if p, ok := l.cfg.Retry[queue]; ok {
		return p
	}
	return DefaultRetry
}

// Enqueue accepts t for asynchronous delivery; a name already seen in the queue is not
// an error and is not dispatched again.
func (l *Local) Enqueue(ctx context.Context, t Task) error {
	_, err := l.Create(ctx, t)
	return err
}

// Create accepts t and reports whether it did: created is false with a nil error when a
// task of that name was seen before in the queue.
func (l *Local) Create(ctx context.Context, t Task) (created bool, err error) {
	if err := t.validate(); err != nil {
		return false, err
	}
	if t.Name == "" {
		t.Name = randomName()
	}
	log := logging.FromContext(ctx).With("queue", t.Queue, "task", t.Name, "url", safeURL(t.URL))

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false, ErrClosed
	}
	key := t.Queue + "/" + t.Name
	if ended, ok := l.seen[key]; ok && (ended.IsZero() || l.cfg.Now().Sub(ended) < NameReservation) {
		l.mu.Unlock()
		log.InfoContext(ctx, "task already queued, not dispatched again")
		return false, nil
	}
	l.seen[key] = time.Time{}
	if l.inflight == 0 {
		l.idle = make(chan struct{})
	}
	l.inflight++
	l.mu.Unlock()

	t.Body = bytes.Clone(t.Body) // the caller may reuse its buffer
	go l.run(log, t, key)
	return true, nil
}

// Wait blocks until no task is in flight (delivered, given up or abandoned), or ctx is
// done. Tasks enqueued meanwhile are waited for too.
func (l *Local) Wait(ctx context.Context) error {
	l.mu.Lock()
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting tasks and waits for in-flight ones, including their retries and
// schedule times, until ctx is done; then it aborts the rest (they are logged as
// abandoned) and returns ctx's error once their goroutines have ended.
func (l *Local) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	idle := l.idle
	l.mu.Unlock()

	select {
	case <-idle:
		l.cancel()
		return nil
	case <-ctx.Done():
		l.cancel()
		<-idle
		return ctx.Err()
	}
}

func (l *Local) finish(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[key] = l.cfg.Now()
	l.inflight--
	if l.inflight == 0 {
		close(l.idle)
	}
}

// run delivers t until it succeeds, its queue's retry policy gives it up, or the
// dispatcher is closed.
func (l *Local) run(log *slog.Logger, t Task, key string) {
	defer l.finish(key)
	if d := time.Until(t.ScheduleTime); d > 0 && !l.sleep(d) {
		log.Warn("task abandoned at shutdown before its schedule time")
		return
	}
	policy := l.policy(t.Queue)
	first := l.cfg.Now()
	for attempt := 1; ; attempt++ {
		code, err := l.attempt(t, attempt-1)
		if err != nil && l.ctx.Err() != nil {
			log.Warn("task abandoned at shutdown", "attempt", attempt)
			return
		}
		attrs := []any{"attempt", attempt, "status", code}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		if err == nil && code >= 200 && code < 300 {
			log.Debug("task delivered", attrs...)
			return
		}
		if policy.Exhausted(attempt, first, l.cfg.Now()) {
			log.Error("task failed, giving up: its queue's retry policy is exhausted", attrs...)
			return
		}
		wait := policy.Backoff(attempt)
		log.Warn("task attempt failed, will retry", append(attrs, "retryInMs", wait.Milliseconds())...)
		if !l.sleep(wait) {
			log.Warn("task abandoned at shutdown", "attempt", attempt)
			return
		}
	}
}

// attempt POSTs t once and returns the response status. Errors carry no URL (a
// *url.Error is unwrapped) so that they can be logged.
func (l *Local) attempt(t Task, retryCount int) (int, error) {
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(t.Body))
	if err != nil {
		return 0, errors.New("tasks: cannot build request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Google-Cloud-Tasks")
	req.Header.Set(HeaderQueueName, t.Queue)
	req.Header.Set(HeaderTaskName, t.Name)
	req.Header.Set(HeaderRetryCount, strconv.Itoa(retryCount))
	req.Header.Set(SecretHeader, l.cfg.Secret)

	resp, err := l.cfg.Client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; the answer itself is not needed.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// sleep waits d or until the dispatcher is closed; it reports whether d passed.
func (l *Local) sleep(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-l.ctx.Done():
		return false
	}
}

func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
