package summary

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/llm/llmtest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/triagerecord"
)

// recordingQueue is an Enqueuer that keeps what it is given, dropping repeated names as
// Cloud Tasks does.
type recordingQueue struct {
	mu    sync.Mutex
	tasks []tasks.Task
	names map[string]bool
}

func (q *recordingQueue) Enqueue(_ context.Context, t tasks.Task) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.names == nil {
		q.names = map[string]bool{}
	}
	if !q.names[t.Name] {
		q.names[t.Name] = true
		q.tasks = append(q.tasks, t)
	}
	return nil
}

func (q *recordingQueue) jobs(t *testing.T) []Job {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Job
	for _, tk := range q.tasks {
		if tk.Queue != tasks.QueueSummaries || tk.URL != "http://worker.test"+TaskPath {
			t.Errorf("task to %s %s, want queue summaries at the worker", tk.Queue, tk.URL)
		}
		var j Job
		if err := json.Unmarshal(tk.Body, &j); err != nil {
			t.Fatal(err)
		}
		if want := tasks.TaskID(j.ClinicID, j.PatientID, j.SourceHash); tk.Name != want && !j.Force {
			t.Errorf("task name %s, want TaskID(clinic, patient, hash)", tk.Name)
		}
		out = append(out, j)
	}
	return out
}

type fixture struct {
	fs     *firestore.Client
	svc    *Service
	queue  *recordingQueue
	clinic string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	q := &recordingQueue{}
	f := &fixture{fs: fs, queue: q, clinic: "clinic-a",
		svc: NewService(fs, &Builder{Now: func() time.Time { return now }}, q, "http://worker.test")}
	f.seed(t, testSources())
	return f
}

func (f *fixture) clinicDoc() *firestore.DocumentRef { return f.fs.Collection("clinics").Doc(f.clinic) }

