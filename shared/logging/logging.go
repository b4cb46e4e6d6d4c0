// Package logging writes structured JSON logs in the shape Cloud Logging understands
// (severity, message, logging.googleapis.com/trace, spanId) and carries a request-scoped
// logger in the context, for HTTP and CloudEvent handlers alike.
//
// Never log patient data: log identifiers (encounter id, request id), never names, dates of
// birth, complaints, vitals or note content.
package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Cloud Logging field names.
const (
	TraceKey      = "logging.googleapis.com/trace"
	SpanKey       = "logging.googleapis.com/spanId"
	SampledKey    = "logging.googleapis.com/trace_sampled"
	RequestIDKey  = "requestId"
	severityKey   = "severity"
	messageKey    = "message"
	levelCritical = slog.Level(12)
	levelNotice   = slog.Level(2)
)

// New returns a JSON logger writing Cloud Logging's field names to w.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	if level == nil {
		level = slog.LevelInfo
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: replaceAttr,
	})
	return slog.New(h)
}

// Default is the process logger (stdout, INFO), used when a context carries none.
var defaultLogger = New(os.Stdout, slog.LevelInfo)

// Default returns the process-wide logger.
func Default() *slog.Logger { return defaultLogger }

func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.MessageKey:
		a.Key = messageKey
	case slog.LevelKey:
		a.Key = severityKey
		lvl, _ := a.Value.Any().(slog.Level)
		a.Value = slog.StringValue(severity(lvl))
	case slog.TimeKey:
		a.Key = "time"
	}
	return a
}

func severity(l slog.Level) string {
	switch {
	case l >= levelCritical:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= levelNotice:
		return "NOTICE"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

type ctxKey struct{}

// WithLogger returns a context that carries l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// FromContext returns the context's logger, or the process logger.
func FromContext(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return defaultLogger
}

// Trace identifies one request or event across logs, responses and audit records: the
// request id, which the server makes, and the distributed trace it belongs to, which the
// client (or the platform in front of us) may have chosen.
type Trace struct {
	TraceID string // 32 hex characters; may come from the client's traceparent
	SpanID  string // 16 lower-case hex characters, may be empty
	Sampled bool
	// Request is the request id: 32 lower-case hex characters made by the server for each
	// request (NewRequestID) or derived from an event's server-side id, never taken from
	// what a client sent, so that no two requests share one.
	Request string
}

// RequestID is the id shown to clients and written to audit records. It is never the
// client's trace id (see Trace.Request).
func (t Trace) RequestID() string { return t.Request }

// TraceFromHeaders reads the trace of W3C traceparent first, then X-Cloud-Trace-Context;
// when neither is valid it makes a new random trace id. The request id is always new.
func TraceFromHeaders(h http.Header) Trace {
	t, ok := parseTraceparent(h.Get("traceparent"))
	if !ok {
		t, ok = parseCloudTraceContext(h.Get("X-Cloud-Trace-Context"))
	}
	if !ok {
		return NewTrace()
	}
	t.Request = NewRequestID()
	return t
}

// NewTrace makes a fresh random trace id and request id.
func NewTrace() Trace {
	return Trace{TraceID: randomHex(), Request: NewRequestID()}
}

// NewRequestID makes a random request id (32 lower-case hex characters).
func NewRequestID() string { return randomHex() }

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// parseTraceparent parses "00-<32 hex>-<16 hex>-<2 hex>" (W3C Trace Context). Hex
// digits are accepted in either case and normalised to lower case. Version ff is
// invalid; version 00 has exactly four fields, later versions may append more.
func parseTraceparent(v string) (Trace, bool) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(v)), "-")
	if len(parts) < 4 || !isHex(parts[0], 2) || parts[0] == "ff" || (parts[0] == "00" && len(parts) != 4) {
		return Trace{}, false
	}
	tid, sid, flags := parts[1], parts[2], parts[3]
	if !isHex(tid, 32) || !isHex(sid, 16) || !isHex(flags, 2) || allZero(tid) || allZero(sid) {
		return Trace{}, false
	}
	f, _ := strconv.ParseUint(flags, 16, 8)
	return Trace{TraceID: tid, SpanID: sid, Sampled: f&1 == 1}, true
}

// parseCloudTraceContext parses "TRACE_ID/SPAN_ID;o=OPTIONS" (span and options
// optional). The header's span id is decimal; it is kept as 16 hex digits, the form
// Cloud Logging's spanId field expects.
func parseCloudTraceContext(v string) (Trace, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Trace{}, false
	}
	head, opts, _ := strings.Cut(v, ";")
	tid, span, _ := strings.Cut(head, "/")
	tid = strings.ToLower(tid)
	if !isHex(tid, 32) || allZero(tid) {
		return Trace{}, false
	}
	t := Trace{TraceID: tid}
	if n, err := strconv.ParseUint(span, 10, 64); err == nil && n != 0 {
		t.SpanID = fmt.Sprintf("%016x", n)
	}
	t.Sampled = strings.TrimSpace(opts) == "o=1"
	return t, true
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool { return strings.Trim(s, "0") == "" }

// ForTrace returns base with the Cloud Logging trace fields and the request id attached.
// projectID may be empty (local runs), then the trace field is the bare id.
func ForTrace(base *slog.Logger, projectID string, t Trace) *slog.Logger {
	trace := t.TraceID
	if projectID != "" {
		trace = "projects/" + projectID + "/traces/" + t.TraceID
	}
	attrs := []any{slog.String(TraceKey, trace)}
	if t.Request != "" {
		attrs = append(attrs, slog.String(RequestIDKey, t.Request))
	}
	if t.SpanID != "" {
		attrs = append(attrs, slog.String(SpanKey, t.SpanID))
	}
	if t.Sampled {
		attrs = append(attrs, slog.Bool(SampledKey, true))
	}
	return base.With(attrs...)
}

type traceKey struct{}

// WithTrace stores t in ctx (the request id of audit records and responses).
func WithTrace(ctx context.Context, t Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFromContext returns the context's trace, if any.
func TraceFromContext(ctx context.Context) (Trace, bool) {
	t, ok := ctx.Value(traceKey{}).(Trace)
	return t, ok
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	t, _ := TraceFromContext(ctx)
	return t.RequestID()
}

// Start prepares ctx for one request or event: it stores the trace and a logger that
// carries it. Use it at the top of every CloudEvent handler (the framework does not).
func Start(ctx context.Context, base *slog.Logger, projectID string, t Trace) context.Context {
	if base == nil {
		base = defaultLogger
	}
	ctx = WithTrace(ctx, t)
	return WithLogger(ctx, ForTrace(base, projectID, t))
}
