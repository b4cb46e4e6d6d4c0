package queueprojector

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/events"
	"github.com/medi-os/medi/shared/events/eventstest"
	"github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/testenv"
)

// Pub/Sub delivers at least once: every message below is delivered three times, all
// deliveries at once, in a shuffled order, to three instances of the function (Cloud
// Run scales out, so the instance-local coalescing of rebuilds is no guarantee). The
// board must equal the one that a single, in-order delivery of each message gives.

// deliveryRig is one Firestore project with instances of the function.
type deliveryRig struct {
	t         *testing.T
	fs        *firestore.Client
	instances []func(context.Context, event.Event) error
}

func newDeliveryRig(t *testing.T, instances int) *deliveryRig {
	t.Helper()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	r := &deliveryRig{t: t, fs: fs}
	for range instances {
		h, err := Function.Handler(ctx, &Config{Base: config.Base{ProjectID: project, Tier: config.Dev}})
		if err != nil {
			t.Fatal(err)
		}
		r.instances = append(r.instances, h)
	}
	return r
}

func (r *deliveryRig) put(clinic, id string, e encounter.Encounter) {
	r.t.Helper()
	e.ClinicID = clinic
	if _, err := r.fs.Collection("clinics").Doc(clinic).Collection("encounters").Doc(id).Set(context.Background(), e); err != nil {
		r.t.Fatal(err)
	}
}

func (r *deliveryRig) board(clinic string) queue.Board {
	r.t.Helper()
	b, ok, err := queue.NewStore(r.fs).Board(context.Background(), clinic)
	if err != nil || !ok {
		r.t.Fatalf("board of %s: found %v, %v", clinic, ok, err)
	}
	return b
}

// message is one Pub/Sub message: the same message id and envelope on every delivery.
type message struct {
	id  string
	env events.Envelope
}

func newMessage(t *testing.T, id, typ, clinic string, data map[string]string) message {
	t.Helper()
	env, err := events.NewEnvelope(context.Background(), typ, 1, clinic, data)
	if err != nil {
		t.Fatal(err)
	}
	return message{id: id, env: env}
}

// boardState is what a board says about the queue: everything but the write counter
// and the build, read and estimation times (which differ between any two rebuilds), and the wait
// estimates, which are computed for the build time (only their presence is compared).
var boardState = cmp.Options{
	cmpopts.IgnoreFields(queue.Board{}, "Version", "BuiltAt", "SourceReadAt", "Estimator.EstimatedAt"),
	cmpopts.IgnoreFields(queue.Entry{}, "WaitedMinutes"),
	cmp.Comparer(func(a, b *queue.WaitEstimate) bool { return (a == nil) == (b == nil) }),
}

