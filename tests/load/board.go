package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"
)

// BoardOptions configure the board scenario (-board): check-ins at Rate per second for
// Sustained with a client connected to GET /v1/queue/stream, then Burst check-ins sent by
// BurstClients at once.
type BoardOptions struct {
	Rate         float64
	Sustained    time.Duration
	Burst        int
	BurstClients int
	// Clinics is the number of clinics measured at once, each with its own staff,
	// patients, board and stream client.
	Clinics int
	// Settle bounds the wait for the board to show every check-in.
	Settle time.Duration
}

// BoardOutcome is what the board scenario measured.
type BoardOutcome struct {
	Options  BoardOptions
	ClinicID string
	// Latencies: each sustained check-in's request start -> its entry first on the stream
	// (provisional or not); Confirmed: -> its entry first on a stored board (a frame where
	// it is not provisional).
	Latencies []time.Duration
	Confirmed []time.Duration
	// CheckIns: each sustained check-in's request start -> its 201.
	CheckIns []time.Duration
	// Unseen counts sustained check-ins the stream never showed within Settle.
	Unseen int
	// BurstSent is the first burst request's start -> the last 201.
	BurstSent time.Duration
	// Converged is the last burst 201 -> a frame with every burst encounter; zero when
	// the board did not converge within Settle. StoredConverged: -> a frame where none of
	// them is provisional (the stored board lists them all).
	Converged       time.Duration
	StoredConverged time.Duration
	// BurstUnseen counts burst check-ins missing from the last frame's stored board
	// (absent or provisional); BurstUnseenStream those absent from it.
	BurstUnseen       int
	BurstUnseenStream int
	// Writes is the board writes (version increments) from the first check-in to the end;
	// MaxWritesPerSecond the most versions in any one-second window the stream showed.
	Writes             int64
	Span               time.Duration
	MaxWritesPerSecond int
	Failures           int
	LoadBefore         string
	LoadAfter          string
}

// boardWatcher follows the SSE stream and records when each encounter first appeared.
type boardWatcher struct {
	mu        sync.Mutex
	firstSaw  map[string]time.Time
	confirmed map[string]time.Time // first frame where the entry was not provisional
	last      map[string]bool      // the encounters of the newest frame: true when confirmed
	lastAt    time.Time            // when the newest frame arrived
	versions  []versionSeen
	changed   chan struct{}
}

type versionSeen struct {
	version int64
	at      time.Time
}

func (bw *boardWatcher) frame(at time.Time, data []byte) {
	var b struct {
		Version int64 `json:"version"`
		Entries []struct {
			EncounterID string `json:"encounterId"`
			Provisional bool   `json:"provisional"`
		} `json:"entries"`
	}
	if json.Unmarshal(data, &b) != nil {
		return
	}
	bw.mu.Lock()
	defer bw.mu.Unlock()
	bw.last = make(map[string]bool, len(b.Entries))
	for _, e := range b.Entries {
		bw.last[e.EncounterID] = !e.Provisional
		if _, ok := bw.firstSaw[e.EncounterID]; !ok {
			bw.firstSaw[e.EncounterID] = at
		}
		if _, ok := bw.confirmed[e.EncounterID]; !ok && !e.Provisional {
			bw.confirmed[e.EncounterID] = at
		}
	}
	// A version is counted once: the live board sends several frames of one version.
	if n := len(bw.versions); n == 0 || bw.versions[n-1].version != b.Version {
		bw.versions = append(bw.versions, versionSeen{b.Version, at})
	}
	bw.lastAt = at
	select {
	case bw.changed <- struct{}{}:
	default:
	}
}

// follow reads the stream until ctx ends.
func (bw *boardWatcher) follow(ctx context.Context, base, token string, ready chan<- error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/queue/stream", nil)
	if err != nil {
		ready <- err
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := (&http.Client{}).Do(req) // no timeout: the stream lasts the run
	if err != nil {
		ready <- err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ready <- fmt.Errorf("GET /v1/queue/stream: status %d", resp.StatusCode)
		return
	}
	ready <- nil
	r := bufio.NewReaderSize(resp.Body, 1<<20)
	for {
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "data: ") {
			bw.frame(time.Now(), []byte(strings.TrimSpace(line[len("data: "):])))
		}
		if err != nil {
			return // the run is over or the stream broke: frames stop, the waits time out
		}
	}
}

