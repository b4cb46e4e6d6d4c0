package scribe_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"

	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/scribe"
)

func TestRetentionPurgesUploadAndTranscriptOnly(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ctx := context.Background()
	now := time.Now().UTC()
	// Three drafted sessions: approved 40 days ago, approved 5 days ago, and one of a
	// clinic keeping uploads for 90 days approved 40 days ago.
	type item struct {
		sess     scribe.Session
		approved time.Time
		purge    bool
	}
	var items []item
	longClinic := r.clinic + "-long"
	for _, tc := range []struct {
		clinic string
		ago    time.Duration
		purge  bool
	}{{r.clinic, 40 * 24 * time.Hour, true}, {r.clinic, 5 * 24 * time.Hour, false}, {longClinic, 40 * 24 * time.Hour, false}} {
		r.clinic = tc.clinic
		s := r.session("text/plain", int64(len(transcript)))
		if err := r.ingester.Ingest(ctx, r.upload(s, "text/plain", []byte(transcript))); err != nil {
			t.Fatal(err)
		}
		items = append(items, item{s, now.Add(-tc.ago), tc.purge})
	}
	r.runTasks()
	if _, err := r.fs.Collection("clinics").Doc(longClinic).Set(ctx, map[string]any{"scribeRetentionDays": 90}); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if _, err := r.fs.Collection("clinics").Doc(it.sess.ClinicID).Collection("notes").Doc(it.sess.ID).Update(ctx,
			[]firestore.Update{{Path: "status", Value: "approved"}, {Path: "approvedAt", Value: it.approved}}); err != nil {
			t.Fatal(err)
		}
	}
	ret := &scribe.Retention{Sessions: r.sessions, Objects: scribe.GCSObjects{Client: r.gcs}, Now: func() time.Time { return now }}
	for run := 0; run < 2; run++ {
		rep, err := ret.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantPurged := 1
		if run == 1 {
			wantPurged = 0 // already purged
		}
		if rep.Examined != 3 || rep.Purged != wantPurged {
			t.Errorf("run %d: report %+v, want 3 examined, %d purged", run, rep, wantPurged)
		}
	}
	for i, it := range items {
		sess, err := r.sessions.Get(ctx, it.sess.ClinicID, it.sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, terr := r.sessions.Transcript(ctx, it.sess.ClinicID, it.sess.ID)
		_, oerr := r.gcs.Bucket(bucket).Object(sess.Object).Generation(sess.Generation).Attrs(ctx)
		purged := !sess.PurgedAt.IsZero()
		if purged != it.purge || errors.Is(terr, scribe.ErrNotFound) != it.purge || errors.Is(oerr, storage.ErrObjectNotExist) != it.purge {
			t.Errorf("item %d: purgedAt %v, transcript err %v, object err %v; want purged=%v", i, sess.PurgedAt, terr, oerr, it.purge)
		}
		if _, err := notes.NewStore(r.fs, nil, "").Get(ctx, it.sess.ClinicID, it.sess.ID); err != nil {
			t.Errorf("item %d: note gone: %v", i, err)
		}
	}
	docs, err := r.fs.Collection("clinics").Doc(items[0].sess.ClinicID).Collection("audit").Where("action", "==", "scribe.retention.purge").Documents(ctx).GetAll()
	if err != nil || len(docs) != 1 || docs[0].Data()["resourceId"] != items[0].sess.ID {
		t.Errorf("purge audit records: %d, %v", len(docs), err)
	}
}
