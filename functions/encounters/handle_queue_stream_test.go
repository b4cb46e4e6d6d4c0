package encounters

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	f := &streamFixture{fs: fs, clinic: "clinic-stream-" + strconv.FormatInt(time.Now().UnixNano(), 36), ended: make(chan struct{}, 4)}
	b := &boardReader{
		store:       app.NewLazy(func(context.Context) (*queue.Store, error) { return queue.NewStore(fs), nil }),
		heartbeat:   heartbeat,
		maxStream:   maxStream,
		minGap:      streamMinGap,
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

// write stores the board the projector would build now from the clinic's open
// encounters (as read at readAt), with an estimate for each entry.
func (f *streamFixture) write(t *testing.T, readAt time.Time) queue.Board {
	t.Helper()
	src, err := queue.NewStore(f.fs).ReadSource(context.Background(), f.clinic)
	if err != nil {
		t.Fatal(err)
	}
	src.ReadAt = readAt
	b := queue.LiveBoard(queue.EmptyBoard(f.clinic), src, readAt)
	for i := range b.Entries {
		b.Entries[i].Provisional = false
		b.Entries[i].WaitEstimate = &queue.WaitEstimate{P50Minutes: 10 * (i + 1), P90Minutes: 20 * (i + 1)}
	}
	stored, written, err := queue.NewStore(f.fs).WriteBoard(context.Background(), b)
	if err != nil || !written {
		t.Fatalf("write board: %v %v", written, err)
	}
	return stored
}

// put writes an open encounter of the clinic (level 0: waiting, untriaged) that arrived
// ago before now, as the queue function stores it.
func (f *streamFixture) put(t *testing.T, id string, level int, ago time.Duration) {
	t.Helper()
	now := time.Now().UTC()
	e := encounter.Encounter{ClinicID: f.clinic, PatientID: "p-" + id, Status: encounter.StatusWaiting,
		ArrivedAt: now.Add(-ago), UpdatedAt: now, StatusTimes: map[string]time.Time{"waiting": now.Add(-ago)}}
	if level > 0 {
		e.Status = encounter.StatusTriaged
		e.Triage = &encounter.Triage{Level: level, ProposedLevel: level, AssessedAt: now}
	}
	if _, err := f.fs.Collection("clinics").Doc(f.clinic).Collection("encounters").Doc(id).Set(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func boardIDs(b queue.Board) []string {
	out := make([]string, len(b.Entries))
	for i, e := range b.Entries {
		out[i] = e.EncounterID
	}
	return out
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
	f.put(t, "a", 3, 10*time.Minute)
	f.write(t, time.Now().UTC())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := f.open(t, ctx)
	defer resp.Body.Close()
	frames := sseReader(t, resp)

	if first := <-frames; first.retry == "" {
		t.Errorf("first frame %+v, want the retry hint", first)
	}
	b1 := nextBoard(t, frames)
	if b1.Version != 1 || len(b1.Entries) != 1 || b1.Entries[0].EncounterID != "a" || b1.Entries[0].Provisional ||
		b1.Entries[0].WaitEstimate == nil {
		t.Fatalf("initial board: version %d, %+v", b1.Version, b1.Entries)
	}

	// A check-in and a level-1 triage show at once, in the board's order, before any new
	// stored board: provisional, without estimates, on the stored board's version.
	f.put(t, "b", 1, 0)
	f.put(t, "w", 0, 0)
	var b2 queue.Board
	for b2 = nextBoard(t, frames); len(b2.Entries) < 3; b2 = nextBoard(t, frames) {
	}
	if got := strings.Join(boardIDs(b2), ","); got != "b,w,a" || b2.Version != 1 {
		t.Fatalf("live board: version %d, order %s, want b,w,a on version 1", b2.Version, got)
	}
	for _, e := range b2.Entries {
		if newcomer := e.EncounterID != "a"; e.Provisional != newcomer || (e.WaitEstimate == nil) != newcomer {
			t.Errorf("%s: provisional %v, estimate %v", e.EncounterID, e.Provisional, e.WaitEstimate)
		}
	}

	// The next stored board confirms them.
	f.write(t, time.Now().UTC())
	b3 := nextBoard(t, frames)
	if got := strings.Join(boardIDs(b3), ","); got != "b,w,a" || b3.Version != 2 {
		t.Fatalf("stored board: version %d, order %s", b3.Version, got)
	}
	for _, e := range b3.Entries {
		if e.Provisional || e.WaitEstimate == nil {
			t.Errorf("%s on the stored board: provisional %v, estimate %v", e.EncounterID, e.Provisional, e.WaitEstimate)
		}
	}

	// A patient who leaves the queue leaves the stream's board at once.
	if _, err := f.fs.Collection("clinics").Doc(f.clinic).Collection("encounters").Doc("b").Update(ctx,
		[]firestore.Update{{Path: "status", Value: string(encounter.StatusInConsultation)}}); err != nil {
		t.Fatal(err)
	}
	var b4 queue.Board
	for b4 = nextBoard(t, frames); len(b4.Entries) != 2; b4 = nextBoard(t, frames) {
	}
	if got := strings.Join(boardIDs(b4), ","); got != "w,a" || b4.InConsultation != 1 {
		t.Errorf("after b went in: order %s, %d in consultation", got, b4.InConsultation)
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
