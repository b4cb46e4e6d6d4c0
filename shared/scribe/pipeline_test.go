package scribe_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

const bucket = "uploads-test"

// queue is an in-test Enqueuer with Cloud Tasks' name semantics.
type queue struct {
	mu    sync.Mutex
	names map[string]bool
	tasks []tasks.Task
	calls int
}

func (q *queue) Enqueue(_ context.Context, t tasks.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.names == nil {
		q.names = map[string]bool{}
	}
	if !q.names[t.Name] {
		q.names[t.Name] = true
		q.tasks = append(q.tasks, t)
	}
	return nil
}

// publisher records published envelopes.
type publisher struct {
	mu   sync.Mutex
	envs []events.Envelope
}

func (p *publisher) Publish(_ context.Context, _ string, e events.Envelope, _ string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.envs = append(p.envs, e)
	return "id", nil
}

type rig struct {
	t        *testing.T
	fs       *firestore.Client
	gcs      *storage.Client
	srv      *fakestorage.Server
	clinic   string
	sessions *scribe.Store
	q        *queue
	pub      *publisher
	ingester *scribe.Ingester
	worker   *scribe.Worker
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newRig(t *testing.T) *rig {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket, VersioningEnabled: true})
	// An explicit endpoint: the client must not follow a STORAGE_EMULATOR_HOST of the
	// environment (scripts/test sets the stack's), and fake-gcs answers XML reads on its
	// public host.
	gcs, err := storage.NewClient(ctx, option.WithHTTPClient(srv.HTTPClient()), option.WithEndpoint("https://storage.googleapis.com/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gcs.Close() })
	r := &rig{t: t, fs: fs, gcs: gcs, srv: srv, clinic: "clinic-" + randHex(4), sessions: scribe.NewStore(fs),
		q: &queue{}, pub: &publisher{}}
	objs := scribe.GCSObjects{Client: r.gcs}
	r.ingester = &scribe.Ingester{Sessions: r.sessions, Objects: objs, Tasks: r.q, Bucket: bucket, WorkerURL: "http://worker.test/"}
	r.worker = &scribe.Worker{Sessions: r.sessions, Notes: notes.NewStore(fs, r.pub, notes.DefaultTopic), Objects: objs}
	return r
}

// session creates an encounter and a session for it.
func (r *rig) session(contentType string, size int64) scribe.Session {
	r.t.Helper()
	ctx := context.Background()
	enc := "enc-" + randHex(4)
	if _, err := r.fs.Collection("clinics").Doc(r.clinic).Collection("encounters").Doc(enc).Set(ctx,
		map[string]any{"patientId": "pat-1", "status": "in_consultation"}); err != nil {
		r.t.Fatal(err)
	}
	f, _ := scribe.FormatOf(contentType)
	s, err := r.sessions.Create(ctx, scribe.Session{ID: "sess-" + randHex(6), ClinicID: r.clinic, EncounterID: enc,
		CreatedBy: "u1", ContentType: contentType, Format: f.Name, Kind: f.Kind, SizeBytes: size, Bucket: bucket})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// upload stores content at the session's object and returns the finalize event's object.
func (r *rig) upload(s scribe.Session, contentType string, content []byte) events.StorageObject {
	r.t.Helper()
	ctx := context.Background()
	w := r.gcs.Bucket(bucket).Object(s.Object).NewWriter(ctx)
	w.ContentType = contentType
	if _, err := w.Write(content); err != nil {
		r.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	a := w.Attrs()
	return events.StorageObject{Bucket: bucket, Name: s.Object, Generation: a.Generation, Size: a.Size, ContentType: a.ContentType}
}

func (r *rig) get(id string) scribe.Session {
	r.t.Helper()
	s, err := r.sessions.Get(context.Background(), r.clinic, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// runTasks runs every enqueued task's job through the worker (twice: a redelivery).
func (r *rig) runTasks() {
	r.t.Helper()
	for _, tk := range r.q.tasks {
		var job scribe.Job
		if err := jsonUnmarshal(tk.Body, &job); err != nil {
			r.t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := r.worker.Run(context.Background(), job); err != nil {
				r.t.Fatalf("worker: %v", err)
			}
		}
	}
}

const transcript = "Doctor: What brings you in today?\nPatient: I've had a cough and fever for three days.\n" +
	"Nurse: BP 142/90, temp 38.4, sats 93 %.\nDoctor: I think this is likely a chest infection.\n" +
	"Doctor: I'll prescribe amoxicillin 500 mg orally three times a day.\n"

func TestPipelineTranscriptToDraft(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	s := r.session("text/plain", int64(len(transcript)))
	if s.Status != scribe.StatusAwaitingUpload || s.PatientID != "pat-1" || s.Object != "uploads/"+r.clinic+"/"+s.ID {
		t.Fatalf("created session = %+v", s)
	}
	obj := r.upload(s, "text/plain", []byte(transcript))
	// The same finalize event delivered three times enqueues one task.
	for i := 0; i < 3; i++ {
		if err := r.ingester.Ingest(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.q.tasks) != 1 {
		t.Fatalf("%d tasks created, want 1", len(r.q.tasks))
	}
	if got, want := r.q.tasks[0].Name, tasks.TaskID(bucket, obj.Name, fmt.Sprint(obj.Generation)); got != want {
		t.Errorf("task name %q, want %q", got, want)
	}
	if strings.Contains(string(r.q.tasks[0].Body), "cough") {
		t.Error("task body carries transcript text")
	}
	up := r.get(s.ID)
	if up.Status != scribe.StatusUploaded || up.Generation != obj.Generation || up.Timings.UploadedAt.IsZero() {
		t.Fatalf("after ingest: %+v", up)
	}
	r.runTasks()
	// A late duplicate of the finalize event after the draft: nothing is enqueued.
	calls := r.q.calls
	if err := r.ingester.Ingest(ctx, obj); err != nil || r.q.calls != calls {
		t.Errorf("late duplicate: err %v, %d enqueue calls (had %d)", err, r.q.calls, calls)
	}
	done := r.get(s.ID)
	if done.Status != scribe.StatusDrafted || done.NoteID != s.ID || done.Engine != notedraft.Engine || done.FallbackReason != "" {
		t.Fatalf("after worker: %+v", done)
	}
	for name, ts := range map[string]bool{"transcribing": done.Timings.TranscribingAt.IsZero(),
		"drafting": done.Timings.DraftingAt.IsZero(), "drafted": done.Timings.DraftedAt.IsZero()} {
		if ts {
			t.Errorf("timing %s not recorded", name)
		}
	}
	ns := notes.NewStore(r.fs, nil, "")
	n, err := ns.Get(ctx, r.clinic, done.NoteID)
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
	vs, err := ns.Versions(ctx, r.clinic, n.ID)
	if err != nil || len(vs) != 1 || vs[0].Kind != notes.KindDraft || vs[0].SHA256 != notes.CanonicalHash(n.ID, 1, n.Content) {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	// Two worker runs: one note, note.drafted published with one event id.
	ids := map[string]bool{}
	for _, e := range r.pub.envs {
		if e.Type != notes.TypeNoteDrafted {
			t.Errorf("published %s", e.Type)
		}
		ids[e.EventID] = true
	}
	if len(ids) != 1 {
		t.Errorf("note.drafted event ids = %v, want one", ids)
	}
	tr, err := r.sessions.Transcript(ctx, r.clinic, s.ID)
	if err != nil || len(tr.Segments) != 5 {
		t.Errorf("stored transcript: %d segments, %v", len(tr.Segments), err)
	}
	// Audit: session create and note draft, by the system.
	docs, err := r.fs.Collection("clinics").Doc(r.clinic).Collection(audit.Collection).Documents(ctx).GetAll()
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
	r := newRig(t)
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
		{"oversized", "text/plain", 10, "text/plain", []byte(transcript), scribe.FailTooLarge, true},
		{"corrupt audio", "audio/wav", 1000, "audio/wav", []byte("definitely not audio"), scribe.FailUnrecognized, true},
		{"wrong type", "text/vtt", 1000, "text/plain", []byte(transcript), scribe.FailContentType, true},
		{"audio without speech provider", "audio/wav", 1000, "audio/wav", wav, scribe.FailNoSpeechProvider, false},
		{"broken json transcript", "application/json", 1000, "application/json", []byte(`{"segments": [ {"text": 1}`), scribe.FailTranscript, false},
		{"only small talk", "text/plain", 1000, "text/plain", []byte("Doctor: Hello.\nPatient: Hi."), scribe.FailDraft, false},
	} {
		s := r.session(tc.sessionType, tc.declared)
		before := len(r.q.tasks)
		if err := r.ingester.Ingest(ctx, r.upload(s, tc.uploadType, tc.content)); err != nil {
			t.Fatalf("%s: ingest: %v", tc.name, err)
		}
		if got := len(r.q.tasks) - before; (got == 0) != tc.atIngest {
			t.Errorf("%s: %d tasks enqueued", tc.name, got)
		}
		if !tc.atIngest {
			r.runTasks()
		}
		got := r.get(s.ID)
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
	r := newRig(t)
	for _, obj := range []events.StorageObject{
		{Bucket: "other", Name: "uploads/c/s", Generation: 1},
		{Bucket: bucket, Name: "avatars/x.png", Generation: 1},
		{Bucket: bucket, Name: "uploads/" + r.clinic + "/no-such-session", Generation: 1},
	} {
		if err := r.ingester.Ingest(context.Background(), obj); !events.IsPermanent(err) {
			t.Errorf("Ingest(%s/%s) = %v, want a permanent error", obj.Bucket, obj.Name, err)
		}
	}
	if r.q.calls != 0 {
		t.Errorf("%d enqueues", r.q.calls)
	}
}

func TestSignUploadURL(t *testing.T) {
	t.Parallel()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0, PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	signer, err := scribe.DevSigner(srv.Client(), "http://127.0.0.1:4443")
	if err != nil {
		t.Fatal(err)
	}
	up, err := signer.SignUpload(context.Background(), bucket, "uploads/c1/s1", "text/vtt", 1234, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"X-Goog-Algorithm=GOOG4-RSA-SHA256", "X-Goog-Signature=", "content-type%3Bhost%3Bx-goog-content-length-range",
		"/" + bucket + "/uploads/c1/s1"} {
		if !strings.Contains(up.URL, want) {
			t.Errorf("URL %s lacks %s", up.URL, want)
		}
	}
	if diff := cmp.Diff(map[string]string{"Content-Type": "text/vtt", "x-goog-content-length-range": "0,1234"}, up.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if up.Method != http.MethodPut || !up.Expires.Equal(testNow.Add(15*60e9)) {
		t.Errorf("method %s expires %v", up.Method, up.Expires)
	}
}
