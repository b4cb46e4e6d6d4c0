package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Options configure one run.
type Options struct {
	Duration time.Duration
	Rates    Rates
	// Buffer is how many seconds of work (at each endpoint's rate) are prepared before
	// the run in every pool that feeds an endpoint.
	Buffer time.Duration
	// NoteFixtures is the number of drafted notes the edits rotate over.
	NoteFixtures int
	// Floor runs the direct-Firestore floor client alongside the API workload.
	Floor bool
	// PIDs are the function processes whose memory is sampled (own stack only).
	PIDs     map[string]int
	Progress io.Writer
}

// Outcome is what one run measured.
type Outcome struct {
	Options        Options
	ClinicID       string
	From, To       time.Time
	API            map[string]*vegeta.Metrics
	Floor          map[string]*vegeta.Metrics
	Starved        map[string]int
	Reconciliation Reconciliation
	Memory         []Memory
	LoadBefore     string
	LoadAfter      string
}

// ServerErrors counts the 5xx answers and transport errors (code 0) per endpoint.
func (o *Outcome) ServerErrors() map[string]int {
	out := map[string]int{}
	for ep, m := range o.API {
		for code, n := range m.StatusCodes {
			if c, err := strconv.Atoi(code); err == nil && (c == 0 || c >= 500) {
				out[ep] += n
			}
		}
	}
	return out
}

func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatInt(time.Now().Unix()%1e6, 36) + hex.EncodeToString(b[:])
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// run prepares a fresh clinic and its fixtures, runs the workload (and the floor) for
// o.Duration, and reconciles the answers with Firestore.
func run(ctx context.Context, env Env, o Options) (*Outcome, error) {
	if err := env.Validate(); err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	logf := func(format string, a ...any) { fmt.Fprintf(progress, "load: "+format+"\n", a...) }

	fs, err := firestore.NewClient(ctx, env.Project)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	out := &Outcome{Options: o, API: map[string]*vegeta.Metrics{}, Floor: map[string]*vegeta.Metrics{}, Starved: map[string]int{}}
	mem := newMemorySampler(o.PIDs) // idle: before this run's first request

	runID := newRunID()
	out.ClinicID = "load-" + runID
	logf("creating clinic %s and its staff accounts", out.ClinicID)
	clinic, err := newClinic(ctx, env, fs, out.ClinicID)
	if err != nil {
		return nil, err
	}
	standIn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer standIn.Close()
	w := &workload{base: env.BaseURL, clinic: clinic, run: runID, starved: standIn.URL, ledger: newLedger()}

	started := time.Now()
	logf("preparing fixtures (%s of work per pool)", o.Buffer)
	if err := w.prefill(ctx, o.Rates, o.Buffer); err != nil {
		return nil, err
	}
	var firstNote string
	if o.Rates[epNoteEdit] > 0 && o.NoteFixtures > 0 {
		logf("drafting %d notes through the scribe pipeline", o.NoteFixtures)
		if err := w.noteFixtures(ctx, o.NoteFixtures); err != nil {
			return nil, err
		}
		if n, ok := w.notes.take(); ok {
			firstNote = n.ID
			w.notes.put(n)
		}
	}
	var fl *floor
	if o.Floor {
		if fl, err = newFloor(ctx, fs, clinic.ID, firstNote, 16); err != nil {
			return nil, err
		}
	}
	logf("fixtures ready in %s; running the mixed workload for %s", time.Since(started).Round(100*time.Millisecond), o.Duration)

	out.LoadBefore = loadAverage()
	mem.start(time.Second)
	var mu sync.Mutex
	var wg sync.WaitGroup
	out.From = time.Now()
	for _, ep := range endpointOrder {
		rate := o.Rates[ep]
		if rate <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, starved := w.attack(ctx, ep, rate, o.Duration)
			mu.Lock()
			out.API[ep], out.Starved[ep] = m, starved
			mu.Unlock()
		}()
		if fl == nil {
			continue
		}
		if op := fl.op(ep); op != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := runFloor(ctx, ep, rate, o.Duration, op)
				mu.Lock()
				out.Floor[ep] = m
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	out.To = time.Now()
	mem.stopLoad()
	out.LoadAfter = loadAverage()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	logf("load over; reconciling with Firestore")
	if out.Reconciliation, err = reconcile(ctx, fs, clinic.ID, w.ledger, out.From, out.To); err != nil {
		return nil, err
	}
	if len(o.PIDs) > 0 {
		time.Sleep(3 * time.Second) // let the instances settle before the "after" reading
		out.Memory = mem.after()
	}
	return out, nil
}

// attack runs one endpoint's attacker at rate for du and returns its metrics and the
// number of ticks that found no work ready (not sent to the stack).
func (w *workload) attack(ctx context.Context, endpoint string, rate float64, du time.Duration) (*vegeta.Metrics, int) {
	a := vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.KeepAlive(true),
		vegeta.Workers(4), vegeta.MaxWorkers(512), vegeta.Connections(64))
	var m vegeta.Metrics
	starved := 0
	lost := func(id string) {
		// A failed edit leaves the note's version unknown: read it again and go on.
		go func() {
			if n, err := w.getNote(ctx, id); err == nil {
				w.notes.put(n)
			}
		}()
	}
	for res := range a.Attack(w.targeter(endpoint), pacer(rate), du, endpoint) {
		if ctx.Err() != nil {
			a.Stop()
		}
		if w.isStarved(res) {
			starved++
			continue
		}
		m.Add(res)
		w.observe(endpoint, res, lost)
	}
	m.Close()
	return &m, starved
}
