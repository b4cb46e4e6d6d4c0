package httpx

import (
	"net/http"
	"sync"

	"github.com/medi-os/medi/shared/afterwork"
)

// AfterResponse lets the handler (and whatever it calls) leave work for after its
// response (afterwork.Do): once the handler has returned, the response is flushed
// to the client (the body is complete, since WriteJSON sets Content-Length), then the
// work runs, concurrently, before the middleware returns. It is for work the answer does
// not depend on and that must still be done by this request: publishing the event of a
// change that committed. Such work must be recoverable if it never runs (the process
// stops, or the platform withholds CPU once the response is sent): the encounter events
// are in the change's transactional outbox, which the encounter-outbox function re-sends.
// A handler that panics leaves its work undone, for the same recovery.
//
// A response with work left after it carries "Connection: close". An HTTP/1.1 server
// reads a connection's next request only once the handler of the previous one has
// returned, and a client (the gateway, a load balancer) that has read the whole answer
// reuses the connection at once: its next request would wait for the work (a publish,
// up to its 10 s bound while Pub/Sub hangs). Closed, the connection takes no next
// request; the client opens another.
func AfterResponse() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, q := afterwork.With(r.Context())
			next.ServeHTTP(&afterWriter{ResponseWriter: w, q: q}, r.WithContext(ctx))
			fns := q.Close()
			if len(fns) == 0 {
				return
			}
			_ = http.NewResponseController(w).Flush()
			var wg sync.WaitGroup
			for _, fn := range fns {
				wg.Go(fn)
			}
			wg.Wait()
		})
	}
}

// afterWriter marks the response "Connection: close" when, as its header is written, the
// request has work queued for after it.
type afterWriter struct {
	http.ResponseWriter
	q           *afterwork.Queue
	wroteHeader bool
}

func (a *afterWriter) WriteHeader(code int) {
	if !a.wroteHeader && code >= 200 {
		a.wroteHeader = true
		if a.q.Pending() {
			a.Header().Set("Connection", "close")
		}
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *afterWriter) Write(b []byte) (int, error) {
	if !a.wroteHeader {
		a.WriteHeader(http.StatusOK)
	}
	return a.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the wrapper.
func (a *afterWriter) Flush() {
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (a *afterWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }
