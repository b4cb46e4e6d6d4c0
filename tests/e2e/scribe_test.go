package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/notes/fhirtest"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
	"github.com/medi-os/medi/tests/fixtures"
)

// scribeClinic is a fresh clinic with a doctor, a nurse and an encounter in consultation.
type scribeClinic struct {
	c                   *apitest.Client
	doctor, nurse       string
	clinic, encounterID string
}

func newScribeClinic(t *testing.T) scribeClinic {
	t.Helper()
	c := apitest.StackClient(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	sc := scribeClinic{c: c, clinic: "clinic-scribe-" + hex.EncodeToString(b), encounterID: "enc-" + hex.EncodeToString(b)}
	sc.doctor = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": sc.clinic}))
	sc.nurse = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": sc.clinic}))
	// Fixture: the encounter as the queue function stores it (checking in is covered by
	// the queue's own tests).
	project := os.Getenv("MEDI_STACK_PROJECT")
	if project == "" {
		t.Fatal("MEDI_STACK_PROJECT is not set: run with scripts/test")
	}
	fs, err := firestore.NewClient(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	if _, err := fs.Collection("clinics").Doc(sc.clinic).Collection("encounters").Doc(sc.encounterID).Set(context.Background(),
		map[string]any{"patientId": "pat-" + hex.EncodeToString(b), "status": "in_consultation"}); err != nil {
		t.Fatal(err)
	}
	return sc
}

type signedUpload struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
}

type sessionView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Object  string `json:"object"`
	NoteID  string `json:"noteId"`
	Failure *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"failure"`
}

// upload creates a session as the nurse and PUTs content to its signed URL.
func (sc scribeClinic) upload(t *testing.T, contentType string, declared int, content []byte) sessionView {
	t.Helper()
	resp := sc.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/scribe/sessions", Token: sc.nurse,
		Body: map[string]any{"encounterId": sc.encounterID, "contentType": contentType, "sizeBytes": declared}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create session: %d %s", resp.Status, resp.Body)
	}
	var created struct {
		Session sessionView  `json:"session"`
		Upload  signedUpload `json:"upload"`
	}
	resp.Decode(t, &created)
	req, err := http.NewRequest(created.Upload.Method, created.Upload.URL, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range created.Upload.Headers {
		req.Header.Set(k, v)
	}
	put, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	put.Body.Close()
	if put.StatusCode/100 != 2 {
		t.Fatalf("PUT to the signed URL: %d", put.StatusCode)
	}
	return created.Session
}

// waitSession polls the session until it reaches a final status.
func (sc scribeClinic) waitSession(t *testing.T, id string) sessionView {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		resp := sc.c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/scribe/sessions/" + id, Token: sc.doctor})
		var s sessionView
		resp.Decode(t, &s)
		if s.Status == "drafted" || s.Status == "failed" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("session still %s after 45 s", s.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type noteView struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	CurrentVersion int    `json:"currentVersion"`
	Content        map[string][]struct {
		ID       string   `json:"id"`
		Text     string   `json:"text"`
		Evidence []string `json:"evidence"`
		Spans    []struct {
			SegmentID  string `json:"segmentId"`
			Start, End int
			Quote      string `json:"quote"`
		} `json:"spans"`
	} `json:"content"`
}

func TestScribeTranscriptToApprovedNote(t *testing.T) {
	t.Parallel()
	sc := newScribeClinic(t)
	sess := sc.upload(t, "text/vtt", len(fixtures.ConsultationVTT), []byte(fixtures.ConsultationVTT))
	done := sc.waitSession(t, sess.ID)
	if done.Status != "drafted" || done.NoteID == "" {
		t.Fatalf("session = %+v", done)
	}
	resp := sc.c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/notes/" + done.NoteID, Token: sc.doctor})
	var n noteView
	resp.Decode(t, &n)
	if resp.Status != http.StatusOK || n.Status != "draft" || n.CurrentVersion != 1 {
		t.Fatalf("note: %d %+v", resp.Status, n)
	}
	total := 0
	var all strings.Builder
	for sec, ss := range n.Content {
		for _, s := range ss {
			total++
			all.WriteString(s.Text + "\n")
			if len(s.Evidence) == 0 || len(s.Spans) == 0 {
				t.Errorf("%s sentence %q has no evidence spans", sec, s.ID)
			}
		}
	}
	if total < 6 || len(n.Content["plan"]) == 0 || len(n.Content["objective"]) < 2 || len(n.Content["assessment"]) == 0 {
		t.Fatalf("draft too thin: %+v", n.Content)
	}
	// The facts a doctor checks first: vitals with units (38.4 is Celsius), the allergy
	// (never a medication), the prescription with its dose.
	for _, want := range []string{"blood pressure 142/90 mmHg", "temperature 38.4 °C", "Allergies: penicillin", "clarithromycin 500 mg"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("draft lacks %q:\n%s", want, all.String())
		}
	}
	// The doctor reads the transcript the spans point into.
	tresp := sc.c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/scribe/sessions/" + sess.ID + "/transcript", Token: sc.doctor})
	var tr struct {
		Segments []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"segments"`
	}
	tresp.Decode(t, &tr)
	if tresp.Status != http.StatusOK || len(tr.Segments) != 6 {
		t.Fatalf("transcript: %d, %d segments", tresp.Status, len(tr.Segments))
	}
	seg := map[string]string{}
	for _, sg := range tr.Segments {
		seg[sg.ID] = sg.Text
	}
	for _, ss := range n.Content {
		for _, s := range ss {
			for _, sp := range s.Spans {
				rs := []rune(seg[sp.SegmentID])
				if sp.Start < 0 || sp.End > len(rs) || sp.Start >= sp.End || string(rs[sp.Start:sp.End]) != sp.Quote {
					t.Errorf("span %+v of %q is not in the transcript", sp, s.Text)
				}
			}
		}
	}

	// Duplicate finalize events (the bridge already delivered one) produce nothing new.
	ingest := testenv.FunctionURL(t, "scribe-ingest")
	for i := 0; i < 2; i++ {
		deliverFinalize(t, ingest, sess.Object)
	}
	time.Sleep(time.Second)
	resp = sc.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/notes/search", Token: sc.doctor,
		Body: map[string]any{"encounterId": sc.encounterID}})
	var list struct {
		Notes []noteView `json:"items"`
	}
	resp.Decode(t, &list)
	if len(list.Notes) != 1 || list.Notes[0].CurrentVersion != 1 {
		t.Fatalf("after duplicate finalize events: %d notes", len(list.Notes))
	}

	// Edit (keep the first subjective sentence's links), submit, approve.
	first := n.Content["subjective"][0]
	edit := map[string]any{"baseVersion": 1, "content": map[string]any{
		"subjective": []any{map[string]any{"id": first.ID, "text": "Cough and fever for three days."}},
		"objective":  n.Content["objective"], "assessment": n.Content["assessment"], "plan": n.Content["plan"],
	}}
	path := "/v1/notes/" + n.ID
	for _, step := range []struct {
		method, path, token string
		body                any
		status              int
	}{
		{http.MethodPut, path, sc.doctor, edit, http.StatusOK},
		{http.MethodPut, path, sc.doctor, edit, http.StatusPreconditionFailed},
		{http.MethodPost, path + "/submit", sc.doctor, map[string]any{"baseVersion": 2}, http.StatusOK},
		{http.MethodPost, path + "/approve", sc.nurse, map[string]any{}, http.StatusForbidden},
		{http.MethodPost, path + "/approve", sc.doctor, map[string]any{"baseVersion": 2}, http.StatusOK},
		{http.MethodPut, path, sc.doctor, map[string]any{"baseVersion": 2, "content": edit["content"]}, http.StatusConflict},
		{http.MethodPost, path + "/amend", sc.doctor, map[string]any{"baseVersion": 2, "content": edit["content"]}, http.StatusOK},
		{http.MethodGet, path + "/versions", sc.doctor, nil, http.StatusOK},
		{http.MethodGet, path + "/versions/2", sc.nurse, nil, http.StatusOK},
		{http.MethodGet, path + "/fhir", sc.doctor, nil, http.StatusOK},
	} {
		r := sc.c.Do(t, apitest.Request{Method: step.method, Path: step.path, Token: step.token, Body: step.body})
		if r.Status != step.status {
			t.Fatalf("%s %s: %d %s, want %d", step.method, step.path, r.Status, r.Body, step.status)
		}
	}
	// The export is the FHIR Bundle itself, as application/fhir+json, and valid R4.
	resp = sc.c.Do(t, apitest.Request{Method: http.MethodGet, Path: path + "/fhir", Token: sc.doctor})
	if ct := resp.Header.Get("Content-Type"); ct != notes.FHIRMediaType {
		t.Errorf("FHIR export Content-Type %q, want %s", ct, notes.FHIRMediaType)
	}
	if err := fhirtest.Validate(resp.Body); err != nil {
		t.Errorf("the FHIR export is not valid R4: %v\n%s", err, resp.Body)
	}
	resp = sc.c.Do(t, apitest.Request{Method: http.MethodGet, Path: path + "/versions/2", Token: sc.doctor})
	var v2 struct {
		Approval *struct{ SHA256 string } `json:"approval"`
		Content  struct {
			Subjective []struct{ Evidence []string } `json:"subjective"`
		} `json:"content"`
	}
	resp.Decode(t, &v2)
	if v2.Approval == nil || len(v2.Approval.SHA256) != 64 {
		t.Errorf("approved version lacks its signature: %s", resp.Body)
	}
	if len(v2.Content.Subjective) != 1 || fmt.Sprint(v2.Content.Subjective[0].Evidence) != fmt.Sprint(first.Evidence) {
		t.Errorf("edited sentence's evidence %v, want kept %v", v2.Content.Subjective, first.Evidence)
	}
}

