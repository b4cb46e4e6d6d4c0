package httpx

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Deadline gives every request's context a deadline d after its arrival (no deadline
// when d <= 0). A backend that hangs instead of refusing (an outage, a partition, an
// overloaded emulator) then ends the request with the backend call's deadline error,
// which AsError answers 503 with Retry-After, rather than keeping the client waiting
// until its own timeout or the platform's.
//
// Event streams (Accept: text/event-stream, as EventSource sends) are exempt: they are
// long-lived by design and bound themselves. If the handler returns without writing
// anything after the deadline has passed (it saw its context end and gave up), Deadline
// answers the 503 itself, so the client never gets an empty 200.
func Deadline(d time.Duration) Middleware {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isEventStream(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			dw := &deadlineWriter{ResponseWriter: w}
			next.ServeHTTP(dw, r.WithContext(ctx))
			if !dw.written && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
				WriteError(dw, r.WithContext(ctx), Unavailable(2, ctx.Err()))
			}
		})
	}
}

func isEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(v), "text/event-stream") {
			return true
		}
	}
	return false
}

// deadlineWriter records whether the handler wrote anything.
type deadlineWriter struct {
	http.ResponseWriter
	written bool
}

func (d *deadlineWriter) WriteHeader(code int) {
	d.written = true
	d.ResponseWriter.WriteHeader(code)
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	d.written = true
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
