package scribeingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/scribeingest"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Eventarc delivers at least once: every finalized event below is delivered three
// times, all at once, in a shuffled order, to three instances of the function. The
// sessions and the scribe tasks (by name: Cloud Tasks creates one task per name) must be
// what a single delivery of each event leaves: one task per accepted upload.

const ingestTranscript = "Doctor: What brings you in today?\nPatient: A cough for three days.\n"

// taskRecorder is the scribe-worker as the local task dispatcher sees it.
type taskRecorder struct {
	mu    sync.Mutex
	names map[string]string // task name -> body
}

func (tr *taskRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	tr.mu.Lock()
	tr.names[r.Header.Get(tasks.HeaderTaskName)] = string(b)
	tr.mu.Unlock()
}

// await waits until n distinct tasks arrived (the dispatcher delivers asynchronously).
func (tr *taskRecorder) await(n int) map[string]string {
	deadline := time.Now().Add(30 * time.Second)
	for {
		tr.mu.Lock()
		got := len(tr.names)
		tr.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return maps.Clone(tr.names)
}

// ingestRig is one project, one bucket of the shared fake GCS server, a recorder
// standing in for the worker and instances of the function.
type ingestRig struct {
	t         *testing.T
	fs        *firestore.Client
	srv       *fakestorage.Server
	bucket    string
	sessions  *scribe.Store
	tasks     *taskRecorder
	instances []func(context.Context, event.Event) error
}

func newIngestRig(t *testing.T, srv *fakestorage.Server, bucket string, instances int) *ingestRig {
	t.Helper()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket, VersioningEnabled: true})
	rec := &taskRecorder{names: map[string]string{}}
	worker := httptest.NewServer(rec)
	t.Cleanup(worker.Close)
	t.Setenv("MEDI_FUNCTION_URL_SCRIBE_WORKER", worker.URL) // read on the first event
	r := &ingestRig{t: t, fs: fs, srv: srv, bucket: bucket, sessions: scribe.NewStore(fs), tasks: rec}
	for range instances {
		h, err := scribeingest.Function.Handler(ctx, &scribeingest.Config{
			Base:          config.Base{ProjectID: project, Tier: config.Dev, Version: "test"},
			TasksConfig:   app.TasksConfig{DevSecret: "s3cret"},
			UploadsBucket: bucket,
		})
		if err != nil {
			t.Fatal(err)
		}
		r.instances = append(r.instances, h)
	}
	return r
}

