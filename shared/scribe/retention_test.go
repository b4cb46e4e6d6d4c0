package scribe_test

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
	"github.com/medi-os/medi/shared/scribe"
)

// approved drafts a session of r.clinic through the real ingest and worker and marks its
// note approved at the given time.
func (r *rig) approved(at time.Time) scribe.Session {
	r.t.Helper()
	ctx := context.Background()
	s := r.session("text/plain", int64(len(transcript)))
	if err := r.ingester.Ingest(ctx, r.upload(s, "text/plain", []byte(transcript))); err != nil {
		r.t.Fatal(err)
	}
	r.runTasks()
	r.q.tasks = nil
	if _, err := r.fs.Collection("clinics").Doc(s.ClinicID).Collection("notes").Doc(s.ID).Update(ctx,
		[]firestore.Update{{Path: "status", Value: "approved"}, {Path: "approvedAt", Value: at}}); err != nil {
		r.t.Fatal(err)
	}
	return r.get(s.ID)
}

// purged reports whether the session is marked purged, and fails the test unless its
// transcript and upload are gone exactly when it is (and the note is always kept).
func (r *rig) purged(s scribe.Session) bool {
	r.t.Helper()
	ctx := context.Background()
	sess, err := r.sessions.Get(ctx, s.ClinicID, s.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	purged := !sess.PurgedAt.IsZero()
	_, terr := r.sessions.Transcript(ctx, s.ClinicID, s.ID)
	_, oerr := r.gcs.Bucket(bucket).Object(sess.Object).Generation(sess.Generation).Attrs(ctx)
	if errors.Is(terr, scribe.ErrNotFound) != purged || errors.Is(oerr, storage.ErrObjectNotExist) != purged {
		r.t.Errorf("session %s: purgedAt %v but transcript err %v, object err %v", s.ID, sess.PurgedAt, terr, oerr)
	}
	if _, err := notes.NewStore(r.fs, nil, "").Get(ctx, s.ClinicID, s.ID); err != nil {
		r.t.Errorf("session %s: note gone: %v", s.ID, err)
	}
	return purged
}

// purgedThrough reads the clinic's retention state.
func (r *rig) purgedThrough(clinic string) time.Time {
	r.t.Helper()
	snap, err := r.fs.Collection("clinics").Doc(clinic).Collection(scribe.CollectionJobs).Doc("retention").Get(context.Background())
	if err != nil {
		r.t.Fatalf("retention state of %s: %v", clinic, err)
	}
	t, _ := snap.Data()["purgedThrough"].(time.Time)
	return t
}

func runRetention(t *testing.T, ret *scribe.Retention, want scribe.RetentionReport) {
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
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	day := 24 * time.Hour
	// Approved 40 days ago, approved 5 days ago, and approved 40 days ago in a clinic that
	// keeps uploads for 90 days.
	due := r.approved(now.Add(-40 * day))
	recent := r.approved(now.Add(-5 * day))
	first := r.clinic
	r.clinic += "-long"
	long := r.approved(now.Add(-40 * day))
	if _, err := r.fs.Collection("clinics").Doc(r.clinic).Set(ctx, map[string]any{"scribeRetentionDays": 90}); err != nil {
		t.Fatal(err)
	}
	ret := &scribe.Retention{Sessions: r.sessions, Objects: scribe.GCSObjects{Client: r.gcs}, Now: func() time.Time { return now }}
	runRetention(t, ret, scribe.RetentionReport{Clinics: 2, Examined: 1, Purged: 1})
	// Again: each clinic is handled through its cut-off, so nothing is read.
	runRetention(t, ret, scribe.RetentionReport{Clinics: 2})
	for _, c := range []struct {
		s    scribe.Session
		want bool
	}{{due, true}, {recent, false}, {long, false}} {
		if got := r.purged(c.s); got != c.want {
			t.Errorf("session approved in clinic %s: purged %v, want %v", c.s.ClinicID, got, c.want)
		}
	}
	if got, want := r.purgedThrough(first), now.AddDate(0, 0, -30).Truncate(time.Microsecond); !got.Equal(want) {
		t.Errorf("purgedThrough %v, want the 30-day cut-off %v", got, want)
	}
	docs, err := r.fs.Collection("clinics").Doc(first).Collection("audit").Where("action", "==", "scribe.retention.purge").Documents(ctx).GetAll()
	if err != nil || len(docs) != 1 || docs[0].Data()["resourceId"] != due.ID {
		t.Errorf("purge audit records: %d, %v", len(docs), err)
	}
}

// A run reads what became due since the previous one: a note approved 10 days ago is
// purged by the run 25 days later, and the notes handled before are not read again.
func TestRetentionReadsOnlyWhatBecameDue(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	old := r.approved(now.Add(-40 * day))
	newer := r.approved(now.Add(-10 * day))
	at := now
	ret := &scribe.Retention{Sessions: r.sessions, Objects: scribe.GCSObjects{Client: r.gcs}, Now: func() time.Time { return at }}
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1, Examined: 1, Purged: 1})
	if !r.purged(old) || r.purged(newer) {
		t.Fatal("first run: want only the note approved 40 days ago purged")
	}
	at = now.Add(25 * day)
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1, Examined: 1, Purged: 1})
	if !r.purged(newer) {
		t.Error("the note approved 10 days before is due 25 days later and not purged")
	}
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1})
}

