// Package apierr holds the errors Medi OS reports to its clients, independent of the
// transport: a kind of refusal, a stable code clients switch on, a message a client
// developer can act on, optional details (the invalid fields of a request, a reason) and
// a cause kept for logs only. Domain packages return these; the HTTP side (shared/httpx
// and functions/) alone turns a kind into a status code and writes the envelope.
//
// Messages and details must never contain patient data.
package apierr

import (
	"fmt"
)

// Stable error codes. Clients switch on these strings; never rename one.
const (
	CodeInvalidArgument    = "invalid_argument"
	CodeUnauthenticated    = "unauthenticated"
	CodePermissionDenied   = "permission_denied"
	CodeNotFound           = "not_found"
	CodeConflict           = "conflict"
	CodeFailedPrecondition = "failed_precondition"
	CodeRateLimited        = "rate_limited"
	CodeInternal           = "internal"
	CodeUnavailable        = "unavailable"
)

// Kind is what sort of refusal an error is; it decides the transport's status (HTTP:
// 400, 401, 403, 404, 409, 412, 429, 500, 503). A kind has a default code, which an
// error may replace (a conflict reported as failed_precondition, for example).
type Kind int

// The kinds of refusal.
const (
	KindInternal           Kind = iota // the zero Kind: a bug or an unexpected failure
	KindInvalidArgument                // the request is malformed or a field is invalid
	KindUnauthenticated                // no or bad credentials
	KindPermissionDenied               // the caller may not do this
	KindNotFound                       // no such resource (or one of another clinic)
	KindConflict                       // the resource's state forbids it
	KindFailedPrecondition             // the request was based on a stale version
	KindRateLimited                    // too many requests
	KindUnavailable                    // a backend is down or overloaded; retry
)

// Code is the kind's default code.
func (k Kind) Code() string {
	switch k {
	case KindInvalidArgument:
		return CodeInvalidArgument
	case KindUnauthenticated:
		return CodeUnauthenticated
	case KindPermissionDenied:
		return CodePermissionDenied
	case KindNotFound:
		return CodeNotFound
	case KindConflict:
		return CodeConflict
	case KindFailedPrecondition:
		return CodeFailedPrecondition
	case KindRateLimited:
		return CodeRateLimited
	case KindUnavailable:
		return CodeUnavailable
	}
	return CodeInternal
}

// Error is a refusal or failure to report to the client.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// Details is sent with the error (for example {"fields": [...]} or {"reason": ...}).
	Details any
	// RetryAfter, when positive, is how many seconds the client should wait before
	// retrying (rate limited, unavailable).
	RetryAfter int
	// cause is kept for logs only, never sent to the client.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Cause returns the cause kept for logs, if any.
func (e *Error) Cause() error { return e.cause }

// WithDetails returns a copy of e carrying details.
func (e *Error) WithDetails(d any) *Error {
	c := *e
	c.Details = d
	return &c
}

// WithCode returns a copy of e with code instead of its kind's default.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

// WithCause returns a copy of e that keeps cause for logs (never shown to clients).
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// New builds an Error of kind with the kind's code.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: kind.Code(), Message: fmt.Sprintf(format, args...)}
}

// BadRequest is an invalid request (invalid_argument).
func BadRequest(format string, args ...any) *Error {
	return New(KindInvalidArgument, format, args...)
}

// Unauthenticated is a request without valid credentials.
func Unauthenticated(format string, args ...any) *Error {
	return New(KindUnauthenticated, format, args...)
}

// PermissionDenied is a caller who may not do this.
func PermissionDenied(format string, args ...any) *Error {
	return New(KindPermissionDenied, format, args...)
}

// NotFound is a resource that does not exist for the caller.
func NotFound(format string, args ...any) *Error { return New(KindNotFound, format, args...) }

// Conflict is a resource whose state forbids the request.
func Conflict(format string, args ...any) *Error { return New(KindConflict, format, args...) }

// PreconditionFailed is a request based on a stale version (If-Match).
func PreconditionFailed(format string, args ...any) *Error {
	return New(KindFailedPrecondition, format, args...)
}

// Internal is an unexpected failure with a generic message; the cause goes to logs only.
func Internal(cause error) *Error {
	return New(KindInternal, "internal error; quote the requestId when reporting it").WithCause(cause)
}

// Unavailable is a backend that is down or overloaded: the client may retry after
// retryAfterSeconds.
func Unavailable(retryAfterSeconds int, cause error) *Error {
	e := New(KindUnavailable, "service temporarily unavailable; retry later").WithCause(cause)
	e.RetryAfter = retryAfterSeconds
	return e
}

// RateLimited is a caller over its rate limit, who may retry after retryAfterSeconds.
func RateLimited(retryAfterSeconds int, format string, args ...any) *Error {
	e := New(KindRateLimited, format, args...)
	e.RetryAfter = retryAfterSeconds
	return e
}

// FieldError names one invalid field of a request. The message names the rule broken,
// never the value given.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// InvalidFields is an invalid request listing every invalid field, in details.fields.
func InvalidFields(fields []FieldError) *Error {
	return BadRequest("%d invalid field(s)", len(fields)).WithDetails(map[string]any{"fields": fields})
}

// ReasonStaleVersion is details.reason of every 412: the change was based on a version
// that is not the current one any more.
const ReasonStaleVersion = "stale_version"

// Stale is a change based on a stale version (412 failed_precondition), the one answer
// for every resource with versions: details.reason is stale_version and
// details.currentVersion the version to read and reapply the change on.
func Stale(currentVersion int64, format string, args ...any) *Error {
	return PreconditionFailed(format, args...).
		WithDetails(map[string]any{"reason": ReasonStaleVersion, "currentVersion": currentVersion})
}
