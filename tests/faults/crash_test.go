package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"

	"github.com/medi-os/medi/scripts/deadletter"
	"github.com/medi-os/medi/scripts/stack"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/triagerecord"
	"github.com/medi-os/medi/tests/fixtures"
)

// Bounds of the crash scenario. The scribe sweeper's are shortened through its
// configuration (production: stale after 10 min, give up after 30 min, every minute).
const (
	// keyLease is the idempotency lease (idempotency.DefaultLease): how long a key stays
	// locked after its holder last renewed it, and the documented bound for a retried key
	// to get its answer once its backend is back.
	keyLease = idempotency.DefaultLease
	// answerMargin is what the check of that bound adds for a loaded machine: a retry
	// answered later than keyLease+answerMargin after its backend came back fails the
	// test. Before the rollbacks were retried, retries met 503s for about a minute.
	answerMargin = 5 * time.Second
	// longOutage is the Firestore pause, past the functions' 10 s request deadline, with
	// the keyed writes going on and the scribe worker's jobs waiting on it.
	longOutage    = 60 * time.Second
	sweepEvery    = 5 * time.Second
	staleAfter    = 20 * time.Second
	giveUpAfter   = 2 * time.Minute
	sweeperBound  = giveUpAfter + sweepEvery
	sweeperMargin = 3 * time.Minute // a loaded machine's scheduling, never asserted as a time
)

// keyedFunctions serve the keyed writes: check-in, triage, scribe session creation.
var keyedFunctions = []string{"queue", "triage", "scribe"}

// keyedCall is one keyed write as an app makes it: the same request with the same
// Idempotency-Key until a final answer (anything but a transport error, a 5xx or 409
// idempotency_key_in_progress).
type keyedCall struct {
	Op       string
	Key      string
	Attempts []attempt
	Final    int
	Data     json.RawMessage
}

type attempt struct {
	Start, End time.Time
	Status     int
	Reason     string // details.reason of a 409
	Err        bool
	ErrText    string // the transport error, when Err
}

func (k *keyedCall) retried() bool { return len(k.Attempts) > 1 }

// backendEvents records when a backend went down and came back, and what it was.
type backendEvents struct {
	mu     sync.Mutex
	events []backendEvent
}

type backendEvent struct {
	What     string
	Down, Up time.Time
}

func (b *backendEvents) wentDown(what string) {
	b.mu.Lock()
	b.events = append(b.events, backendEvent{What: what, Down: time.Now()})
	b.mu.Unlock()
}

// cameBack marks the last event's end: call it once the backend answers again.
func (b *backendEvents) cameBack() {
	b.mu.Lock()
	b.events[len(b.events)-1].Up = time.Now()
	b.mu.Unlock()
}

// lastReturn is the latest event that had ended before t while nothing was down at t
// (ok false when a backend was down at t or none had come back).
func (b *backendEvents) lastReturn(t time.Time) (ev backendEvent, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.events {
		if e.Down.Before(t) && (e.Up.IsZero() || e.Up.After(t)) {
			return backendEvent{}, false
		}
		if !e.Up.IsZero() && e.Up.Before(t) && e.Up.After(ev.Up) {
			ev, ok = e, true
		}
	}
	return ev, ok
}

// returnedBetween is the latest event that ended after from and by to.
func (b *backendEvents) returnedBetween(from, to time.Time) (ev backendEvent, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.events {
		if !e.Up.IsZero() && e.Up.After(from) && !e.Up.After(to) && e.Up.After(ev.Up) {
			ev, ok = e, true
		}
	}
	return ev, ok
}

// keyedClient sends keyed writes and keeps every call.
type keyedClient struct {
	base  string
	http  *http.Client
	mu    sync.Mutex
	calls []*keyedCall
}

