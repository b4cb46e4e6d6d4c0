package apierr_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/apierr"
)

// Each kind has its own stable code, and the zero Kind (an error built without one) is
// internal, never a refusal the client could be blamed for.
func TestKindCodes(t *testing.T) {
	t.Parallel()
	want := map[apierr.Kind]string{
		apierr.KindInternal:           apierr.CodeInternal,
		apierr.KindInvalidArgument:    apierr.CodeInvalidArgument,
		apierr.KindUnauthenticated:    apierr.CodeUnauthenticated,
		apierr.KindPermissionDenied:   apierr.CodePermissionDenied,
		apierr.KindNotFound:           apierr.CodeNotFound,
		apierr.KindConflict:           apierr.CodeConflict,
		apierr.KindFailedPrecondition: apierr.CodeFailedPrecondition,
		apierr.KindRateLimited:        apierr.CodeRateLimited,
		apierr.KindUnavailable:        apierr.CodeUnavailable,
	}
	seen := map[string]apierr.Kind{}
	for k, code := range want {
		if got := k.Code(); got != code {
			t.Errorf("Kind(%d).Code() = %q, want %q", k, got, code)
		}
		if other, dup := seen[code]; dup {
			t.Errorf("kinds %d and %d share code %q", k, other, code)
		}
		seen[code] = k
	}
	var zero apierr.Kind
	if zero != apierr.KindInternal {
		t.Errorf("the zero Kind is %d, want KindInternal", zero)
	}
	if got := apierr.Kind(99).Code(); got != apierr.CodeInternal {
		t.Errorf("an unknown kind's code = %q, want %q", got, apierr.CodeInternal)
	}
}

// The constructors give each error its kind and code, and format the message.
func TestConstructors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *apierr.Error
		kind apierr.Kind
		code string
		msg  string
	}{
		{apierr.BadRequest("field %s is required", "name"), apierr.KindInvalidArgument, apierr.CodeInvalidArgument, "field name is required"},
		{apierr.Unauthenticated("no token"), apierr.KindUnauthenticated, apierr.CodeUnauthenticated, "no token"},
		{apierr.PermissionDenied("role %s may not", "nurse"), apierr.KindPermissionDenied, apierr.CodePermissionDenied, "role nurse may not"},
		{apierr.NotFound("no such patient"), apierr.KindNotFound, apierr.CodeNotFound, "no such patient"},
		{apierr.Conflict("already %s", "completed"), apierr.KindConflict, apierr.CodeConflict, "already completed"},
		{apierr.PreconditionFailed("version %d is stale", 3), apierr.KindFailedPrecondition, apierr.CodeFailedPrecondition, "version 3 is stale"},
		{apierr.RateLimited(7, "slow down"), apierr.KindRateLimited, apierr.CodeRateLimited, "slow down"},
	} {
		if tc.err.Kind != tc.kind || tc.err.Code != tc.code || tc.err.Message != tc.msg {
			t.Errorf("got {%d %q %q}, want {%d %q %q}", tc.err.Kind, tc.err.Code, tc.err.Message, tc.kind, tc.code, tc.msg)
		}
		if got, want := tc.err.Error(), tc.code+": "+tc.msg; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	}
	if got := apierr.RateLimited(7, "slow down").RetryAfter; got != 7 {
		t.Errorf("RateLimited RetryAfter = %d, want 7", got)
	}
}

// Internal and Unavailable keep their cause for logs (Error, errors.Is) but never put it
// in the message a client sees.
func TestCauseStaysOutOfTheMessage(t *testing.T) {
	t.Parallel()
	cause := fmt.Errorf("firestore: patient Jane Doe: %w", io.ErrUnexpectedEOF)
	for _, e := range []*apierr.Error{apierr.Internal(cause), apierr.Unavailable(30, cause)} {
		if strings.Contains(e.Message, "Jane") || strings.Contains(e.Message, "firestore") {
			t.Errorf("message %q carries the cause", e.Message)
		}
		if !errors.Is(e, io.ErrUnexpectedEOF) {
			t.Errorf("errors.Is(%v, the cause's cause) = false", e)
		}
		if e.Cause() != cause || e.Unwrap() != cause {
			t.Errorf("Cause/Unwrap = %v/%v, want the cause", e.Cause(), e.Unwrap())
		}
		if !strings.Contains(e.Error(), "Jane Doe") {
			t.Errorf("Error() = %q lacks the cause for logs", e.Error())
		}
	}
	if got := apierr.Internal(cause).Kind; got != apierr.KindInternal {
		t.Errorf("Internal kind = %d", got)
	}
	u := apierr.Unavailable(30, nil)
	if u.Kind != apierr.KindUnavailable || u.Code != apierr.CodeUnavailable || u.RetryAfter != 30 {
		t.Errorf("Unavailable = %+v", u)
	}
	if u.Cause() != nil || u.Error() != u.Code+": "+u.Message {
		t.Errorf("Unavailable without cause: Cause %v, Error %q", u.Cause(), u.Error())
	}
}

// With* return copies: package-level errors that many requests share (a store's
// ErrNotFound, say) are never changed by one request adding its details or cause.
func TestWithCopies(t *testing.T) {
	t.Parallel()
	base := apierr.Conflict("encounter is completed")
	d := base.WithDetails(map[string]any{"reason": "completed"})
	c := base.WithCode("encounter_closed")
	k := base.WithCause(io.EOF)
	if base.Details != nil || base.Code != apierr.CodeConflict || base.Cause() != nil {
		t.Errorf("base changed: %+v (cause %v)", base, base.Cause())
	}
	if diff := cmp.Diff(map[string]any{"reason": "completed"}, d.Details); diff != "" {
		t.Errorf("WithDetails (-want +got):\n%s", diff)
	}
	if c.Code != "encounter_closed" || c.Kind != apierr.KindConflict {
		t.Errorf("WithCode = %+v, want code encounter_closed of kind conflict", c)
	}
	if !errors.Is(k, io.EOF) || k.Message != base.Message {
		t.Errorf("WithCause = %v", k)
	}
	var target *apierr.Error
	if !errors.As(fmt.Errorf("wrapped: %w", d), &target) || target != d {
		t.Errorf("errors.As through a wrap did not find the *Error")
	}
}

// InvalidFields lists every invalid field in details.fields and counts them in the
// message.
func TestInvalidFields(t *testing.T) {
	t.Parallel()
	fields := []apierr.FieldError{{Field: "birthDate", Message: "must be a date"}, {Field: "mrn", Message: "is required"}}
	e := apierr.InvalidFields(fields)
	if e.Kind != apierr.KindInvalidArgument || e.Code != apierr.CodeInvalidArgument {
		t.Errorf("kind/code = %d/%s", e.Kind, e.Code)
	}
	if e.Message != "2 invalid field(s)" {
		t.Errorf("message = %q", e.Message)
	}
	if diff := cmp.Diff(map[string]any{"fields": fields}, e.Details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
}
