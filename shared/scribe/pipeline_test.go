package scribe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/scribe/scribetest"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/uploads"
)

func TestPipelineTranscriptToDraft(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	s := r.Session("text/plain", int64(len(scribetest.Transcript)))
	if s.Status != scribe.StatusAwaitingUpload || s.PatientID != "pat-1" || s.Object != "uploads/"+r.Clinic+"/"+s.ID {
		t.Fatalf("created session = %+v", s)
	}
	obj := r.Upload(s, "text/plain", []byte(scribetest.Transcript))
	// The same finalize event delivered three times enqueues one task.
	for i := 0; i < 3; i++ {
		if err := r.Ingester.Ingest(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Q.Tasks) != 1 {
		t.Fatalf("%d tasks created, want 1", len(r.Q.Tasks))
	}
	if got, want := r.Q.Tasks[0].Name, tasks.TaskID(scribetest.Bucket, obj.Name, fmt.Sprint(obj.Generation)); got != want {
		t.Errorf("task name %q, want %q", got, want)
	}
	if strings.Contains(string(r.Q.Tasks[0].Body), "cough") {
		t.Error("task body carries scribetest.Transcript text")
	}
	up := r.Get(s.ID)
	if up.Status != scribe.StatusUploaded || up.Generation != obj.Generation || up.Timings.UploadedAt.IsZero() {
		t.Fatalf("after ingest: %+v", up)
	}
	r.RunTasks()
	// A late duplicate of the finalize event after the draft: nothing is enqueued.
	calls := r.Q.Calls
	if err := r.Ingester.Ingest(ctx, obj); err != nil || r.Q.Calls != calls {
		t.Errorf("late duplicate: err %v, %d enqueue calls (had %d)", err, r.Q.Calls, calls)
	}
	done := r.Get(s.ID)
	if done.Status != scribe.StatusDrafted || done.NoteID != s.ID || done.Engine != notedraft.Engine || done.FallbackReason != "" {
		t.Fatalf("after worker: %+v", done)
	}
	for name, ts := range map[string]bool{"transcribing": done.Timings.TranscribingAt.IsZero(),
		"drafting": done.Timings.DraftingAt.IsZero(), "drafted": done.Timings.DraftedAt.IsZero()} {
		if ts {
			t.Errorf("timing %s not recorded", name)
		}
	}
	ns := notes.NewStore(r.FS, nil, "")
	n, err := ns.Get(ctx, r.Clinic, done.NoteID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != notes.StatusDraft || n.CurrentVersion != 1 || n.PatientID != "pat-1" || n.EncounterID != s.EncounterID {
		t.Errorf("note = %+v", n)
	}
	total, cited := n.Content.SentenceCount()
	if total < 5 || cited != total {
		t.Errorf("%d of %d sentences cite evidence", cited, total)
	}
	vs, err := ns.Versions(ctx, r.Clinic, n.ID)
	if err != nil || len(vs) != 1 || vs[0].Kind != notes.KindDraft || vs[0].SHA256 != notes.CanonicalHash(n.ID, 1, n.Content) {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	// Two worker runs: one note, note.drafted published with one event id.
	ids := map[string]bool{}
	for _, e := range r.Pub.Envs {
		if e.Type != notes.TypeNoteDrafted {
			t.Errorf("published %s", e.Type)
		}
		ids[e.EventID] = true
	}
	if len(ids) != 1 {
		t.Errorf("note.drafted event ids = %v, want one", ids)
	}
	tr, err := r.Sessions.Transcript(ctx, r.Clinic, s.ID)
	if err != nil || len(tr.Segments) != 5 {
		t.Errorf("stored scribetest.Transcript: %d segments, %v", len(tr.Segments), err)
	}
	// Audit: session create and note draft, by the system.
	docs, err := r.FS.Collection("clinics").Doc(r.Clinic).Collection(audit.Collection).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, d := range docs {
		actions[d.Data()["action"].(string)]++
	}
	if diff := cmp.Diff(map[string]int{"scribe.session.create": 1, "note.draft": 1}, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestPipelineFailures(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 64)...)
	for _, tc := range []struct {
		name, sessionType string
		declared          int64
		uploadType        string
		content           []byte
		want              string
		atIngest          bool
	}{
		{"oversized", "text/plain", 10, "text/plain", []byte(scribetest.Transcript), scribe.FailTooLarge, true},
		{"corrupt audio", "audio/wav", 1000, "audio/wav", []byte("definitely not audio"), scribe.FailUnrecognized, true},
		{"wrong type", "text/vtt", 1000, "text/plain", []byte(scribetest.Transcript), scribe.FailContentType, true},
		{"audio without speech provider", "audio/wav", 1000, "audio/wav", wav, scribe.FailNoSpeechProvider, false},
		{"broken json scribetest.Transcript", "application/json", 1000, "application/json", []byte(`{"segments": [ {"text": 1}`), scribe.FailTranscript, false},
		{"only small talk", "text/plain", 1000, "text/plain", []byte("Doctor: Hello.\nPatient: Hi."), scribe.FailDraft, false},
	} {
		s := r.Session(tc.sessionType, tc.declared)
		before := len(r.Q.Tasks)
		if err := r.Ingester.Ingest(ctx, r.Upload(s, tc.uploadType, tc.content)); err != nil {
			t.Fatalf("%s: ingest: %v", tc.name, err)
		}
		if got := len(r.Q.Tasks) - before; (got == 0) != tc.atIngest {
			t.Errorf("%s: %d tasks enqueued", tc.name, got)
		}
		if !tc.atIngest {
			r.RunTasks()
		}
		got := r.Get(s.ID)
		if got.Status != scribe.StatusFailed || got.Failure == nil || got.Failure.Code != tc.want || got.Failure.Message == "" {
			t.Errorf("%s: session %s %+v, want failed %s", tc.name, got.Status, got.Failure, tc.want)
		}
		if strings.Contains(fmt.Sprint(got.Failure), "cough") {
			t.Errorf("%s: failure message carries upload content", tc.name)
		}
	}
}

func TestIngestIgnoresForeignObjects(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	for _, obj := range []events.StorageObject{
		{Bucket: "other", Name: "uploads/c/s", Generation: 1},
		{Bucket: scribetest.Bucket, Name: "avatars/x.png", Generation: 1},
		{Bucket: scribetest.Bucket, Name: "uploads/" + r.Clinic + "/no-such-session", Generation: 1},
	} {
		if err := r.Ingester.Ingest(context.Background(), obj); !events.IsPermanent(err) {
			t.Errorf("Ingest(%s/%s) = %v, want a permanent error", obj.Bucket, obj.Name, err)
		}
	}
	if r.Q.Calls != 0 {
		t.Errorf("%d enqueues", r.Q.Calls)
	}
}

func TestSignUploadURL(t *testing.T) {
	t.Parallel()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0, PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: scribetest.Bucket})
	signer, err := uploads.DevSigner(srv.Client(), "http://127.0.0.1:4443")
	if err != nil {
		t.Fatal(err)
	}
	up, err := signer.SignUpload(context.Background(), scribetest.Bucket, "uploads/c1/s1", "text/vtt", 1234,
		map[string]string{scribe.UploadTokenMetadata: "tok-1"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"X-Goog-Algorithm=GOOG4-RSA-SHA256", "X-Goog-Signature=", "content-type%3Bhost%3Bx-goog-content-length-range%3Bx-goog-meta-medi-upload-token",
		"/" + scribetest.Bucket + "/uploads/c1/s1"} {
		if !strings.Contains(up.URL, want) {
			t.Errorf("URL %s lacks %s", up.URL, want)
		}
	}
	if strings.Contains(up.URL, "tok-1") {
		t.Errorf("URL %s carries the upload token: a leaked URL alone would write the object", up.URL)
	}
	if diff := cmp.Diff(map[string]string{"Content-Type": "text/vtt", "x-goog-content-length-range": "0,1234",
		"x-goog-meta-medi-upload-token": "tok-1"}, up.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if up.Method != http.MethodPut || !up.Expires.Equal(testNow.Add(15*60e9)) {
		t.Errorf("method %s expires %v", up.Method, up.Expires)
	}
}

// An object under a session's name that did not come through that session's signed URL
// (no upload token: a direct write or a leaked URL without its headers; another
// session's token, e.g. another clinic's URL misissued for this name) is never read into
// the session: no task, the session still awaits its upload, the attempt audited as
// denied in the session's clinic and that object generation deleted. The session's own
// upload then goes through. Before the fix the object name alone decided.
func TestIngestRefusesAnUploadNotBoundToItsSession(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	s := r.Session("text/plain", int64(len(scribetest.Transcript)))
	other := r.Session("text/plain", int64(len(scribetest.Transcript))) // its token is not s's
	if s.UploadToken == "" || other.UploadToken == s.UploadToken {
		t.Fatalf("sessions' upload tokens %q and %q: each session needs its own", s.UploadToken, other.UploadToken)
	}
	for name, token := range map[string]string{"no token": "", "another session's token": other.UploadToken} {
		obj := r.UploadWithToken(s, token, "text/plain", []byte(scribetest.Transcript))
		if err := r.Ingester.Ingest(ctx, obj); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(r.Q.Tasks) != 0 {
			t.Fatalf("%s: %d tasks enqueued for an object not bound to the session", name, len(r.Q.Tasks))
		}
		if got := r.Get(s.ID); got.Status != scribe.StatusAwaitingUpload || got.Generation != 0 {
			t.Errorf("%s: session %s generation %d, want still awaiting its upload", name, got.Status, got.Generation)
		}
		if _, err := r.GCS.Bucket(scribetest.Bucket).Object(obj.Name).Generation(obj.Generation).Attrs(ctx); err == nil {
			t.Errorf("%s: the refused object generation is still stored", name)
		}
	}
	docs, err := r.FS.Collection("clinics").Doc(r.Clinic).Collection(audit.Collection).
		Where("action", "==", scribe.ActionUploadRefused).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("%d refusals audited, want 2", len(docs))
	}
	var rec audit.Record
	if err := docs[0].DataTo(&rec); err != nil {
		t.Fatal(err)
	}
	if rec.Outcome != audit.OutcomeDenied || rec.ResourceID != s.ID || rec.PatientID != "pat-1" {
		t.Errorf("refusal audited as %+v", rec)
	}

	// The session's own upload (its token) is accepted.
	if err := r.Ingester.Ingest(ctx, r.Upload(s, "text/plain", []byte(scribetest.Transcript))); err != nil {
		t.Fatal(err)
	}
	if got := r.Get(s.ID); got.Status != scribe.StatusUploaded || len(r.Q.Tasks) != 1 {
		t.Errorf("own upload: session %s, %d tasks; want uploaded and one task", got.Status, len(r.Q.Tasks))
	}
}

// The upload token never leaves the server as a field of the session (API answers, task
// bodies): the client gets it only as a header of its signed upload.
func TestUploadTokenIsNotASessionField(t *testing.T) {
	t.Parallel()
	s := scribe.Session{ID: "s1", UploadToken: "secret-token"}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "secret-token") {
		t.Errorf("session JSON carries the upload token: %s", b)
	}
	if s.UploadBound(map[string]string{scribe.UploadTokenMetadata: "secret-token"}) != true ||
		s.UploadBound(map[string]string{scribe.UploadTokenMetadata: "secret-tokeN"}) ||
		(scribe.Session{}).UploadBound(map[string]string{scribe.UploadTokenMetadata: ""}) {
		t.Error("UploadBound does not compare the token exactly (or binds a session without one)")
	}
}
