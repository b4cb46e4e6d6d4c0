package scribe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/scribe/scribetest"
	"github.com/medi-os/medi/shared/tasks"
)

// accepted creates a session, uploads the transcript and ingests it: status uploaded,
// one task enqueued (which the test may "lose" by not running it).
func accepted(r *scribetest.Rig) scribe.Session {
	r.T.Helper()
	s := r.Session("text/plain", int64(len(scribetest.Transcript)))
	if err := r.Ingester.Ingest(context.Background(), r.Upload(s, "text/plain", []byte(scribetest.Transcript))); err != nil {
		r.T.Fatal(err)
	}
	return r.Get(s.ID)
}

// age moves a session's clock back: last changed changedAgo ago, uploaded uploadedAgo
// ago, in status st.
func age(r *scribetest.Rig, id string, st scribe.Status, changedAgo, uploadedAgo time.Duration) {
	r.T.Helper()
	now := time.Now().UTC()
	_, err := r.Sessions.Ref(r.Clinic, id).Update(context.Background(), []firestore.Update{
		{Path: "status", Value: st},
		{Path: "updatedAt", Value: now.Add(-changedAgo)},
		{Path: "timings.uploadedAt", Value: now.Add(-uploadedAgo)},
	})
	if err != nil {
		r.T.Fatal(err)
	}
}

func sweeper(r *scribetest.Rig) *scribe.Sweeper {
	return &scribe.Sweeper{Sessions: r.Sessions, Tasks: r.Q, WorkerURL: "http://worker.test/",
		StaleAfter: 10 * time.Minute, GiveUpAfter: 30 * time.Minute}
}

