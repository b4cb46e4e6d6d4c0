package queue

import (
	"context"
	"sync"
	"time"
)

// coalescer runs at most one rebuild per key at a time, starts rebuilds of one key at
// least interval apart, and folds a burst of requests into one follow-up: a request that
// arrives while a rebuild of its key is running or waiting for its slot joins the next
// rebuild, which starts after the running one (and the interval) and serves every request
// that arrived meanwhile. Each request is thus served by a rebuild that started after it
// arrived (and so reads a source at least as new), while a burst of N requests costs two
// rebuilds, not N, and a key is rebuilt at most once per interval.
type coalescer struct {
	timeout  time.Duration
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex
	state map[string]*keyState
	// last is when each key's latest rebuild started, kept for the interval.
	last map[string]time.Time
}

type keyState struct {
	running *flight
	next    *flight
	waiting int // callers waiting for next (a caller whose context ended no longer counts)
}

// flight is one rebuild; done is closed when it has finished with err.
type flight struct {
	done chan struct{}
	err  error
}

func newCoalescer(timeout, interval time.Duration) *coalescer {
	return &coalescer{timeout: timeout, interval: interval, now: time.Now,
		state: map[string]*keyState{}, last: map[string]time.Time{}}
}

// Do runs fn for key, or waits for a rebuild of key that starts after this call, and
// returns that rebuild's error. fn runs on a context detached from the caller's
// cancellation (other callers may be waiting for it) but bounded by the coalescer's
// timeout; a caller whose own context ends stops waiting.
func (c *coalescer) Do(ctx context.Context, key string, fn func(context.Context) error) error {
	_, err := c.do(ctx, key, fn, false)
	return err
}

// do is Do; with join, a caller who finds the key's next rebuild already requested (it
// has not started) and waited for by another caller returns at once with joined true:
// that rebuild starts after this call, and the caller waiting for it learns its error
// (a push delivery that fails is delivered again, and rebuilds again).
func (c *coalescer) do(ctx context.Context, key string, fn func(context.Context) error, join bool) (bool, error) {
	c.mu.Lock()
	st := c.state[key]
	if st == nil {
		st = &keyState{}
		c.state[key] = st
	}
	if st.next != nil && st.waiting > 0 && join {
		c.mu.Unlock()
		return true, nil
	}
	if st.next == nil {
		st.next = &flight{done: make(chan struct{})}
		if st.running == nil {
			go c.run(context.WithoutCancel(ctx), key, st, fn)
		}
	}
	f := st.next
	st.waiting++
	c.mu.Unlock()

	select {
	case <-f.done:
		return false, f.err
	case <-ctx.Done():
		c.mu.Lock()
		if st.next == f {
			st.waiting-- // a caller that joins later must wait itself
		}
		c.mu.Unlock()
		return false, ctx.Err()
	}
}

// requested reports whether the key's next rebuild is requested (not started) and
// waited for by a caller: a caller that joins it now is served without waiting (see do).
func (c *coalescer) requested(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state[key]
	return st != nil && st.next != nil && st.waiting > 0
}

// run starts the key's next flight once its slot has come, and repeats while requests
// queue follow-ups. Requests that arrive while it waits for the slot join that flight.
func (c *coalescer) run(ctx context.Context, key string, st *keyState, fn func(context.Context) error) {
	for {
		c.mu.Lock()
		wait := c.interval - c.now().Sub(c.last[key])
		c.mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
		}
		c.mu.Lock()
		f := st.next
		st.running, st.next, st.waiting = f, nil, 0
		c.last[key] = c.now()
		c.mu.Unlock()

		rctx, cancel := context.WithTimeout(ctx, c.timeout)
		f.err = fn(rctx)
		cancel()
		close(f.done)

		c.mu.Lock()
		st.running = nil
		if st.next == nil {
			delete(c.state, key)
			c.dropOld()
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// dropOld forgets start times older than the interval; c.mu is held.
func (c *coalescer) dropOld() {
	now := c.now()
	for k, t := range c.last {
		if _, busy := c.state[k]; !busy && now.Sub(t) >= c.interval {
			delete(c.last, k)
		}
	}
}
