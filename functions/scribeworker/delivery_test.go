package scribeworker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medi-os/medi/functions/scribeworker"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Cloud Tasks delivers at least once: every scribe job below is delivered three times,
// all at once, in a shuffled order, to three instances of the worker. Sessions, notes,
// versions, audit records and the note.drafted facts must be what a single delivery of
// each job leaves: one note with one version per upload, one distinct note.drafted.

const workerTranscript = "Doctor: What brings you in today?\nPatient: I've had a cough and fever for three days.\n" +
	"Nurse: BP 142/90, temp 38.4, sats 93 %.\nDoctor: I think this is likely a chest infection.\n"

const workerSecret = "s3cret"

// workerRig is one project (Firestore and Pub/Sub), one bucket of the shared fake GCS
// server and instances of the worker.
type workerRig struct {
	t         *testing.T
	project   string
	fs        *firestore.Client
	ps        *pubsub.Client
	srv       *fakestorage.Server
	bucket    string
	sessions  *scribe.Store
	instances []http.Handler
}

func newWorkerRig(t *testing.T, srv *fakestorage.Server, bucket string, instances int) *workerRig {
	t.Helper()
	ctx := context.Background()
	project := testenv.ProjectID(t)
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
	topic := "projects/" + project + "/topics/" + notes.DefaultTopic
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/" + project + "/subscriptions/drafted", Topic: topic, AckDeadlineSeconds: 60,
	}); err != nil {
		t.Fatal(err)
	}
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket, VersioningEnabled: true})
	r := &workerRig{t: t, project: project, fs: fs, ps: ps, srv: srv, bucket: bucket, sessions: scribe.NewStore(fs)}
	for range instances {
		h, err := scribeworker.Function.Handler(ctx, &scribeworker.Config{
			Base:            config.Base{ProjectID: project, Tier: config.Dev, Version: "test"},
			TasksConfig:     app.TasksConfig{DevSecret: workerSecret},
			NoteEventsTopic: notes.DefaultTopic,
			Drafter:         "deterministic",
		})
		if err != nil {
			t.Fatal(err)
		}
		r.instances = append(r.instances, h)
	}
	return r
}

// uploaded stores a session whose upload was accepted, and returns its job.
func (r *workerRig) uploaded(clinic, id string) scribe.Job {
	r.t.Helper()
	ctx := context.Background()
	enc := "enc-" + id
	if _, err := r.fs.Collection("clinics").Doc(clinic).Collection("encounters").Doc(enc).Set(ctx,
		map[string]any{"patientId": "pat-" + id, "status": "in_consultation"}); err != nil {
		r.t.Fatal(err)
	}
	f, _ := scribe.FormatOf("text/plain")
	s, _, err := r.sessions.Create(ctx, scribe.Session{ID: id, ClinicID: clinic, EncounterID: enc, CreatedBy: "u1",
		ContentType: "text/plain", Format: f.Name, Kind: f.Kind, SizeBytes: int64(len(workerTranscript)), Bucket: r.bucket}, commitmark.Marker{})
	if err != nil {
		r.t.Fatal(err)
	}
	w := r.srv.Client().Bucket(r.bucket).Object(s.Object).NewWriter(ctx)
	w.ContentType = "text/plain"
	if _, err := w.Write([]byte(workerTranscript)); err != nil {
		r.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	gen := w.Attrs().Generation
	if _, err := r.sessions.Update(ctx, clinic, id, func(x *scribe.Session) error {
		x.Status, x.Generation, x.ObjectSize = scribe.StatusUploaded, gen, int64(len(workerTranscript))
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	return scribe.Job{ClinicID: clinic, SessionID: id, Bucket: r.bucket, Object: s.Object, Generation: gen}
}

func (r *workerRig) deliver(instance int, job scribe.Job) error {
	b, err := json.Marshal(job)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tasks.SecretHeader, workerSecret)
	req.Header.Set(tasks.HeaderQueueName, tasks.QueueScribe)
	req.Header.Set(tasks.HeaderTaskName, tasks.TaskID(job.Bucket, job.Object, strconv.FormatInt(job.Generation, 10)))
	rec := httptest.NewRecorder()
	r.instances[instance].ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	return nil
}

// noteState is what the worker leaves for one session.
type noteState struct {
	Clinic, Session string
	SessionStatus   scribe.Status
	NoteID          string
	Note            notes.Note
	Versions        []notes.Version
	DraftAudits     int
}

var noteStateOpts = cmp.Options{
	cmpopts.IgnoreFields(notes.Note{}, "CreatedAt", "UpdatedAt"),
	cmpopts.IgnoreFields(notes.Version{}, "CreatedAt"),
	cmpopts.EquateEmpty(),
}

func (r *workerRig) state(sessions [][2]string) []noteState {
	r.t.Helper()
	ctx := context.Background()
	ns := notes.NewStore(r.fs, nil, "")
	var out []noteState
	for _, cs := range sessions {
		clinic, id := cs[0], cs[1]
		s, err := r.sessions.Get(ctx, clinic, id)
		if err != nil {
			r.t.Fatal(err)
		}
		st := noteState{Clinic: clinic, Session: id, SessionStatus: s.Status, NoteID: s.NoteID}
		if n, err := ns.Get(ctx, clinic, id); err == nil {
			st.Note = n
		}
		if st.Versions, err = ns.Versions(ctx, clinic, id); err != nil {
			r.t.Fatal(err)
		}
		audits, err := r.fs.Collection("clinics").Doc(clinic).Collection("audit").
			Where("resourceId", "==", id).Where("action", "==", "note.draft").Documents(ctx).GetAll()
		if err != nil {
			r.t.Fatal(err)
		}
		st.DraftAudits = len(audits)
		all, err := r.fs.Collection("clinics").Doc(clinic).Collection(notes.CollectionNotes).Documents(ctx).GetAll()
		if err != nil {
			r.t.Fatal(err)
		}
		if len(all) != len(sessionsOf(clinic, sessions)) {
			r.t.Errorf("clinic %s has %d notes for %d sessions", clinic, len(all), len(sessionsOf(clinic, sessions)))
		}
		out = append(out, st)
	}
	return out
}

func sessionsOf(clinic string, sessions [][2]string) []string {
	var ids []string
	for _, cs := range sessions {
		if cs[0] == clinic {
			ids = append(ids, cs[1])
		}
	}
	return ids
}

// drafted receives note.drafted messages until want distinct event ids arrived (or
// 30 s passed) and returns the distinct ids and the number of messages.
func (r *workerRig) drafted(want int) (ids []string, messages int) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]bool{}
	err := r.ps.Subscriber("projects/"+r.project+"/subscriptions/drafted").Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		mu.Lock()
		defer mu.Unlock()
		messages++
		if m.Attributes[events.AttrType] == notes.TypeNoteDrafted {
			seen[m.Attributes[events.AttrEventID]] = true
		}
		if len(seen) >= want {
			cancel()
		}
	})
	if err != nil && ctx.Err() == nil {
		r.t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, messages
}

