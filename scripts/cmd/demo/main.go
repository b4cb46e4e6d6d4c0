// Command demo is the quickest tour of Medi OS. It walks one synthetic patient through a
// whole visit on the local stack, through the public API only, and prints every request:
//
//	reception registers the patient and checks them in -> a nurse records the triage
//	assessment and confirms the level -> the patient waits on the queue board -> a doctor
//	starts the consultation and uploads its transcript -> the AI scribe drafts a SOAP note
//	-> the doctor submits and approves it and completes the visit -> the patient's history
//	summary is rebuilt and cites the approved note.
//
// Start the stack with scripts/dev, then run scripts/demo. scripts/test runs the same tour
// as an end-to-end test (demo_test.go).
//
//	-base-url URL        the gateway (default $MEDI_BASE_URL, else http://127.0.0.1:8080
//	                     moved like scripts/dev by MEDI_PORT_BASE or MEDI_PORT)
//	-auth-emulator HOST  the Firebase Auth emulator (default $FIREBASE_AUTH_EMULATOR_HOST,
//	                     else 127.0.0.1:9099 moved by MEDI_PORT_BASE or MEDI_AUTH_PORT)
//	-wait DURATION       how long each asynchronous step may take (default 90s)
//	-allow-remote        also run when a host is not this machine (refused by default)
//
// It signs in with the seeded accounts of the demo clinic (<role>@demo-clinic.medi.test)
// through the Auth emulator's REST API, as the apps do. Each run registers a new synthetic
// patient with an MRN of its own, so the tour can run again and again. It prints ids,
// statuses and counts, never clinical content.
//
// Each request is spelled out with net/http and encoding/json on purpose: read run and the
// step methods below top to bottom to learn the API.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/medi-os/medi/scripts/devports"
)

// consultation is the synthetic consultation the doctor uploads, in the scribe's plain
// text format: one utterance per line, "[hh:mm:ss] Speaker: text".
//
//go:embed testdata/consultation.txt
var consultation []byte

// Synthetic patient of the tour (no real person) and the seeded demo clinic.
const (
	patientGivenName  = "Robin"
	patientFamilyName = "Example"
	patientBirthDate  = "1984-05-17"
	demoClinic        = "demo-clinic"
)

// config is what the tour needs to know about the stack.
type config struct {
	BaseURL      string        // the gateway, e.g. http://127.0.0.1:8080
	AuthEmulator string        // host:port of the Firebase Auth emulator
	Wait         time.Duration // bound of each asynchronous step (queue board, draft, summary)
	AllowRemote  bool          // run even when a host is not a loopback address
}

