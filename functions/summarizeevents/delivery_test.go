package summarizeevents

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/events/eventstest"
	"github.com/medi-os/medi/shared/summary"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Pub/Sub delivers at least once: every message below is delivered three times, all
// at once, in a shuffled order, to three instances of each consumer. The summaries'
// stale marks, the dedupe marks and the summaries tasks (by name: Cloud Tasks creates
// one task per name) must be what a single delivery of each message leaves: one task
// per patient and source hash.

// taskRecorder is the summarize-worker as the local task dispatcher sees it: it
// records every task delivered (name and body) and answers 200.
type taskRecorder struct {
	mu    sync.Mutex
	names map[string]string // task name -> body
	posts int
}

func (tr *taskRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	tr.mu.Lock()
	tr.posts++
	tr.names[r.Header.Get(tasks.HeaderTaskName)] = string(b)
	tr.mu.Unlock()
}

// await waits until n distinct tasks arrived (the dispatcher delivers asynchronously).
func (tr *taskRecorder) await(t *testing.T, n int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tr.mu.Lock()
		got := len(tr.names)
		tr.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return maps.Clone(tr.names)
}

// consumerRig is one project, a recorder standing in for the worker and instances of
// one consumer.
type consumerRig struct {
	t         *testing.T
	fs        *firestore.Client
	tasks     *taskRecorder
	instances []app.EventHandler
}

