package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestDeadline(t *testing.T) {
	t.Parallel()
	// waitThen blocks until the request's context ends (a backend that never answers),
	// then does what a handler would do with the backend's error.
	waitThen := func(after func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			after(w, r)
		}
	}
	hasDeadline := func(w http.ResponseWriter, r *http.Request) {
		_, ok := r.Context().Deadline()
		WriteJSON(w, r, http.StatusOK, ok)
	}
	for _, tc := range []struct {
		name       string
		timeout    time.Duration
		accept     string
		handler    http.HandlerFunc
		wantStatus int
		wantCode   string
		wantData   any
	}{
		{"backend call ends with the context's error", 10 * time.Millisecond, "",
			waitThen(func(w http.ResponseWriter, r *http.Request) { WriteError(w, r, r.Context().Err()) }),
			http.StatusServiceUnavailable, CodeUnavailable, nil},
		{"gRPC DeadlineExceeded from a client", 10 * time.Millisecond, "",
			waitThen(func(w http.ResponseWriter, r *http.Request) {
				WriteError(w, r, status.Error(codes.DeadlineExceeded, "context deadline exceeded"))
			}),
			http.StatusServiceUnavailable, CodeUnavailable, nil},
		{"handler gives up without writing", 10 * time.Millisecond, "",
			waitThen(func(http.ResponseWriter, *http.Request) {}),
			http.StatusServiceUnavailable, CodeUnavailable, nil},
		{"requests get a deadline", time.Hour, "application/json", hasDeadline, http.StatusOK, "", true},
		{"event streams bound themselves", time.Hour, "text/event-stream", hasDeadline, http.StatusOK, "", false},
		{"no timeout configured", 0, "", hasDeadline, http.StatusOK, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := Deadline(tc.timeout)(tc.handler)
			req := httptest.NewRequest(http.MethodGet, "/v1/queue", nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			var env struct {
				Success bool
				Data    any
				Error   *struct{ Code string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatalf("body is not the envelope: %v: %s", err, rec.Body)
			}
			if tc.wantCode != "" {
				if env.Error == nil || env.Error.Code != tc.wantCode {
					t.Errorf("error %+v, want code %s", env.Error, tc.wantCode)
				}
				if got := rec.Header().Get("Retry-After"); got == "" {
					t.Error("503 without Retry-After")
				}
				return
			}
			if env.Data != tc.wantData {
				t.Errorf("request had a deadline: %v, want %v", env.Data, tc.wantData)
			}
		})
	}
}

// TestDeadlineAddsNothingBeforeTheDeadline: a handler that chose to write nothing in
// time is left alone (only a passed deadline makes Deadline answer).
func TestDeadlineAddsNothingBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	h := Deadline(time.Hour)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/v1/queue", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 {
		t.Errorf("Deadline wrote %q for a handler that finished in time", rec.Body)
	}
}
