package queue

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func entryOrder(b Board) []string {
	out := make([]string, len(b.Entries))
	for i, e := range b.Entries {
		out[i] = e.EncounterID
	}
	return out
}

func TestLiveBoard(t *testing.T) {
	t.Parallel()
	readAt := testNow.Add(-2 * time.Minute)
	// The stored board: l3 and w (untriaged), built two minutes ago, with estimates.
	stored, _ := orderBoard("c1", Snapshot{Now: readAt, DoctorsOnDuty: 2,
		Queue: []Waiting{waiting("l3", 3, 10), waiting("w", 0, 5)}})
	stored.Version, stored.SourceReadAt = 7, readAt
	SetEstimates(&stored, Estimates{At: readAt, Runs: 100, ByEncounter: map[string]WaitEstimate{
		"l3": {P50Minutes: 30, P90Minutes: 50}, "w": {P50Minutes: 1, P90Minutes: 4},
	}})
	stored.Estimator.LearnedFrom = 12

	t.Run("a newer read: order and new patients from it, estimates from the stored board", func(t *testing.T) {
		t.Parallel()
		src := Source{ReadAt: testNow.Add(-time.Second), Queue: []Waiting{
			waiting("l3", 3, 10), waiting("w", 0, 5), waiting("l1", 1, 0), waiting("w2", 0, 0),
		}, InConsultation: []Consultation{{EncounterID: "x", Level: 2}}}
		live := LiveBoard(stored, src, testNow)
		if diff := cmp.Diff([]string{"l1", "w", "w2", "l3"}, entryOrder(live)); diff != "" {
			t.Fatalf("order (-want +got):\n%s", diff)
		}
		if live.Version != 7 || !live.SourceReadAt.Equal(src.ReadAt) || !live.BuiltAt.Equal(testNow) ||
			live.DoctorsOnDuty != 2 || live.InConsultation != 1 || live.Estimator != stored.Estimator {
			t.Errorf("board fields: version %d, read %v, built %v, doctors %d, in consultation %d, estimator %+v",
				live.Version, live.SourceReadAt, live.BuiltAt, live.DoctorsOnDuty, live.InConsultation, live.Estimator)
		}
		for i, e := range live.Entries {
			if e.Position != i+1 {
				t.Errorf("%s at index %d has position %d", e.EncounterID, i, e.Position)
			}
			newcomer := e.EncounterID == "l1" || e.EncounterID == "w2"
			if e.Provisional != newcomer || (e.WaitEstimate == nil) != newcomer {
				t.Errorf("%s: provisional %v, estimate %v", e.EncounterID, e.Provisional, e.WaitEstimate)
			}
		}
		// Stored estimates count down by the whole minutes since the stored board.
		if got := live.Entries[3].WaitEstimate; got == nil || *got != (WaitEstimate{P50Minutes: 28, P90Minutes: 48}) {
			t.Errorf("l3 estimate %v, want 28/48", got)
		}
		if got := live.Entries[1].WaitEstimate; got == nil || *got != (WaitEstimate{P50Minutes: 0, P90Minutes: 2}) {
			t.Errorf("w estimate %v, want 0/2", got)
		}
		if got := live.Entries[1].WaitedMinutes; got != 5 {
			t.Errorf("w waited %d minutes, want 5 (counted at now)", got)
		}
	})

	t.Run("a patient who left the queue leaves the live board", func(t *testing.T) {
		t.Parallel()
		live := LiveBoard(stored, Source{ReadAt: testNow, Queue: []Waiting{waiting("w", 0, 5)}}, testNow)
		if diff := cmp.Diff([]string{"w"}, entryOrder(live)); diff != "" || live.Entries[0].Provisional {
			t.Errorf("entries (-want +got):\n%s%+v", diff, live.Entries)
		}
	})

	t.Run("a stored board from a read as new or newer is the live board", func(t *testing.T) {
		t.Parallel()
		for _, at := range []time.Time{readAt, readAt.Add(-time.Second), {}} {
			live := LiveBoard(stored, Source{ReadAt: at, Queue: []Waiting{waiting("other", 1, 0)}}, testNow)
			if diff := cmp.Diff(stored, live); diff != "" {
				t.Errorf("read at %v (-stored +live):\n%s", at, diff)
			}
		}
	})

	t.Run("before any stored board", func(t *testing.T) {
		t.Parallel()
		live := LiveBoard(EmptyBoard("c1"), Source{ReadAt: testNow, Queue: []Waiting{waiting("a", 2, 1)}}, testNow)
		if live.Version != 0 || live.ClinicID != "c1" || len(live.Entries) != 1 || !live.Entries[0].Provisional {
			t.Errorf("live board %+v", live)
		}
	})
}
