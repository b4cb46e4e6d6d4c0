package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// phase is a stretch of the scenario. A request counts in the phase it started in, or in
// the outage that was on when it ended.
type phase int

const (
	phaseNormal phase = iota
	phaseFirestoreDown
	phaseRecovery
	phasePubSubDown
	phaseAfter
	phaseCount
)

func (p phase) outage() bool { return p == phaseFirestoreDown || p == phasePubSubDown }

func (p phase) String() string {
	return [...]string{"normal", "firestore-down", "recovery", "pubsub-down", "after"}[p]
}

// outcome is one request as the client saw it.
type outcome struct {
	Phase    phase
	Op       string // "checkin", "triage", "note-edit", "note-get", "queue"
	Status   int    // 0 when the request failed without a response
	Code     string // error envelope code
	Envelope bool   // the body was the standard envelope
	Retry    string // Retry-After
	Latency  time.Duration
	Err      error // transport error (a hang past the client deadline is one)
}

// recorder collects outcomes from the workers.
type recorder struct {
	mu       sync.Mutex
	outcomes []outcome
	phase    atomic.Int32
}

func (r *recorder) current() phase { return phase(r.phase.Load()) }
func (r *recorder) set(p phase)    { r.phase.Store(int32(p)) }

func (r *recorder) add(o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, o)
}

func (r *recorder) all() []outcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]outcome(nil), r.outcomes...)
}

// client calls the stack's gateway as an app would: JSON, bearer token, a deadline of
// its own, and every response recorded.
type client struct {
	base string
	http *http.Client
	rec  *recorder
}

// envelope is the response body of every endpoint.
type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code string `json:"code"`
	} `json:"error"`
	RequestID string `json:"requestId"`
}

// do sends one request and records it; data is the envelope's data on success.
func (c *client) do(op, method, path, token string, body any, header map[string]string) (status int, data json.RawMessage) {
	o := outcome{Phase: c.rec.current(), Op: op}
	start := time.Now()
	defer func() {
		o.Latency = time.Since(start)
		// A request that was running when an outage began counts in the outage.
		if end := c.rec.current(); end.outage() && !o.Phase.outage() {
			o.Phase = end
		}
		c.rec.add(o)
	}()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			o.Err = err
			return 0, nil
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		o.Err = err
		return 0, nil
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		o.Err = err
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	o.Status, o.Retry = resp.StatusCode, resp.Header.Get("Retry-After")
	if err != nil {
		o.Err = err
		return resp.StatusCode, nil
	}
	var env envelope
	if json.Unmarshal(b, &env) == nil && env.RequestID != "" && env.Success == (resp.StatusCode/100 == 2) {
		o.Envelope = true
		if env.Error != nil {
			o.Code = env.Error.Code
		}
	}
	return resp.StatusCode, env.Data
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pause waits d or until ctx ends; false when ctx ended.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// accepted is what the workload must find in Firestore and on the board afterwards.
type accepted struct {
	mu        sync.Mutex
	checkIns  []string       // encounter ids answered 201
	triages   map[string]int // encounter id -> level of the last triage answered 201
	noteEdits []noteEdit     // edits answered 200
}

type noteEdit struct {
	NoteID  string
	Version int
	Text    string
}

func (a *accepted) addCheckIn(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checkIns = append(a.checkIns, id)
}

func (a *accepted) addTriage(id string, level int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.triages[id] = level
}

func (a *accepted) addNoteEdit(e noteEdit) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.noteEdits = append(a.noteEdits, e)
}

// triageBody is a complete adult assessment without the age: the record's age applies.
func triageBody() map[string]any {
	return map[string]any{
		"sex": "male", "chiefComplaint": "fell on outstretched hand, wrist swollen",
		"complaintCategory": "minor_injury", "arrivalMode": "walk_in", "injury": true, "mentalStatus": "A",
		"painScore": 5, "expectedResources": []string{"ecg_xray", "parenteral_medication"},
		"vitals": map[string]any{"heartRate": 88, "respiratoryRate": 16, "systolicBP": 132, "diastolicBP": 84,
			"spo2": 98, "temperatureC": 36.9, "onSupplementalOxygen": false},
	}
}

// summary is the per-phase table printed for the docs.
func summary(outcomes []outcome) string {
	type key struct {
		p      phase
		status int
	}
	counts := map[key]int{}
	maxLat := make([]time.Duration, phaseCount)
	total := make([]int, phaseCount)
	for _, o := range outcomes {
		counts[key{o.Phase, o.Status}]++
		total[o.Phase]++
		maxLat[o.Phase] = max(maxLat[o.Phase], o.Latency)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-15s %8s  %-40s %s\n", "phase", "requests", "by status", "slowest")
	for p := range phaseCount {
		var parts []string
		var statuses []int
		for k := range counts {
			if k.p == p {
				statuses = append(statuses, k.status)
			}
		}
		sort.Ints(statuses)
		for _, s := range statuses {
			label := fmt.Sprint(s)
			if s == 0 {
				label = "no-response"
			}
			parts = append(parts, fmt.Sprintf("%s:%d", label, counts[key{p, s}]))
		}
		fmt.Fprintf(&b, "%-15s %8d  %-40s %s\n", p, total[p], strings.Join(parts, " "), maxLat[p].Round(10*time.Millisecond))
	}
	return b.String()
}

// problem says what is wrong with a recorded request, or "" when it is acceptable: a 2xx;
// a 503 with Retry-After and the error envelope (code unavailable); for a note edit, a
// 412 (the previous edit's 503 hid a commit, so the client's base version is stale).
// Never a 500, never a response without the envelope, never a request that got no
// answer within the client's deadline.
func problem(o outcome) string {
	switch {
	case o.Err != nil:
		var netErr interface{ Timeout() bool }
		if errors.As(o.Err, &netErr) && netErr.Timeout() {
			return fmt.Sprintf("no answer within the client deadline (%s)", o.Latency.Round(time.Millisecond))
		}
		return "transport error: " + o.Err.Error()
	case o.Status/100 == 2:
		if !o.Envelope {
			return "2xx without the envelope"
		}
		return ""
	case o.Status == http.StatusServiceUnavailable:
		if o.Retry == "" {
			return "503 without Retry-After"
		}
		if !o.Envelope || o.Code != "unavailable" {
			return fmt.Sprintf("503 without the error envelope (code %q)", o.Code)
		}
		return ""
	case o.Status == http.StatusPreconditionFailed && o.Op == "note-edit" && o.Envelope:
		return ""
	default:
		return fmt.Sprintf("status %d (code %q)", o.Status, o.Code)
	}
}
