package tasks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/logging"
)

const testSecret = "local-task-secret-for-tests"

// delivery is what the test worker saw of one request.
type delivery struct {
	Method, ContentType, Queue, TaskName, RetryCount, Secret string
	Body                                                     string
}

// worker is an httptest server that answers with statuses in turn (the last one repeats)
// and records every request.
type worker struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []delivery
}

func newWorker(t *testing.T, statuses ...int) *worker {
	t.Helper()
	w := &worker{statuses: statuses}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.got = append(w.got, delivery{
			Method:      r.Method,
			ContentType: r.Header.Get("Content-Type"),
			Queue:       r.Header.Get(HeaderQueueName),
			TaskName:    r.Header.Get(HeaderTaskName),
			RetryCount:  r.Header.Get(HeaderRetryCount),
			Secret:      r.Header.Get(SecretHeader),
			Body:        string(body),
		})
		code := http.StatusOK
		if n := len(w.got); len(w.statuses) > 0 {
			code = w.statuses[min(n, len(w.statuses))-1]
		}
		w.mu.Unlock()
		rw.WriteHeader(code)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *worker) deliveries() []delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]delivery(nil), w.got...)
}

// tinyRetry is a retry policy of maxAttempts attempts (4 when 0) with millisecond
// backoffs, for every queue of the suite.
func tinyRetry(maxAttempts int) map[string]RetryPolicy {
	if maxAttempts == 0 {
		maxAttempts = 4
	}
	p := RetryPolicy{MaxAttempts: maxAttempts, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxDoublings: 1}
	return map[string]RetryPolicy{QueueScribe: p, QueueSummaries: p, QueueMail: p}
}

