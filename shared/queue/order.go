package queue

import (
	"cmp"
	"slices"
	"time"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/triage"
)

// UntriagedTarget is the target time from arrival to triage for a patient not yet
// triaged. triage-rules.md section 4 sets targets per level only; for the step before a level
// exists we take the "time to initial assessment: 15 minutes" objective of the NHS
// England A&E clinical quality indicators (2011), which ESI departments commonly use
// for door-to-triage. An untriaged patient past it is flagged over target.
const UntriagedTarget = 15 * time.Minute

// Waiting is an encounter on the queue (status waiting or triaged) as ordering and the
// wait estimator see it: identifiers, level and times only.
type Waiting struct {
	EncounterID string
	PatientID   string
	Status      encounter.Status
	// Level is the triage level in force, 0 while untriaged.
	Level     triage.Level
	ArrivedAt time.Time
	// Seen is true for a patient a doctor has already seen who is back in the queue
	// (retriage: awaiting results). Their time-to-physician target has been met, so
	// they are never over target.
	Seen bool
}

// Triaged reports whether w has a valid level.
func (w Waiting) Triaged() bool { return w.Level.Valid() }

// Target is the time from arrival within which w should see a doctor (or, untriaged,
// be triaged): triage.TargetTime for a level, UntriagedTarget without one.
func (w Waiting) Target() time.Duration {
	if !w.Triaged() {
		return UntriagedTarget
	}
	return triage.TargetTime(w.Level)
}

// Waited is how long w has waited at now (never negative).
func (w Waiting) Waited(now time.Time) time.Duration { return max(now.Sub(w.ArrivedAt), 0) }

// OverTarget reports whether w has waited longer than its target at now. A level 1
// patient (target: immediate) is over target as soon as they wait at all; a patient
// already seen by a doctor never is.
func (w Waiting) OverTarget(now time.Time) bool {
	return !w.Seen && w.Waited(now) > w.Target()
}

// overTargetAt is when w becomes over target (the zero time if never).
func (w Waiting) overTargetAt() time.Time {
	if w.Seen {
		return time.Time{}
	}
	return w.ArrivedAt.Add(w.Target())
}

// Bands: where each kind of patient sorts when within target. Untriaged patients sit
// after level 2 and before level 3 until triaged. The gaps leave room for the
// promoted places of over-target patients (see rank).
const (
	bandLevel1    = 0
	bandLevel2    = 2
	bandUntriaged = 3
	bandLevel3    = 4
	bandLevel4    = 6
	bandLevel5    = 8
)

// band is w's place when within target.
func (w Waiting) band() int {
	switch w.Level {
	case triage.Level1:
		return bandLevel1
	case triage.Level2:
		return bandLevel2
	case triage.Level3:
		return bandLevel3
	case triage.Level4:
		return bandLevel4
	case triage.Level5:
		return bandLevel5
	}
	return bandUntriaged
}

// promotedBand is the place of an over-target patient of band b: just ahead of the
// within-target patients of the next more urgent level, never ahead of level 1.
//
//	over-target level 2         -> 1 (ahead of level 2, behind level 1)
//	over-target untriaged       -> 1 (ahead of level 2)
//	over-target level 3         -> 1 (ahead of level 2)
//	over-target level 4         -> 3 (ahead of level 3; ties with untriaged, band breaks it)
//	over-target level 5         -> 5 (ahead of level 4)
func promotedBand(b int) int {
	switch b {
	case bandLevel1:
		return bandLevel1
	case bandLevel2, bandUntriaged, bandLevel3:
		return bandLevel2 - 1
	case bandLevel4:
		return bandLevel3 - 1
	default:
		return bandLevel4 - 1
	}
}

// rank is the sort key of a waiting patient at a moment.
type rank struct {
	effective int       // band after promotion
	band      int       // band within target (more urgent first among equal effective)
	arrived   time.Time // earlier first
	id        string    // total order
}

func (w Waiting) rankAt(now time.Time) rank {
	b := w.band()
	eff := b
	if w.OverTarget(now) {
		eff = promotedBand(b)
	}
	return rank{effective: eff, band: b, arrived: w.ArrivedAt, id: w.EncounterID}
}

func compareRank(a, b rank) int {
	if c := cmp.Compare(a.effective, b.effective); c != 0 {
		return c
	}
	if c := cmp.Compare(a.band, b.band); c != 0 {
		return c
	}
	if c := a.arrived.Compare(b.arrived); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// Compare orders two waiting patients at now: negative when a goes first. See Order.
func Compare(a, b Waiting, now time.Time) int { return compareRank(a.rankAt(now), b.rankAt(now)) }

// Order returns the waiting patients in the order a doctor should see them at now (a
// sorted copy; ws is not changed).
//
// Within target, patients sort by band: level 1, level 2, untriaged, level 3, level 4,
// level 5. A patient past their target (OverTarget) moves up to just ahead of the
// within-target patients of the next more urgent level, but never ahead of level 1:
//
//  1. level 1 (all of them; their target is "immediate")
//  2. over-target level 2, then over-target untriaged, then over-target level 3
//  3. level 2
//  4. untriaged, then over-target level 4
//  5. level 3
//  6. over-target level 5
//  7. level 4
//  8. level 5
//
// Within a group patients go by arrival, earliest first (ties by encounter id, so the
// order is total and deterministic). Within one level, arrival order already puts the
// over-target patients first; promotion only matters across levels.
func Order(ws []Waiting, now time.Time) []Waiting {
	type keyed struct {
		w Waiting
		r rank
	}
	ks := make([]keyed, len(ws))
	for i, w := range ws {
		ks[i] = keyed{w, w.rankAt(now)}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return compareRank(a.r, b.r) })
	out := make([]Waiting, len(ks))
	for i, k := range ks {
		out[i] = k.w
	}
	return out
}
