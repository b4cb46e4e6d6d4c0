package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// An event handler that waits on a hung backend must fail by MEDI_REQUEST_TIMEOUT, so
// the delivery is failed and redelivered before the subscription's ack deadline.
func TestEventHandlerHasTheRequestDeadline(t *testing.T) {
	t.Parallel()
	var deadline time.Time
	f := NewCloudEvent("waiter", func() *testConfig { return new(testConfig) },
		func(context.Context, *testConfig, *Env) (EventHandler, error) {
			return func(ctx context.Context, _ event.Event) error {
				deadline, _ = ctx.Deadline()
				<-ctx.Done() // the backend never answers
				return ctx.Err()
			}, nil
		})
	cfg := &testConfig{}
	cfg.ProjectID = "demo-app-test"
	cfg.RequestTimeout = 50 * time.Millisecond
	h, err := f.Handler(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- h(context.Background(), event.New()) }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the handler waited past its deadline")
	}
	end := time.Now()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("handler = %v, want the deadline's error (a failed delivery)", err)
	}
	// Set when the handler was called, with MEDI_REQUEST_TIMEOUT, and already past.
	if deadline.Before(start.Add(cfg.RequestTimeout)) || deadline.After(end) {
		t.Errorf("handler's deadline %v after the start (returned after %v), want MEDI_REQUEST_TIMEOUT (50ms) from the call",
			deadline.Sub(start), end.Sub(start))
	}

	// 0 means none: the handler's context has no deadline of ours.
	cfg.RequestTimeout = 0
	h, err = f.Handler(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	deadline = time.Time{}
	if err := h(ctx, event.New()); !errors.Is(err, context.Canceled) || !deadline.IsZero() {
		t.Errorf("without a timeout: %v, deadline %v", err, deadline)
	}
}