// call retries one keyed write until its final answer or until stop ends (then the call
// is kept without one).
func (c *keyedClient) call(stop context.Context, op, path, token, key string, body any) *keyedCall {
	kc := &keyedCall{Op: op, Key: key}
	c.mu.Lock()
	c.calls = append(c.calls, kc)
	c.mu.Unlock()
	b, _ := json.Marshal(body)
	for stop.Err() == nil {
		a := attempt{Start: time.Now()}
		req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", key)
		resp, err := c.http.Do(req)
		var env struct {
			Data  json.RawMessage `json:"data"`
			Error *struct {
				Details struct {
					Reason string `json:"reason"`
				} `json:"details"`
			} `json:"error"`
		}
		if err != nil {
			a.Err, a.ErrText = true, err.Error()
		} else {
			a.Status = resp.StatusCode
			_ = json.NewDecoder(resp.Body).Decode(&env)
			resp.Body.Close()
			if env.Error != nil {
				a.Reason = env.Error.Details.Reason
			}
		}
		a.End = time.Now()
		c.mu.Lock()
		kc.Attempts = append(kc.Attempts, a)
		c.mu.Unlock()
		final := !a.Err && a.Status < 500 && !(a.Status == http.StatusConflict && a.Reason == idempotency.ReasonInProgress)
		if final {
			c.mu.Lock()
			kc.Final, kc.Data = a.Status, env.Data
			c.mu.Unlock()
			return kc
		}
		pause(stop, 500*time.Millisecond)
	}
	return kc
}

