package scribe_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/scribe"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/notes/fhirtest"
	"github.com/medi-os/medi/shared/testenv"
)

type server struct {
	t      *testing.T
	h      http.Handler
	fs     *firestore.Client
	clinic string
	tokens map[string]string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newServer(t *testing.T) *server {
	t.Helper()
	return newServerWith(t, nil)
}

// newServerWith builds the function with the test configuration changed by edit.
func newServerWith(t *testing.T, edit func(*scribe.Config)) *server {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	cfg := &scribe.Config{
		Base:            config.Base{ProjectID: project, Tier: config.Dev, Version: "test", AuthProjectID: testenv.AuthProject()},
		UploadsBucket:   "uploads-test",
		NoteEventsTopic: notes.DefaultTopic,
		FreshAuthMaxAge: 10 * time.Minute,
	}
	if edit != nil {
		edit(cfg)
	}
	h, err := scribe.Function.Handler(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: fmt.Sprintf("projects/%s/topics/%s", project, notes.DefaultTopic)}); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, h: h, fs: fs, clinic: "clinic-" + randomHex(4), tokens: map[string]string{}}
	for _, role := range []string{"nurse", "doctor", "receptionist"} {
		st := testenv.NewStaff(t, map[string]any{"role": role, "clinicId": s.clinic})
		s.tokens[role] = testenv.SignIn(t, st)
		s.tokens[role+"-uid"] = st.UID
	}
	s.tokens["other-doctor"] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "other-" + s.clinic}))
	return s
}

type envelope struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Code    string          `json:"code"`
		Details json.RawMessage `json:"details"`
	} `json:"error"`
}

func (s *server) do(method, path, role string, body any) (int, envelope) {
	s.t.Helper()
	return s.doWith(method, path, role, body, nil)
}

// doWith is do with extra request headers.
func (s *server) doWith(method, path, role string, body any, header map[string]string) (int, envelope) {
	s.t.Helper()
	rec := s.raw(method, path, role, body, header)
	var env envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		s.t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
	}
	return rec.Code, env
}

// raw sends a request and returns the recorded response as is.
func (s *server) raw(method, path, role string, body any, header map[string]string) *httptest.ResponseRecorder {
	s.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens[role])
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func (s *server) draft() notes.Note {
	s.t.Helper()
	n, created, err := notes.NewStore(s.fs, nil, "").CreateDraft(context.Background(), notes.DraftInput{
		NoteID: "note-" + randomHex(4), ClinicID: s.clinic, EncounterID: "enc-1", PatientID: "pat-1", Engine: "deterministic-v1",
		Content: notes.Content{
			Subjective: []notes.Sentence{{ID: "S1", Text: "Cough for three days.", Evidence: []string{"s2"}}},
			Objective:  []notes.Sentence{{ID: "O1", Text: "Temperature 38.4 C.", Evidence: []string{"s3", "s4"}}},
			Plan:       []notes.Sentence{{ID: "P1", Text: "Amoxicillin 500 mg orally.", Evidence: []string{"s5"}}},
		},
	}, nil)
	if err != nil || !created {
		s.t.Fatal(err)
	}
	return n
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return v
}

func TestNoteLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	n := s.draft()
	base := "/v1/notes/" + n.ID

	if code, env := s.do(http.MethodGet, base, "doctor", nil); code != 200 || decode[notes.Note](t, env.Data).Status != notes.StatusDraft {
		t.Fatalf("get: %d", code)
	}
	for _, tc := range []struct {
		role, path string
		code       int
	}{
		{"receptionist", base, 403},
		{"other-doctor", base, 404},
	} {
		if code, _ := s.do(http.MethodGet, tc.path, tc.role, nil); code != tc.code {
			t.Errorf("GET as %s = %d, want %d", tc.role, code, tc.code)
		}
	}
	// Edit with a stale base version: 412. With the right one: version 2, evidence kept/dropped.
	edit := map[string]any{"baseVersion": 1, "content": map[string]any{
		"subjective": []any{map[string]any{"id": "S1", "text": "Productive cough for three days."}},
		"objective":  []any{map[string]any{"id": "O1", "text": "Temperature 38.4 C.", "evidence": []string{"s3"}}},
		"plan":       []any{map[string]any{"id": "P1", "text": "Amoxicillin 500 mg orally."}, map[string]any{"text": "Review in 48 hours."}},
	}}
	// The version condition follows the suite's If-Match rule (httpx.IfMatch): none is 428,
	// a weak tag never matches (412), and If-Match stands for baseVersion.
	unversioned := map[string]any{"content": edit["content"]}
	if code, env := s.do(http.MethodPut, base, "nurse", unversioned); code != 428 || env.Error.Code != "precondition_required" {
		t.Errorf("edit without a version = %d %+v, want 428", code, env.Error)
	}
	if code, env := s.doWith(http.MethodPut, base, "nurse", unversioned, map[string]string{"If-Match": `W/"1"`}); code != 412 {
		t.Errorf("edit with a weak If-Match = %d %+v, want 412", code, env.Error)
	}
	if code, env := s.doWith(http.MethodPut, base, "nurse", edit, map[string]string{"If-Match": `"2"`}); code != 400 {
		t.Errorf("edit with If-Match and baseVersion disagreeing = %d %+v, want 400", code, env.Error)
	}
	code, env := s.doWith(http.MethodPut, base, "nurse", unversioned, map[string]string{"If-Match": `"1"`})
	if code != 200 {
		t.Fatalf("edit: %d %+v", code, env.Error)
	}
	got := decode[notes.Note](t, env.Data)
	want := notes.Content{
		Subjective: []notes.Sentence{{ID: "S1", Text: "Productive cough for three days.", Evidence: []string{"s2"}, Edited: true}},
		Objective:  []notes.Sentence{{ID: "O1", Text: "Temperature 38.4 C.", Evidence: []string{"s3"}}},
		Assessment: []notes.Sentence{},
		Plan:       []notes.Sentence{{ID: "P1", Text: "Amoxicillin 500 mg orally.", Evidence: []string{"s5"}}, {ID: "N2", Text: "Review in 48 hours.", Evidence: []string{}, Edited: true}},
	}
	if diff := cmp.Diff(want, got.Content); diff != "" || got.CurrentVersion != 2 {
		t.Errorf("edited v%d (-want +got):\n%s", got.CurrentVersion, diff)
	}
	if code, env := s.do(http.MethodPut, base, "doctor", edit); code != 412 || env.Error.Code != "failed_precondition" {
		t.Errorf("stale edit = %d %+v", code, env.Error)
	}
	steps := []struct {
		role, action string
		body         map[string]any
		code         int
		status       notes.Status
	}{
		{"doctor", "approve", map[string]any{}, 409, ""}, // not submitted
		{"nurse", "submit", map[string]any{"baseVersion": 2}, 200, notes.StatusPendingReview},
		{"doctor", "submit", map[string]any{}, 409, ""}, // already pending
		{"nurse", "approve", map[string]any{}, 403, ""}, // nurses never approve
		{"doctor", "reject", map[string]any{}, 400, ""}, // reason required
		{"doctor", "reject", map[string]any{"reason": "plan incomplete"}, 200, notes.StatusDraft},
		{"nurse", "submit", map[string]any{}, 200, notes.StatusPendingReview},
		{"doctor", "approve", map[string]any{"baseVersion": 2}, 200, notes.StatusApproved},
		{"doctor", "approve", map[string]any{}, 409, ""},
	}
	for i, st := range steps {
		code, env := s.do(http.MethodPost, base+"/"+st.action, st.role, st.body)
		if code != st.code {
			t.Fatalf("step %d %s as %s = %d %+v, want %d", i, st.action, st.role, code, env.Error, st.code)
		}
		if st.status != "" {
			if n := decode[notes.Note](t, env.Data); n.Status != st.status {
				t.Fatalf("step %d: status %s, want %s", i, n.Status, st.status)
			}
		}
	}
	// Approved: immutable (edit 409), amend creates v3 and keeps v2 approved.
	if code, _ := s.do(http.MethodPut, base, "doctor", map[string]any{"baseVersion": 2, "content": edit["content"]}); code != 409 {
		t.Errorf("edit after approval = %d, want 409", code)
	}
	amend := map[string]any{"baseVersion": 2, "content": map[string]any{
		"subjective": []any{map[string]any{"id": "S1", "text": "Productive cough for four days."}}}}
	if code, _ := s.do(http.MethodPost, base+"/amend", "nurse", amend); code != 403 {
		t.Errorf("amend as nurse = %d, want 403", code)
	}
	code, env = s.do(http.MethodPost, base+"/amend", "doctor", amend)
	if code != 200 {
		t.Fatalf("amend: %d %+v", code, env.Error)
	}
	am := decode[notes.Note](t, env.Data)
	if am.Status != notes.StatusAmended || am.CurrentVersion != 3 || am.ApprovedVersion != 2 || am.Approval == nil {
		t.Errorf("amended note = %+v", am)
	}
	_, env = s.do(http.MethodGet, base+"/versions", "doctor", nil)
	vs := decode[struct {
		Versions []notes.Version `json:"items"`
	}](t, env.Data).Versions
	if len(vs) != 3 || vs[1].Approval == nil || vs[1].Approval.SHA256 != notes.CanonicalHash(n.ID, 2, vs[1].Content) ||
		vs[1].Approval.SignerUID != s.tokens["doctor-uid"] || vs[2].Kind != notes.KindAmendment || vs[2].Approval != nil {
		t.Errorf("versions = %+v", vs)
	}
	if code, env := s.do(http.MethodGet, base+"/versions/2", "nurse", nil); code != 200 || decode[notes.Version](t, env.Data).Number != 2 {
		t.Errorf("get version 2 = %d", code)
	}
	if code, _ := s.do(http.MethodGet, base+"/versions/9", "nurse", nil); code != 404 {
		t.Errorf("get version 9 = %d", code)
	}
	// Search by encounter and patient (POST body).
	for _, body := range []map[string]any{{"encounterId": "enc-1"}, {"patientId": "pat-1"}} {
		code, env := s.do(http.MethodPost, "/v1/notes/search", "doctor", body)
		if l := decode[struct {
			Notes []notes.Note `json:"items"`
		}](t, env.Data).Notes; code != 200 || len(l) != 1 || l[0].ID != n.ID {
			t.Errorf("search %v = %d %d notes", body, code, len(l))
		}
	}
	if code, _ := s.do(http.MethodPost, "/v1/notes/search", "doctor", map[string]any{}); code != 400 {
		t.Errorf("empty search = %d", code)
	}
	// FHIR export: the Bundle itself as application/fhir+json (no envelope), valid R4.
	rec := s.raw(http.MethodGet, base+"/fhir", "doctor", nil, nil)
	if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || ct != notes.FHIRMediaType {
		t.Fatalf("fhir = %d %s: %s", rec.Code, ct, rec.Body)
	}
	if err := fhirtest.Validate(rec.Body.Bytes()); err != nil {
		t.Errorf("the export is not valid FHIR R4: %v", err)
	}
	bundle := decode[map[string]any](t, rec.Body.Bytes())
	entries, _ := bundle["entry"].([]any)
	if bundle["resourceType"] != "Bundle" || len(entries) != 2 {
		t.Fatalf("fhir = %s", rec.Body)
	}
	comp := entries[1].(map[string]any)["resource"].(map[string]any)
	// The amendment holds a subjective part only: one section, none for the empty parts.
	if secs, _ := comp["section"].([]any); comp["resourceType"] != "Composition" || len(secs) != 1 || comp["status"] != "amended" {
		t.Errorf("composition = %v", comp)
	}
	// Every action audited.
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(audit.Collection).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, d := range docs {
		actions[d.Data()["action"].(string)+"/"+d.Data()["outcome"].(string)]++
	}
	if actions["note.approve/denied"] != 1 || actions["note.approve/success"] != 1 {
		t.Errorf("approval audit: %v, want one denied (the nurse) and one success", actions)
	}
	for _, a := range []string{"note.draft", "note.edit", "note.submit", "note.reject", "note.approve", "note.amend", "note.read", "note.export", "note.search"} {
		if actions[a+"/success"] == 0 {
			t.Errorf("no audit record for %s (have %v)", a, actions)
		}
	}
}

