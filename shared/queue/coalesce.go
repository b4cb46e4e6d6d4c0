package queue

import (
	"context"
	"sync"
	"time"
)

// coalescer runs at most one rebuild per key at a time and folds a burst of requests
// into one follow-up: a request that arrives while a rebuild of its key is running
// waits for the next rebuild, which starts after the running one and serves every
// request that arrived meanwhile. Each request is thus served by a rebuild that
// started after it arrived (and so reads a source at least as new), while a burst of N
// requests costs two rebuilds, not N.
type coalescer struct {
	timeout time.Duration

	mu    sync.Mutex
	state map[string]*keyState
}

type keyState struct {
	running *flight
	next    *flight
	waiting int // callers waiting for next
}

// flight is one rebuild; done is closed when it has finished with err.
type flight struct {
	done chan struct{}
	err  error
}

func newCoalescer(timeout time.Duration) *coalescer {
	return &coalescer{timeout: timeout, state: map[string]*keyState{}}
}

// Do runs fn for key, or waits for a rebuild of key that starts after this call, and
// returns that rebuild's error. fn runs on a context detached from the caller's
// cancellation (other callers may be waiting for it) but bounded by the coalescer's
// timeout; a caller whose own context ends stops waiting.
func (c *coalescer) Do(ctx context.Context, key string, fn func(context.Context) error) error {
	c.mu.Lock()
	st := c.state[key]
	if st == nil {
		st = &keyState{}
		c.state[key] = st
	}
	var f *flight
	if st.running == nil {
		f = &flight{done: make(chan struct{})}
		st.running = f
		go c.run(context.WithoutCancel(ctx), key, f, fn)
	} else {
		if st.next == nil {
			st.next = &flight{done: make(chan struct{})}
		}
		f = st.next
		st.waiting++
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run executes f and then the follow-up flight, if any requests queued one.
func (c *coalescer) run(ctx context.Context, key string, f *flight, fn func(context.Context) error) {
	for f != nil {
		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		f.err = fn(rctx)
		cancel()
		close(f.done)

		c.mu.Lock()
		st := c.state[key]
		f, st.next, st.waiting = st.next, nil, 0
		st.running = f
		if f == nil {
			delete(c.state, key)
		}
		c.mu.Unlock()
	}
}