func TestDeliveryProjectorTripleEqualsSingle(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	rng := testenv.DeliveryRand(t)

	now := time.Now().UTC().Truncate(time.Second)
	level := func(l int) *encounter.Triage { return &encounter.Triage{Level: l} }
	// Two clinics (two ordering keys), four patients; the encounters are already in the
	// state the events announce (the events of a burst reach the projector after the
	// writes).
	seed := func(r *deliveryRig) {
		r.put("clinic-a", "enc-1", encounter.Encounter{PatientID: "pat-1", Status: encounter.StatusTriaged, Triage: level(3),
			ArrivedAt: now.Add(-9 * time.Minute), UpdatedAt: now, StatusTimes: map[string]time.Time{"waiting": now.Add(-9 * time.Minute)}})
		r.put("clinic-a", "enc-2", encounter.Encounter{PatientID: "pat-2", Status: encounter.StatusWaiting,
			ArrivedAt: now.Add(-4 * time.Minute), UpdatedAt: now, StatusTimes: map[string]time.Time{"waiting": now.Add(-4 * time.Minute)}})
		r.put("clinic-a", "enc-3", encounter.Encounter{PatientID: "pat-3", Status: encounter.StatusInConsultation, Triage: level(2),
			ArrivedAt: now.Add(-30 * time.Minute), UpdatedAt: now,
			StatusTimes: map[string]time.Time{"waiting": now.Add(-30 * time.Minute), "in_consultation": now.Add(-5 * time.Minute)}})
		r.put("clinic-b", "enc-4", encounter.Encounter{PatientID: "pat-4", Status: encounter.StatusTriaged, Triage: level(2),
			ArrivedAt: now.Add(-2 * time.Minute), UpdatedAt: now, StatusTimes: map[string]time.Time{"waiting": now.Add(-2 * time.Minute)}})
	}
	msgs := []message{
		newMessage(t, "m1", "encounter.checked_in", "clinic-a", map[string]string{"encounterId": "enc-1", "patientId": "pat-1"}),
		newMessage(t, "m2", "encounter.triaged", "clinic-a", map[string]string{"encounterId": "enc-1", "patientId": "pat-1"}),
		newMessage(t, "m3", "encounter.checked_in", "clinic-a", map[string]string{"encounterId": "enc-2", "patientId": "pat-2"}),
		newMessage(t, "m4", "encounter.transitioned", "clinic-a", map[string]string{"encounterId": "enc-3", "patientId": "pat-3"}),
		newMessage(t, "m5", "encounter.triaged", "clinic-b", map[string]string{"encounterId": "enc-4", "patientId": "pat-4"}),
		newMessage(t, "m6", queue.TypeRebuildRequested, "clinic-b", map[string]string{}),
	}

	single := newDeliveryRig(t, 1)
	seed(single)
	for _, m := range msgs {
		if err := single.instances[0](ctx, eventstest.Push(t, m.id, "encounter-events", m.env)); err != nil {
			t.Fatalf("single delivery of %s: %v", m.id, err)
		}
	}
	triple := newDeliveryRig(t, testenv.DeliveryCopies)
	seed(triple)
	testenv.DeliverShuffled(t, rng, len(msgs), testenv.DeliveryCopies, testenv.Redelivery{Attempts: 5}, func(i, copy, _ int) error {
		return triple.instances[copy](ctx, eventstest.Push(t, msgs[i].id, "encounter-events", msgs[i].env))
	})

	for _, clinic := range []string{"clinic-a", "clinic-b"} {
		want, got := single.board(clinic), triple.board(clinic)
		if d := cmp.Diff(want, got, boardState); d != "" {
			t.Errorf("%s: board after triple delivery differs from single delivery (-single +triple):\n%s", clinic, d)
		}
		t.Logf("%s: %d board writes for single delivery, %d for triple", clinic, want.Version, got.Version)
	}
	// And the single delivery is right: one entry per queued encounter, none for the
	// consultation in progress.
	a := single.board("clinic-a")
	var ids []string
	for _, e := range a.Entries {
		ids = append(ids, e.EncounterID)
	}
	if !slices.Equal(ids, []string{"enc-2", "enc-1"}) || a.InConsultation != 1 {
		t.Errorf("clinic-a board: entries %v, %d in consultation; want [enc-2 enc-1] (untriaged ahead of level 3), 1", ids, a.InConsultation)
	}
	if b := single.board("clinic-b"); len(b.Entries) != 1 || b.Entries[0].EncounterID != "enc-4" {
		t.Errorf("clinic-b board entries %+v, want enc-4 only", b.Entries)
	}
}

// entryView is what the reorder test checks of an entry.
type entryView struct {
	ID     string
	Status encounter.Status
	Level  int // 0: untriaged
}

func viewOf(b queue.Board) (entries []entryView, inConsultation int) {
	for _, e := range b.Entries {
		v := entryView{ID: e.EncounterID, Status: e.Status}
		if e.Level != nil {
			v.Level = *e.Level
		}
		entries = append(entries, v)
	}
	slices.SortFunc(entries, func(a, b entryView) int { return strings.Compare(a.ID, b.ID) })
	return entries, b.InConsultation
}