// Sessions that stopped moving get their job again (a task name of their own, so a
// reserved first name does not swallow it) and end drafted once the job runs; a session
// uploaded longer ago than the bound fails with a reason, and so does one that awaited its
// upload for the abandon bound; sessions that move, await a recent upload or have ended are
// left alone.
func TestSweepRequeuesOrFailsStuckSessions(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	lost := accepted(r) // its task was lost: stuck in uploaded
	age(r, lost.ID, scribe.StatusUploaded, 11*time.Minute, 11*time.Minute)
	crashed := accepted(r) // the worker died while drafting
	age(r, crashed.ID, scribe.StatusDrafting, 12*time.Minute, 12*time.Minute)
	moving := accepted(r) // still being worked on
	age(r, moving.ID, scribe.StatusTranscribing, 2*time.Minute, 20*time.Minute)
	hopeless := accepted(r) // nothing has helped for half an hour
	age(r, hopeless.ID, scribe.StatusTranscribing, 10*time.Minute, 31*time.Minute)
	waiting := r.Session("text/plain", 10) // never uploaded: not the sweeper's
	if _, err := r.Sessions.Ref(r.Clinic, waiting.ID).Update(ctx, []firestore.Update{{Path: "updatedAt", Value: time.Now().Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	abandoned := r.Session("text/plain", 10) // its upload never came and its link expired long ago
	if _, err := r.Sessions.Ref(r.Clinic, abandoned.ID).Update(ctx, []firestore.Update{
		{Path: "updatedAt", Value: time.Now().Add(-3 * time.Hour)}, {Path: "createdAt", Value: time.Now().Add(-3 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	firstTasks := len(r.Q.Tasks)

	rep, err := sweeper(r).Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (scribe.SweepReport{Stale: 3, Requeued: 2, Failed: 1, Abandoned: 1}); rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	requeued := r.Q.Tasks[firstTasks:]
	if len(requeued) != 2 {
		t.Fatalf("%d jobs enqueued again, want 2", len(requeued))
	}
	for _, tk := range requeued {
		var job scribe.Job
		if err := json.Unmarshal(tk.Body, &job); err != nil {
			t.Fatal(err)
		}
		want := r.Get(job.SessionID)
		if job.SessionID != lost.ID && job.SessionID != crashed.ID {
			t.Errorf("job for session %s, want only the stuck ones", job.SessionID)
		}
		if first := tasks.TaskID(scribetest.Bucket, want.Object, fmt.Sprint(want.Generation)); tk.Name == first {
			t.Errorf("re-enqueued under the upload's first task name %s", first)
		}
		if job.Generation != want.Generation || job.Object != want.Object || want.Sweeps != 1 {
			t.Errorf("job %+v for session generation %d, sweeps %d", job, want.Generation, want.Sweeps)
		}
	}
	failed := r.Get(hopeless.ID)
	if failed.Status != scribe.StatusFailed || failed.Failure == nil || failed.Failure.Code != scribe.FailTimedOut ||
		!strings.Contains(failed.Failure.Message, "30 minutes") || failed.Timings.FailedAt.IsZero() {
		t.Errorf("hopeless session: %s %+v, want failed %s", failed.Status, failed.Failure, scribe.FailTimedOut)
	}
	if got := r.Get(moving.ID); got.Status != scribe.StatusTranscribing || got.Sweeps != 0 {
		t.Errorf("moving session: %s after %d sweeps, want untouched", got.Status, got.Sweeps)
	}
	if got := r.Get(waiting.ID); got.Status != scribe.StatusAwaitingUpload {
		t.Errorf("session awaiting its upload: %s", got.Status)
	}
	gone := r.Get(abandoned.ID)
	if gone.Status != scribe.StatusFailed || gone.Failure == nil || gone.Failure.Code != scribe.FailUploadNotReceived ||
		!strings.Contains(gone.Failure.Message, "2 hours") || gone.Timings.FailedAt.IsZero() {
		t.Errorf("abandoned session: %s %+v, want failed %s", gone.Status, gone.Failure, scribe.FailUploadNotReceived)
	}
	// An upload that still arrives (a link cannot bring one this late) changes nothing.
	beforeLate := len(r.Q.Tasks)
	if err := r.Ingester.Ingest(ctx, r.Upload(abandoned, "text/plain", []byte(scribetest.Transcript))); err != nil {
		t.Fatal(err)
	}
	if got := r.Get(abandoned.ID); got.Status != scribe.StatusFailed || got.Failure.Code != scribe.FailUploadNotReceived || len(r.Q.Tasks) != beforeLate {
		t.Errorf("late upload to an abandoned session: %s, %d new tasks", got.Status, len(r.Q.Tasks)-beforeLate)
	}

	// A second run at once finds nothing: the re-enqueued sessions count as changed.
	if rep, err := sweeper(r).Sweep(ctx); err != nil || rep != (scribe.SweepReport{}) {
		t.Errorf("second sweep: %+v, %v; want nothing", rep, err)
	}
	// The jobs run: the stuck sessions end drafted.
	r.Q.Tasks = requeued
	r.RunTasks()
	for _, id := range []string{lost.ID, crashed.ID} {
		if got := r.Get(id); got.Status != scribe.StatusDrafted || got.NoteID != id {
			t.Errorf("session %s after its new job: %s", id, got.Status)
		}
	}
}

// Overlapping runs decide each session once: one new job per stuck session.
func TestOverlappingSweepsEnqueueOnce(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	var ids []string
	for range 4 {
		s := accepted(r)
		age(r, s.ID, scribe.StatusUploaded, 15*time.Minute, 15*time.Minute)
		ids = append(ids, s.ID)
	}
	first := len(r.Q.Tasks)
	var wg sync.WaitGroup
	reps := make([]scribe.SweepReport, 3)
	for i := range reps {
		wg.Go(func() {
			rep, err := sweeper(r).Sweep(context.Background())
			if err != nil {
				t.Errorf("sweep %d: %v", i, err)
			}
			reps[i] = rep
		})
	}
	wg.Wait()
	total := 0
	for _, rep := range reps {
		total += rep.Requeued
	}
	if total != len(ids) || len(r.Q.Tasks)-first != len(ids) {
		t.Errorf("3 overlapping sweeps: %d requeued, %d new tasks; want %d each (reports %+v)", total, len(r.Q.Tasks)-first, len(ids), reps)
	}
	for _, id := range ids {
		if got := r.Get(id); got.Sweeps != 1 {
			t.Errorf("session %s swept %d times, want 1", id, got.Sweeps)
		}
	}
}

// sweepDuring reads patients through the real store after running hook: the worker
// reads the patient while drafting, so the hook runs at that moment.
type sweepDuring struct {
	scribe.PatientRecords
	hook func()
}

func (s sweepDuring) Get(ctx context.Context, clinicID, id string) (patient.Patient, error) {
	s.hook()
	return s.PatientRecords.Get(ctx, clinicID, id)
}

// A worker that finishes after the sweeper gave its session up does not overwrite the
// failure with a draft: the session ends once, and the job ends without a retry.
func TestLateDraftDoesNotReviveAFailedSession(t *testing.T) {
	t.Parallel()
	r := scribetest.NewRig(t)
	ctx := context.Background()
	s := accepted(r)
	var job scribe.Job
	if err := json.Unmarshal(r.Q.Tasks[len(r.Q.Tasks)-1].Body, &job); err != nil {
		t.Fatal(err)
	}
	swept := false
	r.Worker.Patients = sweepDuring{PatientRecords: patient.NewStore(r.FS), hook: func() {
		// The job has been running for too long when the sweeper looks.
		age(r, s.ID, scribe.StatusDrafting, 11*time.Minute, 31*time.Minute)
		rep, err := sweeper(r).Sweep(ctx)
		swept = err == nil && rep.Failed == 1
	}}
	if err := r.Worker.Run(ctx, job); err != nil {
		t.Fatalf("worker on a session failed meanwhile: %v, want nil (nothing to retry)", err)
	}
	if !swept {
		t.Fatal("the sweeper did not fail the session while the worker drafted")
	}
	if got := r.Get(s.ID); got.Status != scribe.StatusFailed || got.Failure.Code != scribe.FailTimedOut {
		t.Errorf("session %s %+v, want still failed %s", got.Status, got.Failure, scribe.FailTimedOut)
	}
	if _, err := notes.NewStore(r.FS, nil, "").Get(ctx, r.Clinic, s.ID); err == nil {
		t.Error("a note was drafted for a failed session")
	}
}
