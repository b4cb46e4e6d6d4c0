package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// summaryView is the part of GET /v1/summaries/{id} the tests look at (the whole body
// is checked against the OpenAPI document by the client).
type summaryView struct {
	PatientID    string `json:"patientId"`
	Status       string `json:"status"`
	Stale        bool   `json:"stale"`
	Regenerating bool   `json:"regenerating"`
	SourceHash   string `json:"sourceHash"`
	Engine       string `json:"engine"`
	Summary      *struct {
		Synopsis struct {
			Text    string   `json:"text"`
			Sources []string `json:"sources"`
		} `json:"synopsis"`
		Encounters []struct {
			EncounterID string   `json:"encounterId"`
			Sources     []string `json:"sources"`
		} `json:"encounters"`
		OpenItems []struct {
			Text    string   `json:"text"`
			Sources []string `json:"sources"`
		} `json:"openItems"`
	} `json:"summary"`
	Citations []struct {
		ID string `json:"id"`
	} `json:"citations"`
}

func (q *queueClinic) summary(t *testing.T, role, patientID, query string) (int, summaryView) {
	t.Helper()
	resp := q.c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/summaries/" + patientID + query, Token: q.tokens[role]})
	var v summaryView
	if resp.Status == http.StatusOK || resp.Status == http.StatusAccepted {
		resp.Decode(t, &v)
	}
	return resp.Status, v
}