// The subscription orders encounter-events by clinic, but a redelivery (a nack, an
// expired ack deadline, a second push after a timeout) brings an older message back
// after newer ones. An older event arriving after a newer one must not regress the
// board: after each change, the change's own event is delivered, then every older
// event again (three times, shuffled, concurrently, to three instances), and the board
// must still show the latest state.
func TestDeliveryProjectorOlderEventsDoNotRegressBoard(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	rng := testenv.DeliveryRand(t)
	r := newDeliveryRig(t, testenv.DeliveryCopies)
	const clinic = "clinic-r"
	t0 := time.Now().UTC().Add(-20 * time.Minute).Truncate(time.Second)
	arrived := map[string]time.Time{"enc-1": t0, "enc-2": t0.Add(5 * time.Minute)}
	patient := map[string]string{"enc-1": "pat-1", "enc-2": "pat-2"}

	type change struct {
		enc, typ string
		status   encounter.Status
		level    int
		want     []entryView
		wantCons int
	}
	steps := []change{
		{enc: "enc-1", typ: "encounter.checked_in", status: encounter.StatusWaiting,
			want: []entryView{{"enc-1", encounter.StatusWaiting, 0}}},
		{enc: "enc-2", typ: "encounter.checked_in", status: encounter.StatusWaiting,
			want: []entryView{{"enc-1", encounter.StatusWaiting, 0}, {"enc-2", encounter.StatusWaiting, 0}}},
		{enc: "enc-2", typ: "encounter.triaged", status: encounter.StatusTriaged, level: 2,
			want: []entryView{{"enc-1", encounter.StatusWaiting, 0}, {"enc-2", encounter.StatusTriaged, 2}}},
		{enc: "enc-1", typ: "encounter.triaged", status: encounter.StatusTriaged, level: 4,
			want: []entryView{{"enc-1", encounter.StatusTriaged, 4}, {"enc-2", encounter.StatusTriaged, 2}}},
		{enc: "enc-2", typ: "encounter.transitioned", status: encounter.StatusInConsultation, level: 2,
			want: []entryView{{"enc-1", encounter.StatusTriaged, 4}}, wantCons: 1},
		{enc: "enc-1", typ: "encounter.transitioned", status: encounter.StatusCancelled, level: 4,
			want: nil, wantCons: 1},
		{enc: "enc-2", typ: "encounter.transitioned", status: encounter.StatusCompleted, level: 2,
			want: nil, wantCons: 0},
	}
	var published []message
	for k, s := range steps {
		now := time.Now().UTC()
		e := encounter.Encounter{PatientID: patient[s.enc], Status: s.status, ArrivedAt: arrived[s.enc], UpdatedAt: now,
			StatusTimes: map[string]time.Time{"waiting": arrived[s.enc]}}
		if s.level > 0 {
			e.Triage = &encounter.Triage{Level: s.level}
		}
		if s.status == encounter.StatusInConsultation || s.status == encounter.StatusCompleted {
			e.StatusTimes["in_consultation"] = now.Add(-time.Minute)
		}
		if s.status == encounter.StatusCompleted {
			e.StatusTimes["completed"] = now
		}
		r.put(clinic, s.enc, e)
		m := newMessage(t, fmt.Sprintf("m%d", k+1), s.typ, clinic, map[string]string{"encounterId": s.enc, "patientId": patient[s.enc]})
		if err := r.instances[k%len(r.instances)](ctx, eventstest.Push(t, m.id, "encounter-events", m.env)); err != nil {
			t.Fatalf("step %d: delivery of its event: %v", k+1, err)
		}
		check := func(when string) {
			t.Helper()
			entries, cons := viewOf(r.board(clinic))
			if d := cmp.Diff(s.want, entries); d != "" || cons != s.wantCons {
				t.Errorf("step %d (%s %s) %s: board entries (-want +got):\n%s in consultation %d, want %d",
					k+1, s.enc, s.status, when, d, cons, s.wantCons)
			}
		}
		check("after its event")
		older := slices.Clone(published)
		testenv.DeliverShuffled(t, rng, len(older), testenv.DeliveryCopies, testenv.Redelivery{Attempts: 5}, func(i, copy, _ int) error {
			return r.instances[copy](ctx, eventstest.Push(t, older[i].id, "encounter-events", older[i].env))
		})
		check("after older events were redelivered")
		published = append(published, m)
	}
}
