package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestAsErrorMapsBackendOutagesTo503(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want int
	}{
		{status.Error(codes.Unavailable, "firestore down"), http.StatusServiceUnavailable},
		{fmt.Errorf("reading: %w", status.Error(codes.Aborted, "contention")), http.StatusServiceUnavailable},
		{status.Error(codes.ResourceExhausted, "quota"), http.StatusServiceUnavailable},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{status.Error(codes.PermissionDenied, "iam"), http.StatusInternalServerError},
		{errors.New("bug"), http.StatusInternalServerError},
		{fmt.Errorf("x: %w", NotFound("patient not found")), http.StatusNotFound},
	} {
		e := AsError(tc.err)
		if e.Status != tc.want {
			t.Errorf("AsError(%v).Status = %d, want %d", tc.err, e.Status, tc.want)
		}
		if e.Status == http.StatusServiceUnavailable && e.Header.Get("Retry-After") == "" {
			t.Errorf("AsError(%v): 503 without Retry-After", tc.err)
		}
	}
}
