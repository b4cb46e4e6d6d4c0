package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Endpoint names, in report order.
const (
	epRegister   = "register"
	epCheckIn    = "check-in"
	epTriage     = "triage"
	epTransition = "transition"
	epQueue      = "queue"
	epNoteEdit   = "note-edit"
)

var endpointOrder = []string{epRegister, epCheckIn, epTriage, epTransition, epQueue, epNoteEdit}

// endpointPaths are the operations behind the names, for the report.
var endpointPaths = map[string]string{
	epRegister:   "POST /v1/patients",
	epCheckIn:    "POST /v1/encounters",
	epTriage:     "POST /v1/triage/{id}",
	epTransition: "POST /v1/encounters/{id}/transitions",
	epQueue:      "GET /v1/queue",
	epNoteEdit:   "PUT /v1/notes/{id}",
}

// Rates are the fixed request rates per endpoint, per second (0 leaves it out).
type Rates map[string]float64

// pool is a FIFO of work items that are ready for their next step. Producers are the
// result loops (a 2xx moves an item on), consumers the targeters; neither blocks.
type pool[T any] struct {
	mu    sync.Mutex
	items []T
}

func (p *pool[T]) put(v T) {
	p.mu.Lock()
	p.items = append(p.items, v)
	p.mu.Unlock()
}

func (p *pool[T]) take() (T, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var zero T
	if len(p.items) == 0 {
		return zero, false
	}
	v := p.items[0]
	p.items[0] = zero
	p.items = p.items[1:]
	return v, true
}

func (p *pool[T]) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.items)
}

// Encounter statuses the workload drives.
const (
	stWaiting        = "waiting"
	stTriaged        = "triaged"
	stInConsultation = "in_consultation"
	stCompleted      = "completed"
)

// expectedEncounter is what Firestore must hold for an encounter after the run, from
// the 2xx answers the tool saw.
type expectedEncounter struct {
	Status string
	Events int
}

// note is a draft note ready for its next edit.
type note struct {
	ID      string
	Version int
	Content noteContent
}

// noteContent is the part of a note an edit sends back (ids and text per section).
type noteContent map[string][]struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// ledger is the client's side of the reconciliation: what the 2xx answers say was
// created or changed.
type ledger struct {
	mu         sync.Mutex
	patients   map[string]bool
	encounters map[string]*expectedEncounter
	notes      map[string]int // note id -> versions expected (1 + its 2xx edits)
	// ok counts the 2xx answers per endpoint during the measured run; fixtures do not
	// count (they are in the maps above).
	ok       map[string]int
	moved    int // triage answers that moved waiting -> triaged (one transition audit each)
	fixtures struct{ patients, encounters int }
}

func newLedger() *ledger {
	return &ledger{patients: map[string]bool{}, encounters: map[string]*expectedEncounter{}, notes: map[string]int{}, ok: map[string]int{}}
}

func (l *ledger) patient(id string, fixture bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.patients[id] = true
	if fixture {
		l.fixtures.patients++
	}
}

func (l *ledger) checkedIn(id string, fixture bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.encounters[id] = &expectedEncounter{Status: stWaiting, Events: 1}
	if fixture {
		l.fixtures.encounters++
	}
}

// moved records a committed status change of encounter id.
func (l *ledger) transitioned(id, status string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.encounters[id]; e != nil {
		e.Status = status
		e.Events++
	}
}

// noteEdited records a 2xx edit of note id (one new version); a fixture note starts at
// one version.
func (l *ledger) noteEdited(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes[id]++
}

func (l *ledger) count(endpoint string) {
	l.mu.Lock()
	l.ok[endpoint]++
	l.mu.Unlock()
}

// workload holds the pools that chain the endpoints: a registered patient can be
// checked in, a checked-in encounter triaged, a triaged encounter started, a started
// one completed; a draft note edited at its current version.
type workload struct {
	base    string
	clinic  *Clinic
	run     string
	starved string // URL prefix of the in-process stand-in target (see targetFor)
	ledger  *ledger

	patients  pool[string]
	waiting   pool[string]
	triaged   pool[string]
	inConsult pool[string]
	notes     pool[note]

	seq atomic.Int64
}

