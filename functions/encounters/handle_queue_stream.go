package encounters

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/queue"
)

// boardSnapshot is one result of the board listener.
type boardSnapshot struct {
	board queue.Board
	err   error
}

// handleQueueStream answers GET /v1/queue/stream with Server-Sent Events: the board of
// the caller's clinic at once, then again at every change, from a Firestore snapshot
// listener on the board document.
//
//	retry: 3000
//
//	id: 17
//	event: board
//	data: {"clinicId":"...","version":17,...,"entries":[...]}
//
//	: heartbeat
//
// A comment line every 15 seconds keeps idle connections open. The stream ends when
// the client goes away, when the request's context ends, after streamMaxDuration
// (clients reconnect), or after an "event: error" if the listener fails. A failure
// before the first board is answered with the usual JSON error (503).
func (b *boardReader) handleQueueStream(w http.ResponseWriter, r *http.Request) {
	if b.streamEnded != nil {
		defer b.streamEnded()
	}
	p, _ := auth.FromContext(r.Context())
	st, err := b.store.Get(r.Context())
	if err != nil {
		httpx.WriteError(w, r, httpx.Unavailable(2, err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), b.maxStream)
	// The listener goroutine owns the iterator (Next and Stop must not race); ending
	// ctx ends its Next, and the handler returns only once the listener has stopped.
	snaps := make(chan boardSnapshot)
	listening := make(chan struct{})
	defer func() {
		cancel()
		<-listening
	}()
	go func() {
		defer close(listening)
		it := st.BoardRef(p.ClinicID).Snapshots(ctx)
		defer it.Stop()
		listen(ctx, it, p.ClinicID, snaps)
	}()

	var first boardSnapshot
	select {
	case first = <-snaps:
	case <-ctx.Done():
		writeBoardError(w, r, ctx.Err())
		return
	}
	if first.err != nil {
		writeBoardError(w, r, first.err)
		return
	}

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // no buffering in front of us
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(frame []byte) bool {
		if _, err := w.Write(frame); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte("retry: 3000\n\n")) || !send(boardFrame(first.board)) {
		return
	}

	heartbeat := time.NewTicker(b.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-snaps:
			if s.err != nil {
				if ctx.Err() == nil {
					logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "queue board listener failed",
						slog.String("error", s.err.Error()))
					send([]byte("event: error\ndata: {\"code\":\"unavailable\"}\n\n"))
				}
				return
			}
			if !send(boardFrame(s.board)) {
				return
			}
		case <-heartbeat.C:
			if !send([]byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}

// listen forwards the listener's snapshots until it fails or ctx ends.
func listen(ctx context.Context, it *firestore.DocumentSnapshotIterator, clinicID string, out chan<- boardSnapshot) {
	for {
		snap, err := it.Next()
		var s boardSnapshot
		switch {
		case err != nil:
			s.err = err
		case !snap.Exists():
			s.board = queue.EmptyBoard(clinicID)
		default:
			s.board, s.err = queue.DecodeBoard(snap)
		}
		select {
		case out <- s:
		case <-ctx.Done():
			return
		}
		if s.err != nil {
			return
		}
	}
}

// boardFrame renders one SSE "board" event. JSON has no raw newlines, so the board
// fits one data line.
func boardFrame(b queue.Board) []byte {
	data, err := json.Marshal(b)
	if err != nil {
		return []byte("event: error\ndata: {\"code\":\"internal\"}\n\n")
	}
	var buf bytes.Buffer
	buf.Grow(len(data) + 48)
	buf.WriteString("id: ")
	buf.WriteString(strconv.FormatInt(b.Version, 10))
	buf.WriteString("\nevent: board\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
	return buf.Bytes()
}