func newConsumerRig(t *testing.T, fn *app.CloudEventFunction[*Config], instances int) *consumerRig {
	t.Helper()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	rec := &taskRecorder{names: map[string]string{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	t.Setenv("MEDI_FUNCTION_URL_SUMMARIZE_WORKER", srv.URL) // read by setup
	r := &consumerRig{t: t, fs: fs, tasks: rec}
	for range instances {
		h, err := fn.Handler(ctx, &Config{Base: config.Base{ProjectID: project, Tier: config.Dev},
			TasksConfig: app.TasksConfig{DevSecret: "summarize-events-test"}})
		if err != nil {
			t.Fatal(err)
		}
		r.instances = append(r.instances, h)
	}
	return r
}

func (r *consumerRig) seed() {
	r.t.Helper()
	ctx := context.Background()
	updated := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, cp := range [][2]string{{"c1", "p1"}, {"c1", "p2"}, {"c2", "p3"}} {
		if _, err := r.fs.Collection("clinics").Doc(cp[0]).Collection("patients").Doc(cp[1]).Set(ctx, map[string]any{
			"clinicId": cp[0], "birthDate": "1970-05-06", "sex": "male", "version": 1, "updatedAt": updated,
			"allergies": []any{}, "medications": []any{}, "problems": []any{},
		}); err != nil {
			r.t.Fatal(err)
		}
	}
	// p1 has a summary (to be marked stale); the others have none yet.
	if _, err := r.fs.Collection("clinics").Doc("c1").Collection(summary.CollectionSummaries).Doc("p1").Set(ctx,
		map[string]any{"patientId": "p1", "sourceHash": "old", "engine": "deterministic", "stale": false}); err != nil {
		r.t.Fatal(err)
	}
}

// state is the end state: stale marks per summary and the consumer's dedupe marks.
func (r *consumerRig) state(consumer string) (stale map[string]bool, marks []string) {
	r.t.Helper()
	ctx := context.Background()
	stale = map[string]bool{}
	docs, err := r.fs.CollectionGroup(summary.CollectionSummaries).Documents(ctx).GetAll()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, d := range docs {
		v, _ := d.DataAt("stale")
		stale[d.Ref.Parent.Parent.ID+"/"+d.Ref.ID], _ = v.(bool)
	}
	refs, err := r.fs.Collection(events.ProcessedEventsCollection).DocumentRefs(ctx).GetAll()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, ref := range refs {
		if strings.HasPrefix(ref.ID, consumer+"__") {
			marks = append(marks, ref.ID)
		}
	}
	slices.Sort(marks)
	return stale, marks
}

type message struct {
	id  string
	env events.Envelope
}

func newMessage(t *testing.T, id, typ, clinic string, data map[string]any) message {
	t.Helper()
	env, err := events.NewEnvelope(context.Background(), typ, 1, clinic, data)
	if err != nil {
		t.Fatal(err)
	}
	return message{id: id, env: env}
}

// Not parallel: setup reads the worker URL from the environment (t.Setenv).
func TestDeliverySummarizeEventsTripleEqualsSingle(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	rng := testenv.DeliveryRand(t)
	for _, tc := range []struct {
		fn        *app.CloudEventFunction[*Config]
		consumer  string
		topic     string
		msgs      []message
		wantTasks int // distinct patients among the relevant events
	}{
		{fn: NoteFunction, consumer: NoteEventsName, topic: "note-events", wantTasks: 2, msgs: []message{
			newMessage(t, "n1", "note.approved", "c1", map[string]any{"noteId": "note-1", "patientId": "p1", "version": 2}),
			newMessage(t, "n2", "note.approved", "c1", map[string]any{"noteId": "note-2", "patientId": "p1", "version": 1}),
			newMessage(t, "n3", "note.approved", "c2", map[string]any{"noteId": "note-3", "patientId": "p3", "version": 3}),
			newMessage(t, "n4", "note.drafted", "c1", map[string]any{"noteId": "note-4", "patientId": "p2", "version": 1}),
		}},
		{fn: EncounterFunction, consumer: EncounterEventsName, topic: "encounter-events", wantTasks: 3, msgs: []message{
			newMessage(t, "e1", "encounter.checked_in", "c1", map[string]any{"encounterId": "enc-1", "patientId": "p1"}),
			newMessage(t, "e2", "encounter.triaged", "c1", map[string]any{"encounterId": "enc-1", "patientId": "p1", "level": 3}),
			newMessage(t, "e3", "encounter.transitioned", "c1", map[string]any{"encounterId": "enc-1", "patientId": "p1"}),
			newMessage(t, "e4", "encounter.checked_in", "c1", map[string]any{"encounterId": "enc-2", "patientId": "p2"}),
			newMessage(t, "e5", "encounter.checked_in", "c2", map[string]any{"encounterId": "enc-3", "patientId": "p3"}),
		}},
	} {
		t.Run(tc.consumer, func(t *testing.T) {
			single := newConsumerRig(t, tc.fn, 1)
			single.seed()
			for _, m := range tc.msgs {
				if err := single.instances[0](ctx, eventstest.Push(t, m.id, tc.topic, m.env)); err != nil {
					t.Fatalf("single delivery of %s: %v", m.id, err)
				}
			}
			triple := newConsumerRig(t, tc.fn, testenv.DeliveryCopies)
			triple.seed()
			testenv.DeliverShuffled(t, rng, len(tc.msgs), testenv.DeliveryCopies, testenv.Redelivery{Attempts: 5}, func(i, copy, _ int) error {
				return triple.instances[copy](ctx, eventstest.Push(t, tc.msgs[i].id, tc.topic, tc.msgs[i].env))
			})

			wantTasks, gotTasks := single.tasks.await(t, tc.wantTasks), triple.tasks.await(t, tc.wantTasks)
			if d := cmp.Diff(wantTasks, gotTasks); d != "" {
				t.Errorf("summaries tasks (name -> body) after triple delivery differ from single delivery (-single +triple):\n%s", d)
			}
			if len(wantTasks) != tc.wantTasks {
				t.Errorf("single delivery enqueued %d tasks, want %d (one per patient)", len(wantTasks), tc.wantTasks)
			}
			wantStale, wantMarks := single.state(tc.consumer)
			gotStale, gotMarks := triple.state(tc.consumer)
			if d := cmp.Diff(wantStale, gotStale); d != "" {
				t.Errorf("stale marks (-single +triple):\n%s", d)
			}
			if d := cmp.Diff(wantMarks, gotMarks); d != "" {
				t.Errorf("dedupe marks (-single +triple):\n%s", d)
			}
			if !wantStale["c1/p1"] {
				t.Errorf("single delivery left p1's summary fresh: %v", wantStale)
			}
			triple.tasks.mu.Lock()
			t.Logf("worker received %d POSTs for %d task names (each instance's local dispatcher dedupes names; Cloud Tasks does across instances)",
				triple.tasks.posts, len(gotTasks))
			triple.tasks.mu.Unlock()
		})
	}
}
