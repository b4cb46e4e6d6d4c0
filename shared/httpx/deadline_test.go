package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
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
		{"an Accept header exempts nothing", time.Hour, "text/event-stream", hasDeadline, http.StatusOK, "", true},
		{"no timeout configured", 0, "", hasDeadline, http.StatusOK, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := Deadline(tc.timeout, nil)(tc.handler)
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
	h := Deadline(time.Hour, nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/v1/queue", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.Len() != 0 {
		t.Errorf("Deadline wrote %q for a handler that finished in time", rec.Body)
	}
}

// TestDeadlineBelongsToTheStreamRoute serves a Router through the standard Stack with a
// short request deadline. The exemption from the deadline belongs to the route registered
// with HandleStream, not to a header: an ordinary route asked for text/event-stream
// still ends at the deadline with a 503 (before, it was exempt and hung as long as its
// backend did), the stream route without that header keeps streaming past the deadline
// (before, it was cut at the deadline), and a stream that cannot start in time (its
// backend hangs before the first event) is answered 503 like any request.
func TestDeadlineBelongsToTheStreamRoute(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	rt := NewRouter()
	rt.HandleFunc(http.MethodGet, "/v1/queue", func(w http.ResponseWriter, r *http.Request) {
		select { // a backend that never answers
		case <-r.Context().Done():
			WriteError(w, r, r.Context().Err())
		case <-time.After(20 * time.Second):
			WriteJSON(w, r, http.StatusOK, "no deadline")
		}
	})
	rt.HandleStream(http.MethodGet, "/v1/queue/stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("start") == "never" {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "event: board\ndata: 1\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
			fmt.Fprint(w, "event: cut\ndata: 0\n\n")
		case <-time.After(5 * timeout):
			fmt.Fprint(w, "event: board\ndata: 2\n\n")
		}
	}))
	srv := httptest.NewServer(Stack(rt, StackOptions{Logger: slog.New(slog.DiscardHandler), RequestTimeout: timeout}))
	t.Cleanup(srv.Close)
	get := func(path, accept string) (*http.Response, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("GET %s (Accept %q): %v", path, accept, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s (Accept %q): reading: %v", path, accept, err)
		}
		return resp, string(body)
	}
	t.Run("ordinary route asking for an event stream", func(t *testing.T) {
		t.Parallel()
		resp, body := get("/v1/queue", "text/event-stream")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("status %d, Retry-After %q: %s; want 503 at the deadline", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	})
	t.Run("stream route without the header", func(t *testing.T) {
		t.Parallel()
		resp, body := get("/v1/queue/stream", "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "data: 2") || strings.Contains(body, "event: cut") {
			t.Errorf("status %d: %q; want the stream to outlive the request deadline", resp.StatusCode, body)
		}
	})
	t.Run("stream that cannot start", func(t *testing.T) {
		t.Parallel()
		resp, body := get("/v1/queue/stream?start=never", "text/event-stream")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, CodeUnavailable) {
			t.Errorf("status %d, Retry-After %q: %s; want 503", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	})
	if !rt.IsStream(httptest.NewRequest(http.MethodGet, "/v1/queue/stream", nil)) || rt.IsStream(httptest.NewRequest(http.MethodGet, "/v1/queue", nil)) {
		t.Error("IsStream does not tell the stream route from the others")
	}
}
