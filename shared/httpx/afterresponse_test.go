package httpx

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medi-os/medi/shared/afterwork"
)

// Work left with afterwork.Do runs once the client has its whole answer: over a real
// connection, through the standard stack (its deadline included), the client reads the
// complete body while the work is still blocked, and its next request is answered
// meanwhile (not queued behind the work on the same connection); the work then runs to
// its end, detached from the request's deadline.
func TestAfterResponseRunsOnceTheClientHasItsAnswer(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	done := make(chan error, 1)
	h := Stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			detached := context.WithoutCancel(r.Context())
			if !afterwork.Do(r.Context(), func() {
				<-release
				done <- detached.Err()
			}) {
				t.Error("afterwork.Do ran the work at once inside the stack")
			}
		}
		WriteJSON(w, r, http.StatusCreated, map[string]string{"id": "e1"})
	}), StackOptions{Logger: slog.New(slog.DiscardHandler), RequestTimeout: time.Second})
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	client := srv.Client()
	client.Timeout = 5 * time.Second // an answer held back until the work ends would hit it
	resp, err := client.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || resp.ContentLength != int64(len(body)) {
		t.Fatalf("answer: %d, %d of %d bytes, %v", resp.StatusCode, len(body), resp.ContentLength, err)
	}
	if !resp.Close {
		t.Error("the answer leaves its connection open for a next request that would wait for the work")
	}
	// The client's next request, while the work is still blocked.
	next, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("the next request waited for the previous one's work: %v", err)
	}
	next.Body.Close()
	select {
	case <-done:
		t.Fatal("the work ran before the client had its answer")
	default:
	}
	// Past the request's deadline: the work's context must not have expired with it.
	time.Sleep(1100 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the work's context ended with the request: %v", err)
	}
}

// Once a request under AfterResponse has been answered, work left with its context runs
// before afterwork.Do returns.
func TestWorkLeftAfterTheAnswerRunsNow(t *testing.T) {
	t.Parallel()
	var late context.Context
	h := AfterResponse()(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { late = r.Context() }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Header().Get("Connection") == "close" {
		t.Error("an answer with no work after it closes its connection")
	}
	ran := false
	if afterwork.Do(late, func() { ran = true }) || !ran {
		t.Fatalf("work left after the request ended: deferred, ran=%v", ran)
	}
}
