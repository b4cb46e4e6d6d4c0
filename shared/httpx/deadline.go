package httpx

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Deadline gives every request's context a deadline d after its arrival (no deadline
// when d <= 0). A backend that hangs instead of refusing (an outage, a partition, an
// overloaded emulator) then ends the request with the backend call's deadline error,
// which AsError answers 503 with Retry-After, rather than keeping the client waiting
// until its own timeout or the platform's. If the handler returns without writing
// anything after the deadline has passed (it saw its context end and gave up), Deadline
// answers the 503 itself, so the client never gets an empty 200.
//
// Stream routes (isStream reports them: the routes a Router registered with HandleStream)
// are long-lived by design and bound their own duration; what a client sends (an Accept
// header) exempts nothing. A stream still has d to start: its context is cancelled if
// nothing was written within d (a backend that hangs before the first event), and the
// request answered 503 like any other.
func Deadline(d time.Duration, isStream func(*http.Request) bool) Middleware {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isStream != nil && isStream(r) {
				serveStream(d, next, w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			dw := &deadlineWriter{ResponseWriter: w}
			next.ServeHTTP(dw, r.WithContext(ctx))
			if !dw.wrote() && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
				WriteError(dw, r.WithContext(ctx), Unavailable(2, ctx.Err()))
			}
		})
	}
}

// serveStream serves a stream route: no deadline once it has written, d to write first.
func serveStream(d time.Duration, next http.Handler, w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	dw := &deadlineWriter{ResponseWriter: w}
	expired := make(chan struct{})
	timer := time.AfterFunc(d, func() {
		if !dw.wrote() {
			close(expired)
			cancel()
		}
	})
	defer timer.Stop()
	next.ServeHTTP(dw, r.WithContext(ctx))
	select {
	case <-expired:
		if !dw.wrote() && r.Context().Err() == nil {
			WriteError(dw, r, Unavailable(2, context.DeadlineExceeded))
		}
	default:
	}
}

// deadlineWriter records whether the handler wrote anything.
type deadlineWriter struct {
	http.ResponseWriter
	mu      sync.Mutex
	written bool
}

func (d *deadlineWriter) wrote() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.written
}

func (d *deadlineWriter) mark() {
	d.mu.Lock()
	d.written = true
	d.mu.Unlock()
}

func (d *deadlineWriter) WriteHeader(code int) {
	d.mark()
	d.ResponseWriter.WriteHeader(code)
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	d.mark()
	return d.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the wrapper.
func (d *deadlineWriter) Flush() {
	if f, ok := d.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
