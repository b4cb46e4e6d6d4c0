package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/testenv"
)

// emulator returns a Firestore client on a project of the test's own.
func emulator(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

// clinicFixture writes encounters of one clinic the way the queue function does.
type clinicFixture struct {
	t   *testing.T
	fs  *firestore.Client
	id  string
	now time.Time
}

func newClinic(t *testing.T, fs *firestore.Client, doctors int) *clinicFixture {
	t.Helper()
	c := &clinicFixture{t: t, fs: fs, id: "clinic-" + t.Name()[len(t.Name())-min(len(t.Name()), 8):], now: time.Now().UTC().Truncate(time.Second)}
	c.id = sanitizeID(c.id)
	if doctors >= 0 {
		if _, err := fs.Collection("clinics").Doc(c.id).Set(context.Background(), map[string]any{
			"name": "Test clinic", "timezone": "Europe/London", DoctorsOnDutyField: doctors,
		}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func sanitizeID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '/' {
			b[i] = '-'
		}
	}
	return string(b)
}

// put writes an encounter: status, level (0: none), arrived `ago` minutes before now;
// in_consultation and completed get their status times.
func (c *clinicFixture) put(id string, st encounter.Status, level int, ago int) {
	c.t.Helper()
	arrived := c.now.Add(-time.Duration(ago) * time.Minute)
	e := encounter.Encounter{
		ClinicID: c.id, PatientID: "pat-" + id, Status: st, ChiefComplaint: "never on the board",
		ArrivalMode: encounter.ArrivalWalkIn, ArrivedAt: arrived,
		StatusTimes: map[string]time.Time{string(encounter.StatusWaiting): arrived},
		UpdatedAt:   c.now, Version: 1, CreatedBy: "test",
	}
	if level > 0 {
		e.Triage = &encounter.Triage{Level: level, ProposedLevel: level, Confirmed: true, AssessedAt: arrived.Add(time.Minute)}
		e.StatusTimes[string(encounter.StatusTriaged)] = arrived.Add(time.Minute)
	}
	switch st {
	case encounter.StatusInConsultation:
		e.StatusTimes[string(encounter.StatusInConsultation)] = c.now.Add(-5 * time.Minute)
	case encounter.StatusCompleted:
		e.StatusTimes[string(encounter.StatusInConsultation)] = arrived.Add(10 * time.Minute)
		e.StatusTimes[string(encounter.StatusCompleted)] = arrived.Add(35 * time.Minute)
	}
	if _, err := c.fs.Collection("clinics").Doc(c.id).Collection("encounters").Doc(id).Set(context.Background(), e); err != nil {
		c.t.Fatal(err)
	}
}

func (c *clinicFixture) event(id string) events.Envelope {
	c.t.Helper()
	env, err := events.NewEnvelope(context.Background(), "encounter.changed", 1, c.id, map[string]string{"encounterId": id})
	if err != nil {
		c.t.Fatal(err)
	}
	return env
}

func (c *clinicFixture) board() Board {
	c.t.Helper()
	b, ok, err := NewStore(c.fs).Board(context.Background(), c.id)
	if err != nil || !ok {
		c.t.Fatalf("board: ok %v, err %v", ok, err)
	}
	return b
}

func entryIDs(b Board) []string {
	out := []string{}
	for _, e := range b.Entries {
		out = append(out, e.EncounterID)
	}
	return out
}

func testProjector(fs *firestore.Client, now time.Time) *Projector {
	return NewProjector(fs, ProjectorOptions{Estimator: Estimator{Runs: 50}, Now: func() time.Time { return now }})
}

func TestProjectorBoardEqualsRebuildFromSource(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	c := newClinic(t, fs, 2)
	c.put("l4-over", encounter.StatusTriaged, 4, 70)
	c.put("untriaged", encounter.StatusWaiting, 0, 3)
	c.put("l2", encounter.StatusTriaged, 2, 4)
	c.put("with-doctor", encounter.StatusInConsultation, 3, 40)
	c.put("done", encounter.StatusCompleted, 3, 200)
	c.put("gone", encounter.StatusCancelled, 0, 20)

	ctx := context.Background()
	p := testProjector(fs, c.now)
	res, err := p.Rebuild(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Written || res.Board.Version != 1 {
		t.Fatalf("first rebuild: written %v, version %d", res.Written, res.Board.Version)
	}
	got := c.board()
	if diff := cmp.Diff([]string{"l2", "untriaged", "l4-over"}, entryIDs(got)); diff != "" {
		t.Errorf("board order (-want +got):\n%s", diff)
	}

	// The stored board is exactly what the pure core builds from the source of truth.
	st := NewStore(fs)
	src, err := st.ReadSource(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.ReadHistory(ctx, c.id, c.now)
	if err != nil {
		t.Fatal(err)
	}
	want := BuildBoard(c.id, NewSnapshot(c.now, src, h), Estimator{Runs: 50})
	want.Version, want.SourceReadAt = 1, got.SourceReadAt
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored board differs from a rebuild (-rebuild +stored):\n%s", diff)
	}
	if got.DoctorsOnDuty != 2 || got.InConsultation != 1 || got.Estimator.LearnedFrom != 1 {
		t.Errorf("header: doctors %d, in consultation %d, learned from %d", got.DoctorsOnDuty, got.InConsultation, got.Estimator.LearnedFrom)
	}
	if !src.ReadAt.After(time.Time{}) || src.Location.String() != "Europe/London" {
		t.Errorf("source read at %v in %v", src.ReadAt, src.Location)
	}
}

func TestProjectorDuplicateAndReorderedEvents(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	c := newClinic(t, fs, 1)
	ctx := context.Background()
	p := testProjector(fs, c.now)

	c.put("a", encounter.StatusTriaged, 3, 10)
	evA := c.event("a")
	c.put("b", encounter.StatusTriaged, 2, 5)
	evB := c.event("b")

	// B's event arrives first: the rebuild reads the source, so A is on the board too.
	if err := p.Apply(ctx, evB); err != nil {
		t.Fatal(err)
	}
	b1 := c.board()
	if diff := cmp.Diff([]string{"b", "a"}, entryIDs(b1)); diff != "" || b1.Version != 1 {
		t.Fatalf("after B's event: version %d, entries (-want +got):\n%s", b1.Version, diff)
	}
	// A's late event and B's duplicate change nothing: the board already reflects them.
	for _, ev := range []events.Envelope{evA, evB, evB} {
		if err := p.Apply(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(b1, c.board()); diff != "" {
		t.Errorf("late and duplicate events changed the board (-before +after):\n%s", diff)
	}

	// A goes in to see the doctor; then the old event of A is delivered again.
	c.put("a", encounter.StatusInConsultation, 3, 10)
	if err := p.Apply(ctx, c.event("a")); err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(ctx, evA); err != nil {
		t.Fatal(err)
	}
	b2 := c.board()
	if diff := cmp.Diff([]string{"b"}, entryIDs(b2)); diff != "" || b2.Version != 2 || b2.InConsultation != 1 {
		t.Errorf("after A went in: version %d, in consultation %d, entries (-want +got):\n%s", b2.Version, b2.InConsultation, diff)
	}

	// A forced rebuild now gives the same board (apart from version and read time).
	res, err := p.Rebuild(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Written || res.Board.Version != 3 {
		t.Errorf("forced rebuild: written %v, version %d", res.Written, res.Board.Version)
	}
	if diff := cmp.Diff(b2.Entries, res.Board.Entries); diff != "" {
		t.Errorf("rebuild differs from the event-driven board (-events +rebuild):\n%s", diff)
	}
}

func TestWriteBoardKeepsTheNewestSource(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	st := NewStore(fs)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	board := func(readAt time.Time, marker string) Board {
		b := EmptyBoard("c1")
		b.SourceReadAt, b.BuiltAt = readAt, readAt
		b.Entries = []Entry{{EncounterID: marker, Status: encounter.StatusTriaged, ArrivedAt: t0}}
		return b
	}
	for i, step := range []struct {
		readAt      time.Time
		marker      string
		wantWritten bool
		wantVersion int64
		wantMarker  string
	}{
		{t0, "first", true, 1, "first"},
		{t0.Add(-time.Second), "older", false, 1, "first"},
		{t0, "same read", false, 1, "first"},
		{t0.Add(time.Second), "newer", true, 2, "newer"},
	} {
		stored, written, err := st.WriteBoard(ctx, board(step.readAt, step.marker))
		if err != nil {
			t.Fatal(err)
		}
		if written != step.wantWritten || stored.Version != step.wantVersion || stored.Entries[0].EncounterID != step.wantMarker {
			t.Errorf("step %d (%s): written %v, version %d, board %q; want %v, %d, %q", i, step.marker,
				written, stored.Version, stored.Entries[0].EncounterID, step.wantWritten, step.wantVersion, step.wantMarker)
		}
	}
	if _, _, err := st.WriteBoard(ctx, EmptyBoard("c1")); !events.IsPermanent(err) {
		t.Errorf("a board without a source read time: err %v, want a permanent error", err)
	}
}

func TestConcurrentProjectorsConverge(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	c := newClinic(t, fs, 3)
	ctx := context.Background()
	// Two instances of the function, each receiving a burst of events.
	instances := []*Projector{testProjector(fs, c.now), testProjector(fs, c.now)}
	var evs []events.Envelope
	for i := range 8 {
		id := fmt.Sprintf("e%d", i)
		c.put(id, encounter.StatusTriaged, 3+i%2, 20-i)
		evs = append(evs, c.event(id))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(evs)*2)
	for _, ev := range evs {
		for _, p := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- p.Apply(ctx, ev)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := c.board()
	if len(got.Entries) != 8 {
		t.Fatalf("board has %d entries after a burst, want 8", len(got.Entries))
	}
	if got.Version < 1 || got.Version > int64(len(evs)*2) {
		t.Errorf("version %d after %d deliveries", got.Version, len(evs)*2)
	}
	// The final board is the one a rebuild from the source gives.
	res, err := testProjector(fs, c.now).Rebuild(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got.Entries, res.Board.Entries); diff != "" {
		t.Errorf("board after the burst differs from a rebuild (-burst +rebuild):\n%s", diff)
	}
}

func TestProjectorRebuildRequested(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	ctx := context.Background()
	a := newClinic(t, fs, 2)
	a.put("x", encounter.StatusWaiting, 0, 1)
	b := &clinicFixture{t: t, fs: fs, id: a.id + "-other", now: a.now} // no clinic document: default doctors
	b.put("y", encounter.StatusTriaged, 5, 1)
	p := testProjector(fs, a.now)

	all, err := events.NewEnvelope(ctx, TypeRebuildRequested, 1, "", struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(ctx, all); err != nil {
		t.Fatal(err)
	}
	if got := entryIDs(a.board()); !cmp.Equal(got, []string{"x"}) {
		t.Errorf("clinic a board %v", got)
	}
	bb := b.board()
	if !cmp.Equal(entryIDs(bb), []string{"y"}) || bb.DoctorsOnDuty != DefaultDoctorsOnDuty {
		t.Errorf("clinic b board %v, %d doctors", entryIDs(bb), bb.DoctorsOnDuty)
	}

	// A forced rebuild of one clinic writes a new version even with nothing changed.
	one, err := events.NewEnvelope(ctx, TypeRebuildRequested, 1, a.id, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(ctx, one); err != nil {
		t.Fatal(err)
	}
	if v := a.board().Version; v != 2 {
		t.Errorf("after a forced rebuild: version %d, want 2", v)
	}
}

func TestProjectorRejectsBadEvents(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	p := testProjector(fs, time.Now())
	ctx := context.Background()
	for _, clinic := range []string{"", "a/b", "__x__"} {
		env := events.Envelope{EventID: "e1", Type: "encounter.changed", SchemaVersion: 1, ClinicID: clinic,
			OccurredAt: time.Now(), Data: []byte(`{}`)}
		if err := p.Apply(ctx, env); !events.IsPermanent(err) {
			t.Errorf("clinic %q: err %v, want permanent", clinic, err)
		}
	}
	// Events of other kinds are ignored without touching Firestore.
	env := events.Envelope{EventID: "e2", Type: "note.approved", SchemaVersion: 1, ClinicID: "c", OccurredAt: time.Now(), Data: []byte(`{}`)}
	if err := p.Apply(ctx, env); err != nil {
		t.Errorf("a note event: %v", err)
	}
	if _, ok, _ := p.Store().Board(ctx, "c"); ok {
		t.Error("a note event built a board")
	}
}

func TestProjectorCachesHistory(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	c := newClinic(t, fs, 1)
	ctx := context.Background()
	now := c.now
	p := NewProjector(fs, ProjectorOptions{Estimator: Estimator{Runs: 20}, HistoryTTL: 10 * time.Minute,
		Now: func() time.Time { return now }})
	c.put("w", encounter.StatusTriaged, 3, 5)
	c.put("done1", encounter.StatusCompleted, 3, 100)
	if _, err := p.Rebuild(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	c.put("done2", encounter.StatusCompleted, 3, 90)
	res, err := p.Rebuild(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Board.Estimator.LearnedFrom; got != 1 {
		t.Errorf("within the TTL: learned from %d, want the cached 1", got)
	}
	now = now.Add(11 * time.Minute)
	if res, err = p.Rebuild(ctx, c.id); err != nil {
		t.Fatal(err)
	}
	if got := res.Board.Estimator.LearnedFrom; got != 2 {
		t.Errorf("after the TTL: learned from %d, want 2", got)
	}
}

func TestCoalescerFoldsBursts(t *testing.T) {
	t.Parallel()
	c := newCoalescer(time.Minute, 0)
	release := make(chan struct{})
	fn, runs := heldFirstRebuild(release) // the first rebuild waits for release
	ctx := context.Background()
	done := make(chan error, 11)
	go func() { done <- c.Do(ctx, "k", fn) }()
	for {
		c.mu.Lock()
		started := c.state["k"] != nil && c.state["k"].running != nil
		c.mu.Unlock()
		if started {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for range 10 {
		go func() { done <- c.Do(ctx, "k", fn) }()
	}
	for { // until all ten wait for the one follow-up
		c.mu.Lock()
		queued := c.state["k"].waiting
		c.mu.Unlock()
		if queued == 10 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range 11 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := runs(); n != 2 {
		t.Errorf("a burst of 11 requests ran %d rebuilds, want 2 (one running, one follow-up)", n)
	}
	// The runner cleans up just after closing the last flight.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		n := len(c.state)
		c.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state left behind for %d keys", n)
		}
	}

	// A caller whose context ends stops waiting; the error of a rebuild reaches its callers.
	boom := errors.New("boom")
	if err := c.Do(ctx, "e", func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("err %v, want boom", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Do(cctx, "x", func(context.Context) error { time.Sleep(10 * time.Millisecond); return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: err %v", err)
	}
}

// A caller that joins (an event) returns at once when the key's next rebuild is already
// requested and waited for; it waits when nobody does, and when the only caller waiting
// has gone away.
func TestCoalescerJoinReturnsAtOnce(t *testing.T) {
	t.Parallel()
	c := newCoalescer(time.Minute, 0)
	release := make(chan struct{})
	fn, runs := heldFirstRebuild(release) // the first rebuild waits for release
	ctx := context.Background()
	state := func() (running bool, next bool, waiting int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		st := c.state["k"]
		if st == nil {
			return false, false, 0
		}
		return st.running != nil, st.next != nil, st.waiting
	}
	until := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never %s", what)
			}
		}
	}
	first := make(chan error, 1)
	go func() { first <- c.Do(ctx, "k", fn) }()
	until("running", func() bool { r, _, _ := state(); return r })

	// Nobody waits for a follow-up yet: a joining caller requests it, then gives up.
	gone, cancel := context.WithCancel(ctx)
	joinedGone := make(chan error, 1)
	go func() { _, err := c.do(gone, "k", fn, true); joinedGone <- err }()
	until("a follow-up waited for", func() bool { _, n, w := state(); return n && w == 1 })
	cancel()
	if err := <-joinedGone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	if _, _, w := state(); w != 0 || c.requested("k") {
		t.Fatalf("%d waiting after the only waiting caller left (requested %v)", w, c.requested("k"))
	}
	// The follow-up is requested but nobody waits for it: the next joining caller waits.
	waited := make(chan error, 1)
	go func() {
		joined, err := c.do(ctx, "k", fn, true)
		if joined {
			err = errors.New("joined although nobody waited")
		}
		waited <- err
	}()
	until("the joining caller waits", func() bool { _, _, w := state(); return w == 1 })
	// Now somebody waits: further joining callers return at once, without running anything.
	if !c.requested("k") {
		t.Fatal("a follow-up waited for is not reported as requested")
	}
	for range 5 {
		if joined, err := c.do(ctx, "k", fn, true); !joined || err != nil {
			t.Fatalf("joined %v, err %v; want an immediate join", joined, err)
		}
	}
	close(release)
	for _, ch := range []chan error{first, waited} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if n := runs(); n != 2 {
		t.Errorf("%d rebuilds, want 2 (the first and one follow-up)", n)
	}
}

// heldFirstRebuild returns a rebuild whose first run waits until release is closed (later
// runs return at once), and the number of runs so far.
func heldFirstRebuild(release <-chan struct{}) (fn func(context.Context) error, runs func() int) {
	var mu sync.Mutex
	n := 0
	fn = func(context.Context) error {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	}
	runs = func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
	return fn, runs
}

// The board's writes stay apart across instances: a newer board is not written while the
// stored one is younger than the gap (by Firestore's clock), and is written without one.
func TestWriteBoardKeepsWritesApart(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	st := NewStore(fs)
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	board := func(readAt time.Time) Board {
		b := EmptyBoard("c1")
		b.SourceReadAt, b.BuiltAt = readAt, readAt
		return b
	}
	if _, written, wait, err := st.writeBoard(ctx, board(t0), time.Hour); err != nil || !written || wait != 0 {
		t.Fatalf("first board: written %v, wait %v, err %v", written, wait, err)
	}
	stored, written, wait, err := st.writeBoard(ctx, board(t0.Add(time.Second)), time.Hour)
	if err != nil || written || wait <= 0 || wait > time.Hour || stored.Version != 1 {
		t.Errorf("newer board within the gap: written %v, wait %v, version %d, err %v; want not written, a wait", written, wait, stored.Version, err)
	}
	// An older board is refused for being older, not asked to wait.
	if _, written, wait, err := st.writeBoard(ctx, board(t0.Add(-time.Second)), time.Hour); err != nil || written || wait != 0 {
		t.Errorf("older board: written %v, wait %v, err %v", written, wait, err)
	}
	if stored, written, wait, err := st.writeBoard(ctx, board(t0.Add(time.Second)), 0); err != nil || !written || wait != 0 || stored.Version != 2 {
		t.Errorf("newer board without a gap: written %v, wait %v, version %d, err %v", written, wait, stored.Version, err)
	}
}

// Rebuilds of one key start at least the interval apart; callers arriving while the next
// rebuild waits for its slot join it.
func TestCoalescerSpacesRebuilds(t *testing.T) {
	t.Parallel()
	const interval = 3 * time.Second
	c := newCoalescer(time.Minute, interval)
	var mu sync.Mutex
	var starts []time.Time
	fn := func(context.Context) error {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return nil
	}
	ctx := context.Background()
	if err := c.Do(ctx, "k", fn); err != nil {
		t.Fatal(err)
	}
	// Five callers right after the first rebuild: they all wait for one rebuild.
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Do(ctx, "k", fn); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 2 {
		t.Fatalf("%d rebuilds for 1 + 5 callers, want 2", len(starts))
	}
	if gap := starts[1].Sub(starts[0]); gap < interval {
		t.Errorf("second rebuild started %v after the first, want at least %v", gap, interval)
	}
}

// TestProjectorWritesEntriesBeforeEstimates: on a queue too long to estimate within the
// rebuild, the board is written with its entries first (new patients without an
// estimate, not a made-up one), and Rebuild then makes the estimates and writes them:
// the final board is exactly what the pure core builds.
func TestProjectorWritesEntriesBeforeEstimates(t *testing.T) {
	t.Parallel()
	fs := emulator(t)
	c := newClinic(t, fs, 2)
	for i := range 40 {
		c.put(fmt.Sprintf("w%02d", i), encounter.StatusWaiting, i%3, 40-i)
	}
	ctx := context.Background()
	p := NewProjector(fs, ProjectorOptions{Now: func() time.Time { return c.now }})

	first, _, err := p.rebuildCoalesced(ctx, c.id, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Board.Entries) != 40 || !p.hasPending(c.id) {
		t.Fatalf("first write: %d entries, estimates pending %v; want 40, true", len(first.Board.Entries), p.hasPending(c.id))
	}
	for _, e := range first.Board.Entries {
		if e.WaitEstimate != nil {
			t.Fatalf("entry %s written with an estimate before any was made", e.EncounterID)
		}
	}

	res, err := p.Rebuild(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	if p.hasPending(c.id) || !res.Written || res.Board.Version <= first.Board.Version {
		t.Fatalf("after Rebuild: pending %v, written %v, version %d (first %d)", p.hasPending(c.id), res.Written, res.Board.Version, first.Board.Version)
	}
	st := NewStore(fs)
	src, err := st.ReadSource(ctx, c.id)
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.ReadHistory(ctx, c.id, c.now)
	if err != nil {
		t.Fatal(err)
	}
	want := BuildBoard(c.id, NewSnapshot(c.now, src, h), Estimator{})
	want.Version, want.SourceReadAt = res.Board.Version, res.Board.SourceReadAt
	if diff := cmp.Diff(want, c.board()); diff != "" {
		t.Errorf("board with its estimates differs from a rebuild (-rebuild +stored):\n%s", diff)
	}
}

// hasPending reports whether the clinic has estimates to make.
func (p *Projector) hasPending(clinicID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.pending[clinicID]
	return ok
}
