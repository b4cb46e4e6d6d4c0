package retention_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"

	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/retention"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/scribe/scribetest"
	"github.com/medi-os/medi/shared/uploads"
)

// approved drafts a session of r.Clinic through the real ingest and worker and marks its
// note approved at the given time.
func approved(r *scribetest.Rig, at time.Time) scribe.Session {
	r.T.Helper()
	ctx := context.Background()
	s := r.Session("text/plain", int64(len(scribetest.Transcript)))
	if err := r.Ingester.Ingest(ctx, r.Upload(s, "text/plain", []byte(scribetest.Transcript))); err != nil {
		r.T.Fatal(err)
	}
	r.RunTasks()
	r.Q.Tasks = nil
	if _, err := r.FS.Collection("clinics").Doc(s.ClinicID).Collection("notes").Doc(s.ID).Update(ctx,
		[]firestore.Update{{Path: "status", Value: "approved"}, {Path: "approvedAt", Value: at}}); err != nil {
		r.T.Fatal(err)
	}
	return r.Get(s.ID)
}

// purged reports whether the session is marked purged, and fails the test unless its
// scribetest.Transcript and upload are gone exactly when it is (and the note is always kept).
func purged(r *scribetest.Rig, s scribe.Session) bool {
	r.T.Helper()
	ctx := context.Background()
	sess, err := r.Sessions.Get(ctx, s.ClinicID, s.ID)
	if err != nil {
		r.T.Fatal(err)
	}
	purged := !sess.PurgedAt.IsZero()
	_, terr := r.Sessions.Transcript(ctx, s.ClinicID, s.ID)
	_, oerr := r.GCS.Bucket(scribetest.Bucket).Object(sess.Object).Generation(sess.Generation).Attrs(ctx)
	if errors.Is(terr, scribe.ErrNotFound) != purged || errors.Is(oerr, storage.ErrObjectNotExist) != purged {
		r.T.Errorf("session %s: purgedAt %v but scribetest.Transcript err %v, object err %v", s.ID, sess.PurgedAt, terr, oerr)
	}
	if _, err := notes.NewStore(r.FS, nil, "").Get(ctx, s.ClinicID, s.ID); err != nil {
		r.T.Errorf("session %s: note gone: %v", s.ID, err)
	}
	return purged
}

// purgedThrough reads the clinic's retention state.
func purgedThrough(r *scribetest.Rig, clinic string) time.Time {
	r.T.Helper()
	snap, err := r.FS.Collection("clinics").Doc(clinic).Collection(retention.CollectionJobs).Doc("retention").Get(context.Background())
	if err != nil {
		r.T.Fatalf("retention state of %s: %v", clinic, err)
	}
	t, _ := snap.Data()["purgedThrough"].(time.Time)
	return t
}

func runRetention(t *testing.T, ret *retention.Job, want retention.Report) {
	t.Helper()
	got, err := ret.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("report %+v, want %+v", got, want)
	}
}

func TestRetentionPurgesUploadAndTranscriptOnly(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	day := 24 * time.Hour
	// Approved 40 days ago, approved 5 days ago, and approved 40 days ago in a clinic that
	// keeps uploads for 90 days.
	due := approved(r, now.Add(-40*day))
	recent := approved(r, now.Add(-5*day))
	first := r.Clinic
	r.Clinic += "-long"
	long := approved(r, now.Add(-40*day))
	if _, err := r.FS.Collection("clinics").Doc(r.Clinic).Set(ctx, map[string]any{"scribeRetentionDays": 90}); err != nil {
		t.Fatal(err)
	}
	ret := &retention.Job{Sessions: r.Sessions, Objects: uploads.GCS{Client: r.GCS}, Now: func() time.Time { return now }}
	runRetention(t, ret, retention.Report{Clinics: 2, Examined: 1, Purged: 1})
	// Again: each clinic is handled through its cut-off, so nothing is read.
	runRetention(t, ret, retention.Report{Clinics: 2})
	for _, c := range []struct {
		s    scribe.Session
		want bool
	}{{due, true}, {recent, false}, {long, false}} {
		if got := purged(r, c.s); got != c.want {
			t.Errorf("session approved in clinic %s: purged %v, want %v", c.s.ClinicID, got, c.want)
		}
	}
	if got, want := purgedThrough(r, first), now.AddDate(0, 0, -30).Truncate(time.Microsecond); !got.Equal(want) {
		t.Errorf("purgedThrough %v, want the 30-day cut-off %v", got, want)
	}
	docs, err := r.FS.Collection("clinics").Doc(first).Collection("audit").Where("action", "==", "scribe.retention.purge").Documents(ctx).GetAll()
	if err != nil || len(docs) != 1 || docs[0].Data()["resourceId"] != due.ID {
		t.Errorf("purge audit records: %d, %v", len(docs), err)
	}
}

