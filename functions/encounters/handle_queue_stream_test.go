package encounters

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/testenv"
)

// sseFrame is one Server-Sent Events frame: its fields, or a comment.
type sseFrame struct {
	id, event, data, comment, retry string
}

// sseReader reads frames from a stream in the background.
func sseReader(t *testing.T, resp *http.Response) <-chan sseFrame {
	t.Helper()
	out := make(chan sseFrame, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		var f sseFrame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				out <- f
				f = sseFrame{}
			case strings.HasPrefix(line, ":"):
				f.comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				f.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				f.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				f.data = line[6:]
			case strings.HasPrefix(line, "retry: "):
				f.retry = line[7:]
			}
		}
	}()
	return out
}

// nextBoard returns the next board event, skipping heartbeats.
func nextBoard(t *testing.T, frames <-chan sseFrame) queue.Board {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatal("stream ended before a board event")
			}
			if f.event != "board" {
				continue
			}
			var b queue.Board
			if err := json.Unmarshal([]byte(f.data), &b); err != nil {
				t.Fatalf("board event data: %v: %s", err, f.data)
			}
			if f.id != "" && f.id != jsonInt(b.Version) {
				t.Errorf("event id %q, board version %d", f.id, b.Version)
			}
			return b
		case <-deadline:
			t.Fatal("no board event within 20 s")
		}
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

type streamFixture struct {
	fs     *firestore.Client
	clinic string
	srv    *httptest.Server
	ended  chan struct{}
}

func newStreamFixture(t *testing.T, heartbeat, maxStream time.Duration) *streamFixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	f := &streamFixture{fs: fs, clinic: "clinic-stream", ended: make(chan struct{}, 4)}
	b := &boardReader{
		store:       app.NewLazy(func(context.Context) (*queue.Store, error) { return queue.NewStore(fs), nil }),
		heartbeat:   heartbeat,
		maxStream:   maxStream,
		streamEnded: func() { f.ended <- struct{}{} },
	}
	signedIn := func(r *http.Request) *http.Request {
		ctx := auth.WithPrincipal(r.Context(), auth.Principal{UID: "u1", Role: auth.RoleNurse, ClinicID: f.clinic})
		return r.WithContext(ctx)
	}
	// The standard middleware (its response writer wrappers must let SSE flush).
	h := httpx.Stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.handleQueueStream(w, signedIn(r))
	}), httpx.StackOptions{Logger: logging.Default(), ProjectID: "p"})
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *streamFixture) write(t *testing.T, readAt time.Time, ids ...string) {
	t.Helper()
	b := queue.EmptyBoard(f.clinic)
	b.SourceReadAt, b.BuiltAt = readAt, readAt
	for i, id := range ids {
		b.Entries = append(b.Entries, queue.Entry{EncounterID: id, PatientID: "p-" + id, Position: i + 1,
			Status: encounter.StatusWaiting, ArrivedAt: readAt.Add(-time.Minute), TargetMinutes: 15})
	}
	if _, written, err := queue.NewStore(f.fs).WriteBoard(context.Background(), b); err != nil || !written {
		t.Fatalf("write board: %v %v", written, err)
	}
}

func (f *streamFixture) open(t *testing.T, ctx context.Context) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/v1/queue/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}

func (f *streamFixture) waitEnded(t *testing.T, why string) {
	t.Helper()
	select {
	case <-f.ended:
	case <-time.After(20 * time.Second):
		t.Fatalf("the stream handler did not return after %s", why)
	}
}

func TestQueueStreamSendsBoardThenChanges(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t, 50*time.Millisecond, time.Hour)
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	f.write(t, t0, "a")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := f.open(t, ctx)
	defer resp.Body.Close()
	frames := sseReader(t, resp)

	if first := <-frames; first.retry == "" {
		t.Errorf("first frame %+v, want the retry hint", first)
	}
	b1 := nextBoard(t, frames)
	if b1.Version != 1 || len(b1.Entries) != 1 || b1.Entries[0].EncounterID != "a" {
		t.Fatalf("initial board: version %d, %+v", b1.Version, b1.Entries)
	}

	f.write(t, t0.Add(time.Second), "a", "b")
	b2 := nextBoard(t, frames)
	if b2.Version != 2 || len(b2.Entries) != 2 {
		t.Fatalf("changed board: version %d, %+v", b2.Version, b2.Entries)
	}

	// Heartbeats keep an idle stream open.
	deadline := time.After(20 * time.Second)
	for heartbeat := false; !heartbeat; {
		select {
		case fr := <-frames:
			heartbeat = fr.comment == "heartbeat"
		case <-deadline:
			t.Fatal("no heartbeat")
		}
	}

	// The client goes away: the handler ends (and its listener with it).
	cancel()
	f.waitEnded(t, "the client went away")
}

func TestQueueStreamBeforeAnyBoardAndMaxDuration(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t, time.Hour, 2*time.Second)
	resp := f.open(t, context.Background())
	defer resp.Body.Close()
	frames := sseReader(t, resp)
	b := nextBoard(t, frames)
	if b.Version != 0 || b.ClinicID != f.clinic || b.Entries == nil || len(b.Entries) != 0 {
		t.Errorf("no board yet: got %+v, want the empty board of the clinic", b)
	}
	// The server ends the stream cleanly after its maximum duration.
	for range frames {
	}
	f.waitEnded(t, "the maximum duration")
}