// seed writes src as the services that own the records store them.
func (f *fixture) seed(t *testing.T, src Sources) {
	t.Helper()
	ctx := context.Background()
	c := f.clinicDoc()
	if _, err := c.Collection("patients").Doc(src.Patient.ID).Set(ctx, src.Patient); err != nil {
		t.Fatal(err)
	}
	for _, es := range src.Encounters {
		e := es.Encounter
		e.ClinicID = f.clinic
		if _, err := c.Collection("encounters").Doc(e.ID).Set(ctx, e); err != nil {
			t.Fatal(err)
		}
		for _, a := range es.Assessments {
			if _, err := c.Collection("encounters").Doc(e.ID).Collection(triagerecord.Collection).Doc(a.ID).Set(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ns := range src.Notes {
		f.seedNote(t, ns)
	}
}

func (f *fixture) seedNote(t *testing.T, ns NoteSource) {
	t.Helper()
	ctx := context.Background()
	ref := f.clinicDoc().Collection("notes").Doc(ns.Note.ID)
	if _, err := ref.Set(ctx, ns.Note); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Collection("versions").Doc(jsonInt(ns.Version.Number)).Set(ctx, ns.Version); err != nil {
		t.Fatal(err)
	}
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

func (f *fixture) reads(t *testing.T) []audit.Record {
	t.Helper()
	docs, err := f.clinicDoc().Collection(audit.Collection).Where("action", "==", ActionRead).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// The cycle a doctor sees: miss (pending, one task), regenerate, hit, a new approved note
// (stale, the old summary, a task for the new hash), regenerate, hit again.
func TestReadMissRegenerateHitStale(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()

	ans, err := f.svc.Read(ctx, f.clinic, "p1", false)
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != StatePending || !ans.Regenerating || ans.Stored != nil {
		t.Fatalf("miss: %+v, want pending and regenerating", ans)
	}
	// A second reader before the worker ran asks for the same task.
	if _, err := f.svc.Read(ctx, f.clinic, "p1", false); err != nil {
		t.Fatal(err)
	}
	jobs := f.queue.jobs(t)
	hash1 := SourceHash(mustLoad(t, f))
	if d := cmp.Diff(jobs, []Job{{ClinicID: f.clinic, PatientID: "p1", SourceHash: hash1}}); d != "" {
		t.Fatalf("tasks after the misses (-got +want):\n%s", d)
	}

	out, err := f.svc.Regenerate(ctx, jobs[0])
	if err != nil || !out.Wrote {
		t.Fatalf("Regenerate = %+v, %v; want written", out.Wrote, err)
	}
	ans, err = f.svc.Read(ctx, f.clinic, "p1", false)
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != StateFresh || ans.Regenerating || ans.Stored.SourceHash != hash1 {
		t.Fatalf("hit: state %s regenerating %v, want fresh", ans.State, ans.Regenerating)
	}
	if d := cmp.Diff(ans.Stored.Summary, out.Stored.Summary); d != "" {
		t.Errorf("served summary differs from the built one:\n%s", d)
	}
	if n := len(f.queue.jobs(t)); n != 1 {
		t.Errorf("%d tasks after a hit, want still 1", n)
	}

	// A newly approved note changes the sources.
	note := testSources().Notes[0]
	note.Note.ID, note.Note.ApprovedAt = "n2", day2.Add(time.Hour)
	f.seedNote(t, note)
	ans, err = f.svc.Read(ctx, f.clinic, "p1", false)
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != StateStale || !ans.Regenerating || ans.Stored.SourceHash != hash1 {
		t.Fatalf("after a new note: state %s regenerating %v, want the stale summary", ans.State, ans.Regenerating)
	}
	jobs = f.queue.jobs(t)
	if len(jobs) != 2 || jobs[1].SourceHash == hash1 {
		t.Fatalf("tasks %+v, want a second one for the new hash", jobs)
	}
	if _, err := f.svc.Regenerate(ctx, jobs[1]); err != nil {
		t.Fatal(err)
	}
	ans, err = f.svc.Read(ctx, f.clinic, "p1", false)
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != StateFresh || len(ans.Stored.Summary.OpenItems) != 2 {
		t.Errorf("after regeneration: state %s, %d open items; want fresh with both notes' plans", ans.State, len(ans.Stored.Summary.OpenItems))
	}

	// Every read was audited as a success, with the summary's state as the reason.
	var outcomes []string
	for _, r := range f.reads(t) {
		if r.PatientID != "p1" || r.ResourceID != "p1" {
			t.Errorf("audit record %+v does not name the patient", r)
		}
		if r.Outcome != "success" || !strings.HasPrefix(r.Reason, "summary ") {
			t.Errorf("audit record outcome %q reason %q, want success and the summary state", r.Outcome, r.Reason)
		}
		outcomes = append(outcomes, r.Reason)
	}
	if got, want := len(outcomes), 5; got != want {
		t.Errorf("%d read audit records (%v), want %d", got, outcomes, want)
	}
}

func mustLoad(t *testing.T, f *fixture) Sources {
	t.Helper()
	src, err := f.svc.Loader.Load(context.Background(), f.clinic, "p1")
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Duplicate deliveries of one task write once and leave the same summary.
func TestRegenerateDuplicateTasks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	job := Job{ClinicID: f.clinic, PatientID: "p1", SourceHash: SourceHash(mustLoad(t, f))}
	first, err := f.svc.Regenerate(ctx, job)
	if err != nil || !first.Wrote {
		t.Fatalf("first delivery: wrote %v, %v", first.Wrote, err)
	}
	f.svc.Builder.Now = func() time.Time { return now.Add(time.Hour) } // a rebuild would differ
	for i := range 3 {
		again, err := f.svc.Regenerate(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		if again.Wrote {
			t.Errorf("duplicate %d wrote again", i+1)
		}
	}
	st, ok, err := f.svc.Store.Get(ctx, f.clinic, "p1")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if !st.BuiltAt.Equal(first.Stored.BuiltAt) {
		t.Errorf("builtAt %v, want the first build's %v", st.BuiltAt, first.Stored.BuiltAt)
	}
	// A forced rebuild does write.
	forced, err := f.svc.Regenerate(ctx, Job{ClinicID: f.clinic, PatientID: "p1", Force: true})
	if err != nil || !forced.Wrote {
		t.Errorf("forced rebuild: wrote %v, %v", forced.Wrote, err)
	}
}

// An approved note invalidates: the summary is marked stale and a task is enqueued for
// the new hash; repeated invalidations of the same records enqueue one task.
func TestInvalidateByApprovedNote(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Regenerate(ctx, Job{ClinicID: f.clinic, PatientID: "p1"}); err != nil {
		t.Fatal(err)
	}
	note := testSources().Notes[0]
	note.Note.ID = "n3"
	f.seedNote(t, note)
	for range 2 {
		if err := f.svc.Invalidate(ctx, f.clinic, "p1"); err != nil {
			t.Fatal(err)
		}
	}
	st, _, err := f.svc.Store.Get(ctx, f.clinic, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Stale {
		t.Error("summary not marked stale")
	}
	want := []Job{{ClinicID: f.clinic, PatientID: "p1", SourceHash: SourceHash(mustLoad(t, f))}}
	if d := cmp.Diff(f.queue.jobs(t), want); d != "" {
		t.Fatalf("tasks (-got +want):\n%s", d)
	}
	out, err := f.svc.Regenerate(ctx, want[0])
	if err != nil || !out.Wrote || out.Stored.Stale {
		t.Errorf("regeneration: wrote %v stale %v, %v", out.Wrote, out.Stored.Stale, err)
	}
}

func TestReadOtherClinicOrMissing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct{ clinic, patient string }{{"clinic-b", "p1"}, {f.clinic, "nobody"}, {f.clinic, "a/b"}} {
		if _, err := f.svc.Read(context.Background(), tt.clinic, tt.patient, false); !errors.Is(err, ErrPatientNotFound) {
			t.Errorf("Read(%s, %s) = %v, want ErrPatientNotFound", tt.clinic, tt.patient, err)
		}
	}
	if n := len(f.queue.jobs(t)); n != 0 {
		t.Errorf("%d tasks enqueued for patients that are not there", n)
	}
}

func TestBudgetCapThroughTheFirestoreLedger(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	l := &llm.FirestoreLedger{FS: f.fs, DefaultCapUSD: 100}
	// The clinic's cap is below what one call may cost: the model is not called.
	if _, err := f.clinicDoc().Set(ctx, map[string]any{llm.BudgetField: 0.002}); err != nil {
		t.Fatal(err)
	}
	eng, fake := newGemini(t, l, llmtest.Reply{Text: answer(Item{Text: "x", Sources: []string{"patient/p1"}})})
	b := &Builder{Engine: eng, Now: func() time.Time { return now }}
	st := b.Build(ctx, f.clinic, mustLoad(t, f))
	if st.Engine != EngineDeterministic || st.FallbackReason != ReasonBudgetExceeded || fake.Calls() != 0 {
		t.Errorf("over budget: engine %s reason %q calls %d", st.Engine, st.FallbackReason, fake.Calls())
	}
	// Raised: the call is made, recorded with its cost, and the reservation released.
	if _, err := f.clinicDoc().Set(ctx, map[string]any{llm.BudgetField: 10.0}); err != nil {
		t.Fatal(err)
	}
	st = b.Build(ctx, f.clinic, mustLoad(t, f))
	if st.Engine != EngineGemini || fake.Calls() != 1 {
		t.Fatalf("within budget: engine %s reason %q calls %d", st.Engine, st.FallbackReason, fake.Calls())
	}
	recs, err := f.clinicDoc().Collection(llm.CollectionUsage).Documents(ctx).GetAll()
	if err != nil || len(recs) != 1 || recs[0].Data()["purpose"] != "summary" {
		t.Errorf("%d llmUsage records, %v", len(recs), err)
	}
	m, err := f.clinicDoc().Collection(llm.CollectionUsageMonths).Doc(llm.Month(now)).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := m.DataAt("reservedUsd"); r.(float64) > 1e-12 {
		t.Errorf("reservation left: %v", r)
	}
}