// newTestLocal returns a dispatcher with tiny backoffs (cfg.Retry when set), closed at
// the end of the test.
func newTestLocal(t *testing.T, cfg LocalConfig) *Local {
	t.Helper()
	cfg.Secret = testSecret
	if cfg.Retry == nil {
		cfg.Retry = tinyRetry(0)
	}
	l, err := NewLocal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// quietCtx returns a context whose logger writes into the returned buffer.
func quietCtx(t *testing.T) (context.Context, *syncBuffer) {
	var buf syncBuffer
	return logging.WithLogger(t.Context(), logging.New(&buf, slog.LevelDebug)), &buf
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// wait drains the dispatcher; the deadline only guards against a hung test.
func wait(t *testing.T, l *Local) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func attempts(queue, name, body string, n int) []delivery {
	var out []delivery
	for i := range n {
		out = append(out, delivery{
			Method: http.MethodPost, ContentType: "application/json", Queue: queue, TaskName: name,
			RetryCount: strconv.Itoa(i), Secret: testSecret, Body: body,
		})
	}
	return out
}

func TestLocalDelivery(t *testing.T) {
	t.Parallel()
	const body = `{"sessionId":"s-1"}`
	cases := []struct {
		name        string
		statuses    []int
		maxAttempts int
		want        int    // attempts the worker sees
		wantLog     string // message logged when the task ends
	}{
		{name: "success", statuses: []int{200}, want: 1, wantLog: "task delivered"},
		{name: "204 is success", statuses: []int{204}, want: 1, wantLog: "task delivered"},
		{name: "retries 500 then succeeds", statuses: []int{500, 503, 200}, want: 3, wantLog: "task delivered"},
		{name: "retries 429 and 408", statuses: []int{429, 408, 202}, want: 3, wantLog: "task delivered"},
		{name: "gives up after max attempts", statuses: []int{500}, maxAttempts: 3, want: 3, wantLog: "retry policy is exhausted"},
		// As Cloud Tasks: every status outside 200-299 is a failed attempt.
		{name: "retries 400", statuses: []int{400, 200}, want: 2, wantLog: "task delivered"},
		{name: "retries 403 and 404", statuses: []int{403, 404, 200}, want: 3, wantLog: "task delivered"},
		{name: "a 4xx counts as an attempt", statuses: []int{404}, maxAttempts: 2, want: 2, wantLog: "retry policy is exhausted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorker(t, tc.statuses...)
			l := newTestLocal(t, LocalConfig{Retry: tinyRetry(tc.maxAttempts)})
			ctx, logs := quietCtx(t)

			name := TaskID(tc.name)
			created, err := l.Create(ctx, Task{Queue: QueueScribe, Name: name, URL: w.URL + "/tasks", Body: []byte(body)})
			if err != nil || !created {
				t.Fatalf("Create = %v, %v; want true, nil", created, err)
			}
			wait(t, l)

			if diff := cmp.Diff(attempts(QueueScribe, name, body, tc.want), w.deliveries()); diff != "" {
				t.Errorf("deliveries (-want +got):\n%s", diff)
			}
			out := logs.String()
			if !strings.Contains(out, tc.wantLog) {
				t.Errorf("logs lack %q:\n%s", tc.wantLog, out)
			}
			if strings.Contains(out, "s-1") {
				t.Errorf("logs contain the task body:\n%s", out)
			}
		})
	}
}

func TestLocalRetriesNetworkErrors(t *testing.T) {
	t.Parallel()
	w := newWorker(t)
	var calls atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) <= 2 {
			return nil, errors.New("connection reset by peer")
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	l := newTestLocal(t, LocalConfig{Client: client})
	ctx, _ := quietCtx(t)

	if err := l.Enqueue(ctx, Task{Queue: QueueMail, Name: "m1", URL: w.URL, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	wait(t, l)
	if got, want := calls.Load(), int32(3); got != want {
		t.Errorf("attempts = %d, want %d", got, want)
	}
	got := w.deliveries()
	if len(got) != 1 || got[0].RetryCount != "2" {
		t.Errorf("worker saw %+v, want one delivery with retry count 2", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestLocalDeduplicatesByQueueAndName(t *testing.T) {
	t.Parallel()
	w := newWorker(t, 500) // a failed task keeps its name too
	l := newTestLocal(t, LocalConfig{Retry: tinyRetry(1)})
	ctx, _ := quietCtx(t)
	task := Task{Queue: QueueSummaries, Name: TaskID("patient-9", "v3"), URL: w.URL, Body: []byte(`{"n":1}`)}

	var createdCount int
	for range 3 {
		created, err := l.Create(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		if created {
			createdCount++
		}
		wait(t, l)
	}
	other := task
	other.Queue = QueueMail
	if created, err := l.Create(ctx, other); err != nil || !created {
		t.Fatalf("same name on another queue: Create = %v, %v; want true, nil", created, err)
	}
	wait(t, l)

	if createdCount != 1 {
		t.Errorf("created %d times, want 1", createdCount)
	}
	var queues []string
	for _, d := range w.deliveries() {
		queues = append(queues, d.Queue)
	}
	if diff := cmp.Diff([]string{QueueSummaries, QueueMail}, queues); diff != "" {
		t.Errorf("delivered queues (-want +got):\n%s", diff)
	}
}

func TestLocalUnnamedTasksAreAllDispatched(t *testing.T) {
	t.Parallel()
	w := newWorker(t)
	l := newTestLocal(t, LocalConfig{})
	ctx, _ := quietCtx(t)
	for range 3 {
		if err := l.Enqueue(ctx, Task{Queue: QueueMail, URL: w.URL, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, l)
	names := map[string]bool{}
	for _, d := range w.deliveries() {
		if !taskIDPattern.MatchString(d.TaskName) {
			t.Errorf("generated task name %q is not a valid task id", d.TaskName)
		}
		names[d.TaskName] = true
	}
	if len(names) != 3 {
		t.Errorf("distinct task names = %d, want 3", len(names))
	}
}

func TestLocalCopiesBody(t *testing.T) {
	t.Parallel()
	w := newWorker(t)
	release := make(chan struct{})
	// The request (and its body) is only read once release is closed.
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-release
		return http.DefaultTransport.RoundTrip(r)
	})}
	l := newTestLocal(t, LocalConfig{Client: client})
	ctx, _ := quietCtx(t)

	body := []byte(`{"a":1}`)
	if err := l.Enqueue(ctx, Task{Queue: QueueMail, Name: "c", URL: w.URL, Body: body}); err != nil {
		t.Fatal(err)
	}
	copy(body, `{"b":2}`) // the caller reuses its buffer
	close(release)
	wait(t, l)
	if got := w.deliveries(); len(got) != 1 || got[0].Body != `{"a":1}` {
		t.Errorf("worker got %+v, want one delivery with the body as enqueued", got)
	}
}

func TestLocalCloseDrainsRetries(t *testing.T) {
	t.Parallel()
	w := newWorker(t, 500, 500, 200)
	l, err := NewLocal(LocalConfig{Secret: testSecret, Retry: tinyRetry(5)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := quietCtx(t)
	if err := l.Enqueue(ctx, Task{Queue: QueueScribe, Name: "d", URL: w.URL, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}

	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Close(closeCtx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := len(w.deliveries()), 3; got != want {
		t.Errorf("attempts when Close returned = %d, want %d", got, want)
	}
	if err := l.Enqueue(ctx, Task{Queue: QueueScribe, Name: "e", URL: w.URL, Body: []byte(`{}`)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(closeCtx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLocalCloseAbortsWhenContextEnds(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	aborted := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server notices a closed connection only after this
		close(arrived)
		<-r.Context().Done() // a worker that never answers
		close(aborted)
	}))
	t.Cleanup(srv.Close)
	l, err := NewLocal(LocalConfig{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, logs := quietCtx(t)
	if err := l.Enqueue(ctx, Task{Queue: QueueScribe, Name: "slow", URL: srv.URL, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// A scheduled task that Close must not wait for either.
	later := Task{Queue: QueueScribe, Name: "later", URL: srv.URL, Body: []byte(`{}`), ScheduleTime: time.Now().Add(time.Hour)}
	if err := l.Enqueue(ctx, later); err != nil {
		t.Fatal(err)
	}
	<-arrived

	closeCtx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Close(closeCtx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	<-aborted
	for _, msg := range []string{"task abandoned at shutdown", "before its schedule time"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("logs lack %q:\n%s", msg, logs.String())
		}
	}
}

func TestNewLocalValidatesConfig(t *testing.T) {
	t.Parallel()
	if _, err := NewLocal(LocalConfig{}); err == nil {
		t.Error("NewLocal without a secret succeeded")
	}
	bad := map[string]RetryPolicy{QueueMail: {MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Millisecond}}
	if _, err := NewLocal(LocalConfig{Secret: "s", Retry: bad}); err == nil {
		t.Error("NewLocal with max backoff below min backoff succeeded")
	}
	l, err := NewLocal(LocalConfig{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(QueueRetry, l.cfg.Retry); diff != "" {
		t.Errorf("default retry policies are not production's (-want +got):\n%s", diff)
	}
	if l.cfg.AttemptTimeout != DefaultAttemptTimeout {
		t.Errorf("attempt timeout %v, want %v", l.cfg.AttemptTimeout, DefaultAttemptTimeout)
	}
	if got := l.policy("unknown-queue"); got != DefaultRetry {
		t.Errorf("policy of an unknown queue = %+v, want Cloud Tasks' default", got)
	}
	if err := l.Enqueue(t.Context(), Task{Queue: "bad queue", URL: "http://x", Body: []byte(`{}`)}); !errors.Is(err, ErrInvalidTask) {
		t.Errorf("invalid task: Enqueue = %v, want ErrInvalidTask", err)
	}
}

// The waits between attempts follow Cloud Tasks' schedule: doubling MaxDoublings times,
// then growing linearly, capped at MaxBackoff.
func TestRetryPolicyBackoff(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name   string
		policy RetryPolicy
		want   []time.Duration
	}{
		{name: "the Cloud Tasks reference's example", policy: RetryPolicy{MinBackoff: 10 * s, MaxBackoff: 300 * s, MaxDoublings: 3},
			want: []time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 240 * s, 300 * s, 300 * s}},
		{name: "scribe", policy: QueueRetry[QueueScribe],
			want: []time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 320 * s, 600 * s, 600 * s, 600 * s}},
		{name: "mail", policy: QueueRetry[QueueMail],
			want: []time.Duration{10 * s, 20 * s, 40 * s, 80 * s, 160 * s, 320 * s, 480 * s, 640 * s, 800 * s, 900 * s}},
		{name: "no doubling", policy: RetryPolicy{MinBackoff: s, MaxBackoff: 3 * s},
			want: []time.Duration{s, 2 * s, 3 * s, 3 * s}},
	}
	for _, tc := range tests {
		var got []time.Duration
		for attempt := 1; attempt <= len(tc.want); attempt++ {
			got = append(got, tc.policy.Backoff(attempt))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: waits (-want +got):\n%s", tc.name, diff)
		}
	}
}

// A task is given up only when both limits are reached: its attempts and its age.
func TestRetryPolicyExhausted(t *testing.T) {
	t.Parallel()
	first := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p := RetryPolicy{MaxAttempts: 3, MaxRetryDuration: time.Hour}
	tests := []struct {
		policy   RetryPolicy
		attempts int
		age      time.Duration
		want     bool
	}{
		{p, 2, 2 * time.Hour, false},
		{p, 3, 59 * time.Minute, false},
		{p, 3, time.Hour, true},
		{p, 40, time.Hour, true},
		{RetryPolicy{MaxAttempts: 3}, 3, 0, true},
		{RetryPolicy{MaxAttempts: -1, MaxRetryDuration: time.Hour}, 1000, 59 * time.Minute, false},
		{RetryPolicy{MaxAttempts: -1, MaxRetryDuration: time.Hour}, 1, time.Hour, true},
		{RetryPolicy{MaxAttempts: -1}, 1000, 1000 * time.Hour, false},
	}
	for _, tc := range tests {
		if got := tc.policy.Exhausted(tc.attempts, first, first.Add(tc.age)); got != tc.want {
			t.Errorf("%+v after %d attempts, %v: exhausted %v, want %v", tc.policy, tc.attempts, tc.age, got, tc.want)
		}
	}
}

// A name stays taken while its task runs and for an hour after it ended; then it may be
// used again.
func TestLocalNameReservationExpires(t *testing.T) {
	t.Parallel()
	w := newWorker(t)
	var now atomic.Pointer[time.Time]
	t0 := time.Now()
	now.Store(&t0)
	l := newTestLocal(t, LocalConfig{Now: func() time.Time { return *now.Load() }})
	ctx, _ := quietCtx(t)
	task := Task{Queue: QueueScribe, Name: "again", URL: w.URL, Body: []byte(`{}`)}
	for i, step := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {59 * time.Minute, false}, {NameReservation, true}} {
		at := t0.Add(step.after)
		now.Store(&at)
		created, err := l.Create(ctx, task)
		if err != nil || created != step.want {
			t.Errorf("step %d (+%v): created %v, %v; want %v", i, step.after, created, err, step.want)
		}
		wait(t, l)
	}
	if got := len(w.deliveries()); got != 2 {
		t.Errorf("deliveries %d, want 2", got)
	}
}

func TestLocalAndSecretVerifierAgree(t *testing.T) {
	t.Parallel()
	v, err := NewSecretVerifier(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []Delivery
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := v.Verify(r); err != nil {
			http.Error(rw, "unauthenticated", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		seen = append(seen, DeliveryFromRequest(r))
		n := len(seen)
		mu.Unlock()
		if n == 1 {
			rw.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	l := newTestLocal(t, LocalConfig{})
	ctx, _ := quietCtx(t)
	if err := l.Enqueue(ctx, Task{Queue: QueueMail, Name: "verify-me", URL: srv.URL, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	wait(t, l)
	want := []Delivery{{Queue: QueueMail, TaskName: "verify-me"}, {Queue: QueueMail, TaskName: "verify-me", RetryCount: 1}}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("deliveries the worker accepted (-want +got):\n%s", diff)
	}
}