func (c *keyedClient) all() []*keyedCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// crashesAndLongOutages kills the functions serving keyed writes (check-in, triage,
// scribe session creation) while they hold keys, then hangs Firestore for a minute, past
// the request deadline, with the keyed writes going on and the scribe worker killed
// during its jobs. It checks every bound of docs/reliability.md, "Nothing stuck after a
// fault": every retried key gets its answer within the key's lease of its backend coming
// back (plus a margin for the machine), no retry later than that is refused as in
// progress, no write is made twice, no key is left locked, every scribe session ends
// drafted or failed with a reason within the sweeper's bound, and what Pub/Sub
// dead-lettered during the outage is alerted on and replayed with the runbook's command.
func crashesAndLongOutages(t *testing.T, st faultStack) {
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
	started := time.Now()

	clinic := "clinic-crash-" + randomHex(4)
	reception := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "receptionist", "clinicId": clinic}))
	nurse := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": clinic}))
	const consultations = 6
	patients := seedPatients(t, fs, clinic, 160+consultations)
	// Encounters in consultation, one scribe session each (checking in is the queue's).
	var consults []string
	for i := range consultations {
		id := fmt.Sprintf("enc-crash-%d-%s", i, randomHex(3))
		if _, err := fs.Collection("clinics").Doc(clinic).Collection(encounter.CollectionEncounters).Doc(id).Set(ctx,
			map[string]any{"patientId": patients[len(patients)-1-i], "status": "in_consultation"}); err != nil {
			t.Fatal(err)
		}
		consults = append(consults, id)
	}

	kc := &keyedClient{base: s.BaseURL(), http: &http.Client{Timeout: 40 * time.Second}}
	events := &backendEvents{}
	work, stopWork := context.WithCancel(ctx)
	// Calls started before stopWork finish their retries under a bound of their own.
	calls, stopCalls := context.WithTimeout(ctx, 5*time.Minute)
	defer stopCalls()
	var wg sync.WaitGroup
	toTriage := make(chan string, len(patients))
	sessions := make(chan *keyedCall, len(consults))
	for w := range 2 {
		wg.Go(func() {
			for _, pid := range patients[w*80 : (w+1)*80] {
				if !pause(work, 300*time.Millisecond) {
					return
				}
				call := kc.call(calls, "checkin", "/v1/encounters", reception, "checkin-"+pid,
					map[string]any{"patientId": pid, "chiefComplaint": "sore throat and fever", "arrivalMode": "walk_in"})
				var enc struct{ ID string }
				if call.Final == http.StatusCreated && json.Unmarshal(call.Data, &enc) == nil && enc.ID != "" {
					toTriage <- enc.ID
				}
			}
		})
	}
	wg.Go(func() {
		for {
			var id string
			select {
			case <-work.Done():
				return
			case id = <-toTriage:
			}
			kc.call(calls, "triage", "/v1/triage/"+id, nurse, "triage-"+id, triageBody())
		}
	})
	// The sessions are created while the kills happen.
	sessionsDone := make(chan struct{})
	go func() {
		defer close(sessionsDone)
		defer close(sessions)
		for _, enc := range consults {
			if !pause(work, time.Second) {
				return
			}
			sessions <- kc.call(calls, "session", "/v1/scribe/sessions", nurse, "session-"+enc,
				map[string]any{"encounterId": enc, "contentType": "text/vtt", "sizeBytes": len(fixtures.ConsultationVTT)})
		}
	}()

	// Crashes: freeze the three functions together while writes are in flight, look at
	// the keys they hold, and kill them when they hold one (a crash at that instant).
	time.Sleep(3 * time.Second)
	kills, lockedAtKill := 0, 0
	for try := 0; try < 30 && kills < 2; try++ {
		for _, fn := range keyedFunctions {
			if err := s.FreezeFunction(fn); err != nil {
				t.Fatal(err)
			}
		}
		held := lockedKeys(t, fs)
		if held == 0 {
			for _, fn := range keyedFunctions {
				if err := s.ThawFunction(fn); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(500 * time.Millisecond)
			continue
		}
		events.wentDown("kill of " + strings.Join(keyedFunctions, ", "))
		for _, fn := range keyedFunctions {
			if err := s.KillFunction(fn); err != nil {
				t.Fatal(err)
			}
		}
		kills++
		lockedAtKill += held
		for _, fn := range keyedFunctions {
			if err := s.RestartFunction(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		events.cameBack()
		time.Sleep(4 * time.Second)
	}
	t.Logf("%d kill(s) of %s, holding %d key(s) in progress between them", kills, keyedFunctions, lockedAtKill)
	if kills == 0 {
		t.Error("no kill caught a keyed write holding its key: the lease was not exercised")
	}

	// The scribe worker killed during its jobs while Firestore is down for a minute, the
	// keyed writes going on.
	<-sessionsDone
	var created []string
	var uploadsTo []signedUpload
	for c := range sessions {
		var got struct {
			Session struct{ ID string } `json:"session"`
			Upload  signedUpload        `json:"upload"`
		}
		if c.Final == http.StatusCreated && json.Unmarshal(c.Data, &got) == nil {
			created = append(created, got.Session.ID)
			uploadsTo = append(uploadsTo, got.Upload)
		}
	}
	if len(created) == 0 {
		stopWork()
		wg.Wait()
		t.Fatal("no scribe session was created")
	}
	if err := s.FreezeFunction("scribe-worker"); err != nil {
		t.Fatal(err)
	}
	for _, u := range uploadsTo {
		putUpload(t, u, []byte(fixtures.ConsultationVTT))
	}
	waitSessions(t, fs, clinic, created, time.Minute, func(st scribe.Status) bool { return st != scribe.StatusAwaitingUpload })
	time.Sleep(2 * time.Second) // the dispatcher's first attempts reach the frozen worker
	events.wentDown("Firestore paused")
	if err := s.Pause(stack.EmulatorFirestore); err != nil {
		t.Fatal(err)
	}
	outageStart := time.Now()
	if err := s.ThawFunction("scribe-worker"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the worker starts the jobs; each waits on Firestore
	killedAt := time.Now()
	if err := s.KillFunction("scribe-worker"); err != nil {
		t.Fatal(err)
	}
	if err := s.RestartFunction(ctx, "scribe-worker"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(outageStart.Add(longOutage)))
	if err := s.Resume(ctx, stack.EmulatorFirestore); err != nil {
		t.Fatal(err)
	}
	events.cameBack() // once the emulator answers again
	resumed := time.Now()
	time.Sleep(6 * time.Second) // the writes go on a little after the outage
	stopWork()
	wg.Wait()

	// Every keyed write got its final answer, the first request's, within the lease of
	// its backend coming back.
	checkRetriedKeys(t, kc.all(), events)
	// No duplicates: one encounter per checked-in patient, one assessment per triaged
	// encounter, one session per consultation, each the one its key was answered with.
	checkNoDuplicates(t, fs, clinic, kc.all())

	cut := dispatcherFailures(t, filepath.Join(logDir, "fn-scribe-ingest.log"), killedAt)
	t.Logf("scribe: %d session(s) uploaded; %d job(s) cut by the worker's kill", len(created), cut)
	if cut == 0 {
		t.Error("the worker's kill cut no job: the scenario proves nothing")
	}
	final := waitSessions(t, fs, clinic, created, sweeperBound+sweeperMargin, func(st scribe.Status) bool {
		return st == scribe.StatusDrafted || st == scribe.StatusFailed
	})
	outcome := map[string]int{}
	for id, sess := range final {
		outcome[string(sess.Status)]++
		switch {
		case sess.Status == scribe.StatusFailed && (sess.Failure == nil || sess.Failure.Code == ""):
			t.Errorf("session %s failed without a reason", id)
		case sess.Status != scribe.StatusDrafted && sess.Status != scribe.StatusFailed:
			t.Errorf("session %s still %s %s after Firestore came back (sweeper bound %s)", id, sess.Status,
				time.Since(resumed).Round(time.Second), sweeperBound)
		}
	}
	t.Logf("scribe sessions after the outage: %v, all final %s after Firestore came back", outcome, time.Since(resumed).Round(time.Second))

	// No key left locked, the outbox drained.
	converge(t, 3*time.Minute, func() string {
		if n := lockedKeys(t, fs); n > 0 {
			return fmt.Sprintf("%d idempotency key(s) locked (in progress with a live lease)", n)
		}
		docs, err := fs.Collection("clinics").Doc(clinic).Collection(encounter.CollectionOutbox).Documents(ctx).GetAll()
		if err != nil || len(docs) > 0 {
			return fmt.Sprintf("encounter outbox not drained: %d entries (%v)", len(docs), err)
		}
		return ""
	})

	// Dead letters of the outage: alerted, then replayed with the runbook's command.
	checkDeadLettersReplayed(t, project, logDir)
	t.Logf("scenario took %s", time.Since(started).Round(time.Second))
}

// checkRetriedKeys checks that every keyed write got a final 201 and that every retried
// one got it within keyLease (plus answerMargin) of its backend coming back, with no
// retry started keyLease or more after that refused as in progress. Each retried key is
// logged: the fault it met, its attempts and how long after the backend's return its
// answer came.
func checkRetriedKeys(t *testing.T, all []*keyedCall, events *backendEvents) {
	t.Helper()
	retried := 0
	var worst time.Duration
	byOp, byFault := map[string]int{}, map[string]int{}
	for _, c := range all {
		byOp[c.Op]++
		if c.Final != http.StatusCreated {
			t.Errorf("%s %s: final answer %d after %d attempt(s), want 201", c.Op, c.Key, c.Final, len(c.Attempts))
			continue
		}
		if !c.retried() {
			continue
		}
		retried++
		var statuses []string
		for _, a := range c.Attempts {
			switch {
			case a.Err:
				statuses = append(statuses, fmt.Sprintf("no answer after %s (%s)", a.End.Sub(a.Start).Round(100*time.Millisecond), a.ErrText))
			case a.Reason != "":
				statuses = append(statuses, fmt.Sprintf("%d %s", a.Status, a.Reason))
			default:
				statuses = append(statuses, strconv.Itoa(a.Status))
			}
			if a.Err {
				// The deadline bound: every request is answered (a 503 at worst) by the
				// functions' 10 s deadline; the client waits 40 s.
				t.Errorf("%s %s: an attempt got no answer: %s", c.Op, c.Key, a.ErrText)
			}
			if ev, ok := events.lastReturn(a.Start); ok && a.Reason == idempotency.ReasonInProgress && a.Start.Sub(ev.Up) >= keyLease {
				t.Errorf("%s %s: a retry %s after the %s ended (lease %s) was refused as in progress",
					c.Op, c.Key, a.Start.Sub(ev.Up).Round(100*time.Millisecond), ev.What, keyLease)
			}
		}
		last := c.Attempts[len(c.Attempts)-1]
		ev, ok := events.returnedBetween(c.Attempts[0].Start, last.End)
		if !ok {
			// Answered without a backend having come back in between (a 5xx of a busy
			// machine, retried at once): no bound of this test applies.
			t.Logf("%s %s: attempts %s, no fault in between", c.Op, c.Key, strings.Join(statuses, ", "))
			continue
		}
		after := last.End.Sub(ev.Up)
		worst = max(worst, after)
		byFault[ev.What]++
		t.Logf("%s %s: attempts %s; answered %s after the %s ended", c.Op, c.Key, strings.Join(statuses, ", "),
			after.Round(100*time.Millisecond), ev.What)
		if after > keyLease+answerMargin {
			t.Errorf("%s %s: answered %s after the %s ended, past the key bound %s (+%s for the machine)",
				c.Op, c.Key, after.Round(100*time.Millisecond), ev.What, keyLease, answerMargin)
		}
	}
	t.Logf("keyed writes: %v; %d retried across faults %v, each answered 201; the slowest answer came %s after its backend returned",
		byOp, retried, byFault, worst.Round(100*time.Millisecond))
	if byFault["Firestore paused"] == 0 {
		t.Error("no keyed write was retried across the Firestore outage: the faults missed the writes")
	}
}

// lockedKeys counts the idempotency records in progress whose lease is live. A record
// whose holder answered its client and was killed before completing the record stays
// in progress with a lapsed lease: it locks nothing (a retry takes it over at once and
// answers from the commit marker).
func lockedKeys(t *testing.T, fs *firestore.Client) int {
	t.Helper()
	n := 0
	for _, d := range inProgressRecords(t, fs) {
		if until, ok := d.Data()["leaseUntil"].(time.Time); !ok || until.After(time.Now()) {
			n++
		}
	}
	return n
}

func inProgressRecords(t *testing.T, fs *firestore.Client) []*firestore.DocumentSnapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	docs, err := fs.Collection(idempotency.Collection).Where("state", "==", "in_progress").Documents(ctx).GetAll()
	if err != nil {
		t.Fatalf("reading idempotency records: %v", err)
	}
	return docs
}

// checkNoDuplicates checks that each keyed write exists once, as answered.
func checkNoDuplicates(t *testing.T, fs *firestore.Client, clinic string, calls []*keyedCall) {
	t.Helper()
	ctx := context.Background()
	cl := fs.Collection("clinics").Doc(clinic)
	encs, err := cl.Collection(encounter.CollectionEncounters).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	perPatient := map[string][]string{}
	for _, d := range encs {
		pid, _ := d.Data()["patientId"].(string)
		perPatient[pid] = append(perPatient[pid], d.Ref.ID)
	}
	sessDocs, err := cl.Collection(scribe.CollectionSessions).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	perConsult := map[string][]string{}
	for _, d := range sessDocs {
		enc, _ := d.Data()["encounterId"].(string)
		perConsult[enc] = append(perConsult[enc], d.Ref.ID)
	}
	counted := map[string]int{}
	for _, c := range calls {
		if c.Final != http.StatusCreated {
			continue
		}
		var got struct {
			ID        string
			Encounter struct{ ID string }
			Session   struct{ ID string }
		}
		_ = json.Unmarshal(c.Data, &got)
		switch c.Op {
		case "checkin":
			pid := strings.TrimPrefix(c.Key, "checkin-")
			if ids := perPatient[pid]; len(ids) != 1 || ids[0] != got.ID {
				t.Errorf("check-in %s answered %s; the patient's encounters: %v", c.Key, got.ID, ids)
			}
		case "triage":
			enc := strings.TrimPrefix(c.Key, "triage-")
			n, err := cl.Collection(encounter.CollectionEncounters).Doc(enc).Collection(triagerecord.Collection).Documents(ctx).GetAll()
			if err != nil || len(n) != 1 {
				t.Errorf("triage %s: %d assessments stored (%v), want 1", c.Key, len(n), err)
			}
		case "session":
			enc := strings.TrimPrefix(c.Key, "session-")
			if ids := perConsult[enc]; len(ids) != 1 || ids[0] != got.Session.ID {
				t.Errorf("session %s answered %s; the consultation's sessions: %v", c.Key, got.Session.ID, ids)
			}
		}
		counted[c.Op]++
	}
	t.Logf("no duplicates among %v", counted)
}

// putUpload PUTs content to a signed upload URL, as the app does.
func putUpload(t *testing.T, u signedUpload, content []byte) {
	t.Helper()
	req, err := http.NewRequest(u.Method, u.URL, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range u.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT to the signed URL: %d", resp.StatusCode)
	}
}

type signedUpload struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
}

// waitSessions waits (bounded) until every session's status satisfies done and returns
// the sessions as last read.
func waitSessions(t *testing.T, fs *firestore.Client, clinic string, ids []string, within time.Duration, done func(scribe.Status) bool) map[string]scribe.Session {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := map[string]scribe.Session{}
		all := true
		for _, id := range ids {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			snap, err := fs.Collection("clinics").Doc(clinic).Collection(scribe.CollectionSessions).Doc(id).Get(ctx)
			cancel()
			var sess scribe.Session
			if err != nil || snap.DataTo(&sess) != nil {
				all = false
				continue
			}
			got[id] = sess
			all = all && done(sess.Status)
		}
		if all || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Second)
	}
}

