package scribe_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/scribe/scribetest"
)

// A session creation retried with the same Idempotency-Key after its answer was lost
// (the key's record released by a 5xx, or taken over after a crash) answers with the
// session the first attempt created and writes only the audit record of that answer;
// another request under the key creates its own.
func TestCreateRetryAfterALostAnswer(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	enc := "enc-" + scribetest.RandHex(4)
	if _, err := r.FS.Collection("clinics").Doc(r.Clinic).Collection("encounters").Doc(enc).Set(ctx,
		map[string]any{"patientId": "pat-1", "status": "in_consultation"}); err != nil {
		t.Fatal(err)
	}
	mark := commitmark.Marker{Record: "key-record-1", Request: "request-hash-1", Expires: time.Now().Add(time.Hour)}
	create := func(id string, m commitmark.Marker) (scribe.Session, bool) {
		t.Helper()
		s, replayed, err := r.Sessions.Create(ctx, scribe.Session{ID: id, ClinicID: r.Clinic, EncounterID: enc, CreatedBy: "u1",
			ContentType: "text/plain", Format: "text", Kind: scribe.KindTranscript, SizeBytes: 100, Bucket: scribetest.Bucket}, m)
		if err != nil {
			t.Fatal(err)
		}
		return s, replayed
	}
	first, replayed := create("sess-first", mark)
	if replayed || first.ID != "sess-first" || first.PatientID != "pat-1" {
		t.Fatalf("first: %+v replayed %v", first, replayed)
	}
	again, replayed := create("sess-retry", mark) // the retry draws a new id
	if !replayed || again.ID != first.ID || again.CreatedAt.Sub(first.CreatedAt).Abs() > time.Millisecond {
		t.Errorf("retry: session %s (replayed %v), want the first attempt's %s", again.ID, replayed, first.ID)
	}
	other, replayed := create("sess-other", commitmark.Marker{Record: "key-record-1", Request: "another-body"})
	if replayed || other.ID != "sess-other" {
		t.Errorf("another request under the key: %s replayed %v, want a session of its own", other.ID, replayed)
	}
	docs, err := r.FS.Collection("clinics").Doc(r.Clinic).Collection(scribe.CollectionSessions).Documents(ctx).GetAll()
	if err != nil || len(docs) != 2 {
		t.Errorf("%d sessions stored (%v), want 2", len(docs), err)
	}
	trail, err := r.FS.Collection("clinics").Doc(r.Clinic).Collection(audit.Collection).Documents(ctx).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, d := range trail {
		actions[d.Data()["action"].(string)]++
	}
	// One record per session created, and one for the retry's answer, which disclosed
	// the first session again.
	if want := map[string]int{"scribe.session.create": 2, "scribe.session.create" + audit.ReplaySuffix: 1}; !cmp.Equal(want, actions) {
		t.Errorf("audit records %v, want %v", actions, want)
	}
	if again.UploadToken != first.UploadToken || first.UploadToken == "" {
		t.Errorf("the retry's upload token %q is not the session's %q: its URL would be refused", again.UploadToken, first.UploadToken)
	}
}
