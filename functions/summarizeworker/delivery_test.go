package summarizeworker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/medi-os/medi/shared/llm"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medi-os/medi/functions/summarizeworker"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/summary"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Cloud Tasks delivers at least once: every summaries task below is delivered three
// times, all at once, in a shuffled order, to three instances of the worker. The stored
// summaries must be those a single delivery of each task leaves: one per patient.

// workerRig is one project with instances of the worker.
type workerRig struct {
	t         *testing.T
	fs        *firestore.Client
	instances []http.Handler
}

func newWorkerRig(t *testing.T, instances int) *workerRig {
	t.Helper()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	r := &workerRig{t: t, fs: fs}
	for range instances {
		h, err := summarizeworker.Function.Handler(ctx, &summarizeworker.Config{
			Base:        config.Base{ProjectID: project, Tier: config.Dev},
			TasksConfig: app.TasksConfig{DevSecret: config.Secret(secret)},
			Engine:      summary.EngineDeterministic,
		})
		if err != nil {
			t.Fatal(err)
		}
		r.instances = append(r.instances, h)
	}
	return r
}

func (r *workerRig) patient(clinic, id string, updated time.Time, allergy string) {
	r.t.Helper()
	if _, err := r.fs.Collection("clinics").Doc(clinic).Collection("patients").Doc(id).Set(context.Background(), map[string]any{
		"clinicId": clinic, "birthDate": "1980-01-02", "sex": "female", "version": 1, "updatedAt": updated,
		"allergies": []any{map[string]any{"substance": allergy}}, "medications": []any{}, "problems": []any{},
	}); err != nil {
		r.t.Fatal(err)
	}
}

// deliver POSTs job as Cloud Tasks does.
func (r *workerRig) deliver(instance int, name string, job summary.Job) error {
	b, err := json.Marshal(job)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, summary.TaskPath, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tasks.SecretHeader, secret)
	req.Header.Set(tasks.HeaderQueueName, tasks.QueueSummaries)
	req.Header.Set(tasks.HeaderTaskName, name)
	rec := httptest.NewRecorder()
	r.instances[instance].ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("status %d", rec.Code)
	}
	return nil
}

// summaries reads every stored summary of the clinic and counts the model usage records.
func (r *workerRig) summaries(clinic string) (map[string]summary.Stored, int) {
	r.t.Helper()
	ctx := context.Background()
	docs, err := r.fs.Collection("clinics").Doc(clinic).Collection(summary.CollectionSummaries).Documents(ctx).GetAll()
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]summary.Stored{}
	for _, d := range docs {
		var st summary.Stored
		if err := d.DataTo(&st); err != nil {
			r.t.Fatal(err)
		}
		out[d.Ref.ID] = st
	}
	usage, err := r.fs.Collection("clinics").Doc(clinic).Collection(llm.CollectionUsage).Documents(ctx).GetAll()
	if err != nil {
		r.t.Fatal(err)
	}
	return out, len(usage)
}

func TestDeliverySummarizeWorkerTripleEqualsSingle(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	rng := testenv.DeliveryRand(t)
	const clinic = "clinic-s"
	updated := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	seed := func(r *workerRig) {
		r.patient(clinic, "p1", updated, "latex")
		r.patient(clinic, "p2", updated, "penicillin")
		r.patient(clinic, "p3", updated, "peanuts")
	}
	// Four tasks: one per patient, and a second one for p1 (another source hash seen by
	// a reader, a forced refresh), each with its own task name.
	jobs := []summary.Job{
		{ClinicID: clinic, PatientID: "p1", SourceHash: "h1"},
		{ClinicID: clinic, PatientID: "p2", SourceHash: "h2"},
		{ClinicID: clinic, PatientID: "p3", SourceHash: "h3"},
		{ClinicID: clinic, PatientID: "p1", SourceHash: "h1-refresh"},
	}
	name := func(j summary.Job) string { return tasks.TaskID(j.ClinicID, j.PatientID, j.SourceHash) }

	single := newWorkerRig(t, 1)
	seed(single)
	for _, j := range jobs {
		if err := single.deliver(0, name(j), j); err != nil {
			t.Fatalf("single delivery: %v", err)
		}
	}
	triple := newWorkerRig(t, testenv.DeliveryCopies)
	seed(triple)
	testenv.DeliverShuffled(t, rng, len(jobs), testenv.DeliveryCopies, testenv.Redelivery{Attempts: 5}, func(i, copy, _ int) error {
		return triple.deliver(copy, name(jobs[i]), jobs[i])
	})

	want, wantUsage := single.summaries(clinic)
	got, gotUsage := triple.summaries(clinic)
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(summary.Stored{}, "BuiltAt"), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("summaries after triple delivery differ from single delivery (-single +triple):\n%s", d)
	}
	if gotUsage != wantUsage {
		t.Errorf("%d model usage records after triple delivery, %d after single", gotUsage, wantUsage)
	}
	if len(want) != 3 {
		t.Errorf("single delivery stored %d summaries, want 3", len(want))
	}
	for id, st := range want {
		if st.Stale || len(st.SourceHash) != 64 {
			t.Errorf("summary of %s: stale %v, source hash %q", id, st.Stale, st.SourceHash)
		}
	}
}
