package scribe_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/transcript"
)

func TestTranscriptIsTheDoctorsToRead(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	st := scribe.NewStore(s.fs)
	now := time.Now().UTC()
	sess := scribe.Session{ID: "sess-" + randomHex(4), ClinicID: s.clinic, EncounterID: "enc-1", PatientID: "pat-1",
		CreatedBy: "u1", ContentType: "text/plain", Format: "text", Kind: scribe.KindTranscript, Status: scribe.StatusDrafted,
		Object: scribe.ObjectName(s.clinic, "x"), NoteID: "n1", CreatedAt: now, UpdatedAt: now}
	if _, err := st.Ref(s.clinic, sess.ID).Set(ctx, sess); err != nil {
		t.Fatal(err)
	}
	path := "/v1/scribe/sessions/" + sess.ID + "/transcript"
	if code, env := s.do(http.MethodGet, path, "doctor", nil); code != 404 || env.Error.Code != "not_found" {
		t.Errorf("before the transcript: %d %+v", code, env.Error)
	}
	tr, err := transcript.ParseTranscript("text", []byte("Doctor: What brings you in?\nPatient: A cough for three days.\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveTranscript(ctx, s.clinic, sess.ID, tr); err != nil {
		t.Fatal(err)
	}
	code, env := s.do(http.MethodGet, path, "doctor", nil)
	if code != 200 {
		t.Fatalf("doctor: %d %+v", code, env.Error)
	}
	got := decode[struct {
		SessionID string               `json:"sessionId"`
		NoteID    string               `json:"noteId"`
		Segments  []transcript.Segment `json:"segments"`
	}](t, env.Data)
	if got.SessionID != sess.ID || got.NoteID != "n1" {
		t.Errorf("ids %q %q", got.SessionID, got.NoteID)
	}
	if diff := cmp.Diff(tr.Segments, got.Segments); diff != "" {
		t.Errorf("segments (-want +got):\n%s", diff)
	}
	n, err := s.fs.Collection("clinics").Doc(s.clinic).Collection("audit").Where("action", "==", "scribe.transcript.read").
		Where("resourceId", "==", sess.ID).Documents(ctx).GetAll()
	if err != nil || len(n) != 1 {
		t.Errorf("audit records of the read: %d %v", len(n), err)
	}
	for _, tc := range []struct {
		role string
		code int
	}{{"nurse", 403}, {"receptionist", 403}, {"other-doctor", 404}} {
		if code, _ := s.do(http.MethodGet, path, tc.role, nil); code != tc.code {
			t.Errorf("%s: %d, want %d", tc.role, code, tc.code)
		}
	}
}