func main() {
	var cfg config
	var err error
	if cfg.BaseURL, cfg.AuthEmulator, err = devports.Client(os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
	flag.StringVar(&cfg.BaseURL, "base-url", cfg.BaseURL, "the gateway of the local stack ($MEDI_BASE_URL)")
	flag.StringVar(&cfg.AuthEmulator, "auth-emulator", cfg.AuthEmulator, "host:port of the Firebase Auth emulator ($FIREBASE_AUTH_EMULATOR_HOST)")
	flag.DurationVar(&cfg.Wait, "wait", 90*time.Second, "how long each asynchronous step (queue board, note draft, summary) may take")
	flag.BoolVar(&cfg.AllowRemote, "allow-remote", false, "run even when the gateway or the Auth emulator is not on this machine")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected arguments %q (see -help)\n", flag.Args())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// validate checks the addresses: the tour signs in with the demo accounts of the Auth
// emulator, so by default both hosts must be this machine.
func (c config) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-base-url %q: want an http(s) URL such as http://127.0.0.1:8080", c.BaseURL)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return fmt.Errorf("-base-url %q: give the gateway's root, without a path or query", c.BaseURL)
	}
	authHost, _, err := net.SplitHostPort(c.AuthEmulator)
	if err != nil {
		return fmt.Errorf("-auth-emulator %q: want host:port such as 127.0.0.1:9099", c.AuthEmulator)
	}
	if c.Wait <= 0 {
		return fmt.Errorf("-wait %s: must be positive", c.Wait)
	}
	if c.AllowRemote {
		return nil
	}
	if !isLoopback(u.Hostname()) {
		return fmt.Errorf("-base-url %s is not this machine: the tour is for the local stack (pass -allow-remote to run it anyway)", c.BaseURL)
	}
	if !isLoopback(authHost) {
		return fmt.Errorf("-auth-emulator %s is not this machine: the tour signs in with the emulator's demo accounts (pass -allow-remote to run it anyway)", c.AuthEmulator)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tour is one run: where the stack is, the numbered steps printed so far and the ids
// the visit has produced.
type tour struct {
	cfg     config
	out     io.Writer
	http    *http.Client
	step    int
	started time.Time

	receptionist, nurse, doctor *staffMember

	patientID, encounterID, sessionID, noteID string
	noteVersion                               int
}

// staffMember is a signed-in account of the demo clinic.
type staffMember struct {
	role, email, idToken string
}

// run walks the patient through the visit, printing one numbered line per request. It
// stops at the first unexpected answer with an error naming the step.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	t := &tour{cfg: cfg, out: out, http: &http.Client{Timeout: 30 * time.Second}, started: time.Now()}
	if err := t.checkStack(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "Medi OS tour: one synthetic patient's visit to %s, through the API at %s\n\n", demoClinic, cfg.BaseURL)
	for _, phase := range []func(context.Context) error{
		t.registerAndCheckIn, // reception
		t.triage,             // nurse
		t.waitOnQueue,        // the queue board
		t.consult,            // doctor: consultation and transcript upload
		t.reviewDraft,        // the AI scribe's draft
		t.approve,            // doctor: approval, end of the visit
		t.readSummary,        // the history summary
	} {
		if err := phase(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nVisit complete in %s: %d steps, patient %s, encounter %s, note %s.\n",
		time.Since(t.started).Round(100*time.Millisecond), t.step, t.patientID, t.encounterID, t.noteID)
	fmt.Fprintln(out, "Every endpoint is in docs/openapi.yaml; each function's log is in .stack/dev/logs.")
	return nil
}

// checkStack makes sure something answers at the base URL before the tour starts.
func (t *tour) checkStack(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.cfg.BaseURL+"/v1/health", nil)
	if err != nil {
		return err
	}
	resp, err := t.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("nothing answers at %s (%v): start the local stack first with scripts/dev, or pass -base-url", t.cfg.BaseURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/v1/health answered %d: is the local stack (scripts/dev) fully started?", t.cfg.BaseURL, resp.StatusCode)
	}
	return nil
}

// ---- Reception -------------------------------------------------------------------

func (t *tour) registerAndCheckIn(ctx context.Context) error {
	var err error
	if t.receptionist, err = t.signIn(ctx, "receptionist"); err != nil {
		return err
	}

	// Register the patient. The MRN is new on every run; the Idempotency-Key lets an app
	// retry after a timeout without registering the patient twice.
	mrn := "TOUR-" + randomHex(4)
	var patient struct {
		ID  string `json:"id"`
		MRN string `json:"mrn"`
	}
	status, err := t.call(ctx, apiRequest{
		as: t.receptionist, method: http.MethodPost, path: "/v1/patients",
		header: map[string]string{"Idempotency-Key": "tour-" + randomHex(8)},
		body: map[string]any{
			"givenName": patientGivenName, "familyName": patientFamilyName, "birthDate": patientBirthDate,
			"sex": "female", "mrn": mrn,
		},
	}, &patient, http.StatusCreated)
	if err != nil {
		return err
	}
	t.patientID = patient.ID
	t.done(t.receptionist, http.MethodPost, "/v1/patients", status,
		fmt.Sprintf("patient %s (%s %s, synthetic), MRN %s", patient.ID, patientGivenName, patientFamilyName, patient.MRN))

	// Check the patient in: an encounter in status waiting.
	var enc struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	status, err = t.call(ctx, apiRequest{
		as: t.receptionist, method: http.MethodPost, path: "/v1/encounters",
		header: map[string]string{"Idempotency-Key": "tour-" + randomHex(8)},
		body: map[string]any{
			"patientId": t.patientID, "chiefComplaint": "cough and fever for three days", "arrivalMode": "walk_in",
		},
	}, &enc, http.StatusCreated)
	if err != nil {
		return err
	}
	t.encounterID = enc.ID
	t.done(t.receptionist, http.MethodPost, "/v1/encounters", status, fmt.Sprintf("encounter %s, status %s", enc.ID, enc.Status))
	return nil
}

// ---- Triage ----------------------------------------------------------------------

func (t *tour) triage(ctx context.Context) error {
	var err error
	if t.nurse, err = t.signIn(ctx, "nurse"); err != nil {
		return err
	}

	// Record the assessment: the triage engine proposes a level with its reasons, and the
	// first assessment moves the encounter waiting -> triaged.
	path := "/v1/triage/" + t.encounterID
	var recorded struct {
		Assessment struct {
			ID     string `json:"id"`
			Result struct {
				Level         int      `json:"level"`
				DecisionPoint string   `json:"decisionPoint"`
				Reasons       []string `json:"reasons"`
			} `json:"result"`
		} `json:"assessment"`
		Encounter struct {
			Status string `json:"status"`
		} `json:"encounter"`
	}
	status, err := t.call(ctx, apiRequest{
		as: t.nurse, method: http.MethodPost, path: path,
		header: map[string]string{"Idempotency-Key": "tour-" + randomHex(8)},
		body: map[string]any{
			"ageYears": ageOn(patientBirthDate, time.Now()), "sex": "female",
			"chiefComplaint": "cough and fever for three days", "complaintCategory": "fever", "arrivalMode": "walk_in",
			"mentalStatus": "A", "painScore": 2, "expectedResources": []string{"labs", "ecg_xray"},
			"vitals": map[string]any{
				"heartRate": 104, "respiratoryRate": 20, "systolicBP": 138, "diastolicBP": 86,
				"spo2": 94, "temperatureC": 38.4, "onSupplementalOxygen": false,
			},
		},
	}, &recorded, http.StatusCreated)
	if err != nil {
		return err
	}
	result := recorded.Assessment.Result
	t.done(t.nurse, http.MethodPost, path, status, fmt.Sprintf("assessment %s: level %d proposed at point %s, %d reasons; status %s",
		recorded.Assessment.ID, result.Level, result.DecisionPoint, len(result.Reasons), recorded.Encounter.Status))

	// The nurse confirms the proposed level (a less urgent one would need a reason).
	var confirmed struct {
		Level  int    `json:"level"`
		Change string `json:"change"`
	}
	status, err = t.call(ctx, apiRequest{
		as: t.nurse, method: http.MethodPost, path: path + "/confirm",
		body: map[string]any{"level": result.Level, "assessmentId": recorded.Assessment.ID},
	}, &confirmed, http.StatusOK)
	if err != nil {
		return err
	}
	t.done(t.nurse, http.MethodPost, path+"/confirm", status, fmt.Sprintf("level %d confirmed (%s)", confirmed.Level, confirmed.Change))
	return nil
}

// ---- Queue -----------------------------------------------------------------------

func (t *tour) waitOnQueue(ctx context.Context) error {
	// The queue-projector rebuilds the board from encounter events, so the triaged
	// encounter appears on it shortly: poll GET /v1/queue as an app would refresh.
	type entry struct {
		EncounterID  string `json:"encounterId"`
		Position     int    `json:"position"`
		Level        *int   `json:"level"`
		Status       string `json:"status"`
		WaitEstimate *struct {
			P50Minutes int `json:"p50Minutes"`
			P90Minutes int `json:"p90Minutes"`
		} `json:"waitEstimate"`
	}
	var board struct {
		Version int64   `json:"version"`
		Entries []entry `json:"entries"`
	}
	var mine *entry
	var status int
	took, err := t.poll(ctx, "the triaged encounter on the queue board", "queue-projector", func() (bool, error) {
		var err error
		status, err = t.call(ctx, apiRequest{as: t.nurse, method: http.MethodGet, path: "/v1/queue"}, &board, http.StatusOK)
		if err != nil {
			return false, err
		}
		for i, e := range board.Entries {
			if e.EncounterID == t.encounterID && e.Status == "triaged" && e.Level != nil {
				mine = &board.Entries[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	wait := "no wait estimate (no doctor on duty)"
	if mine.WaitEstimate != nil {
		wait = fmt.Sprintf("wait P50 %d min / P90 %d min", mine.WaitEstimate.P50Minutes, mine.WaitEstimate.P90Minutes)
	}
	t.done(t.nurse, http.MethodGet, "/v1/queue", status, fmt.Sprintf("position %d of %d at level %d, %s (board v%d, after %s)",
		mine.Position, len(board.Entries), *mine.Level, wait, board.Version, took.Round(100*time.Millisecond)))
	return nil
}

// ---- Consultation and transcript upload -----------------------------------------

func (t *tour) consult(ctx context.Context) error {
	var err error
	if t.doctor, err = t.signIn(ctx, "doctor"); err != nil {
		return err
	}

	// The doctor claims the patient: triaged -> in_consultation.
	if err := t.transition(ctx, "in_consultation"); err != nil {
		return err
	}

	// Start a scribe session: the API answers with a signed URL to PUT the upload to.
	var created struct {
		Session struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"session"`
		Upload struct {
			URL       string            `json:"url"`
			Method    string            `json:"method"`
			Headers   map[string]string `json:"headers"`
			ExpiresAt time.Time         `json:"expiresAt"`
		} `json:"upload"`
	}
	status, err := t.call(ctx, apiRequest{
		as: t.doctor, method: http.MethodPost, path: "/v1/scribe/sessions",
		body: map[string]any{"encounterId": t.encounterID, "contentType": "text/plain", "sizeBytes": len(consultation)},
	}, &created, http.StatusCreated)
	if err != nil {
		return err
	}
	t.sessionID = created.Session.ID
	t.done(t.doctor, http.MethodPost, "/v1/scribe/sessions", status, fmt.Sprintf("session %s, status %s; signed upload URL valid until %s",
		created.Session.ID, created.Session.Status, created.Upload.ExpiresAt.Local().Format("15:04:05")))

	// Upload the transcript to Cloud Storage (fake-gcs-server locally) with exactly the
	// headers the API returned: they are part of the signature. The finished upload
	// triggers scribe-ingest, which hands the work to scribe-worker.
	req, err := http.NewRequestWithContext(ctx, created.Upload.Method, created.Upload.URL, bytes.NewReader(consultation))
	if err != nil {
		return t.fail("doctor", "PUT", "the signed upload URL", "%v", err)
	}
	for k, v := range created.Upload.Headers {
		req.Header.Set(k, v)
	}
	shown := "signed URL on " + req.URL.Host // the query string carries the signature
	resp, err := t.http.Do(req)
	if err != nil {
		return t.fail("doctor", created.Upload.Method, shown, "%v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return t.fail("doctor", created.Upload.Method, shown, "storage answered %d", resp.StatusCode)
	}
	t.done(t.doctor, created.Upload.Method, shown, resp.StatusCode,
		fmt.Sprintf("transcript uploaded: %d bytes of %s", len(consultation), created.Upload.Headers["Content-Type"]))
	return nil
}

// transition moves the encounter as the doctor.
func (t *tour) transition(ctx context.Context, to string) error {
	path := "/v1/encounters/" + t.encounterID + "/transitions"
	var moved struct {
		Encounter struct {
			Status  string `json:"status"`
			Version int    `json:"version"`
		} `json:"encounter"`
	}
	status, err := t.call(ctx, apiRequest{as: t.doctor, method: http.MethodPost, path: path, body: map[string]any{"to": to}}, &moved, http.StatusOK)
	if err != nil {
		return err
	}
	t.done(t.doctor, http.MethodPost, path, status, fmt.Sprintf("status %s (encounter version %d)", moved.Encounter.Status, moved.Encounter.Version))
	return nil
}

// ---- The AI scribe's draft -------------------------------------------------------

func (t *tour) reviewDraft(ctx context.Context) error {
	// Poll the session until the worker has written the draft (or failed, with a reason).
	path := "/v1/scribe/sessions/" + t.sessionID
	var session struct {
		Status  string `json:"status"`
		NoteID  string `json:"noteId"`
		Engine  string `json:"engine"`
		Failure *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"failure"`
	}
	var status int
	took, err := t.poll(ctx, "the note draft", "scribe-ingest and scribe-worker", func() (bool, error) {
		var err error
		status, err = t.call(ctx, apiRequest{as: t.doctor, method: http.MethodGet, path: path}, &session, http.StatusOK)
		if err != nil {
			return false, err
		}
		switch session.Status {
		case "drafted":
			return true, nil
		case "failed":
			code, msg := "", ""
			if session.Failure != nil {
				code, msg = session.Failure.Code, session.Failure.Message
			}
			return false, t.fail("doctor", http.MethodGet, path, "the scribe session failed: %s: %s", code, msg)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	t.noteID = session.NoteID
	t.done(t.doctor, http.MethodGet, path, status, fmt.Sprintf("status drafted after %s, note %s", took.Round(100*time.Millisecond), session.NoteID))

	// Read the draft: SOAP sentences, each linked to the transcript segments it came from.
	notePath := "/v1/notes/" + t.noteID
	type sentence struct {
		Evidence []string `json:"evidence"`
	}
	var note struct {
		Status         string                `json:"status"`
		CurrentVersion int                   `json:"currentVersion"`
		Engine         string                `json:"engine"`
		Content        map[string][]sentence `json:"content"`
	}
	status, err = t.call(ctx, apiRequest{as: t.doctor, method: http.MethodGet, path: notePath}, &note, http.StatusOK)
	if err != nil {
		return err
	}
	sentences, cited, links := 0, 0, 0
	for _, section := range note.Content {
		for _, s := range section {
			sentences++
			links += len(s.Evidence)
			if len(s.Evidence) > 0 {
				cited++
			}
		}
	}
	if sentences == 0 {
		return t.fail("doctor", http.MethodGet, notePath, "the draft has no sentences")
	}
	t.noteVersion = note.CurrentVersion
	t.done(t.doctor, http.MethodGet, notePath, status, fmt.Sprintf("status %s v%d by %s: %d sentences, %d with evidence, %d evidence links",
		note.Status, note.CurrentVersion, note.Engine, sentences, cited, links))
	return nil
}

// ---- Approval and the end of the visit ------------------------------------------

func (t *tour) approve(ctx context.Context) error {
	notePath := "/v1/notes/" + t.noteID
	// baseVersion is the version the doctor read: if the note changed since, the API
	// answers 412 instead of approving something the doctor has not seen.
	type noteState struct {
		Status         string `json:"status"`
		CurrentVersion int    `json:"currentVersion"`
		Approval       *struct {
			SHA256 string `json:"sha256"`
		} `json:"approval"`
	}
	var submitted noteState
	status, err := t.call(ctx, apiRequest{
		as: t.doctor, method: http.MethodPost, path: notePath + "/submit", body: map[string]any{"baseVersion": t.noteVersion},
	}, &submitted, http.StatusOK)
	if err != nil {
		return err
	}
	t.done(t.doctor, http.MethodPost, notePath+"/submit", status, fmt.Sprintf("status %s v%d", submitted.Status, submitted.CurrentVersion))

	// Approving signs the note: apps ask for the password again, so the ID token is fresh.
	if t.doctor, err = t.signIn(ctx, "doctor"); err != nil {
		return err
	}
	var approved noteState
	status, err = t.call(ctx, apiRequest{
		as: t.doctor, method: http.MethodPost, path: notePath + "/approve", body: map[string]any{"baseVersion": submitted.CurrentVersion},
	}, &approved, http.StatusOK)
	if err != nil {
		return err
	}
	if approved.Approval == nil || len(approved.Approval.SHA256) < 12 {
		return t.fail("doctor", http.MethodPost, notePath+"/approve", "the approved note carries no signature hash")
	}
	t.done(t.doctor, http.MethodPost, notePath+"/approve", status, fmt.Sprintf("status %s v%d, signed sha256 %s...",
		approved.Status, approved.CurrentVersion, approved.Approval.SHA256[:12]))

	// The doctor completes the visit.
	return t.transition(ctx, "completed")
}

// ---- The history summary ---------------------------------------------------------

func (t *tour) readSummary(ctx context.Context) error {
	// The summary is cached per patient: a read answers 202 pending (or the stored summary
	// marked stale) while summarize-worker rebuilds it from the current records. Poll
	// until it is fresh; it then cites the note just approved.
	path := "/v1/summaries/" + t.patientID
	var summary struct {
		Status    string `json:"status"`
		Engine    string `json:"engine"`
		Citations []struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"citations"`
	}
	var status, first int
	took, err := t.poll(ctx, "a fresh history summary", "summarize-worker", func() (bool, error) {
		var err error
		status, err = t.call(ctx, apiRequest{as: t.doctor, method: http.MethodGet, path: path}, &summary, http.StatusOK, http.StatusAccepted)
		if first == 0 {
			first = status
		}
		return err == nil && status == http.StatusOK && summary.Status == "fresh", err
	})
	if err != nil {
		return err
	}
	notes := 0
	for _, c := range summary.Citations {
		if c.Kind == "note" && strings.HasPrefix(c.ID, "note/"+t.noteID+"/") {
			notes++
		}
	}
	if notes == 0 {
		return t.fail("doctor", http.MethodGet, path, "the fresh summary does not cite the approved note")
	}
	t.done(t.doctor, http.MethodGet, path, status, fmt.Sprintf("%s by the %s engine after %s (first answer %d), %d citations, the approved note among them",
		summary.Status, summary.Engine, took.Round(100*time.Millisecond), first, len(summary.Citations)))
	return nil
}

// ---- Plumbing: sign-in, one API call, polling, printing -------------------------

// signIn gets an ID token from the Auth emulator's REST API (signInWithPassword), as a
// client app does with Identity Platform. The demo accounts exist only in the emulator.
func (t *tour) signIn(ctx context.Context, role string) (*staffMember, error) {
	m := &staffMember{role: role, email: role + "@" + demoClinic + ".medi.test"}
	body, _ := json.Marshal(map[string]any{"email": m.email, "password": "demo-" + role + "-pass", "returnSecureToken": true})
	endpoint := "http://" + t.cfg.AuthEmulator + "/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=demo-key"
	shown := "Auth emulator accounts:signInWithPassword"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.http.Do(req)
	if err != nil {
		return nil, t.fail(role, http.MethodPost, shown, "%v (is the Auth emulator at %s? start the stack with scripts/dev)", err, t.cfg.AuthEmulator)
	}
	defer resp.Body.Close()
	var out struct {
		IDToken string `json:"idToken"`
		Error   *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.IDToken == "" {
		reason := fmt.Sprint(err)
		if out.Error != nil {
			reason = out.Error.Message
		}
		return nil, t.fail(role, http.MethodPost, shown, "status %d (%s): no demo account there: is %s the Auth emulator of a scripts/dev stack (see -auth-emulator)?",
			resp.StatusCode, reason, t.cfg.AuthEmulator)
	}
	m.idToken = out.IDToken
	t.done(m, http.MethodPost, shown, resp.StatusCode, "ID token for "+m.email)
	return m, nil
}

// apiRequest is one call of the Medi OS API.
type apiRequest struct {
	as     *staffMember      // whose ID token goes in the Authorization header
	method string            // GET, POST, ...
	path   string            // e.g. /v1/patients
	body   any               // sent as JSON; nil for none
	header map[string]string // extra headers, e.g. Idempotency-Key
}

// envelope is the body of every API response.
type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"requestId"`
}

// call sends r, checks that the status is one of want and decodes the envelope's data
// into data. Any other status is an error naming the step, with the API's error code.
func (t *tour) call(ctx context.Context, r apiRequest, data any, want ...int) (int, error) {
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, t.cfg.BaseURL+r.path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+r.as.idToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := t.http.Do(req)
	if err != nil {
		return 0, t.fail(r.as.role, r.method, r.path, "%v", err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return resp.StatusCode, t.fail(r.as.role, r.method, r.path, "status %d, not the JSON envelope: %v", resp.StatusCode, err)
	}
	expected := false
	for _, w := range want {
		expected = expected || resp.StatusCode == w
	}
	if !expected || !env.Success {
		code, msg := "", ""
		if env.Error != nil {
			code, msg = env.Error.Code, env.Error.Message
		}
		return resp.StatusCode, t.fail(r.as.role, r.method, r.path, "status %d %s: %s (want %v; request id %s)", resp.StatusCode, code, msg, want, env.RequestID)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return resp.StatusCode, t.fail(r.as.role, r.method, r.path, "decoding the answer: %v", err)
	}
	return resp.StatusCode, nil
}

// poll calls check every 250 ms until it reports done, for at most cfg.Wait, and returns
// how long it took. who names the functions doing the work, for the timeout message.
func (t *tour) poll(ctx context.Context, what, who string, check func() (bool, error)) (time.Duration, error) {
	start := time.Now()
	deadline := time.NewTimer(t.cfg.Wait)
	defer deadline.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := check()
		if err != nil || done {
			return time.Since(start), err
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-deadline.C:
			return time.Since(start), fmt.Errorf("step %d: waited %s for %s: is %s running? (its log is in .stack/*/logs; -wait waits longer)",
				t.step+1, t.cfg.Wait, what, who)
		case <-tick.C:
		}
	}
}

// done prints the numbered line of a finished step.
func (t *tour) done(as *staffMember, method, path string, status int, result string) {
	t.step++
	fmt.Fprintf(t.out, "%2d. %-12s %-4s %-56s %d  %s\n", t.step, as.role, method, path, status, result)
}

// fail is the error of the current step, naming it.
func (t *tour) fail(role, method, path, format string, args ...any) error {
	return fmt.Errorf("step %d (%s %s %s): %s", t.step+1, role, method, path, fmt.Sprintf(format, args...))
}

// ageOn is the age in whole years on day now of someone born on birthDate (YYYY-MM-DD).
func ageOn(birthDate string, now time.Time) int {
	b, err := time.Parse(time.DateOnly, birthDate)
	if err != nil {
		panic(err) // a constant of this file
	}
	age := now.Year() - b.Year()
	if now.Month() < b.Month() || now.Month() == b.Month() && now.Day() < b.Day() {
		age-- // no birthday yet this year
	}
	return age
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
