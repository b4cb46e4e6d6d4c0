package triage

import (
	"errors"
	"testing"
)

func TestCheckLevelChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		reference    Level
		next         Level
		reason       string
		seenByDoctor bool
		want         LevelChange
		wantErr      error
	}{
		{"up-triage accepted", 3, 2, "", false, UpTriage, nil},
		{"up-triage to 1", 5, 1, "", false, UpTriage, nil},
		{"unchanged", 3, 3, "", false, Unchanged, nil},
		{"down-triage without reason", 2, 3, "", false, DownTriage, ErrDownTriageNeedsReason},
		{"down-triage with blank reason", 2, 3, "  \t", false, DownTriage, ErrDownTriageNeedsReason},
		{"down-triage with reason", 2, 3, "pain settled after analgesia", false, DownTriage, nil},
		{"frozen: up", 3, 2, "", true, UpTriage, ErrLevelFrozen},
		{"frozen: down", 3, 4, "reason", true, DownTriage, ErrLevelFrozen},
		{"frozen: unchanged is fine", 3, 3, "", true, Unchanged, nil},
		{"invalid reference", 0, 3, "", false, "", ErrInvalidLevel},
		{"invalid next", 3, 6, "", false, "", ErrInvalidLevel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CheckLevelChange(tc.reference, tc.next, tc.reason, tc.seenByDoctor)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("CheckLevelChange(%d, %d, %q, %v) = %q, %v; want %q, %v",
					tc.reference, tc.next, tc.reason, tc.seenByDoctor, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestClassifyLevelChange(t *testing.T) {
	t.Parallel()
	for from := Level1; from <= Level5; from++ {
		for to := Level1; to <= Level5; to++ {
			want := Unchanged
			if to < from {
				want = UpTriage
			} else if to > from {
				want = DownTriage
			}
			if got := ClassifyLevelChange(from, to); got != want {
				t.Errorf("ClassifyLevelChange(%d, %d) = %q, want %q", from, to, got, want)
			}
			if got := to.MoreUrgentThan(from); got != (want == UpTriage) {
				t.Errorf("%d.MoreUrgentThan(%d) = %v", to, from, got)
			}
		}
	}
	if !LevelFrozen(true) || LevelFrozen(false) {
		t.Error("LevelFrozen must follow seenByDoctor")
	}
	if got := Level2.String(); got != "ESI 2" {
		t.Errorf("Level2.String() = %q", got)
	}
}