// waitSummary polls as a doctor until ok(view) and returns it with the time it took.
func (q *queueClinic) waitSummary(t *testing.T, patientID, what string, ok func(int, summaryView) bool) (summaryView, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(90 * time.Second)
	for {
		status, v := q.summary(t, "doctor", patientID, "")
		if ok(status, v) {
			return v, time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the summary never became %s; last: %d %+v", what, status, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storedHash reads the stored summary's source hash without a GET (which would itself
// enqueue a regeneration), to observe the event-driven path alone.
func (q *queueClinic) waitStoredHashChange(t *testing.T, patientID, from string) string {
	t.Helper()
	ref := q.fs.Collection("clinics").Doc(q.id).Collection("summaries").Doc(patientID)
	deadline := time.Now().Add(90 * time.Second) // generous: Pub/Sub push retries back off on a loaded machine
	for {
		snap, err := ref.Get(context.Background())
		if err == nil {
			if h, _ := snap.DataAt("sourceHash"); h != nil && h != from {
				stale, _ := snap.DataAt("stale")
				if stale == false {
					return h.(string)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stored summary was never rebuilt after the event")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fresh(status int, v summaryView) bool { return status == http.StatusOK && v.Status == "fresh" }

func hasCitation(v summaryView, id string) bool {
	return slices.ContainsFunc(v.Citations, func(c struct {
		ID string `json:"id"`
	}) bool {
		return c.ID == id
	})
}

// Miss -> pending -> fresh; hit; an encounter check-in and an approved note each make
// the event consumers rebuild the summary (without any GET); roles and clinics.
func TestSummaryLifecycleThroughGateway(t *testing.T) {
	t.Parallel()
	q := newQueueClinic(t)
	encounterID, patientID := q.checkIn(t)

	status, v := q.summary(t, "doctor", patientID, "")
	if status != http.StatusAccepted && !(status == http.StatusOK && v.Stale) && !fresh(status, v) {
		t.Fatalf("first read: %d %+v, want 202 pending (or a summary the events already built)", status, v)
	}
	if status == http.StatusAccepted && (v.Status != "pending" || !v.Regenerating) {
		t.Errorf("202 body %+v, want pending and regenerating", v)
	}
	v, _ = q.waitSummary(t, patientID, "fresh", fresh)
	if v.Engine != "deterministic" || len(v.SourceHash) != 64 || v.Summary == nil {
		t.Fatalf("fresh summary: %+v", v)
	}
	if !hasCitation(v, "encounter/"+encounterID) || len(v.Summary.Encounters) != 1 || v.Summary.Encounters[0].EncounterID != encounterID {
		t.Errorf("summary does not show the encounter: %+v", v.Summary.Encounters)
	}
	for _, src := range v.Summary.Synopsis.Sources {
		if !hasCitation(v, src) {
			t.Errorf("synopsis cites %q, which is not among the citations", src)
		}
	}

	// Cache hit: same hash, nothing regenerating; a nurse may read too.
	for _, role := range []string{"doctor", "nurse"} {
		status, hit := q.summary(t, role, patientID, "")
		if !fresh(status, hit) || hit.Regenerating || hit.SourceHash != v.SourceHash {
			t.Errorf("%s hit: %d %+v", role, status, hit)
		}
	}

	// An encounter event (the patient is triaged) rebuilds the summary by itself.
	q.move(t, "nurse", encounterID, "triaged")
	afterEncounter := q.waitStoredHashChange(t, patientID, v.SourceHash)

	// An approved note, announced on note-events, rebuilds it again and adds its plan.
	noteID := "note-" + randomSuffix()
	seedApprovedNote(t, q, patientID, encounterID, noteID)
	publishNoteApproved(t, q, patientID, encounterID, noteID)
	q.waitStoredHashChange(t, patientID, afterEncounter)
	v, _ = q.waitSummary(t, patientID, "fresh with the note", fresh)
	if len(v.Summary.OpenItems) != 1 || v.Summary.OpenItems[0].Sources[0] != "note/"+noteID+"/v1" {
		t.Errorf("open items %+v, want the note's plan citing note/%s/v1", v.Summary.OpenItems, noteID)
	}

	// Refusals.
	for _, tc := range []struct {
		name, role, patient, query string
		status                     int
	}{
		{"receptionist", "receptionist", patientID, "", http.StatusForbidden},
		{"admin", "admin", patientID, "", http.StatusForbidden},
		{"missing patient", "doctor", "no-such-patient", "", http.StatusNotFound},
		{"bad refresh", "doctor", patientID, "?refresh=yes", http.StatusBadRequest},
	} {
		if status, _ := q.summary(t, tc.role, tc.patient, tc.query); status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, status, tc.status)
		}
	}
	other := newQueueClinic(t)
	if status, _ := other.summary(t, "doctor", patientID, ""); status != http.StatusNotFound {
		t.Errorf("another clinic's doctor: %d, want 404", status)
	}

	// Forced refreshes are limited per patient (default 3 per 10 minutes).
	var statuses []int
	for range 4 {
		status, _ := q.summary(t, "doctor", patientID, "?refresh=true")
		statuses = append(statuses, status)
	}
	if want := []int{200, 200, 200, 429}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("refresh statuses %v, want %v", statuses, want)
	}
}

func seedApprovedNote(t *testing.T, q *queueClinic, patientID, encounterID, noteID string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	content := notes.Content{
		Subjective: []notes.Sentence{}, Objective: []notes.Sentence{}, Assessment: []notes.Sentence{},
		Plan: []notes.Sentence{{ID: "p1", Text: "Review in clinic in two weeks.", Evidence: []string{}}},
	}
	approval := &notes.Approval{SignerUID: "doctor", SignedAt: now, SHA256: notes.CanonicalHash(noteID, 1, content)}
	ref := q.fs.Collection("clinics").Doc(q.id).Collection(notes.CollectionNotes).Doc(noteID)
	if _, err := ref.Set(ctx, notes.Note{ID: noteID, ClinicID: q.id, EncounterID: encounterID, PatientID: patientID,
		Status: notes.StatusApproved, CurrentVersion: 1, ApprovedVersion: 1, Approval: approval, ApprovedAt: now,
		Engine: "deterministic", Content: content, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Collection(notes.CollectionVersions).Doc("1").Set(ctx, notes.Version{Number: 1, Kind: notes.KindDraft,
		Content: content, AuthorUID: "doctor", AuthorRole: "doctor", SHA256: approval.SHA256, Approval: approval, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

func publishNoteApproved(t *testing.T, q *queueClinic, patientID, encounterID, noteID string) {
	t.Helper()
	ctx := context.Background()
	env, err := events.NewEnvelope(ctx, notes.TypeNoteApproved, 1, q.id, notes.EventData{NoteID: noteID,
		EncounterID: encounterID, PatientID: patientID, Version: 1, Status: notes.StatusApproved})
	if err != nil {
		t.Fatal(err)
	}
	pub := events.NewPubSubPublisher(q.ps)
	defer pub.Close()
	if _, err := pub.Publish(ctx, notes.DefaultTopic, env, noteID); err != nil {
		t.Fatal(err)
	}
}

// TestSummaryLatency measures (MEDI_MEASURE=1) the cache-hit latency through the gateway
// and the miss -> ready time with the deterministic engine. It logs, never asserts.
func TestSummaryLatency(t *testing.T) {
	if os.Getenv("MEDI_MEASURE") == "" {
		t.Skip("set MEDI_MEASURE=1 to measure")
	}
	q := newQueueClinic(t)
	var ready []time.Duration
	var patientID string
	for range 5 {
		_, patientID = q.checkIn(t)
		_, took := q.waitSummary(t, patientID, "fresh", fresh)
		ready = append(ready, took)
	}
	var hits []time.Duration
	for range 200 {
		start := time.Now()
		if status, v := q.summary(t, "doctor", patientID, ""); !fresh(status, v) {
			t.Fatalf("not a hit: %d %+v", status, v)
		}
		hits = append(hits, time.Since(start))
	}
	slices.Sort(hits)
	slices.Sort(ready)
	pct := func(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p)] }
	t.Logf("cache hit (n=%d): p50 %v p99 %v", len(hits), pct(hits, 0.50), pct(hits, 0.99))
	t.Logf("miss -> ready, deterministic (n=%d): min %v median %v max %v", len(ready), ready[0], pct(ready, 0.5), ready[len(ready)-1])
}

// TestModelUsageReport: the admin's chart of the clinic's model spend, against the
// contract; other roles are refused (the matrix covers every role and clinic).
func TestModelUsageReport(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	admin := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "admin", "clinicId": "clinic-usage-e2e"}))
	resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/summaries/usage?months=3", Token: admin})
	var rep struct {
		ClinicID         string  `json:"clinicId"`
		MonthlyBudgetUSD float64 `json:"monthlyBudgetUsd"`
		Months           []struct {
			Month   string  `json:"month"`
			Calls   int     `json:"calls"`
			CostUSD float64 `json:"costUsd"`
		} `json:"months"`
	}
	resp.Decode(t, &rep)
	if resp.Status != http.StatusOK || rep.ClinicID != "clinic-usage-e2e" || len(rep.Months) != 3 {
		t.Fatalf("usage: %d %s", resp.Status, resp.Body)
	}
	if got, want := rep.Months[2].Month, time.Now().UTC().Format("2006-01"); got != want {
		t.Errorf("last month %s, want the current one %s", got, want)
	}
	if rep.MonthlyBudgetUSD <= 0 {
		t.Errorf("budget %v, want the deployment's default", rep.MonthlyBudgetUSD)
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/summaries/usage?months=25", Token: admin}); resp.Status != http.StatusBadRequest {
		t.Errorf("months=25: %d, want 400", resp.Status)
	}
}
