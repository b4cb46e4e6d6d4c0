package retention_test

import (
	"context"
	"fmt"
	"github.com/medi-os/medi/shared/transcript"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/iterator"

	"github.com/medi-os/medi/functions/retention"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Cloud Scheduler delivers at least once, and a slow run can overlap the next tick:
// each scheduled run below is delivered three times, all at once, in a shuffled order,
// to three instances. The sessions, transcripts, uploads and audit trail must be what
// one delivery of each run leaves: one purge and one audit record per session due.

const retentionTranscript = "Doctor: What brings you in?\nPatient: A cough for three days.\n"

// retentionRig is one project and one bucket of the shared fake GCS server, with
// instances of the function.
type retentionRig struct {
	t         *testing.T
	fs        *firestore.Client
	gcs       *storage.Client
	bucket    string
	sessions  *scribe.Store
	instances []http.Handler
}

func newRetentionRig(t *testing.T, srv *fakestorage.Server, bucket string, instances int) *retentionRig {
	t.Helper()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket, VersioningEnabled: true})
	r := &retentionRig{t: t, fs: fs, gcs: srv.Client(), bucket: bucket, sessions: scribe.NewStore(fs)}
	for range instances {
		h, err := retention.Function.Handler(ctx, &retention.Config{
			Base: config.Base{ProjectID: project, Tier: config.Dev, Version: "test"}, DevSecret: "s3cret", DefaultDays: 30,
		})
		if err != nil {
			t.Fatal(err)
		}
		r.instances = append(r.instances, h)
	}
	return r
}

// drafted stores a drafted session with its upload, transcript and a note approved
// approvedAgo ago.
func (r *retentionRig) drafted(clinic, id string, approvedAgo time.Duration) {
	r.t.Helper()
	ctx := context.Background()
	enc := "enc-" + id
	if _, err := r.fs.Collection("clinics").Doc(clinic).Collection("encounters").Doc(enc).Set(ctx,
		map[string]any{"patientId": "pat-" + id, "status": "completed"}); err != nil {
		r.t.Fatal(err)
	}
	f, _ := scribe.FormatOf("text/plain")
	s, _, err := r.sessions.Create(ctx, scribe.Session{ID: id, ClinicID: clinic, EncounterID: enc, CreatedBy: "u1",
		ContentType: "text/plain", Format: f.Name, Kind: f.Kind, SizeBytes: int64(len(retentionTranscript)), Bucket: r.bucket}, commitmark.Marker{})
	if err != nil {
		r.t.Fatal(err)
	}
	w := r.gcs.Bucket(r.bucket).Object(s.Object).NewWriter(ctx)
	w.ContentType = "text/plain"
	if _, err := w.Write([]byte(retentionTranscript)); err != nil {
		r.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	gen := w.Attrs().Generation
	if _, err := r.sessions.Update(ctx, clinic, id, func(x *scribe.Session) error {
		x.Status, x.Generation, x.Bucket, x.NoteID = scribe.StatusDrafted, gen, r.bucket, id
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	tr, err := transcript.ParseTranscript(f.Name, []byte(retentionTranscript))
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.sessions.SaveTranscript(ctx, clinic, id, tr); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.fs.Collection("clinics").Doc(clinic).Collection("notes").Doc(id).Set(ctx, map[string]any{
		"clinicId": clinic, "sessionId": id, "patientId": "pat-" + id, "status": "approved",
		"approvedAt": time.Now().UTC().Add(-approvedAgo),
	}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *retentionRig) run(instance int) error {
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set(tasks.SecretHeader, "s3cret")
	rec := httptest.NewRecorder()
	r.instances[instance].ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	return nil
}

// sessionState is what retention changes about a session.
type sessionState struct {
	Clinic, ID                     string
	Purged, Transcript, Upload     bool
	PurgeAuditRecords, OtherAudits int
}

func (r *retentionRig) state(sessions [][2]string) []sessionState {
	r.t.Helper()
	ctx := context.Background()
	var out []sessionState
	for _, cs := range sessions {
		clinic, id := cs[0], cs[1]
		s, err := r.sessions.Get(ctx, clinic, id)
		if err != nil {
			r.t.Fatal(err)
		}
		st := sessionState{Clinic: clinic, ID: id, Purged: !s.PurgedAt.IsZero()}
		_, err = r.sessions.TranscriptRef(clinic, id).Get(ctx)
		st.Transcript = err == nil
		_, err = r.gcs.Bucket(s.Bucket).Object(s.Object).Generation(s.Generation).Attrs(ctx)
		st.Upload = err == nil
		it := r.fs.Collection("clinics").Doc(clinic).Collection("audit").Where("resourceId", "==", id).Documents(ctx)
		for {
			d, err := it.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				r.t.Fatal(err)
			}
			if a, _ := d.DataAt("action"); a == "scribe.retention.purge" {
				st.PurgeAuditRecords++
			} else {
				st.OtherAudits++
			}
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b sessionState) int { return strings.Compare(a.Clinic+"/"+a.ID, b.Clinic+"/"+b.ID) })
	return out
}

// Not parallel: it sets STORAGE_EMULATOR_HOST for the function's storage client.
func TestDeliveryRetentionTripleEqualsSingle(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	rng := testenv.DeliveryRand(t)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL())

	sessions := [][2]string{{"clinic-a", "s1"}, {"clinic-a", "s2"}, {"clinic-a", "s3"}, {"clinic-b", "s4"}}
	seed := func(r *retentionRig) {
		r.drafted("clinic-a", "s1", 40*24*time.Hour)
		r.drafted("clinic-a", "s2", 41*24*time.Hour)
		r.drafted("clinic-a", "s3", 5*24*time.Hour) // not due
		r.drafted("clinic-b", "s4", 35*24*time.Hour)
	}
	const runs = 2 // two scheduler ticks

	single := newRetentionRig(t, srv, "uploads-single", 1)
	seed(single)
	for range runs {
		if err := single.run(0); err != nil {
			t.Fatalf("single delivery: %v", err)
		}
	}
	triple := newRetentionRig(t, srv, "uploads-triple", testenv.DeliveryCopies)
	seed(triple)
	testenv.DeliverShuffled(t, rng, runs, testenv.DeliveryCopies, testenv.Redelivery{Attempts: 5}, func(_, copy, _ int) error { return triple.run(copy) })

	want, got := single.state(sessions), triple.state(sessions)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("end state after triple delivery differs from single delivery (-single +triple):\n%s", d)
	}
	for _, s := range want {
		due := s.ID != "s3"
		if s.Purged != due || s.Transcript == due || s.Upload == due || s.PurgeAuditRecords != map[bool]int{true: 1}[due] {
			t.Errorf("single delivery: session %s/%s = %+v, due %v", s.Clinic, s.ID, s, due)
		}
	}
}
