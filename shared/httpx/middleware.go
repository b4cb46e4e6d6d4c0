package httpx

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/medi-os/medi/shared/logging"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies mws so that the first one listed is the outermost.
//
// The order every function uses (see Stack): Trace (request id and logger; first so that
// even a panic is logged with its request id) -> Recover -> AfterResponse (work left for
// after the answer runs once everything inside has returned, the idempotency record
// included) -> SecurityHeaders -> CORS -> access log -> request deadline -> auth (per
// route) -> rate limit (per route) -> handler.
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Trace gives every request its trace / request id (from traceparent or
// X-Cloud-Trace-Context, else new) and a logger carrying it in the context.
func Trace(base *slog.Logger, projectID string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t := logging.TraceFromHeaders(r.Header)
			ctx := logging.Start(r.Context(), base, projectID, t)
			w.Header().Set("X-Request-Id", t.RequestID())
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// Recover turns a panic into a 500 envelope carrying the request id; the stack goes to
// the log, never to the client.
func Recover() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logging.FromContext(r.Context()).Error("panic serving request",
						"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					WriteError(w, r, Internal(fmt.Errorf("panic: %v", v)))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// SecurityHeaders sets the headers an API that serves patient data should always send.
func SecurityHeaders() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			h.Set("Cache-Control", "no-store")
			h.Set("Cross-Origin-Resource-Policy", "same-site")
			next.ServeHTTP(w, r)
		})
	}
}

// CORS allows browsers on the configured origins (exact match, scheme included) to call
// the API with credentials. Requests from other origins get no CORS headers (the browser
// then blocks them); their preflights are answered 403.
func CORS(origins []string) Middleware {
	allowed := map[string]bool{}
	for _, o := range origins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			allowed[o] = true
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Add("Vary", "Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if !allowed[origin] {
				if preflight {
					WriteError(w, r, PermissionDenied("origin not allowed"))
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, ETag, Idempotent-Replayed")
			if preflight {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, If-Match, traceparent, X-Cloud-Trace-Context")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// AccessLog logs one line per request: method, route pattern (never the raw URL, whose
// query could carry patient data), status, latency. A request whose handler panics is
// logged too, with the 500 that Recover (outside this middleware) will send.
func AccessLog() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			route := &routeRecord{}
			r = r.WithContext(context.WithValue(r.Context(), routeKey{}, route))
			returned := false
			// Deferred without recover, so the panic and its stack reach Recover intact.
			defer func() {
				status := sw.status
				if !returned && !sw.written {
					status = http.StatusInternalServerError
				}
				logging.FromContext(r.Context()).Info("request",
					"method", r.Method, "route", route.of(r), "status", status,
					"latencyMs", float64(time.Since(start).Microseconds())/1000)
			}()
			next.ServeHTTP(sw, r)
			returned = true
		})
	}
}

// routeRecord carries the matched route pattern from the Router back out to AccessLog.
// The middlewares in between hand a copy of the request on (r.WithContext), so the
// pattern the router's mux sets on its copy never reaches the outer request, whose
// Pattern is the functions framework's catch-all "/".
type routeRecord struct{ pattern string }

type routeKey struct{}

// recordRoute notes the pattern the Router matched for r, for the access log.
func recordRoute(r *http.Request, pattern string) {
	if rec, ok := r.Context().Value(routeKey{}).(*routeRecord); ok {
		rec.pattern = pattern
	}
}

// of is the route to log: the Router's pattern, else the pattern of the mux that served
// the request (a path no route matched), else "unmatched".
func (rec *routeRecord) of(r *http.Request) string {
	switch {
	case rec.pattern != "":
		return rec.pattern
	case r.Pattern != "":
		return r.Pattern
	}
	return "unmatched"
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.written {
		s.status, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (Server-Sent Events) flush through the wrapper.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// StackOptions configure Stack.
type StackOptions struct {
	Logger      *slog.Logger
	ProjectID   string
	CORSOrigins []string
	// RequestTimeout is every request's deadline (see Deadline); 0 means none.
	RequestTimeout time.Duration
}

// Stack wraps h in the standard middleware, in the documented order (the request
// deadline innermost, so that the access log records the 503 it may answer). When h is a
// Router, its stream routes are exempt from the deadline once they have started.
func Stack(h http.Handler, o StackOptions) http.Handler {
	var isStream func(*http.Request) bool
	if s, ok := h.(interface{ IsStream(*http.Request) bool }); ok {
		isStream = s.IsStream
	}
	return Chain(h, Trace(o.Logger, o.ProjectID), Recover(), AfterResponse(), SecurityHeaders(), CORS(o.CORSOrigins), AccessLog(),
		Deadline(o.RequestTimeout, isStream))
}