// A run reads what became due since the previous one: a note approved 10 days ago is
// purged by the run 25 days later, and the notes handled before are not read again.
func TestRetentionReadsOnlyWhatBecameDue(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	old := approved(r, now.Add(-40*day))
	newer := approved(r, now.Add(-10*day))
	at := now
	ret := &retention.Job{Sessions: r.Sessions, Objects: uploads.GCS{Client: r.GCS}, Now: func() time.Time { return at }}
	runRetention(t, ret, retention.Report{Clinics: 1, Examined: 1, Purged: 1})
	if !purged(r, old) || purged(r, newer) {
		t.Fatal("first run: want only the note approved 40 days ago purged")
	}
	at = now.Add(25 * day)
	runRetention(t, ret, retention.Report{Clinics: 1, Examined: 1, Purged: 1})
	if !purged(r, newer) {
		t.Error("the note approved 10 days before is due 25 days later and not purged")
	}
	runRetention(t, ret, retention.Report{Clinics: 1})
}

// flakyObjects fails the deletion of chosen objects a number of times (a storage outage
// for those objects), then lets it through to the real scribetest.Bucket.
type flakyObjects struct {
	scribe.Objects
	mu    sync.Mutex
	fails map[string]int
}

func (f *flakyObjects) Delete(ctx context.Context, bucket, object string, generation int64) error {
	f.mu.Lock()
	n := f.fails[object]
	if n > 0 {
		f.fails[object] = n - 1
	}
	f.mu.Unlock()
	if n > 0 {
		return fmt.Errorf("storage unavailable for %s", object)
	}
	return f.Objects.Delete(ctx, bucket, object, generation)
}

// A purge that fails holds the clinic's purgedThrough at that note, so the next run tries
// it again; the notes after it are purged in the same run all the same.
func TestRetentionRetriesAFailedPurge(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	a := approved(r, now.Add(-50*day))
	b := approved(r, now.Add(-45*day))
	c := approved(r, now.Add(-40*day))
	objs := &flakyObjects{Objects: uploads.GCS{Client: r.GCS}, fails: map[string]int{b.Object: 1}}
	ret := &retention.Job{Sessions: r.Sessions, Objects: objs, Now: func() time.Time { return now }}
	runRetention(t, ret, retention.Report{Clinics: 1, Examined: 3, Purged: 2, Failed: 1})
	if !purged(r, a) || purged(r, b) || !purged(r, c) {
		t.Fatal("first run: want the first and third purged, the second not")
	}
	if got, want := purgedThrough(r, r.Clinic), now.Add(-45*day).Truncate(time.Microsecond); !got.Equal(want) {
		t.Errorf("purgedThrough %v, want the failed note's approval %v", got, want)
	}
	// The failed note and the one after it are read again; the second is already purged.
	runRetention(t, ret, retention.Report{Clinics: 1, Examined: 2, Purged: 1, Kept: 1})
	if !purged(r, b) {
		t.Error("the failed purge was not retried")
	}
	runRetention(t, ret, retention.Report{Clinics: 1})
}

// A clinic with more notes due than a run's batch goes on where the previous run stopped.
func TestRetentionBatchesPerClinic(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	var all []scribe.Session
	for i := range 3 {
		all = append(all, approved(r, now.Add(-time.Duration(60-i)*day)))
	}
	ret := &retention.Job{Sessions: r.Sessions, Objects: uploads.GCS{Client: r.GCS}, PerClinic: 2,
		Now: func() time.Time { return now }}
	runRetention(t, ret, retention.Report{Clinics: 1, Examined: 2, Purged: 2})
	if purged(r, all[2]) {
		t.Fatal("the batch of 2 went past its limit")
	}
	// The next run goes on at the first note the batch left.
	runRetention(t, ret, retention.Report{Clinics: 1, Examined: 1, Purged: 1})
	runRetention(t, ret, retention.Report{Clinics: 1})
	for i, s := range all {
		if !purged(r, s) {
			t.Errorf("note %d not purged", i)
		}
	}
}

// A note whose session does not exist (nothing of the scribe's to delete) is kept and does
// not hold the clinic back.
func TestRetentionSkipsANoteWithoutSession(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	s := approved(r, now.Add(-40*24*time.Hour))
	if _, err := r.FS.Collection("clinics").Doc(r.Clinic).Collection("notes").Doc("orphan").Set(ctx, map[string]any{
		"clinicId": r.Clinic, "sessionId": "sess-missing", "patientId": "pat-1", "status": "approved",
		"approvedAt": now.Add(-45 * 24 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	ret := &retention.Job{Sessions: r.Sessions, Objects: uploads.GCS{Client: r.GCS}, Now: func() time.Time { return now }}
	runRetention(t, ret, retention.Report{Clinics: 1, Examined: 2, Purged: 1, Kept: 1})
	runRetention(t, ret, retention.Report{Clinics: 1})
	if !purged(r, s) {
		t.Error("the note with a session was not purged")
	}
}