// TestSigningNeedsRecentSignIn: approving (signing) a note with a token whose sign-in is
// older than the window is 401 reauthentication_required, and the note stays pending;
// submitting is not a signature and is not refused.
func TestSigningNeedsRecentSignIn(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, func(c *scribe.Config) { c.FreshAuthMaxAge = time.Nanosecond })
	n := s.draft()
	base := "/v1/notes/" + n.ID
	if code, env := s.do(http.MethodPost, base+"/submit", "doctor", map[string]any{"baseVersion": 1}); code != 200 {
		t.Fatalf("submit = %d %+v", code, env.Error)
	}
	code, env := s.do(http.MethodPost, base+"/approve", "doctor", map[string]any{"baseVersion": 1})
	if code != 401 || env.Error == nil || env.Error.Code != "unauthenticated" {
		t.Fatalf("approve with an old sign-in = %d %+v, want 401 unauthenticated", code, env.Error)
	}
	var details struct{ Reason string }
	_ = json.Unmarshal(env.Error.Details, &details)
	if details.Reason != "reauthentication_required" {
		t.Errorf("details %s, want reason reauthentication_required", env.Error.Details)
	}
	if code, env := s.do(http.MethodGet, base, "doctor", nil); code != 200 || decode[notes.Note](t, env.Data).Status != notes.StatusPendingReview {
		t.Errorf("after the refused approval: %d, status %s", code, decode[notes.Note](t, env.Data).Status)
	}
}

// TestReservedPathIDsAreNotFound: ids Firestore reserves or refuses never reach it; the
// answer is the 404 of a missing note, not a backend error.
func TestReservedPathIDsAreNotFound(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/v1/notes/__x__"},
		{http.MethodGet, "/v1/notes/__name__/versions"},
		{http.MethodPost, "/v1/notes/__x__/submit"},
		{http.MethodGet, "/v1/scribe/sessions/__x__"},
	} {
		var body any
		if tc.method == http.MethodPost {
			body = map[string]any{}
		}
		if code, env := s.do(tc.method, tc.path, "doctor", body); code != 404 || env.Error == nil || env.Error.Code != "not_found" {
			t.Errorf("%s %s = %d %+v, want 404 not_found", tc.method, tc.path, code, env.Error)
		}
	}
}
