package triage

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Level is an ESI level: 1 (most urgent) .. 5 (least urgent). Levels are ordinal: report
// their distribution, never an average (triage-rules.md §1).
type Level uint8

// ESI levels.
const (
	Level1 Level = 1
	Level2 Level = 2
	Level3 Level = 3
	Level4 Level = 4
	Level5 Level = 5
)

// Valid reports whether l is 1..5.
func (l Level) Valid() bool { return l >= Level1 && l <= Level5 }

// MoreUrgentThan reports whether l is more urgent than o (a smaller number).
func (l Level) MoreUrgentThan(o Level) bool { return l < o }

// String returns "ESI 1" .. "ESI 5".
func (l Level) String() string { return "ESI " + strconv.Itoa(int(l)) }

// targetMinutes is the time to physician per level, triage-rules.md §4 (CTAS objectives);
// index 1 = level 1 (0 = immediate).
var targetMinutes = [...]int{
	1: 0,   // triage-rules.md §4: level 1 immediate
	2: 15,  // triage-rules.md §4: level 2 15 min
	3: 30,  // triage-rules.md §4: level 3 30 min
	4: 60,  // triage-rules.md §4: level 4 60 min
	5: 120, // triage-rules.md §4: level 5 120 min
}

// TargetTime is the target time from arrival to physician for level l (triage-rules.md §4);
// 0 means immediate. An invalid level gets 0 (immediate), never a longer wait.
func TargetTime(l Level) time.Duration {
	if !l.Valid() {
		return 0
	}
	return time.Duration(targetMinutes[l]) * time.Minute
}

// LevelChange classifies a change from one level to another.
type LevelChange string

// Values of LevelChange.
const (
	// UpTriage is a change to a more urgent level: accepted.
	UpTriage LevelChange = "up_triage"
	// Unchanged is the same level.
	Unchanged LevelChange = "unchanged"
	// DownTriage is a change to a less urgent level: it needs a reason and is audited as such.
	DownTriage LevelChange = "down_triage"
)

// Errors returned by CheckLevelChange.
var (
	ErrInvalidLevel          = errors.New("triage: level must be 1..5")
	ErrDownTriageNeedsReason = errors.New("triage: a less urgent level needs a reason")
	ErrLevelFrozen           = errors.New("triage: the level is frozen once a doctor has seen the patient")
)

// ClassifyLevelChange says whether going from the reference level (the engine's proposal or
// the current level) to next is an up-triage, unchanged or a down-triage. It does not check
// validity; CheckLevelChange does.
func ClassifyLevelChange(reference, next Level) LevelChange {
	switch {
	case next < reference:
		return UpTriage
	case next > reference:
		return DownTriage
	}
	return Unchanged
}

// LevelFrozen reports whether the triage level may no longer change: once a doctor has seen
// the patient, the level is part of the record of that consultation.
func LevelFrozen(seenByDoctor bool) bool { return seenByDoctor }

// CheckLevelChange applies the ESI handbook's rules for a nurse confirming or overriding a
// level (triage-rules.md §1, "Rules from the ESI handbook"): reference is the engine's proposal at
// first triage, or the current level at re-triage; next is the level the nurse confirms.
//   - Either level invalid: ErrInvalidLevel.
//   - A doctor has seen the patient and next differs from reference: ErrLevelFrozen.
//   - More urgent (up-triage) or equal: accepted.
//   - Less urgent (down-triage): accepted only with a non-blank reason, else
//     ErrDownTriageNeedsReason; the caller audits it as a down-triage.
//
// The returned LevelChange is meaningful whenever the error is nil or ErrDownTriageNeedsReason.
func CheckLevelChange(reference, next Level, reason string, seenByDoctor bool) (LevelChange, error) {
	if !reference.Valid() || !next.Valid() {
		return "", ErrInvalidLevel
	}
	c := ClassifyLevelChange(reference, next)
	if c != Unchanged && LevelFrozen(seenByDoctor) {
		return c, ErrLevelFrozen
	}
	if c == DownTriage && strings.TrimSpace(reason) == "" {
		return c, ErrDownTriageNeedsReason
	}
	return c, nil
}
