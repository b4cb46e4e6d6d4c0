// Package httpx holds the HTTP conventions every Medi OS function follows: a strict
// JSON binder, one response envelope with stable error codes, and middleware in a
// documented order.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
)

// Stable error codes. Clients switch on these strings; never rename one. The codes of
// refusals domain code reports are defined in shared/apierr; the last four exist only
// over HTTP.
const (
	CodeInvalidArgument    = apierr.CodeInvalidArgument
	CodeUnauthenticated    = apierr.CodeUnauthenticated
	CodePermissionDenied   = apierr.CodePermissionDenied
	CodeNotFound           = apierr.CodeNotFound
	CodeConflict           = apierr.CodeConflict
	CodeFailedPrecondition = apierr.CodeFailedPrecondition
	CodeRateLimited        = apierr.CodeRateLimited
	CodeInternal           = apierr.CodeInternal
	CodeUnavailable        = apierr.CodeUnavailable
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodePayloadTooLarge    = "payload_too_large"
	CodeMethodNotAllowed   = "method_not_allowed"
	// CodePreconditionRequired is 428: a conditional write sent without If-Match.
	CodePreconditionRequired = "precondition_required"
)

// Error is an API error: an HTTP status, a stable code, a message a client developer can
// act on and optional structured details. Messages must never contain patient data.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
	// Header is added to the response (e.g. Retry-After, Allow).
	Header http.Header `json:"-"`
	// cause is kept for logs only, never sent to the client.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// WithDetails returns a copy of e carrying details.
func (e *Error) WithDetails(d any) *Error {
	c := *e
	c.Details = d
	return &c
}

// WithHeader returns a copy of e that sets header k to v on the response.
func (e *Error) WithHeader(k, v string) *Error {
	c := *e
	c.Header = c.Header.Clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Set(k, v)
	return &c
}

// WithCause returns a copy of e that keeps cause for logs (never shown to clients).
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// NewError builds an Error.
func NewError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Constructors for the common cases.
func BadRequest(format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, CodeInvalidArgument, format, args...)
}

// Unauthenticated is 401.
func Unauthenticated(format string, args ...any) *Error {
	return NewError(http.StatusUnauthorized, CodeUnauthenticated, format, args...)
}

// PermissionDenied is 403.
func PermissionDenied(format string, args ...any) *Error {
	return NewError(http.StatusForbidden, CodePermissionDenied, format, args...)
}

// NotFound is 404.
func NotFound(format string, args ...any) *Error {
	return NewError(http.StatusNotFound, CodeNotFound, format, args...)
}

// Conflict is 409.
func Conflict(format string, args ...any) *Error {
	return NewError(http.StatusConflict, CodeConflict, format, args...)
}

// PreconditionFailed is 412 (stale If-Match / version).
func PreconditionFailed(format string, args ...any) *Error {
	return NewError(http.StatusPreconditionFailed, CodeFailedPrecondition, format, args...)
}

// Internal is 500 with a generic message; the cause goes to logs only.
func Internal(cause error) *Error {
	return NewError(http.StatusInternalServerError, CodeInternal, "internal error; quote the requestId when reporting it").WithCause(cause)
}

// Unavailable is 503 with Retry-After: a backend is down or overloaded; the client may retry.
func Unavailable(retryAfterSeconds int, cause error) *Error {
	return NewError(http.StatusServiceUnavailable, CodeUnavailable, "service temporarily unavailable; retry later").
		WithHeader("Retry-After", fmt.Sprint(retryAfterSeconds)).WithCause(cause)
}

// InvalidFields is a 400 listing every invalid field.
func InvalidFields(fields []apierr.FieldError) *Error {
	return FromAPI(apierr.InvalidFields(fields))
}

// statusOf is the HTTP status of each kind of refusal.
var statusOf = map[apierr.Kind]int{
	apierr.KindInternal:           http.StatusInternalServerError,
	apierr.KindInvalidArgument:    http.StatusBadRequest,
	apierr.KindUnauthenticated:    http.StatusUnauthorized,
	apierr.KindPermissionDenied:   http.StatusForbidden,
	apierr.KindNotFound:           http.StatusNotFound,
	apierr.KindConflict:           http.StatusConflict,
	apierr.KindFailedPrecondition: http.StatusPreconditionFailed,
	apierr.KindRateLimited:        http.StatusTooManyRequests,
	apierr.KindUnavailable:        http.StatusServiceUnavailable,
}

// FromAPI is the HTTP form of a domain error: its kind's status, its code, message and
// details, Retry-After when it has one, and its cause for logs.
func FromAPI(e *apierr.Error) *Error {
	status, ok := statusOf[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	code := e.Code
	if code == "" {
		code = e.Kind.Code()
	}
	out := &Error{Status: status, Code: code, Message: e.Message, Details: e.Details, cause: e.Cause()}
	if e.RetryAfter > 0 {
		out = out.WithHeader("Retry-After", fmt.Sprint(e.RetryAfter))
	}
	return out
}

// AsError converts any error to an *Error: an *Error anywhere in the chain is returned
// as is, a domain error (*apierr.Error) is translated (FromAPI); a backend that is down,
// overloaded or too slow (see Transient) is 503 with Retry-After; anything else is an
// internal error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var d *apierr.Error
	if errors.As(err, &d) {
		return FromAPI(d)
	}
	if Transient(err) {
		return Unavailable(2, err)
	}
	return Internal(err)
}

// Transient reports whether err is a backend condition worth retrying: a deadline that
// ran out, or a gRPC Unavailable, DeadlineExceeded, Aborted (transaction contention) or
// ResourceExhausted status from a Google Cloud client.
func Transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
		return true
	}
	return false
}
