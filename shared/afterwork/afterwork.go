// Package afterwork lets code that serves a request leave work for after that request has
// been answered, without knowing how the request is served: the HTTP side (httpx.AfterResponse)
// gives each request a Queue and runs what was left in it once the response is sent; domain
// code only calls Do. Work left this way must not be needed by the answer, and must be
// recoverable if it never runs (the process may stop once the response is sent).
package afterwork

import (
	"context"
	"sync"
)

// key is the context key of a request's Queue.
type key struct{}

// Queue is the work a request left to run once it has been answered.
type Queue struct {
	mu     sync.Mutex
	fns    []func()
	closed bool
}

// With returns ctx carrying a new Queue, and the Queue: whoever serves the request runs what
// Close returns once the request has been answered.
func With(ctx context.Context) (context.Context, *Queue) {
	q := &Queue{}
	return context.WithValue(ctx, key{}, q), q
}

// Pending reports whether work has been left in q.
func (q *Queue) Pending() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.fns) > 0
}

// Close ends q and returns the work left in it; work left after Close runs at once (Do).
func (q *Queue) Close() []func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	fns := q.fns
	q.fns, q.closed = nil, true
	return fns
}

// Do leaves fn in the Queue of ctx's request, to run once it has been answered, or runs it
// now, before returning, when ctx carries no Queue or its Queue is closed (the request was
// answered). It reports whether fn was left for later. fn gets no context: it must bring
// its own, detached from the request's cancellation and deadline (context.WithoutCancel
// keeps the request's values).
func Do(ctx context.Context, fn func()) (deferred bool) {
	if q, ok := ctx.Value(key{}).(*Queue); ok {
		q.mu.Lock()
		if !q.closed {
			q.fns = append(q.fns, fn)
			q.mu.Unlock()
			return true
		}
		q.mu.Unlock()
	}
	fn()
	return false
}
