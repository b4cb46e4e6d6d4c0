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
	randv2 "math/rand/v2"
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
	DefaultMaxAttempts    = 5
	DefaultMinBackoff     = 100 * time.Millisecond
	DefaultMaxBackoff     = 10 * time.Second
	DefaultAttemptTimeout = 10 * time.Minute // Cloud Tasks' default dispatch deadline
)

// LocalConfig configures [Local]. Zero durations and counts take the defaults above.
type LocalConfig struct {
	// Secret is sent in [SecretHeader]; the workers' [SecretVerifier] holds the same value.
	Secret string
	// MaxAttempts bounds deliveries of one task, the first included.
	MaxAttempts int
	// MinBackoff is the wait before the first retry; it doubles per retry up to
	// MaxBackoff, with jitter (each wait is between half and all of that value).
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// AttemptTimeout bounds one delivery attempt.
	AttemptTimeout time.Duration
	// Client sends the requests; nil means a client that does not follow redirects (as
	// Cloud Tasks, a redirect counts as a failed attempt).
	Client *http.Client
}

// Local is the development stand-in for Cloud Tasks: Enqueue accepts a task and returns;
// a goroutine then POSTs the body to the task URL with the headers Cloud Tasks sets plus
// [SecretHeader]. A 2xx answer ends the task. Network errors, timeouts, 408, 429 and 5xx
// (and unexpected 1xx/3xx) are retried with exponential backoff and jitter; any other 4xx,
// or MaxAttempts failures, ends the task with an error log (never the body). Task names are remembered per queue for
// the life of the dispatcher; a name seen before is not dispatched again, even if its
// first delivery failed (Cloud Tasks likewise keeps names reserved).
//
// Call Close at shutdown to drain in-flight tasks. Local is safe for concurrent use.
type Local struct {
	cfg    LocalConfig
	ctx    context.Context // cancelled when Close stops waiting: aborts attempts and waits
	cancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	seen     map[string]struct{} // queue + "/" + name
	inflight int
	idle     chan struct{} // closed while inflight == 0
}

var _ Enqueuer = (*Local)(nil)

// NewLocal returns a dispatcher; it starts no goroutine until the first task.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Secret == "" {
		return nil, errors.New("tasks: local dispatcher needs a shared secret")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("tasks: local dispatcher: max backoff %v below min backoff %v", cfg.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	return &Local{cfg: cfg, ctx: ctx, cancel: cancel, seen: make(map[string]struct{}), idle: idle}, nil
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
	if _, ok := l.seen[key]; ok {
		l.mu.Unlock()
		log.InfoContext(ctx, "task already queued, not dispatched again")
		return false, nil
	}
	l.seen[key] = struct{}{}
	if l.inflight == 0 {
		l.idle = make(chan struct{})
	}
	l.inflight++
	l.mu.Unlock()

	t.Body = bytes.Clone(t.Body) // the caller may reuse its buffer
	go l.run(log, t)
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

func (l *Local) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	if l.inflight == 0 {
		close(l.idle)
	}
}

// run delivers t until it succeeds, fails permanently, runs out of attempts or the
// dispatcher is closed.
func (l *Local) run(log *slog.Logger, t Task) {
	defer l.finish()
	if d := time.Until(t.ScheduleTime); d > 0 && !l.sleep(d) {
		log.Warn("task abandoned at shutdown before its schedule time")
		return
	}
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
		switch classify(code, err) {
		case delivered:
			log.Debug("task delivered", attrs...)
			return
		case rejected:
			log.Error("task rejected by the worker, giving up", attrs...)
			return
		}
		if attempt >= l.cfg.MaxAttempts {
			log.Error("task failed, giving up after the last attempt", attrs...)
			return
		}
		log.Warn("task attempt failed, will retry", attrs...)
		if !l.sleep(backoff(l.cfg.MinBackoff, l.cfg.MaxBackoff, attempt, randv2.Int64N)) {
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

type outcome int

const (
	retry     outcome = iota // network error, timeout, 408, 429, 5xx, 1xx/3xx
	delivered                // 2xx
	rejected                 // other 4xx: the request itself is wrong
)

func classify(code int, err error) outcome {
	switch {
	case err != nil:
		return retry
	case code >= 200 && code < 300:
		return delivered
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return retry
	case code >= 400 && code < 500:
		return rejected
	default:
		return retry
	}
}

// backoff is the wait after failed attempt number attempt (1-based): minD doubled per
// earlier retry, capped at maxD, then jittered into [d/2, d]. randN(n) returns [0, n).
func backoff(minD, maxD time.Duration, attempt int, randN func(int64) int64) time.Duration {
	d := minD
	for i := 1; i < attempt && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	half := d / 2
	return half + time.Duration(randN(int64(d-half)+1))
}

func randomName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
