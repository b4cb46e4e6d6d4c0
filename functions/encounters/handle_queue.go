package encounters

import (
	"context"
	"errors"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/queue"
)

// Stream timing (GET /v1/queue/stream).
const (
	// streamHeartbeat is the interval of the SSE comment that keeps proxies and load
	// balancers from closing an idle stream.
	streamHeartbeat = 15 * time.Second
	// streamMaxDuration ends a stream cleanly before the service's request timeout
	// (set in Terraform above it); EventSource clients reconnect on their own.
	streamMaxDuration = 30 * time.Minute
	// streamMinGap is the least time between two board frames of a stream: a burst of
	// changes is sent as a few frames, not one per change.
	streamMinGap = 150 * time.Millisecond
)

// boardReader serves the queue board, which the queue-projector function writes: the
// request path only ever reads it (one document), so a burst of clients never
// contends on it.
type boardReader struct {
	store     *app.Lazy[*queue.Store]
	heartbeat time.Duration
	maxStream time.Duration
	minGap    time.Duration
	// streamEnded, when set (tests), is called when a stream handler returns.
	streamEnded func()
}

// registerQueueRoutes adds GET /v1/queue and GET /v1/queue/stream, open to every staff
// role; the board is always the caller's own clinic's (there is no clinic parameter
// to get wrong).
func registerQueueRoutes(_ *Config, env *app.Env, rt *httpx.Router) {
	b := &boardReader{
		store: app.NewLazy(func(ctx context.Context) (*queue.Store, error) {
			fs, err := env.Platform.Firestore(ctx)
			if err != nil {
				return nil, err
			}
			return queue.NewStore(fs), nil
		}),
		heartbeat: streamHeartbeat,
		maxStream: streamMaxDuration,
		minGap:    streamMinGap,
	}
	staff := env.Require(auth.Roles...)
	rt.Handle(http.MethodGet, "/v1/queue", staff(http.HandlerFunc(b.handleQueue)))
	// A stream route: the request deadline ends it only if it cannot start (see
	// httpx.Deadline); it ends itself after maxStream.
	rt.HandleStream(http.MethodGet, "/v1/queue/stream", staff(http.HandlerFunc(b.handleQueueStream)))
}

// handleQueue answers GET /v1/queue with the board of the caller's clinic: one
// document read. A clinic whose board has not been built yet gets an empty board
// (version 0).
//
// Board reads are not audited per request: the board holds encounter and patient ids,
// levels and times only (no demographics, no clinical text), apps poll or stream it
// continuously, and staff may also listen to the document directly through Firestore
// (security rules), which no audit could see. Opening a patient is audited by the
// endpoints that return patient data.
func (b *boardReader) handleQueue(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	st, err := b.store.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	board, ok, err := st.Board(r.Context(), p.ClinicID)
	if err != nil {
		writeBoardError(w, r, err)
		return
	}
	if !ok {
		board = queue.EmptyBoard(p.ClinicID)
	}
	httpx.WriteJSON(w, r, http.StatusOK, board)
}

// writeBoardError answers a failed board read: 503 when Firestore is unavailable or
// the request ran out of time, 500 otherwise (the cause goes to the log only).
func writeBoardError(w http.ResponseWriter, r *http.Request, err error) {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted, codes.Canceled:
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	httpx.WriteError(w, r, httpx.Internal(err))
}
