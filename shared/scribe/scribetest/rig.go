// Package scribetest is the scribe pipeline's test rig: a Firestore emulator database, an
// in-process fake Cloud Storage bucket, an in-test task queue and publisher, and the real
// ingester and worker wired to them.
package scribetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/uploads"
)

// Bucket is the uploads bucket of the rig.
const Bucket = "uploads-test"

// Transcript is a short consultation the rig's tests upload.
const Transcript = "Doctor: What brings you in today?\nPatient: I've had a cough and fever for three days.\n" +
	"Nurse: BP 142/90, temp 38.4, sats 93 %.\nDoctor: I think this is likely a chest infection.\n" +
	"Doctor: I'll prescribe amoxicillin 500 mg orally three times a day.\n"

// Queue is an in-test Enqueuer with Cloud Tasks' name semantics.
type Queue struct {
	mu    sync.Mutex
	names map[string]bool
	Tasks []tasks.Task
	Calls int
}

// Enqueue implements tasks.Enqueuer.
func (q *Queue) Enqueue(_ context.Context, t tasks.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.Calls++
	if q.names == nil {
		q.names = map[string]bool{}
	}
	if !q.names[t.Name] {
		q.names[t.Name] = true
		q.Tasks = append(q.Tasks, t)
	}
	return nil
}

// Publisher records published envelopes.
type Publisher struct {
	mu   sync.Mutex
	Envs []events.Envelope
}

// Publish implements the notes store's publisher.
func (p *Publisher) Publish(_ context.Context, _ string, e events.Envelope, _ string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Envs = append(p.Envs, e)
	return "id", nil
}

// Rig is one test's pipeline.
type Rig struct {
	T        *testing.T
	FS       *firestore.Client
	GCS      *storage.Client
	Srv      *fakestorage.Server
	Clinic   string
	Sessions *scribe.Store
	Q        *Queue
	Pub      *Publisher
	Ingester *scribe.Ingester
	Worker   *scribe.Worker
}

// RandHex returns n random bytes in hex.
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewRig builds a rig (needs the Firestore emulator).
func NewRig(t *testing.T) *Rig {
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
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: Bucket, VersioningEnabled: true})
	// An explicit endpoint: the client must not follow a STORAGE_EMULATOR_HOST of the
	// environment (scripts/test sets the stack's), and fake-gcs answers XML reads on its
	// public host.
	gcs, err := storage.NewClient(ctx, option.WithHTTPClient(srv.HTTPClient()), option.WithEndpoint("https://storage.googleapis.com/storage/v1/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gcs.Close() })
	r := &Rig{T: t, FS: fs, GCS: gcs, Srv: srv, Clinic: "clinic-" + RandHex(4), Sessions: scribe.NewStore(fs),
		Q: &Queue{}, Pub: &Publisher{}}
	objs := uploads.GCS{Client: r.GCS}
	r.Ingester = &scribe.Ingester{Sessions: r.Sessions, Objects: objs, Tasks: r.Q, Bucket: Bucket, WorkerURL: "http://worker.test/"}
	r.Worker = &scribe.Worker{Sessions: r.Sessions, Notes: notes.NewStore(fs, r.Pub, notes.DefaultTopic), Objects: objs}
	return r
}

// Session creates an encounter and a session for it.
func (r *Rig) Session(contentType string, size int64) scribe.Session {
	r.T.Helper()
	ctx := context.Background()
	enc := "enc-" + RandHex(4)
	if _, err := r.FS.Collection("clinics").Doc(r.Clinic).Collection("encounters").Doc(enc).Set(ctx,
		map[string]any{"patientId": "pat-1", "status": "in_consultation"}); err != nil {
		r.T.Fatal(err)
	}
	f, _ := scribe.FormatOf(contentType)
	s, _, err := r.Sessions.Create(ctx, scribe.Session{ID: "sess-" + RandHex(6), ClinicID: r.Clinic, EncounterID: enc,
		CreatedBy: "u1", ContentType: contentType, Format: f.Name, Kind: f.Kind, SizeBytes: size, Bucket: Bucket}, commitmark.Marker{})
	if err != nil {
		r.T.Fatal(err)
	}
	return s
}

// Upload stores content at the session's object as its signed URL does (with the
// session's upload token as metadata) and returns the finalize event's object.
func (r *Rig) Upload(s scribe.Session, contentType string, content []byte) events.StorageObject {
	r.T.Helper()
	return r.UploadWithToken(s, s.UploadToken, contentType, content)
}

// UploadWithToken is Upload with the given upload token as the object's metadata
// (none when empty): an upload that did not come through the session's URL.
func (r *Rig) UploadWithToken(s scribe.Session, token, contentType string, content []byte) events.StorageObject {
	r.T.Helper()
	ctx := context.Background()
	w := r.GCS.Bucket(Bucket).Object(s.Object).NewWriter(ctx)
	w.ContentType = contentType
	if token != "" {
		w.Metadata = map[string]string{scribe.UploadTokenMetadata: token}
	}
	if _, err := w.Write(content); err != nil {
		r.T.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.T.Fatal(err)
	}
	a := w.Attrs()
	return events.StorageObject{Bucket: Bucket, Name: s.Object, Generation: a.Generation, Size: a.Size, ContentType: a.ContentType,
		Metadata: a.Metadata}
}

// Get reads a session of the rig's clinic.
func (r *Rig) Get(id string) scribe.Session {
	r.T.Helper()
	s, err := r.Sessions.Get(context.Background(), r.Clinic, id)
	if err != nil {
		r.T.Fatal(err)
	}
	return s
}

// RunTasks runs every enqueued task's job through the worker (twice: a redelivery).
func (r *Rig) RunTasks() {
	r.T.Helper()
	for _, tk := range r.Q.Tasks {
		var job scribe.Job
		if err := json.Unmarshal(tk.Body, &job); err != nil {
			r.T.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if err := r.Worker.Run(context.Background(), job); err != nil {
				r.T.Fatalf("worker: %v", err)
			}
		}
	}
}