// dispatcherFailures counts the task attempts the local dispatcher (in scribe-ingest)
// saw fail at or after since: the jobs a kill of the worker cut.
func dispatcherFailures(t *testing.T, path string, since time.Time) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		var rec struct {
			Message string
			Time    time.Time
			Attempt int
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Message == "task attempt failed, will retry" && !rec.Time.Before(since.Add(-time.Second)) {
			n++
		}
	}
	return n
}

// converge waits (bounded) until check reports nothing missing.
func converge(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		missing := check()
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("not converged %s after the faults: %s", within, missing)
			return
		}
		time.Sleep(time.Second)
	}
}

// checkDeadLettersReplayed checks that the events dead-lettered during the long outage
// raised the local alert, and replays them as the runbook does: afterwards the hold
// subscription is empty and the alert resolved.
func checkDeadLettersReplayed(t *testing.T, project, logDir string) {
	t.Helper()
	ctx := context.Background()
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	hold := deadletter.HoldName("encounter-events")
	alerted := func(word string) bool {
		b, _ := os.ReadFile(filepath.Join(logDir, stack.AlertsLog))
		return strings.Contains(string(b), word+" dead-letter-backlog: "+hold)
	}
	held, err := deadletter.Backlog(ctx, ps, hold, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) == 0 {
		t.Logf("nothing was dead-lettered on %s during the outage", hold)
		return
	}
	converge(t, 2*time.Minute, func() string {
		if !alerted("ALERT") {
			return fmt.Sprintf("%s holds %d message(s) but no dead-letter alert was raised", hold, len(held))
		}
		return ""
	})
	// Replay until the hold subscription stays empty: an event still failing its
	// deliveries when the outage ended may be dead-lettered after a replay.
	replayed := 0
	converge(t, 2*time.Minute, func() string {
		n, err := deadletter.Replay(ctx, ps, hold, "", 0)
		replayed += n
		if err != nil {
			return "replay: " + err.Error()
		}
		if left, err := deadletter.Backlog(ctx, ps, hold, 10); err != nil || len(left) > 0 {
			return fmt.Sprintf("%s holds %d message(s) after the replay (%v)", hold, len(left), err)
		}
		if !alerted("RESOLVED") {
			return "the dead-letter alert did not resolve"
		}
		return ""
	})
	t.Logf("dead letters of %s: %d held, alerted, %d replayed, none left", hold, len(held), replayed)
	if replayed == 0 {
		t.Error("messages were held but nothing was replayed")
	}
}
