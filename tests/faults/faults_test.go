// Package faults runs the suite through faults on a local stack of its own (TestFaults):
// backend outages under a steady mixed workload, the Firestore emulator and then the
// Pub/Sub emulator taken down for 10 seconds each, checking what clients saw and what the
// system kept (docs/reliability.md, "Faults and graceful shutdown"); then functions
// killed while they hold idempotency keys and Firestore down for a minute with the scribe
// worker killed during its jobs, checking that nothing is left stuck ("Nothing stuck
// after a fault"). It also checks the graceful shutdown of a function instance on SIGTERM.
package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/iterator"

	"github.com/medi-os/medi/scripts/repo"
	"github.com/medi-os/medi/scripts/stack"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/testenv"
)

// Timeline of the scenario (about 40 s of workload).
const (
	normalFor   = 10 * time.Second
	outageFor   = 10 * time.Second
	recoveryFor = 5 * time.Second
	afterFor    = 5 * time.Second
	// clientDeadline is the apps' request timeout; the functions' own deadline
	// (MEDI_REQUEST_TIMEOUT, 10s) is shorter, so a hung backend must end as a 503 first.
	clientDeadline = 15 * time.Second
	// convergeWithin bounds the wait for the end state after the workload: generous, as
	// a loaded machine runs the encounter-outbox and the consumers late (only a state
	// that never comes fails the test; how long it took is logged, never asserted).
	convergeWithin = 4 * time.Minute
	// boardTick is the local stack's board tick for this test (production: every minute);
	// encounter-outbox re-sends the encounter outbox as often. At 3 s, ticks arrive while
	// Firestore is down, so the projector has deliveries in flight during the outage.
	boardTick = 3 * time.Second
	// eventTimeout is the event functions' deadline per delivery for this test (the
	// stack's default is 50 s, under the 60 s ack deadline): shorter than the outage, so
	// a delivery that waits on the hung Firestore fails and Pub/Sub redelivers it.
	eventTimeout = 4 * time.Second
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// faultStack is the stack the fault scenarios share.
type faultStack struct {
	s       *stack.Stack
	project string
	logDir  string
}

// startStackConfig starts a stack of the test's own on free ports (the faults would
// break other tests sharing one), with the configuration adjusted by edit (when not nil),
// and points this process's clients at it. It is stopped, process groups and all, when
// t ends.
func startStackConfig(t *testing.T, ctx context.Context, edit func(*stack.Config)) faultStack {
	t.Helper()
	project := "demo-medi-faults-" + randomHex(3)
	// stack.Start points this process at its emulators; restore the environment after.
	for _, k := range []string{"FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST",
		"STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT", "MEDI_STACK_PROJECT"} {
		t.Setenv(k, os.Getenv(k))
	}
	stateDir := t.TempDir()
	started := time.Now()
	cfg := stack.Config{
		Root: repoRoot(t), StateDir: stateDir, ProjectID: project, Functions: true, BoardTickInterval: boardTick,
		EventTimeout: eventTimeout,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("starting the stack: %v", err)
	}
	t.Cleanup(s.Stop)
	t.Logf("stack of %s ready in %s at %s", project, time.Since(started).Round(100*time.Millisecond), s.BaseURL())
	t.Setenv("MEDI_STACK_PROJECT", project) // testenv.AuthProject: the stack's Auth emulator project
	return faultStack{s: s, project: project, logDir: filepath.Join(stateDir, "logs")}
}

// TestFaults runs the fault scenarios one after the other on one stack of their own:
// each takes backends or functions down, which would break tests sharing a stack, and a
// stack per scenario would double the start-up. BackendOutages runs first: it checks
// that nothing was dead-lettered, which the longer outage of CrashesAndLongOutages may
// cause. The stack runs the scribe sweeper every few seconds with shortened bounds (its
// configuration; production keeps its values), which BackendOutages does not touch.
func TestFaults(t *testing.T) {
	testenv.Require(t) // skips under -short
	st := startStackConfig(t, context.Background(), func(cfg *stack.Config) {
		cfg.SchedulerEvery = map[string]time.Duration{"scribe-sweeper": sweepEvery}
		cfg.FunctionEnv = map[string][]string{"scribe-sweeper": {
			"MEDI_SCRIBE_STALE_AFTER=" + staleAfter.String(), "MEDI_SCRIBE_GIVE_UP_AFTER=" + giveUpAfter.String()}}
		cfg.DeadLetterCheckInterval = 2 * time.Second
	})
	t.Run("BackendOutages", func(t *testing.T) { backendOutages(t, st) })
	t.Run("CrashesAndLongOutages", func(t *testing.T) { crashesAndLongOutages(t, st) })
}

// backendOutages takes Firestore and then Pub/Sub down for 10 s each under a steady
// mixed workload (docs/reliability.md, "Faults and graceful shutdown").
func backendOutages(t *testing.T, st faultStack) {
	ctx := context.Background()
	s, project, logDir := st.s, st.project, st.logDir
	defer func() {
		if t.Failed() {
			dumpLogs(t, logDir)
		}
	}()

	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	// Dead letters of the encounter consumers are kept here so the test can count them.
	dlq := fmt.Sprintf("projects/%s/subscriptions/faults-dlq", project)
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: dlq, Topic: fmt.Sprintf("projects/%s/topics/encounter-events-dlq", project), AckDeadlineSeconds: 10,
	}); err != nil {
		t.Fatal(err)
	}

	clinic := "clinic-faults-" + randomHex(4)
	reception := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "receptionist", "clinicId": clinic}))
	nurse := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": clinic}))
	doctor := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": clinic}))
	patients := seedPatients(t, fs, clinic, 400)
	noteIDs := seedNotes(t, fs, clinic, 2)

	rec := &recorder{}
	c := &client{base: s.BaseURL(), rec: rec, http: &http.Client{Timeout: clientDeadline,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	acc := &accepted{triages: map[string]int{}}

	// The workload: two receptionists checking patients in, a nurse triaging whoever
	// was checked in, a doctor editing two notes, and a queue screen polling the board.
	wctx, stopWork := context.WithCancel(ctx)
	var wg sync.WaitGroup
	toTriage := make(chan string, len(patients))
	for w := range 2 {
		wg.Go(func() {
			checkInWorker(wctx, c, reception, patients[w*len(patients)/2:(w+1)*len(patients)/2], acc, toTriage)
		})
	}
	wg.Go(func() { triageWorker(wctx, c, nurse, toTriage, acc) })
	for _, id := range noteIDs {
		wg.Go(func() { noteWorker(wctx, c, doctor, id, acc) })
	}
	wg.Go(func() { queueWorker(wctx, c, nurse) })
	outboxPeak := make(chan int, 1)
	wg.Go(func() { outboxPeak <- watchOutbox(wctx, fs, clinic, rec) })

	// The faults.
	start := time.Now()
	marks := map[string]time.Duration{}
	at := map[string]time.Time{}
	step := func(name string, f func() error) {
		if err := f(); err != nil {
			stopWork()
			wg.Wait()
			t.Fatalf("%s: %v", name, err)
		}
		at[name] = time.Now()
		marks[name] = at[name].Sub(start).Round(100 * time.Millisecond)
	}
	rec.set(phaseNormal)
	time.Sleep(normalFor)
	step("firestore paused", func() error { return s.Pause(stack.EmulatorFirestore) })
	rec.set(phaseFirestoreDown)
	time.Sleep(outageFor)
	step("firestore resumed", func() error { return s.Resume(ctx, stack.EmulatorFirestore) })
	rec.set(phaseRecovery)
	time.Sleep(recoveryFor)
	step("pubsub paused", func() error { return s.Pause(stack.EmulatorPubSub) })
	rec.set(phasePubSubDown)
	time.Sleep(outageFor)
	step("pubsub resumed", func() error { return s.Resume(ctx, stack.EmulatorPubSub) })
	pubsubBack := time.Now()
	rec.set(phaseAfter)
	time.Sleep(afterFor)
	stopWork()
	wg.Wait()
	workEnded := time.Now()
	t.Logf("timeline: %v", marks)

	// What the clients saw.
	outcomes := rec.all()
	t.Logf("requests by phase (status:count), client deadline %s:\n%s", clientDeadline, summary(outcomes))
	bad := map[string]int{}
	for _, o := range outcomes {
		if p := problem(o); p != "" {
			bad[fmt.Sprintf("%s %s: %s", o.Phase, o.Op, p)]++
		}
	}
	for p, n := range bad {
		t.Errorf("%d request(s): %s", n, p)
	}
	for _, p := range []phase{phaseFirestoreDown, phasePubSubDown} {
		n := 0
		for _, o := range outcomes {
			if o.Phase == p && o.Status == http.StatusServiceUnavailable {
				n++
			}
		}
		t.Logf("%s: %d answered 503 with Retry-After", p, n)
	}
	acc.mu.Lock()
	t.Logf("accepted: %d check-ins, %d triaged encounters, %d note edits", len(acc.checkIns), len(acc.triages), len(acc.noteEdits))
	if len(acc.checkIns) == 0 || len(acc.triages) == 0 || len(acc.noteEdits) == 0 {
		t.Error("the workload had nothing accepted of some kind: the scenario proves nothing")
	}
	acc.mu.Unlock()

	// What the system kept: wait (bounded) for every accepted change in Firestore, the
	// outbox drained and the board showing exactly the open encounters.
	var missing []string
	for {
		missing = converged(ctx, fs, clinic, acc)
		if len(missing) == 0 || time.Since(workEnded) > convergeWithin {
			break
		}
		time.Sleep(time.Second)
	}
	if len(missing) > 0 {
		if len(missing) > 20 {
			missing = append(missing[:20], fmt.Sprintf("... and %d more", len(missing)-20))
		}
		t.Errorf("not converged %s after the workload:\n  %s", convergeWithin, strings.Join(missing, "\n  "))
	} else {
		t.Logf("converged %s after the workload ended, %s after Pub/Sub came back",
			time.Since(workEnded).Round(100*time.Millisecond), time.Since(pubsubBack).Round(100*time.Millisecond))
	}
	t.Logf("encounter outbox: at most %d entries during the run (re-sent by encounter-outbox)", <-outboxPeak)
	if logText, err := os.ReadFile(filepath.Join(logDir, "fn-encounter-outbox.log")); err == nil {
		t.Logf("encounter-outbox: %d runs re-sent events", strings.Count(string(logText), "encounter outbox re-sent"))
	}

	// Consumers: nothing dead-lettered; how often a delivery was failed and retried.
	if n := countMessages(t, ps, dlq); n > 0 {
		t.Errorf("%d encounter event(s) dead-lettered", n)
	}
	// Consumers were retried: deliveries that met the hung Firestore failed at their
	// deadline (logged as "will be retried") and were redelivered; convergence above and
	// the empty dead-letter queue show the redeliveries succeeded.
	outage := [2]time.Time{at["firestore paused"], at["firestore resumed"].Add(eventTimeout + time.Second)}
	retried := map[string]string{}
	projectorRetries := 0
	for _, f := range stack.Functions {
		if f.Trigger != stack.TriggerPubSub {
			continue
		}
		logText, err := os.ReadFile(filepath.Join(logDir, "fn-"+f.Name+".log"))
		if err != nil {
			t.Errorf("reading %s's log: %v", f.Name, err)
			continue
		}
		all, during := failedDeliveries(logText, outage)
		retried[f.Name] = fmt.Sprintf("%d (%d in the Firestore outage)", all, during)
		if f.Name == "queue-projector" {
			projectorRetries = during
		}
	}
	t.Logf("deliveries failed and left to Pub/Sub to redeliver, by consumer: %v", retried)
	if projectorRetries == 0 {
		t.Error("no queue-projector delivery failed during the Firestore outage: the retry path was not exercised")
	}
}

// failedDeliveries counts the log records of deliveries a consumer failed so that Pub/Sub
// redelivers them (shared/events.Handle), in all and within the window.
func failedDeliveries(log []byte, window [2]time.Time) (all, during int) {
	for line := range strings.Lines(string(log)) {
		var rec struct {
			Message string
			Time    time.Time
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec.Message != "event failed; it will be retried" && rec.Message != "dedupe check failed; event will be retried" {
			continue
		}
		all++
		if !rec.Time.Before(window[0]) && !rec.Time.After(window[1]) {
			during++
		}
	}
	return all, during
}

// seedPatients writes n synthetic patients of clinic (the patients API is not what this
// test is about, and each check-in needs a patient without an open encounter).
func seedPatients(t *testing.T, fs *firestore.Client, clinic string, n int) []string {
	t.Helper()
	bw := fs.BulkWriter(context.Background())
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("pat-faults-%04d-%s", i, randomHex(2))
		ref := fs.Collection("clinics").Doc(clinic).Collection("patients").Doc(ids[i])
		if _, err := bw.Set(ref, map[string]any{
			"clinicId": clinic, "givenName": "Test", "familyName": fmt.Sprintf("Patient %d", i), "birthDate": "1980-01-01",
			"sex": "female", "allergies": []any{}, "medications": []any{}, "problems": []any{}, "version": 1,
			"createdAt": time.Now().UTC(),
		}); err != nil {
			t.Fatal(err)
		}
	}
	bw.End()
	return ids
}

// seedNotes creates n draft notes as the scribe worker would.
func seedNotes(t *testing.T, fs *firestore.Client, clinic string, n int) []string {
	t.Helper()
	st := notes.NewStore(fs, nil, "")
	var ids []string
	for i := range n {
		id := fmt.Sprintf("note-faults-%d-%s", i, randomHex(3))
		content := notes.Content{Subjective: []notes.Sentence{{ID: "s1", Text: "Cough for three days.", Evidence: []string{"t1"}}},
			Objective: []notes.Sentence{}, Assessment: []notes.Sentence{}, Plan: []notes.Sentence{}}
		if _, _, err := st.CreateDraft(context.Background(), notes.DraftInput{NoteID: id, ClinicID: clinic,
			EncounterID: "enc-" + id, PatientID: "pat-" + id, SessionID: "sess-" + id, Content: content, Engine: "test"}, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func checkInWorker(ctx context.Context, c *client, token string, patients []string, acc *accepted, toTriage chan<- string) {
	for _, pid := range patients {
		if ctx.Err() != nil {
			return
		}
		status, data := c.do("checkin", http.MethodPost, "/v1/encounters", token,
			map[string]any{"patientId": pid, "chiefComplaint": "sore throat and fever", "arrivalMode": "walk_in"},
			map[string]string{"Idempotency-Key": "checkin-" + pid})
		if status == http.StatusCreated {
			var enc struct{ ID string }
			if json.Unmarshal(data, &enc) == nil && enc.ID != "" {
				acc.addCheckIn(enc.ID)
				toTriage <- enc.ID
			}
		}
		if !pause(ctx, 400*time.Millisecond) {
			return
		}
	}
}

func triageWorker(ctx context.Context, c *client, token string, toTriage <-chan string, acc *accepted) {
	for {
		var id string
		select {
		case <-ctx.Done():
			return
		case id = <-toTriage:
		}
		status, data := c.do("triage", http.MethodPost, "/v1/triage/"+id, token, triageBody(),
			map[string]string{"Idempotency-Key": "triage-" + randomHex(6)})
		if status == http.StatusCreated {
			var rec struct {
				Encounter struct {
					Triage *struct{ Level int }
				}
			}
			if json.Unmarshal(data, &rec) == nil && rec.Encounter.Triage != nil {
				acc.addTriage(id, rec.Encounter.Triage.Level)
			}
		}
		if !pause(ctx, 300*time.Millisecond) {
			return
		}
	}
}

func noteWorker(ctx context.Context, c *client, token, noteID string, acc *accepted) {
	base := 1
	for n := 1; ctx.Err() == nil; n++ {
		text := fmt.Sprintf("Cough for three days, edit %d.", n)
		body := map[string]any{"baseVersion": base, "content": map[string]any{
			"subjective": []any{map[string]any{"id": "s1", "text": text}},
			"objective":  []any{}, "assessment": []any{}, "plan": []any{},
		}}
		status, data := c.do("note-edit", http.MethodPut, "/v1/notes/"+noteID, token, body, nil)
		var note struct{ CurrentVersion int }
		switch status {
		case http.StatusOK:
			if json.Unmarshal(data, &note) == nil {
				acc.addNoteEdit(noteEdit{NoteID: noteID, Version: note.CurrentVersion, Text: text})
				base = note.CurrentVersion
			}
		case http.StatusPreconditionFailed:
			// An earlier edit answered 503 had committed: read the current version.
			if st, data := c.do("note-get", http.MethodGet, "/v1/notes/"+noteID, token, nil, nil); st == http.StatusOK &&
				json.Unmarshal(data, &note) == nil {
				base = note.CurrentVersion
			}
		}
		if !pause(ctx, 400*time.Millisecond) {
			return
		}
	}
}

func queueWorker(ctx context.Context, c *client, token string) {
	for ctx.Err() == nil {
		c.do("queue", http.MethodGet, "/v1/queue", token, nil, nil)
		if !pause(ctx, 500*time.Millisecond) {
			return
		}
	}
}

// watchOutbox samples the clinic's encounter outbox while Firestore is up and returns
// the largest size seen.
func watchOutbox(ctx context.Context, fs *firestore.Client, clinic string, rec *recorder) int {
	peak := 0
	for pause(ctx, time.Second) {
		if rec.current() == phaseFirestoreDown {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		docs, err := fs.Collection("clinics").Doc(clinic).Collection(encounter.CollectionOutbox).Documents(qctx).GetAll()
		cancel()
		if err == nil {
			peak = max(peak, len(docs))
		}
	}
	return peak
}

// converged lists what is not (yet) as it must end: every accepted check-in and triage in
// its encounter, every accepted note edit as its version, the outbox empty, and the board
// listing exactly the open encounters with their levels.
func converged(ctx context.Context, fs *firestore.Client, clinic string, acc *accepted) []string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	acc.mu.Lock()
	defer acc.mu.Unlock()
	var missing []string
	cl := fs.Collection("clinics").Doc(clinic)

	open := map[string]encounter.Encounter{}
	it := cl.Collection(encounter.CollectionEncounters).Documents(ctx)
	stored := map[string]encounter.Encounter{}
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return []string{"reading encounters: " + err.Error()}
		}
		var e encounter.Encounter
		if err := snap.DataTo(&e); err != nil {
			return []string{"decoding encounter: " + err.Error()}
		}
		stored[snap.Ref.ID] = e
		if e.Status == encounter.StatusWaiting || e.Status == encounter.StatusTriaged {
			open[snap.Ref.ID] = e
		}
	}
	for _, id := range acc.checkIns {
		if _, ok := stored[id]; !ok {
			missing = append(missing, "accepted check-in not in Firestore: "+id)
		}
	}
	for id, level := range acc.triages {
		e, ok := stored[id]
		if !ok || e.Triage == nil || e.Triage.Level != level || e.Status != encounter.StatusTriaged {
			missing = append(missing, fmt.Sprintf("accepted triage (level %d) not on encounter %s", level, id))
		}
	}
	for _, ed := range acc.noteEdits {
		snap, err := cl.Collection("notes").Doc(ed.NoteID).Collection("versions").Doc(fmt.Sprint(ed.Version)).Get(ctx)
		var v notes.Version
		if err != nil || snap.DataTo(&v) != nil || len(v.Content.Subjective) == 0 || v.Content.Subjective[0].Text != ed.Text {
			missing = append(missing, fmt.Sprintf("accepted edit not stored as version %d of note %s", ed.Version, ed.NoteID))
		}
	}
	if docs, err := cl.Collection(encounter.CollectionOutbox).Documents(ctx).GetAll(); err != nil || len(docs) > 0 {
		missing = append(missing, fmt.Sprintf("encounter outbox not drained: %d entries (%v)", len(docs), err))
	}
	b, ok, err := queue.NewStore(fs).Board(ctx, clinic)
	if err != nil || !ok {
		return append(missing, fmt.Sprintf("no board (%v)", err))
	}
	onBoard := map[string]bool{}
	for _, en := range b.Entries {
		onBoard[en.EncounterID] = true
		e, isOpen := open[en.EncounterID]
		switch {
		case !isOpen:
			missing = append(missing, "board lists an encounter that is not open: "+en.EncounterID)
		case e.Triage != nil && (en.Level == nil || *en.Level != e.Triage.Level):
			missing = append(missing, "board shows a stale level for "+en.EncounterID)
		}
	}
	var notOn []string
	for id := range open {
		if !onBoard[id] {
			notOn = append(notOn, id)
		}
	}
	slices.Sort(notOn)
	for _, id := range notOn {
		missing = append(missing, "open encounter not on the board: "+id)
	}
	return missing
}

// countMessages drains the subscription for a few seconds and returns how many
// messages it held.
func countMessages(t *testing.T, ps *pubsub.Client, sub string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var mu sync.Mutex
	n := 0
	err := ps.Subscriber(sub).Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		mu.Lock()
		n++
		mu.Unlock()
		m.Ack()
	})
	if err != nil && ctx.Err() == nil {
		t.Errorf("reading %s: %v", sub, err)
	}
	return n
}

// dumpLogs prints the tails of the function logs of a failed run.
func dumpLogs(t *testing.T, dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		t.Logf("---- %s (tail)\n%s", e.Name(), b)
	}
}
