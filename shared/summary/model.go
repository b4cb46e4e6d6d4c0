package summary

import (
	"time"

	"github.com/medi-os/medi/shared/llm"
)

// Source kinds, the prefixes of source ids.
const (
	KindPatient    = "patient"
	KindEncounter  = "encounter"
	KindAssessment = "assessment"
	KindNote       = "note"
)

// Item is one statement of a summary with the ids of the records it comes from (never
// empty).
type Item struct {
	Text    string   `firestore:"text" json:"text"`
	Sources []string `firestore:"sources" json:"sources"`
}

// EncounterItem is one entry of the recent encounters timeline.
type EncounterItem struct {
	EncounterID    string    `firestore:"encounterId" json:"encounterId"`
	ArrivedAt      time.Time `firestore:"arrivedAt" json:"arrivedAt"`
	Status         string    `firestore:"status" json:"status"`
	ChiefComplaint string    `firestore:"chiefComplaint" json:"chiefComplaint"`
	// TriageLevel is the level in force (0: not triaged).
	TriageLevel int      `firestore:"triageLevel,omitempty" json:"triageLevel,omitempty"`
	Text        string   `firestore:"text" json:"text"`
	Sources     []string `firestore:"sources" json:"sources"`
}

// Observation is one recorded value of a vital sign.
type Observation struct {
	Value  float64   `firestore:"value" json:"value"`
	At     time.Time `firestore:"at" json:"at"`
	Source string    `firestore:"source" json:"source"`
	// NEWS2Points is the points NEWS2 gives this value (0 inside the zero band); absent
	// when NEWS2 does not score the sign or does not apply to the patient.
	NEWS2Points *int `firestore:"news2Points,omitempty" json:"news2Points,omitempty"`
}

// VitalTrend summarizes one vital sign over the encounters: first, last, lowest and
// highest value with their dates, and the values outside NEWS2's zero band.
type VitalTrend struct {
	Sign    string        `firestore:"sign" json:"sign"`
	Unit    string        `firestore:"unit" json:"unit"`
	Count   int           `firestore:"count" json:"count"`
	First   Observation   `firestore:"first" json:"first"`
	Last    Observation   `firestore:"last" json:"last"`
	Min     Observation   `firestore:"min" json:"min"`
	Max     Observation   `firestore:"max" json:"max"`
	Flagged []Observation `firestore:"flagged" json:"flagged"`
	Text    string        `firestore:"text" json:"text"`
	Sources []string      `firestore:"sources" json:"sources"`
}

// Facts are what Extract takes from the sources; every entry cites its sources.
type Facts struct {
	Synopsis    Item            `firestore:"synopsis" json:"synopsis"`
	Problems    []Item          `firestore:"problems" json:"problems"`
	Medications []Item          `firestore:"medications" json:"medications"`
	Allergies   []Item          `firestore:"allergies" json:"allergies"`
	Encounters  []EncounterItem `firestore:"encounters" json:"encounters"`
	Vitals      []VitalTrend    `firestore:"vitals" json:"vitals"`
	OpenItems   []Item          `firestore:"openItems" json:"openItems"`
}

// Summary is what a doctor reads: the facts, and a narrative whose every sentence cites
// source ids (the deterministic engine's narrative is the synopsis).
type Summary struct {
	Facts
	Narrative []Item `firestore:"narrative" json:"narrative"`
}

// Citation describes one source record a summary cites.
type Citation struct {
	ID   string `firestore:"id" json:"id"`
	Kind string `firestore:"kind" json:"kind"`
	// Ref is the record's path below the clinic, e.g. "encounters/e1/assessments/000001".
	Ref string `firestore:"ref" json:"ref"`
	// Version is the record's version (patient and encounter version, assessment
	// confirmations, note version number).
	Version int64     `firestore:"version" json:"version"`
	Date    time.Time `firestore:"date" json:"date"`
}

// Usage is what one model call cost.
type Usage = llm.Usage

// Stored is clinics/{clinicId}/summaries/{patientId}.
type Stored struct {
	PatientID  string     `firestore:"patientId" json:"patientId"`
	Summary    Summary    `firestore:"summary" json:"summary"`
	Citations  []Citation `firestore:"citations" json:"citations"`
	SourceHash string     `firestore:"sourceHash" json:"sourceHash"`
	// Engine is the engine that wrote the summary: "deterministic" or "gemini".
	Engine string `firestore:"engine" json:"engine"`
	// Model is the model id when a model wrote it.
	Model string `firestore:"model,omitempty" json:"model,omitempty"`
	Usage *Usage `firestore:"usage,omitempty" json:"usage,omitempty"`
	// FallbackReason says why the configured model engine was not used
	// (budget_exceeded, model_error, invalid_citations, ...).
	FallbackReason string    `firestore:"fallbackReason,omitempty" json:"fallbackReason,omitempty"`
	BuiltAt        time.Time `firestore:"builtAt" json:"builtAt"`
	// Stale is set by invalidation (an approved note, an encounter change) until the
	// summary is rebuilt.
	Stale bool `firestore:"stale" json:"stale"`
}

func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// normalize makes absent lists empty (Firestore gives nil for stored empty arrays), so
// that they encode as [] rather than null.
func (s *Stored) normalize() {
	f := &s.Summary.Facts
	f.Synopsis.Sources = emptyIfNil(f.Synopsis.Sources)
	f.Problems, f.Medications, f.Allergies = emptyIfNil(f.Problems), emptyIfNil(f.Medications), emptyIfNil(f.Allergies)
	f.Encounters, f.Vitals, f.OpenItems = emptyIfNil(f.Encounters), emptyIfNil(f.Vitals), emptyIfNil(f.OpenItems)
	for i := range f.Vitals {
		f.Vitals[i].Flagged = emptyIfNil(f.Vitals[i].Flagged)
	}
	s.Summary.Narrative = emptyIfNil(s.Summary.Narrative)
	s.Citations = emptyIfNil(s.Citations)
}