func TestScribeRefusedUploadsFailWithReason(t *testing.T) {
	t.Parallel()
	sc := newScribeClinic(t)
	for _, tc := range []struct {
		name, contentType string
		declared          int
		content           []byte
		code              string
	}{
		{"corrupt audio", "audio/wav", 1000, []byte("this is not a wav file at all"), "unrecognized_content"},
		{"oversized transcript", "text/plain", 10, []byte("Doctor: this transcript is longer than declared."), "upload_too_large"},
		{"audio without speech provider", "audio/wav", 1000, append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 64)...), "speech_not_configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sess := sc.upload(t, tc.contentType, tc.declared, tc.content)
			got := sc.waitSession(t, sess.ID)
			if got.Status != "failed" || got.Failure == nil || got.Failure.Code != tc.code || got.Failure.Message == "" {
				t.Errorf("session = %+v, want failed %s", got, tc.code)
			}
		})
	}
	// Invalid requests.
	for _, body := range []map[string]any{
		{"encounterId": sc.encounterID, "contentType": "video/mp4", "sizeBytes": 10},
		{"encounterId": sc.encounterID, "contentType": "text/plain", "sizeBytes": 3 << 20},
	} {
		if r := sc.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/scribe/sessions", Token: sc.doctor, Body: body}); r.Status != http.StatusBadRequest {
			t.Errorf("create %v = %d", body, r.Status)
		}
	}
	if r := sc.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/scribe/sessions", Token: sc.doctor,
		Body: map[string]any{"encounterId": "no-such-encounter", "contentType": "text/plain", "sizeBytes": 10}}); r.Status != http.StatusNotFound {
		t.Errorf("unknown encounter = %d", r.Status)
	}
}

// deliverFinalize posts a finalize CloudEvent for object (as Eventarc would redeliver).
func deliverFinalize(t *testing.T, url, object string) {
	t.Helper()
	bucket := os.Getenv("MEDI_UPLOADS_BUCKET")
	meta := objectMeta(t, bucket, object)
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(meta))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Id", "dup-"+hex.EncodeToString(meta[:4]))
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Type", "google.cloud.storage.object.v1.finalized")
	req.Header.Set("Ce-Source", "//storage.googleapis.com/projects/_/buckets/"+bucket)
	req.Header.Set("Ce-Subject", "objects/"+object)
	req.Header.Set("Ce-Time", time.Now().UTC().Format(time.RFC3339Nano))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("finalize delivery: %d", resp.StatusCode)
	}
}

// objectMeta reads the object's JSON API resource from fake-gcs-server.
func objectMeta(t *testing.T, bucket, object string) []byte {
	t.Helper()
	host := os.Getenv("STORAGE_EMULATOR_HOST")
	resp, err := http.Get(host + "/storage/v1/b/" + bucket + "/o/" + urlPathEscape(object))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("object metadata: %d", resp.StatusCode)
	}
	return buf.Bytes()
}

func urlPathEscape(s string) string { return url.PathEscape(s) }