// Not parallel: it sets STORAGE_EMULATOR_HOST for the worker's storage client.
func TestDeliveryScribeWorkerTripleEqualsSingle(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	rng := testenv.DeliveryRand(t)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())

	sessions := [][2]string{{"clinic-a", "s1"}, {"clinic-a", "s2"}, {"clinic-a", "s3"}, {"clinic-b", "s4"}}
	seed := func(r *workerRig) []scribe.Job {
		var jobs []scribe.Job
		for _, cs := range sessions {
			jobs = append(jobs, r.uploaded(cs[0], cs[1]))
		}
		return jobs
	}

	single := newWorkerRig(t, srv, "uploads-single", 1)
	for _, j := range seed(single) {
		if err := single.deliver(0, j); err != nil {
			t.Fatalf("single delivery: %v", err)
		}
	}
	triple := newWorkerRig(t, srv, "uploads-triple", testenv.DeliveryCopies)
	jobs := seed(triple)
	testenv.DeliverShuffled(t, rng, len(jobs), testenv.DeliveryCopies, testenv.Redelivery{Attempts: 5}, func(i, copy, _ int) error { return triple.deliver(copy, jobs[i]) })

	want, got := single.state(sessions), triple.state(sessions)
	if d := cmp.Diff(want, got, noteStateOpts); d != "" {
		t.Errorf("end state after triple delivery differs from single delivery (-single +triple):\n%s", d)
	}
	for _, s := range want {
		if s.SessionStatus != scribe.StatusDrafted || s.NoteID != s.Session || len(s.Versions) != 1 || s.DraftAudits != 1 ||
			s.Note.CurrentVersion != 1 {
			t.Errorf("single delivery: session %s/%s: status %s, note %q, %d versions, %d audits",
				s.Clinic, s.Session, s.SessionStatus, s.NoteID, len(s.Versions), s.DraftAudits)
		}
	}
	wantIDs, wantMsgs := single.drafted(len(sessions))
	gotIDs, gotMsgs := triple.drafted(len(sessions))
	if d := cmp.Diff(wantIDs, gotIDs); d != "" {
		t.Errorf("note.drafted event ids (-single +triple):\n%s", d)
	}
	if len(wantIDs) != len(sessions) {
		t.Errorf("single delivery published %d distinct note.drafted events, want %d", len(wantIDs), len(sessions))
	}
	t.Logf("note.drafted: %d messages received for single delivery, %d for triple until every id was seen (redeliveries republish the same event id; consumers dedupe on it)", wantMsgs, gotMsgs)
}