func (bw *boardWatcher) seen(id string) (time.Time, bool) {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	t, ok := bw.firstSaw[id]
	return t, ok
}

func (bw *boardWatcher) seenConfirmed(id string) (time.Time, bool) {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	t, ok := bw.confirmed[id]
	return t, ok
}

// missing returns how many of ids the newest frame lacks; with stored, also counting
// those it has as provisional (not on the stored board yet).
func (bw *boardWatcher) missing(ids []string, stored bool) int {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	n := 0
	for _, id := range ids {
		if confirmed, ok := bw.last[id]; !ok || (stored && !confirmed) {
			n++
		}
	}
	return n
}

// lastFrameAt is when the newest frame arrived.
func (bw *boardWatcher) lastFrameAt() time.Time {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	return bw.lastAt
}

// writes returns the version increments seen after from and the most in one second.
func (bw *boardWatcher) writes(from time.Time) (int64, int) {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	var first, last int64 = -1, 0
	var at []time.Time
	var prev int64 = -1
	for _, v := range bw.versions {
		if v.at.Before(from) {
			prev = v.version
			continue
		}
		if first < 0 {
			first = prev
			if first < 0 {
				first = v.version
			}
		}
		last = v.version
		at = append(at, v.at)
	}
	if first < 0 {
		return 0, 0
	}
	most := 0
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		most = max(most, j-i)
	}
	return last - first, most
}

// boardClinic is one clinic of the board scenario: its accounts, patients and stream.
type boardClinic struct {
	w        *workload
	patients []string
	bw       *boardWatcher
}

// prepareBoardClinic creates a clinic with its staff, registers the patients it will check
// in (not measured) and connects its stream client.
func prepareBoardClinic(ctx context.Context, env Env, fs *firestore.Client, id, run string, n int) (*boardClinic, error) {
	clinic, err := newClinic(ctx, env, fs, id)
	if err != nil {
		return nil, err
	}
	w := &workload{base: env.BaseURL, clinic: clinic, run: run, ledger: newLedger()}
	bc := &boardClinic{w: w, patients: make([]string, n)}
	if err := parallel(ctx, n, fixtureConcurrency, func(ctx context.Context, i int) error {
		var p struct {
			ID string `json:"id"`
		}
		err := call(ctx, w.base, http.MethodPost, "/v1/patients", clinic.Tokens[roleReceptionist], w.registration("B"), &p, http.StatusCreated)
		bc.patients[i] = p.ID
		return err
	}); err != nil {
		return nil, err
	}
	return bc, nil
}