// upload creates a session declaring declared bytes, uploads content to its object and
// returns the finalized CloudEvent (one event id for all its deliveries).
func (r *ingestRig) upload(clinic, id string, declared int64, content string) event.Event {
	r.t.Helper()
	ctx := context.Background()
	enc := "enc-" + id
	if _, err := r.fs.Collection("clinics").Doc(clinic).Collection("encounters").Doc(enc).Set(ctx,
		map[string]any{"patientId": "pat-" + id, "status": "in_consultation"}); err != nil {
		r.t.Fatal(err)
	}
	f, _ := scribe.FormatOf("text/plain")
	s, _, err := r.sessions.Create(ctx, scribe.Session{ID: id, ClinicID: clinic, EncounterID: enc, CreatedBy: "u1",
		ContentType: "text/plain", Format: f.Name, Kind: f.Kind, SizeBytes: declared, Bucket: r.bucket}, commitmark.Marker{})
	if err != nil {
		r.t.Fatal(err)
	}
	w := r.srv.Client().Bucket(r.bucket).Object(s.Object).NewWriter(ctx)
	w.ContentType = "text/plain"
	w.Metadata = map[string]string{scribe.UploadTokenMetadata: s.UploadToken} // as the session's signed URL makes it
	if _, err := io.WriteString(w, content); err != nil {
		r.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	a := w.Attrs()
	ce := event.New()
	ce.SetID(fmt.Sprintf("%s-%d", id, a.Generation))
	ce.SetType(events.CloudEventStorageFinalized)
	ce.SetSource("//storage.googleapis.com/projects/_/buckets/" + r.bucket)
	ce.SetTime(time.Now())
	if err := ce.SetData(event.ApplicationJSON, map[string]any{
		"bucket": r.bucket, "name": s.Object, "generation": strconv.FormatInt(a.Generation, 10), "metageneration": "1",
		"size": strconv.FormatInt(a.Size, 10), "contentType": a.ContentType, "metadata": a.Metadata,
	}); err != nil {
		r.t.Fatal(err)
	}
	return ce
}

// sessionState is what ingest leaves for a session; the task is compared by what it
// asks for (its name and body hold the bucket, which differs between the two rigs).
type sessionState struct {
	Clinic, ID string
	Status     scribe.Status
	Failure    string
	ObjectSize int64
	// Tasks is the number of distinct tasks for the session; TaskMatches says whether
	// their job names the session's recorded generation.
	Tasks       int
	TaskMatches bool
}

func (r *ingestRig) state(sessions [][2]string, tasksByName map[string]string) []sessionState {
	r.t.Helper()
	var out []sessionState
	for _, cs := range sessions {
		s, err := r.sessions.Get(context.Background(), cs[0], cs[1])
		if err != nil {
			r.t.Fatal(err)
		}
		st := sessionState{Clinic: cs[0], ID: cs[1], Status: s.Status, ObjectSize: s.ObjectSize, TaskMatches: true}
		if s.Failure != nil {
			st.Failure = s.Failure.Code
		}
		for name, body := range tasksByName {
			var job scribe.Job
			if err := json.Unmarshal([]byte(body), &job); err != nil {
				r.t.Fatal(err)
			}
			if job.ClinicID != cs[0] || job.SessionID != cs[1] {
				continue
			}
			st.Tasks++
			want := tasks.TaskID(job.Bucket, job.Object, strconv.FormatInt(job.Generation, 10))
			st.TaskMatches = st.TaskMatches && job.Generation == s.Generation && name == want
		}
		out = append(out, st)
	}
	return out
}

// Not parallel: it sets STORAGE_EMULATOR_HOST and the worker URL.
func TestDeliveryScribeIngestTripleEqualsSingle(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	rng := testenv.DeliveryRand(t)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())

	sessions := [][2]string{{"clinic-a", "s1"}, {"clinic-a", "s2"}, {"clinic-b", "s3"}, {"clinic-b", "s4"}}
	n := int64(len(ingestTranscript))
	seed := func(r *ingestRig) []event.Event {
		return []event.Event{
			r.upload("clinic-a", "s1", n, ingestTranscript),
			r.upload("clinic-a", "s2", n, ingestTranscript),
			r.upload("clinic-b", "s3", n, ingestTranscript),
			r.upload("clinic-b", "s4", n-10, ingestTranscript), // more than declared: refused
		}
	}
	const accepted = 3

	single := newIngestRig(t, srv, "uploads-single", 1)
	for _, ce := range seed(single) {
		if err := single.instances[0](ctx, ce); err != nil {
			t.Fatalf("single delivery: %v", err)
		}
	}
	singleTasks := single.tasks.await(accepted)
	triple := newIngestRig(t, srv, "uploads-triple", testenv.DeliveryCopies)
	evs := seed(triple)
	testenv.DeliverShuffled(t, rng, len(evs), testenv.DeliveryCopies, testenv.Redelivery{Attempts: 5}, func(i, copy, _ int) error { return triple.instances[copy](ctx, evs[i]) })
	tripleTasks := triple.tasks.await(accepted)

	want, got := single.state(sessions, singleTasks), triple.state(sessions, tripleTasks)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("end state after triple delivery differs from single delivery (-single +triple):\n%s", d)
	}
	for _, s := range want {
		ok := s.ID != "s4"
		if ok && (s.Status != scribe.StatusUploaded || s.Tasks != 1 || !s.TaskMatches) || !ok && (s.Status != scribe.StatusFailed || s.Tasks != 0) {
			t.Errorf("single delivery: %+v", s)
		}
	}
}
