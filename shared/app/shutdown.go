package app

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// ShutdownGrace bounds the drain after SIGTERM. Cloud Run sends SIGKILL 10 seconds after
// SIGTERM; the last second is left for the exit itself.
const ShutdownGrace = 9 * time.Second

// errDraining is the cause of the 503 a draining instance answers.
var errDraining = errors.New("instance is shutting down")

// drainer counts the requests and events an instance is handling, so that on SIGTERM it
// can let them finish before exiting (Go's default on SIGTERM is to exit at once, cutting
// them, and the functions framework installs no handler). Once draining, new work is
// refused: HTTP requests with 503, Retry-After and Connection: close (Cloud Run stops
// routing to an instance it has signalled; locally the client retries), events with an
// error so that Pub/Sub or Eventarc redelivers them.
type drainer struct {
	mu       sync.Mutex
	inFlight int
	draining bool
	idle     chan struct{} // closed when draining and nothing is in flight
}

func newDrainer() *drainer { return &drainer{idle: make(chan struct{})} }

// processDrainer tracks the work of this process (one function per instance).
var processDrainer = newDrainer()

// begin records the start of a request or event; false when the instance is draining.
func (d *drainer) begin() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.draining {
		return false
	}
	d.inFlight++
	return true
}

// end records the end of work begun with begin.
func (d *drainer) end() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inFlight--
	if d.draining && d.inFlight == 0 {
		close(d.idle)
	}
}

// refuseNew makes the drainer refuse new work from now on; it returns how many requests
// or events are running.
func (d *drainer) refuseNew() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.draining {
		d.draining = true
		if d.inFlight == 0 {
			close(d.idle)
		}
	}
	return d.inFlight
}

// drain refuses new work and waits until the work in flight has finished or ctx ends;
// it returns how many requests or events were still running.
func (d *drainer) drain(ctx context.Context) int {
	d.refuseNew()
	select {
	case <-d.idle:
		return 0
	case <-ctx.Done():
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.inFlight
	}
}

// serveHTTP runs h as tracked work, or refuses the request when draining.
func (d *drainer) serveHTTP(w http.ResponseWriter, r *http.Request, h http.Handler) {
	if !d.begin() {
		w.Header().Set("Connection", "close")
		httpx.WriteError(w, r, httpx.Unavailable(1, errDraining))
		return
	}
	defer d.end()
	h.ServeHTTP(w, r)
	if d.isDraining() {
		// The process may exit as soon as this request ends: hand the response to the
		// connection now rather than after the handler returns, as net/http would.
		_ = http.NewResponseController(w).Flush()
	}
}

func (d *drainer) isDraining() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.draining
}

// handleEvent runs h as tracked work, or returns an error (the event is redelivered)
// when draining.
func (d *drainer) handleEvent(h func() error) error {
	if !d.begin() {
		return errDraining
	}
	defer d.end()
	return h()
}

// shutdownOnSignal waits for the first value on sig, drains for at most grace and calls
// exit: 0 when everything in flight finished, 1 when the grace ran out first.
func (d *drainer) shutdownOnSignal(name string, sig <-chan os.Signal, grace time.Duration, exit func(int)) {
	s := <-sig
	// New work is refused before the drain is logged: whoever reads the line may count
	// on it.
	n := d.refuseNew()
	log := logging.Default()
	log.Info("shutting down: draining requests in flight", "function", name, "signal", s.String(), "inFlight", n)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	left := d.drain(ctx)
	cancel()
	if left > 0 {
		log.Error("shutdown grace ran out: cutting requests in flight", "function", name, "inFlight", left,
			"graceSeconds", grace.Seconds())
		exit(1)
		return
	}
	log.Info("shutdown complete: nothing in flight", "function", name)
	exit(0)
}

var shutdownOnce sync.Once

// handleShutdown installs the SIGTERM handler of an instance serving function name: a
// signal registration and one waiting goroutine, nothing else. It is called from
// registration (init) for the FUNCTION_TARGET only, so a SIGTERM that arrives even during
// the first, cold request is handled, and processes that merely import the functions
// (tests, tools) keep Go's default behaviour.
func handleShutdown(name string) {
	shutdownOnce.Do(func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		go processDrainer.shutdownOnSignal(name, sig, ShutdownGrace, os.Exit)
	})
}
