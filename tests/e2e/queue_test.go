package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"

	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// queueBoard is the part of GET /v1/queue's data these tests look at.
type queueBoard struct {
	ClinicID       string `json:"clinicId"`
	Version        int64  `json:"version"`
	InConsultation int    `json:"inConsultation"`
	Entries        []struct {
		EncounterID  string `json:"encounterId"`
		PatientID    string `json:"patientId"`
		Position     int    `json:"position"`
		Level        *int   `json:"level"`
		Status       string `json:"status"`
		WaitEstimate *struct {
			P50Minutes int `json:"p50Minutes"`
			P90Minutes int `json:"p90Minutes"`
		} `json:"waitEstimate"`
	} `json:"entries"`
}

func (b queueBoard) ids() []string {
	out := []string{}
	for _, e := range b.Entries {
		out = append(out, e.EncounterID)
	}
	return out
}

// queueClinic is a fresh clinic of the local stack with staff of every role.
type queueClinic struct {
	c      *apitest.Client
	fs     *firestore.Client
	ps     *pubsub.Client
	id     string
	tokens map[string]string
}

func newQueueClinic(t *testing.T) *queueClinic {
	t.Helper()
	c := apitest.StackClient(t)
	testenv.Require(t, "MEDI_STACK_PROJECT", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	project := os.Getenv("MEDI_STACK_PROJECT")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	var b [4]byte
	_, _ = rand.Read(b[:])
	q := &queueClinic{c: c, fs: fs, ps: ps, id: "clinic-e2e-queue-" + hex.EncodeToString(b[:]), tokens: map[string]string{}}
	if _, err := fs.Collection("clinics").Doc(q.id).Set(ctx, map[string]any{
		"name": "E2E queue clinic", "timezone": "Europe/London", "doctorsOnDuty": 2,
	}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		s := testenv.NewStaff(t, map[string]any{"role": role, "clinicId": q.id})
		q.tokens[role] = testenv.SignIn(t, s)
		if _, err := fs.Collection("users").Doc(s.UID).Set(ctx, map[string]any{"role": role, "clinicId": q.id, "disabled": false}); err != nil {
			t.Fatal(err)
		}
	}
	return q
}

// board is GET /v1/queue as role (contract-checked).
func (q *queueClinic) board(t *testing.T, role string) queueBoard {
	t.Helper()
	resp := q.c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/queue", Token: q.tokens[role]})
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /v1/queue as %s: %d %s", role, resp.Status, resp.Body)
	}
	var b queueBoard
	resp.Decode(t, &b)
	return b
}

// waitBoard polls GET /v1/queue until ok(board), as an app would refresh.
func (q *queueClinic) waitBoard(t *testing.T, what string, ok func(queueBoard) bool) queueBoard {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		b := q.board(t, "nurse")
		if ok(b) {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("the board never showed %s; last: %+v", what, b)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkIn registers a synthetic patient and checks them in through the API.
func (q *queueClinic) checkIn(t *testing.T) (encounterID, patientID string) {
	t.Helper()
	resp := q.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: q.tokens["receptionist"], Body: map[string]any{
		"givenName": "Queue", "familyName": "Tester", "birthDate": "1990-01-02", "sex": "female",
	}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("register patient: %d %s", resp.Status, resp.Body)
	}
	var p struct {
		ID string `json:"id"`
	}
	resp.Decode(t, &p)
	resp = q.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/encounters", Token: q.tokens["receptionist"],
		Body: map[string]any{"patientId": p.ID, "chiefComplaint": "sprained ankle", "arrivalMode": "walk_in"}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("check in: %d %s", resp.Status, resp.Body)
	}
	var e struct {
		ID string `json:"id"`
	}
	resp.Decode(t, &e)
	return e.ID, p.ID
}

func (q *queueClinic) move(t *testing.T, role, encounterID, to string) {
	t.Helper()
	resp := q.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/encounters/" + encounterID + "/transitions",
		Token: q.tokens[role], Body: map[string]any{"to": to}})
	if resp.Status != http.StatusOK {
		t.Fatalf("%s -> %s as %s: %d %s", encounterID, to, role, resp.Status, resp.Body)
	}
}

// stream opens GET /v1/queue/stream through the gateway and returns its board events.
func (q *queueClinic) stream(t *testing.T, ctx context.Context, role string) <-chan queueBoard {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, q.c.BaseURL+"/v1/queue/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+q.tokens[role])
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan queueBoard, 32)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = line[7:]
			case strings.HasPrefix(line, "data: ") && event == "board":
				var b queueBoard
				if json.Unmarshal([]byte(line[6:]), &b) == nil {
					out <- b
				}
			case line == "":
				event = ""
			}
		}
	}()
	return out
}

// waitStream reads board events until ok(board).
func waitQueueStream(t *testing.T, boards <-chan queueBoard, what string, ok func(queueBoard) bool) queueBoard {
	t.Helper()
	deadline := time.After(45 * time.Second)
	for {
		select {
		case b, open := <-boards:
			if !open {
				t.Fatalf("stream ended before it showed %s", what)
			}
			if ok(b) {
				return b
			}
		case <-deadline:
			t.Fatalf("the stream never showed %s", what)
		}
	}
}