func (bc *boardClinic) watch(ctx context.Context) error {
	bc.bw = &boardWatcher{firstSaw: map[string]time.Time{}, confirmed: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	ready := make(chan error, 1)
	go bc.bw.follow(ctx, bc.w.base, bc.w.clinic.Tokens[roleNurse], ready)
	return <-ready
}

func (bc *boardClinic) checkIn(ctx context.Context, patientID string) (string, error) {
	var e struct {
		ID string `json:"id"`
	}
	err := callOnce(ctx, bc.w.base, http.MethodPost, "/v1/encounters", bc.w.clinic.Tokens[roleReceptionist], "",
		jsonBody(checkInBody(patientID)), &e, http.StatusCreated)
	return e.ID, err
}

// measure runs the clinic's sustained check-ins and then its burst.
func (bc *boardClinic) measure(ctx context.Context, o BoardOptions, out *BoardOutcome) error {
	bw := bc.bw
	from := time.Now()
	sustained := int(o.Rate * o.Sustained.Seconds())
	type sent struct {
		id    string
		start time.Time
	}
	sents := make([]sent, sustained)
	var mu sync.Mutex
	var failures atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
	defer tick.Stop()
	for i := range sustained {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			id, err := bc.checkIn(ctx, bc.patients[i])
			if err != nil {
				failures.Add(1)
				return
			}
			mu.Lock()
			out.CheckIns = append(out.CheckIns, time.Since(start))
			mu.Unlock()
			sents[i] = sent{id, start}
		}()
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	wg.Wait()
	waitFor(ctx, bw, o.Settle, func() bool {
		for _, s := range sents {
			if _, ok := bw.seenConfirmed(s.id); s.id != "" && !ok {
				return false
			}
		}
		return true
	})
	for _, s := range sents {
		if s.id == "" {
			continue
		}
		if t, ok := bw.seen(s.id); ok {
			out.Latencies = append(out.Latencies, t.Sub(s.start))
		} else {
			out.Unseen++
		}
		if t, ok := bw.seenConfirmed(s.id); ok {
			out.Confirmed = append(out.Confirmed, t.Sub(s.start))
		}
	}

	if o.Burst > 0 {
		ids := make([]string, o.Burst)
		var lastOK atomic.Int64
		burstStart := time.Now()
		_ = parallel(ctx, o.Burst, o.BurstClients, func(ctx context.Context, i int) error {
			id, err := bc.checkIn(ctx, bc.patients[sustained+i])
			if err != nil {
				failures.Add(1)
				return nil
			}
			ids[i] = id
			now := time.Now().UnixNano()
			for {
				old := lastOK.Load()
				if old >= now || lastOK.CompareAndSwap(old, now) {
					break
				}
			}
			return nil
		})
		lastAt := time.Unix(0, lastOK.Load())
		out.BurstSent = lastAt.Sub(burstStart)
		ids = slices.DeleteFunc(ids, func(s string) bool { return s == "" })
		if waitFor(ctx, bw, o.Settle, func() bool { return bw.missing(ids, false) == 0 }) {
			out.Converged = max(bw.lastFrameAt().Sub(lastAt), 0)
		}
		if waitFor(ctx, bw, o.Settle, func() bool { return bw.missing(ids, true) == 0 }) {
			out.StoredConverged = max(bw.lastFrameAt().Sub(lastAt), 0)
		}
		out.BurstUnseen, out.BurstUnseenStream = bw.missing(ids, true), bw.missing(ids, false)
	}
	out.Writes, out.MaxWritesPerSecond = bw.writes(from)
	out.Span = time.Since(from)
	out.Failures = int(failures.Load())
	return nil
}

// runBoard measures the live board in o.Clinics clinics at once: check-in -> entry on
// each clinic's connected SSE client at a sustained rate, then the convergence after a
// burst. It returns one outcome per clinic.
func runBoard(ctx context.Context, env Env, o BoardOptions, progress io.Writer) ([]*BoardOutcome, error) {
	if err := env.Validate(); err != nil {
		return nil, err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(progress, "load: "+format+"\n", a...) }
	fs, err := firestore.NewClient(ctx, env.Project)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	runID := newRunID()
	n := int(o.Rate*o.Sustained.Seconds()) + o.Burst
	logf("creating %d clinic(s) with their staff and %d patients each (not measured)", o.Clinics, n)
	clinics := make([]*boardClinic, o.Clinics)
	outs := make([]*BoardOutcome, o.Clinics)
	if err := parallel(ctx, o.Clinics, 4, func(ctx context.Context, i int) error {
		id := fmt.Sprintf("board-%s-%02d", runID, i)
		bc, err := prepareBoardClinic(ctx, env, fs, id, fmt.Sprintf("%s%02d", runID, i), n)
		clinics[i], outs[i] = bc, &BoardOutcome{Options: o, ClinicID: id}
		return err
	}); err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, bc := range clinics {
		if err := bc.watch(sctx); err != nil {
			return nil, err
		}
	}
	load := loadAverage()
	logf("measuring: %.2f check-ins/s per clinic for %s in %d clinic(s), then a burst of %d per clinic", o.Rate, o.Sustained, o.Clinics, o.Burst)
	var wg sync.WaitGroup
	errs := make([]error, o.Clinics)
	for i, bc := range clinics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i].LoadBefore = load
			errs[i] = bc.measure(ctx, o, outs[i])
		}()
	}
	wg.Wait()
	after := loadAverage()
	for _, out := range outs {
		out.LoadAfter = after
	}
	return outs, errors.Join(errs...)
}