// envelope is the response body of every endpoint.
type envelope struct {
	Data json.RawMessage `json:"data"`
}

func (w *workload) header(role string) http.Header {
	return http.Header{"Authorization": {"Bearer " + w.clinic.Tokens[role]}, "Content-Type": {"application/json"}}
}

// starvedTarget is sent when a pool is empty: a request to an in-process server that
// is not part of the stack, left out of the metrics and counted as starved. A
// vegeta targeter must not block (its time would count as latency) nor fail (an
// error stops the whole attack).
func (w *workload) starvedTarget(t *vegeta.Target, endpoint string) error {
	t.Method, t.URL, t.Body, t.Header = http.MethodGet, w.starved+"/"+endpoint, nil, nil
	return nil
}

func (w *workload) isStarved(res *vegeta.Result) bool { return strings.HasPrefix(res.URL, w.starved) }

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and numbers are marshalled here
	}
	return b
}

// registration is a synthetic patient: no real person; the MRN is unique per run.
func (w *workload) registration(kind string) map[string]any {
	n := w.seq.Add(1)
	return map[string]any{
		"givenName": "Load", "familyName": fmt.Sprintf("Patient %d", n), "birthDate": "1980-01-01",
		"sex": "unknown", "mrn": fmt.Sprintf("LD-%s-%s%06d", w.run, kind, n),
	}
}

func checkInBody(patientID string) map[string]any {
	return map[string]any{"patientId": patientID, "chiefComplaint": "load test", "arrivalMode": "walk_in"}
}

// recordBody is triageBody without the age: an assessment recorded for an encounter takes
// the age from the patient record.
func recordBody() map[string]any {
	b := triageBody()
	delete(b, "ageYears")
	return b
}

// triageBody is a complete adult assessment (ESI 3 at point D), as tests/e2e sends.
func triageBody() map[string]any {
	return map[string]any{
		"ageYears": 34, "sex": "male", "chiefComplaint": "fell on outstretched hand, wrist swollen",
		"complaintCategory": "minor_injury", "arrivalMode": "walk_in", "injury": true, "mentalStatus": "A",
		"painScore": 5, "expectedResources": []string{"ecg_xray", "parenteral_medication"},
		"vitals": map[string]any{"heartRate": 88, "respiratoryRate": 16, "systolicBP": 132, "diastolicBP": 84,
			"spo2": 98, "temperatureC": 36.9, "onSupplementalOxygen": false},
	}
}

// editBody changes the first subjective sentence's text and keeps every other sentence
// (ids kept, so evidence links are kept).
func editBody(n note) map[string]any {
	content := map[string]any{}
	for _, sec := range []string{"subjective", "objective", "assessment", "plan"} {
		var out []map[string]any
		for i, s := range n.Content[sec] {
			text := s.Text
			if sec == "subjective" && i == 0 {
				text = fmt.Sprintf("History as given (load edit %d).", n.Version+1)
			}
			out = append(out, map[string]any{"id": s.ID, "text": text})
		}
		if out == nil {
			out = []map[string]any{}
		}
		content[sec] = out
	}
	return map[string]any{"baseVersion": n.Version, "content": content}
}