func queueHas(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestQueueBoardThroughGateway(t *testing.T) {
	t.Parallel()
	q := newQueueClinic(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A doctor's app listens from the start: the clinic has no board yet.
	live := q.stream(t, ctx, "doctor")
	first := waitQueueStream(t, live, "the initial board", func(queueBoard) bool { return true })
	if first.ClinicID != q.id || len(first.Entries) != 0 {
		t.Fatalf("initial streamed board: %+v", first)
	}

	// Reception checks two patients in; the projector puts them on the board.
	a, patientA := q.checkIn(t)
	b, _ := q.checkIn(t)
	board := q.waitBoard(t, "both check-ins", func(bd queueBoard) bool { return queueHas(bd.ids(), a) && queueHas(bd.ids(), b) })
	if got := board.ids(); got[0] != a || got[1] != b {
		t.Errorf("order %v, want arrival order [%s %s]", got, a, b)
	}
	e := board.Entries[0]
	if e.PatientID != patientA || e.Level != nil || e.Status != "waiting" || e.Position != 1 || e.WaitEstimate == nil {
		t.Errorf("first entry %+v: want patient %s, untriaged, waiting, position 1, with an estimate", e, patientA)
	}
	waitQueueStream(t, live, "both check-ins", func(bd queueBoard) bool { return queueHas(bd.ids(), a) && queueHas(bd.ids(), b) })

	// A level-2 patient triaged elsewhere (written directly, then announced on
	// encounter-events as the triage function would) goes to the top.
	now := time.Now().UTC()
	urgent := "e2e-urgent-" + queueRandomHex()
	if _, err := q.fs.Collection("clinics").Doc(q.id).Collection("encounters").Doc(urgent).Set(ctx, map[string]any{
		"clinicId": q.id, "patientId": "e2e-patient-" + queueRandomHex(), "status": "triaged", "chiefComplaint": "chest pain",
		"arrivalMode": "ambulance", "arrivedAt": now, "statusTimes": map[string]any{"waiting": now, "triaged": now},
		"triage": map[string]any{"level": 2, "proposedLevel": 2, "confirmed": true}, "eventCount": 2, "version": 2,
		"createdBy": "e2e", "updatedAt": now,
	}); err != nil {
		t.Fatal(err)
	}
	env, err := events.NewEnvelope(ctx, "encounter.transitioned", 1, q.id, map[string]string{"encounterId": urgent})
	if err != nil {
		t.Fatal(err)
	}
	pub := events.NewPubSubPublisher(q.ps)
	defer pub.Close()
	if _, err := pub.Publish(ctx, "encounter-events", env, q.id); err != nil {
		t.Fatal(err)
	}
	board = q.waitBoard(t, "the level-2 patient first", func(bd queueBoard) bool { return len(bd.ids()) == 3 && bd.ids()[0] == urgent })
	if l := board.Entries[0].Level; l == nil || *l != 2 {
		t.Errorf("urgent entry level %v, want 2", l)
	}

	// The nurse triages A and a doctor starts seeing A: A leaves the board.
	q.move(t, "nurse", a, "triaged")
	q.move(t, "doctor", a, "in_consultation")
	board = q.waitBoard(t, "A in consultation", func(bd queueBoard) bool { return !queueHas(bd.ids(), a) && bd.InConsultation == 1 })
	if got := board.ids(); len(got) != 2 || got[0] != urgent || got[1] != b {
		t.Errorf("after A went in: %v, want [%s %s]", got, urgent, b)
	}
	streamed := waitQueueStream(t, live, "A in consultation", func(bd queueBoard) bool { return !queueHas(bd.ids(), a) && len(bd.ids()) == 2 })
	if streamed.Version < 1 || streamed.ClinicID != q.id {
		t.Errorf("streamed board %+v", streamed)
	}

	// Every staff role reads the same board; another clinic's staff see only theirs.
	for _, role := range []string{"receptionist", "admin"} {
		if got := q.board(t, role); got.Version < board.Version || len(got.Entries) != 2 {
			t.Errorf("%s sees version %d with %d entries", role, got.Version, len(got.Entries))
		}
	}
	other := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": q.id + "-other"}))
	resp := q.c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/queue", Token: other})
	var ob queueBoard
	resp.Decode(t, &ob)
	if resp.Status != http.StatusOK || ob.ClinicID != q.id+"-other" || len(ob.Entries) != 0 {
		t.Errorf("other clinic's nurse: %d %+v", resp.Status, ob)
	}
	for _, path := range []string{"/v1/queue", "/v1/queue/stream"} {
		if resp := q.c.Do(t, apitest.Request{Method: http.MethodGet, Path: path}); resp.Status != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d", path, resp.Status)
		}
	}
}

func queueRandomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