// waitFor waits until done (checked after every frame) or settle has passed.
func waitFor(ctx context.Context, bw *boardWatcher, settle time.Duration, done func() bool) bool {
	deadline := time.After(settle)
	for !done() {
		select {
		case <-bw.changed:
		case <-deadline:
			return false
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func pctile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// writeBoardReport prints the board scenario's figures in Markdown.
func writeBoardReport(w io.Writer, outs []*BoardOutcome, command string) {
	if len(outs) == 0 {
		return
	}
	o := outs[0]
	fmt.Fprintf(w, "Command: `%s`, %d clinic(s) at once, run on %s UTC, load average before %s, after %s.\n\n",
		command, len(outs), time.Now().UTC().Format("2006-01-02 15:04"), o.LoadBefore, o.LoadAfter)
	var lat, conf, cin []time.Duration
	unseen, failures, maxWrites := 0, 0, 0
	var clinicP50, clinicP99 []time.Duration
	for _, c := range outs {
		lat = append(lat, c.Latencies...)
		conf = append(conf, c.Confirmed...)
		cin = append(cin, c.CheckIns...)
		unseen += c.Unseen
		failures += c.Failures
		maxWrites = max(maxWrites, c.MaxWritesPerSecond)
		clinicP50 = append(clinicP50, pctile(c.Latencies, .5))
		clinicP99 = append(clinicP99, pctile(c.Latencies, .99))
	}
	fmt.Fprintf(w, "| what | figure |\n|---|---|\n")
	fmt.Fprintf(w, "| check-in `POST /v1/encounters` -> 201, %.2f/s per clinic for %s (n = %d) | p50 %s, p99 %s |\n",
		o.Options.Rate, o.Options.Sustained, len(cin), ms(pctile(cin, .5)), ms(pctile(cin, .99)))
	fmt.Fprintf(w, "| check-in -> entry on the clinic's stream (n = %d) | p50 %s, p90 %s, p99 %s, max %s; %d never seen |\n",
		len(lat), ms(pctile(lat, .5)), ms(pctile(lat, .9)), ms(pctile(lat, .99)), ms(pctile(lat, 1)), unseen)
	fmt.Fprintf(w, "| check-in -> entry on the stored board (no longer provisional on the stream; n = %d) | p50 %s, p90 %s, p99 %s, max %s |\n",
		len(conf), ms(pctile(conf, .5)), ms(pctile(conf, .9)), ms(pctile(conf, .99)), ms(pctile(conf, 1)))
	if len(outs) > 1 {
		fmt.Fprintf(w, "| per clinic: p50 / p99 of check-in -> stream, lowest / median / highest clinic | p50 %s / %s / %s; p99 %s / %s / %s |\n",
			ms(pctile(clinicP50, 0)), ms(pctile(clinicP50, .5)), ms(pctile(clinicP50, 1)),
			ms(pctile(clinicP99, 0)), ms(pctile(clinicP99, .5)), ms(pctile(clinicP99, 1)))
	}
	for _, c := range outs {
		if c.Options.Burst == 0 {
			break
		}
		conv, stored := "not within "+c.Options.Settle.String(), "not within "+c.Options.Settle.String()
		if c.BurstUnseenStream == 0 {
			conv = ms(c.Converged)
		}
		if c.BurstUnseen == 0 {
			stored = ms(c.StoredConverged)
		}
		fmt.Fprintf(w, "| burst of %d check-ins from %d clients (clinic %s) | sent in %s; every one on the stream %s and on the stored board %s after the last 201 (%d not on the stored board at the end) |\n",
			c.Options.Burst, c.Options.BurstClients, c.ClinicID, ms(c.BurstSent), conv, stored, c.BurstUnseen)
	}
	var writes int64
	var span time.Duration
	for _, c := range outs {
		writes += c.Writes
		span = max(span, c.Span)
	}
	fmt.Fprintf(w, "| board writes (versions the streams saw) | %d in all, %.2f/s per clinic on average; at most %d in any one second on one board |\n",
		writes, float64(writes)/float64(len(outs))/span.Seconds(), maxWrites)
	fmt.Fprintf(w, "| failed check-ins | %d |\n", failures)
}