// targeter returns the dynamic targeter of endpoint.
func (w *workload) targeter(endpoint string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		switch endpoint {
		case epRegister:
			t.Method, t.URL = http.MethodPost, w.base+"/v1/patients"
			t.Body, t.Header = jsonBody(w.registration("R")), w.header(roleReceptionist)
		case epCheckIn:
			id, ok := w.patients.take()
			if !ok {
				return w.starvedTarget(t, endpoint)
			}
			t.Method, t.URL = http.MethodPost, w.base+"/v1/encounters"
			t.Body, t.Header = jsonBody(checkInBody(id)), w.header(roleReceptionist)
		case epTriage:
			id, ok := w.waiting.take()
			if !ok {
				return w.starvedTarget(t, endpoint)
			}
			t.Method, t.URL = http.MethodPost, w.base+"/v1/triage/"+id
			t.Body, t.Header = jsonBody(recordBody()), w.header(roleNurse)
		case epTransition:
			// Complete a consultation when one is open, else start one: the doctor's day.
			to := stCompleted
			id, ok := w.inConsult.take()
			if !ok {
				to = stInConsultation
				if id, ok = w.triaged.take(); !ok {
					return w.starvedTarget(t, endpoint)
				}
			}
			t.Method, t.URL = http.MethodPost, w.base+"/v1/encounters/"+id+"/transitions"
			t.Body, t.Header = jsonBody(map[string]any{"to": to}), w.header(roleDoctor)
		case epQueue:
			t.Method, t.URL, t.Body = http.MethodGet, w.base+"/v1/queue", nil
			t.Header = http.Header{"Authorization": {"Bearer " + w.clinic.Tokens[roleNurse]}}
		case epNoteEdit:
			n, ok := w.notes.take()
			if !ok {
				return w.starvedTarget(t, endpoint)
			}
			t.Method, t.URL = http.MethodPut, w.base+"/v1/notes/"+n.ID
			t.Body, t.Header = jsonBody(editBody(n)), w.header(roleDoctor)
		default:
			return fmt.Errorf("unknown endpoint %q", endpoint)
		}
		return nil
	}
}

// pathID returns the id that follows prefix in a result's URL.
func (w *workload) pathID(res *vegeta.Result, prefix string) string {
	rest := strings.TrimPrefix(res.URL, w.base+prefix)
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// observe feeds a measured result back into the pools and the ledger. Only a 2xx moves
// an item on: a refused or failed step takes the item out of the workload, and the
// reconciliation then shows whether the server changed it anyway.
func (w *workload) observe(endpoint string, res *vegeta.Result, onNoteLost func(id string)) {
	ok := res.Code >= 200 && res.Code < 300
	if ok {
		w.ledger.count(endpoint)
	}
	switch endpoint {
	case epRegister, epCheckIn:
		if !ok {
			return
		}
		var data struct {
			ID string `json:"id"`
		}
		if !decodeData(res.Body, &data) || data.ID == "" {
			return
		}
		if endpoint == epRegister {
			w.ledger.patient(data.ID, false)
			w.patients.put(data.ID)
		} else {
			w.ledger.checkedIn(data.ID, false)
			w.waiting.put(data.ID)
		}
	case epTriage:
		if !ok {
			return
		}
		id := w.pathID(res, "/v1/triage/")
		var data struct {
			Transitioned bool `json:"transitioned"`
		}
		if decodeData(res.Body, &data) && data.Transitioned {
			w.ledger.mu.Lock()
			w.ledger.moved++
			w.ledger.mu.Unlock()
			w.ledger.transitioned(id, stTriaged)
		}
		w.triaged.put(id)
	case epTransition:
		if !ok {
			return
		}
		id := w.pathID(res, "/v1/encounters/")
		var data struct {
			Encounter struct {
				Status string `json:"status"`
			} `json:"encounter"`
		}
		if !decodeData(res.Body, &data) {
			return
		}
		w.ledger.transitioned(id, data.Encounter.Status)
		if data.Encounter.Status == stInConsultation {
			w.inConsult.put(id)
		}
	case epNoteEdit:
		id := w.pathID(res, "/v1/notes/")
		var data struct {
			CurrentVersion int         `json:"currentVersion"`
			Content        noteContent `json:"content"`
		}
		if !ok || !decodeData(res.Body, &data) {
			onNoteLost(id)
			return
		}
		w.ledger.noteEdited(id)
		w.notes.put(note{ID: id, Version: data.CurrentVersion, Content: data.Content})
	}
}

func decodeData(body []byte, v any) bool {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return false
	}
	return json.Unmarshal(env.Data, v) == nil
}
