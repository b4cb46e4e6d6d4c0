package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/medi-os/medi/shared/httpx"
)

// TestDrainLetsInFlightRequestsFinish drives the SIGTERM path with a fake signal: the
// request in flight completes, new requests and events are refused while draining, and
// the process exits 0 only once nothing is in flight.
func TestDrainLetsInFlightRequestsFinish(t *testing.T) {
	t.Parallel()
	d := newDrainer()
	entered, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		httpx.WriteJSON(w, r, http.StatusOK, "done")
	})
	inFlight := httptest.NewRecorder()
	served := make(chan struct{})
	go func() {
		defer close(served)
		d.serveHTTP(inFlight, httptest.NewRequest(http.MethodGet, "/v1/queue", nil), slow)
	}()
	<-entered

	sig := make(chan os.Signal, 1)
	exited := make(chan int, 1)
	go d.shutdownOnSignal("test", sig, time.Hour, func(code int) { exited <- code })
	sig <- syscall.SIGTERM

	// Wait until the drainer refuses new work (draining has begun); until then the
	// probes are served.
	fast := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpx.WriteJSON(w, r, http.StatusOK, "fast") })
	var refused *httptest.ResponseRecorder
	for {
		refused = httptest.NewRecorder()
		d.serveHTTP(refused, httptest.NewRequest(http.MethodGet, "/v1/queue", nil), fast)
		if refused.Code == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if refused.Header().Get("Retry-After") == "" || refused.Header().Get("Connection") != "close" {
		t.Errorf("refused request headers: %v", refused.Header())
	}
	var env httpx.Envelope
	if err := json.Unmarshal(refused.Body.Bytes(), &env); err != nil || env.Error == nil || env.Error.Code != httpx.CodeUnavailable {
		t.Errorf("refused request body: %s", refused.Body)
	}
	if err := d.handleEvent(func() error { return nil }); !errors.Is(err, errDraining) {
		t.Errorf("event while draining: %v, want it refused (redelivered)", err)
	}
	select {
	case code := <-exited:
		t.Fatalf("exited %d with a request in flight", code)
	default:
	}

	close(release)
	<-served
	if code := <-exited; code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	if inFlight.Code != http.StatusOK {
		t.Errorf("in-flight request: %d %s", inFlight.Code, inFlight.Body)
	}
}

func TestDrainGraceRunsOut(t *testing.T) {
	t.Parallel()
	d := newDrainer()
	if !d.begin() {
		t.Fatal("a fresh drainer refused work")
	}
	defer d.end()
	sig := make(chan os.Signal, 1)
	exited := make(chan int, 1)
	sig <- syscall.SIGTERM
	d.shutdownOnSignal("test", sig, time.Millisecond, func(code int) { exited <- code })
	if code := <-exited; code != 1 {
		t.Errorf("exit code %d with work cut, want 1", code)
	}
}

func TestDrainWithNothingInFlightExitsAtOnce(t *testing.T) {
	t.Parallel()
	d := newDrainer()
	d.begin()
	d.end()
	sig := make(chan os.Signal, 1)
	exited := make(chan int, 1)
	sig <- syscall.SIGTERM
	d.shutdownOnSignal("test", sig, time.Hour, func(code int) { exited <- code })
	if code := <-exited; code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}
