package encounters

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/queue"
)

// streamUpdate is one result of the stream's two listeners: a stored board, or a
// snapshot of the clinic's open encounters, or the listener's error.
type streamUpdate struct {
	board *queue.Board
	open  *firestore.QuerySnapshot
	err   error
}

// handleQueueStream answers GET /v1/queue/stream with Server-Sent Events: the live board
// of the caller's clinic at once, then again at every change.
//
//	retry: 3000
//
//	id: 17
//	event: board
//	data: {"clinicId":"...","version":17,...,"entries":[...]}
//
//	: heartbeat
//
// Two Firestore snapshot listeners feed it: one on the stored board document (written
// by the queue-projector at most once a second per clinic, with the wait estimates) and
// one on the clinic's open encounters. Each frame is queue.LiveBoard of the two: a
// check-in, a triage or a transition shows as soon as the encounter's listener reports
// it, in the board's order, without waiting for the next stored board (a new patient's
// entry is "provisional", with no estimate, until then). Frames are at least
// streamMinGap apart; a change within the gap is sent at its end with whatever else
// changed meanwhile.
//
// A comment line every 15 seconds keeps idle connections open. The stream ends when
// the client goes away, when the request's context ends, after streamMaxDuration
// (clients reconnect), or after an "event: error" if a listener fails. A failure
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
	// Each listener goroutine owns its iterator (Next and Stop must not race); ending ctx
	// ends its Next, and the handler returns only once both have stopped.
	updates := make(chan streamUpdate)
	var listening sync.WaitGroup
	defer func() {
		cancel()
		listening.Wait()
	}()
	listening.Add(2)
	go func() {
		defer listening.Done()
		it := st.BoardRef(p.ClinicID).Snapshots(ctx)
		defer it.Stop()
		listenBoard(ctx, it, p.ClinicID, updates)
	}()
	go func() {
		defer listening.Done()
		it := st.OpenEncounters(p.ClinicID).Snapshots(ctx)
		defer it.Stop()
		listenOpen(ctx, it, updates)
	}()

	var stored *queue.Board
	open := queue.NewOpenSet()
	opened := false
	apply := func(u streamUpdate) {
		if u.board != nil {
			stored = u.board
		}
		if u.open != nil {
			open.Apply(ctx, u.open)
			opened = true
		}
	}
	// The first frame waits for both listeners' first results.
	for stored == nil || !opened {
		select {
		case u := <-updates:
			if u.err != nil {
				writeBoardError(w, r, u.err)
				return
			}
			apply(u)
		case <-ctx.Done():
			writeBoardError(w, r, ctx.Err())
			return
		}
	}
	live := func() queue.Board { return queue.LiveBoard(*stored, open.Source(), time.Now()) }

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
	if !send([]byte("retry: 3000\n\n")) || !send(boardFrame(live())) {
		return
	}
	lastFrame := time.Now()

	heartbeat := time.NewTicker(b.heartbeat)
	defer heartbeat.Stop()
	// due fires when a change held back by the frame gap is to be sent; nil when none is.
	var due <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-updates:
			if u.err != nil {
				if ctx.Err() == nil {
					logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "queue board listener failed",
						slog.String("error", u.err.Error()))
					send([]byte("event: error\ndata: {\"code\":\"unavailable\"}\n\n"))
				}
				return
			}
			apply(u)
			if due != nil {
				continue // the held-back frame will carry this change too
			}
			if wait := b.minGap - time.Since(lastFrame); wait > 0 {
				due = time.After(wait)
				continue
			}
			if !send(boardFrame(live())) {
				return
			}
			lastFrame = time.Now()
		case <-due:
			due = nil
			if !send(boardFrame(live())) {
				return
			}
			lastFrame = time.Now()
		case <-heartbeat.C:
			if !send([]byte(": heartbeat\n\n")) {
				return
			}
		}
	}
}

// listenBoard forwards the stored board's snapshots until the listener fails or ctx ends.
func listenBoard(ctx context.Context, it *firestore.DocumentSnapshotIterator, clinicID string, out chan<- streamUpdate) {
	for {
		snap, err := it.Next()
		var u streamUpdate
		switch {
		case err != nil:
			u.err = err
		case !snap.Exists():
			b := queue.EmptyBoard(clinicID)
			u.board = &b
		default:
			b, err := queue.DecodeBoard(snap)
			u.board, u.err = &b, err
		}
		if !forward(ctx, out, u) {
			return
		}
	}
}

// listenOpen forwards the open encounters' snapshots until the listener fails or ctx ends.
func listenOpen(ctx context.Context, it *firestore.QuerySnapshotIterator, out chan<- streamUpdate) {
	for {
		snap, err := it.Next()
		if !forward(ctx, out, streamUpdate{open: snap, err: err}) {
			return
		}
	}
}

// forward sends u; false when the listener is to stop (ctx ended or u is an error).
func forward(ctx context.Context, out chan<- streamUpdate, u streamUpdate) bool {
	select {
	case out <- u:
		return u.err == nil
	case <-ctx.Done():
		return false
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
