package queue

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/triage"
)

var testNow = time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)

// waiting returns a patient of level (0: untriaged) who arrived `ago` minutes before
// testNow.
func waiting(id string, level triage.Level, ago float64) Waiting {
	st := encounter.StatusTriaged
	if level == 0 {
		st = encounter.StatusWaiting
	}
	return Waiting{EncounterID: id, PatientID: "p-" + id, Status: st, Level: level,
		ArrivedAt: testNow.Add(-time.Duration(ago * float64(time.Minute)))}
}

func ids(ws []Waiting) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.EncounterID
	}
	return out
}

func TestOrder(t *testing.T) {
	t.Parallel()
	seen := waiting("l3-seen-long-ago", 3, 200)
	seen.Seen = true
	for _, tc := range []struct {
		name string
		in   []Waiting
		want []string
	}{
		{
			name: "within target: level 1, level 2, untriaged, levels 3-5",
			in: []Waiting{waiting("l5", 5, 1), waiting("l4", 4, 1), waiting("w", 0, 1),
				waiting("l3", 3, 1), waiting("l2", 2, 1), waiting("l1", 1, 0)},
			want: []string{"l1", "l2", "w", "l3", "l4", "l5"},
		},
		{
			name: "same level by arrival, then id",
			in:   []Waiting{waiting("b", 3, 5), waiting("c", 3, 10), waiting("a", 3, 5)},
			want: []string{"c", "a", "b"},
		},
		{
			name: "over-target level 3 goes ahead of level 2 but never ahead of level 1",
			in:   []Waiting{waiting("l2", 2, 5), waiting("l3-over", 3, 31), waiting("l1", 1, 0)},
			want: []string{"l1", "l3-over", "l2"},
		},
		{
			name: "at exactly the target a patient is not over it",
			in:   []Waiting{waiting("l3-at-target", 3, 30), waiting("l2", 2, 1)},
			want: []string{"l2", "l3-at-target"},
		},
		{
			name: "over-target level 2 stays behind level 1, even a later one",
			in:   []Waiting{waiting("l2-over", 2, 100), waiting("l1", 1, 0)},
			want: []string{"l1", "l2-over"},
		},
		{
			name: "over-target untriaged goes ahead of level 2",
			in:   []Waiting{waiting("l2", 2, 10), waiting("w-over", 0, 16), waiting("w", 0, 14)},
			want: []string{"w-over", "l2", "w"},
		},
		{
			name: "over-target level 4 goes ahead of level 3, behind untriaged",
			in:   []Waiting{waiting("l3", 3, 20), waiting("l4-over", 4, 61), waiting("w", 0, 2), waiting("l2", 2, 1)},
			want: []string{"l2", "w", "l4-over", "l3"},
		},
		{
			name: "over-target level 5 goes ahead of level 4, behind level 3",
			in:   []Waiting{waiting("l4", 4, 59), waiting("l5-over", 5, 121), waiting("l3", 3, 1)},
			want: []string{"l3", "l5-over", "l4"},
		},
		{
			name: "over-target patients: more urgent level first, whatever the arrival",
			in: []Waiting{waiting("l3-over", 3, 300), waiting("w-over", 0, 200),
				waiting("l2-over", 2, 16), waiting("l1", 1, 1)},
			want: []string{"l1", "l2-over", "w-over", "l3-over"},
		},
		{
			name: "a patient back from the doctor is never over target",
			in:   []Waiting{seen, waiting("l2", 2, 1), waiting("l3", 3, 2)},
			want: []string{"l2", "l3-seen-long-ago", "l3"},
		},
		{
			name: "empty",
			in:   nil,
			want: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Order(tc.in, testNow)
			if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOrderDoesNotChangeInputAndIsTotal(t *testing.T) {
	t.Parallel()
	in := []Waiting{waiting("b", 3, 5), waiting("a", 3, 5), waiting("c", 1, 0)}
	before := ids(in)
	first := ids(Order(in, testNow))
	if diff := cmp.Diff(before, ids(in)); diff != "" {
		t.Errorf("Order changed its input (-before +after):\n%s", diff)
	}
	// Any permutation of the input gives the same order.
	rev := []Waiting{in[2], in[1], in[0]}
	if diff := cmp.Diff(first, ids(Order(rev, testNow))); diff != "" {
		t.Errorf("order depends on input order (-first +reversed):\n%s", diff)
	}
}

func TestTargetsAndOverTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		level      triage.Level
		ago        float64
		target     time.Duration
		overTarget bool
	}{
		{1, 0, 0, false},
		{1, 0.5, 0, true},
		{2, 15, 15 * time.Minute, false},
		{2, 15.1, 15 * time.Minute, true},
		{3, 29, 30 * time.Minute, false},
		{4, 61, 60 * time.Minute, true},
		{5, 119, 120 * time.Minute, false},
		{0, 14, UntriagedTarget, false},
		{0, 16, UntriagedTarget, true},
	} {
		w := waiting("x", tc.level, tc.ago)
		if got := w.Target(); got != tc.target {
			t.Errorf("level %d: target %v, want %v", tc.level, got, tc.target)
		}
		if got := w.OverTarget(testNow); got != tc.overTarget {
			t.Errorf("level %d waited %.1f min: over target %v, want %v", tc.level, tc.ago, got, tc.overTarget)
		}
	}
	// A future arrival (clock skew) has waited zero, not a negative time.
	if got := waiting("x", 3, -5).Waited(testNow); got != 0 {
		t.Errorf("waited = %v for an arrival in the future, want 0", got)
	}
}
