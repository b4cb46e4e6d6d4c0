package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medi-os/medi/shared/apierr"
)

func TestConstructors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        *Error
		wantStatus int
		wantCode   string
	}{
		{"BadRequest", BadRequest("x %d", 1), 400, "invalid_argument"},
		{"Unauthenticated", Unauthenticated("x"), 401, "unauthenticated"},
		{"PermissionDenied", PermissionDenied("x"), 403, "permission_denied"},
		{"NotFound", NotFound("x"), 404, "not_found"},
		{"Conflict", Conflict("x"), 409, "conflict"},
		{"PreconditionFailed", PreconditionFailed("x"), 412, "failed_precondition"},
		{"Internal", Internal(errors.New("boom")), 500, "internal"},
		{"Unavailable", Unavailable(2, nil), 503, "unavailable"},
		{"InvalidFields", InvalidFields(nil), 400, "invalid_argument"},
		{"rate limited", NewError(http.StatusTooManyRequests, CodeRateLimited, "slow down"), 429, "rate_limited"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.err.Status != tc.wantStatus || tc.err.Code != tc.wantCode {
				t.Errorf("got %d %q, want %d %q", tc.err.Status, tc.err.Code, tc.wantStatus, tc.wantCode)
			}
		})
	}
	if got, want := BadRequest("field %q", "x").Message, `field "x"`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestError_JSONHidesInternals(t *testing.T) {
	t.Parallel()
	e := Internal(errors.New("secret cause")).WithHeader("Retry-After", "1")
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"code": "internal", "message": "internal error; quote the requestId when reporting it"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	if !strings.Contains(e.Error(), "secret cause") {
		t.Errorf("Error() = %q, want the cause for logs", e.Error())
	}
}

func TestError_CopiesDoNotAlias(t *testing.T) {
	t.Parallel()
	base := Conflict("x").WithHeader("A", "1")
	withB := base.WithHeader("B", "2")
	if base.Header.Get("B") != "" {
		t.Errorf("WithHeader mutated the original: %v", base.Header)
	}
	if withB.Header.Get("A") != "1" || withB.Header.Get("B") != "2" {
		t.Errorf("copy header = %v, want A and B", withB.Header)
	}
	d := base.WithDetails("d")
	if base.Details != nil || d.Details != "d" {
		t.Errorf("WithDetails: original %v, copy %v", base.Details, d.Details)
	}
	cause := errors.New("c")
	c := base.WithCause(cause)
	if base.Unwrap() != nil || !errors.Is(c, cause) {
		t.Errorf("WithCause: original cause %v, copy is cause %v", base.Unwrap(), errors.Is(c, cause))
	}
}

func TestAsError(t *testing.T) {
	t.Parallel()
	nf := NotFound("gone")
	if got := AsError(fmt.Errorf("wrap: %w", nf)); got != nf {
		t.Errorf("AsError(wrapped) = %v, want the wrapped *Error", got)
	}
	plain := errors.New("plain")
	got := AsError(plain)
	if got.Status != 500 || got.Code != CodeInternal || !errors.Is(got, plain) {
		t.Errorf("AsError(plain) = %d %q (is cause %v), want 500 internal wrapping the cause", got.Status, got.Code, errors.Is(got, plain))
	}
}

// A domain error (shared/apierr) is answered with its kind's status, its code (or the
// code it was given instead), its message and details, Retry-After when it has one, and
// its cause only in logs.
func TestDomainErrorsTranslated(t *testing.T) {
	t.Parallel()
	cause := errors.New("firestore: deadline")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		retryAfter string
	}{
		{"invalid fields", apierr.InvalidFields([]apierr.FieldError{{Field: "mrn", Message: "too long"}}), 400, "invalid_argument", ""},
		{"unauthenticated", apierr.Unauthenticated("x"), 401, "unauthenticated", ""},
		{"permission denied", apierr.PermissionDenied("x"), 403, "permission_denied", ""},
		{"not found", apierr.NotFound("encounter not found"), 404, "not_found", ""},
		{"conflict", apierr.Conflict("closed"), 409, "conflict", ""},
		{"conflict reported as failed_precondition", apierr.Conflict("frozen").WithCode(apierr.CodeFailedPrecondition), 409, "failed_precondition", ""},
		{"stale version", apierr.PreconditionFailed("stale"), 412, "failed_precondition", ""},
		{"rate limited", apierr.RateLimited(30, "slow down"), 429, "rate_limited", "30"},
		{"unavailable", apierr.Unavailable(2, cause), 503, "unavailable", "2"},
		{"internal", apierr.Internal(cause), 500, "internal", ""},
		{"wrapped", fmt.Errorf("encounter: check-in: %w", apierr.NotFound("patient not found")), 404, "not_found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := AsError(tc.err)
			if e.Status != tc.wantStatus || e.Code != tc.wantCode {
				t.Errorf("AsError = %d %s, want %d %s", e.Status, e.Code, tc.wantStatus, tc.wantCode)
			}
			if got := e.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			body, _ := json.Marshal(e)
			if strings.Contains(string(body), "firestore") {
				t.Errorf("the cause reached the client: %s", body)
			}
		})
	}
	e := AsError(apierr.InvalidFields([]apierr.FieldError{{Field: "mrn", Message: "too long"}}))
	body, _ := json.Marshal(e)
	if want := `{"code":"invalid_argument","message":"1 invalid field(s)","details":{"fields":[{"field":"mrn","message":"too long"}]}}`; string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
	if got := AsError(apierr.Unavailable(2, cause)); !errors.Is(got, cause) {
		t.Error("the cause was dropped from the logs' error")
	}
}