// flakyObjects fails the deletion of chosen objects a number of times (a storage outage
// for those objects), then lets it through to the real bucket.
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
	r := newRig(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	a := r.approved(now.Add(-50 * day))
	b := r.approved(now.Add(-45 * day))
	c := r.approved(now.Add(-40 * day))
	objs := &flakyObjects{Objects: scribe.GCSObjects{Client: r.gcs}, fails: map[string]int{b.Object: 1}}
	ret := &scribe.Retention{Sessions: r.sessions, Objects: objs, Now: func() time.Time { return now }}
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1, Examined: 3, Purged: 2, Failed: 1})
	if !r.purged(a) || r.purged(b) || !r.purged(c) {
		t.Fatal("first run: want the first and third purged, the second not")
	}
	if got, want := r.purgedThrough(r.clinic), now.Add(-45*day).Truncate(time.Microsecond); !got.Equal(want) {
		t.Errorf("purgedThrough %v, want the failed note's approval %v", got, want)
	}
	// The failed note and the one after it are read again; the second is already purged.
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1, Examined: 2, Purged: 1, Kept: 1})
	if !r.purged(b) {
		t.Error("the failed purge was not retried")
	}
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1})
}

// A clinic with more notes due than a run's batch goes on where the previous run stopped.
func TestRetentionBatchesPerClinic(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	var all []scribe.Session
	for i := range 3 {
		all = append(all, r.approved(now.Add(-time.Duration(60-i)*day)))
	}
	ret := &scribe.Retention{Sessions: r.sessions, Objects: scribe.GCSObjects{Client: r.gcs}, PerClinic: 2,
		Now: func() time.Time { return now }}
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1, Examined: 2, Purged: 2})
	if r.purged(all[2]) {
		t.Fatal("the batch of 2 went past its limit")
	}
	// The next run goes on at the first note the batch left.
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1, Examined: 1, Purged: 1})
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1})
	for i, s := range all {
		if !r.purged(s) {
			t.Errorf("note %d not purged", i)
		}
	}
}

// A note whose session does not exist (nothing of the scribe's to delete) is kept and does
// not hold the clinic back.
func TestRetentionSkipsANoteWithoutSession(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	s := r.approved(now.Add(-40 * 24 * time.Hour))
	if _, err := r.fs.Collection("clinics").Doc(r.clinic).Collection("notes").Doc("orphan").Set(ctx, map[string]any{
		"clinicId": r.clinic, "sessionId": "sess-missing", "patientId": "pat-1", "status": "approved",
		"approvedAt": now.Add(-45 * 24 * time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	ret := &scribe.Retention{Sessions: r.sessions, Objects: scribe.GCSObjects{Client: r.gcs}, Now: func() time.Time { return now }}
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1, Examined: 2, Purged: 1, Kept: 1})
	runRetention(t, ret, scribe.RetentionReport{Clinics: 1})
	if !r.purged(s) {
		t.Error("the note with a session was not purged")
	}
}
