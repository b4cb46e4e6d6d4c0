// Package clinical reads clinical facts from a consultation transcript: medications
// with what is done with them (start, stop, continue, increase, decrease, refill), their
// dose, route and frequency; allergies with their reaction (never as medications); vital
// signs said in digits or words, with units inferred from plausible ranges when unsaid;
// the problems and diagnoses named; and symptoms reported or denied, answers to the
// clinician's questions included. Every fact cites the spans of the transcript it was
// read from. A fact the rules cannot read for certain is left out: the extraction is
// right or silent.
//
// The drug vocabulary (drugs.tsv) is generated from RxNorm by scripts/cmd/drugvocab; the
// symptom and condition vocabularies (terms.go) are written for this project.
package clinical

import (
	"slices"
	"strings"
	"sync"

	"github.com/medi-os/medi/shared/transcript"
)

// Medication actions.
const (
	ActionCurrent   = "current"    // the patient takes it
	ActionStart     = "start"      // the clinician starts or prescribes it
	ActionStop      = "stop"       // the clinician stops it
	ActionStopped   = "stopped"    // the patient stopped it
	ActionContinue  = "continue"   // the clinician continues it
	ActionIncrease  = "increase"   // the dose goes up
	ActionDecrease  = "decrease"   // the dose goes down
	ActionRefill    = "refill"     // a refill
	ActionNotTaking = "not_taking" // the patient does not take it
	ActionTried     = "tried"      // the patient took or tried it before (for this complaint)
	ActionMentioned = "mentioned"  // named, nothing said about taking it
)

// Dose is an amount of a medication.
type Dose struct {
	Value float64 `json:"value"`
	// Unit is mg, mcg, g, units, mL, puffs, tablets, capsules, drops or %.
	Unit string `json:"unit"`
	// UnitInferred is true when no unit was said ("two point five of norvasc"): mg is
	// inferred (units for insulin) and the note marks it as estimated.
	UnitInferred bool `json:"unitInferred,omitempty"`
}

// String writes the dose ("40 mg").
func (d Dose) String() string { return FormatNumber(d.Value) + " " + d.Unit }

// Medication is a medication and what is done with it.
type Medication struct {
	// Name is the name as said ("lasix"); Generic its generic name ("furosemide").
	Name, Generic string
	Action        string
	Dose          *Dose
	// PriorDose and PriorFrequency are what was taken before an increase or decrease,
	// when said.
	PriorDose      *Dose
	PriorFrequency string
	Frequency      string
	Route          string
	// ByClinician is true when a clinician said it.
	ByClinician bool
	Evidence    []transcript.Span
}

// Allergy is a substance the patient reacts to.
type Allergy struct {
	Substance string
	// Reaction as said ("hives", "makes my heart race"); empty when unsaid.
	Reaction string
	Evidence []transcript.Span
}

// Vital sign kinds.
const (
	VitalTemperature   = "temperature"
	VitalBloodPressure = "blood_pressure"
	VitalHeartRate     = "heart_rate"
	VitalRespRate      = "respiratory_rate"
	VitalSpO2          = "oxygen_saturation"
	VitalWeight        = "weight"
)

// Vital is a measured vital sign.
type Vital struct {
	Kind string
	// Value (and Value2, the diastolic pressure) in Unit: °F or °C, mmHg, bpm,
	// breaths/min, %, lb or kg.
	Value, Value2 float64
	Unit          string
	// UnitInferred is true when the unit was not said and was inferred from the value's
	// plausible range (101.3 is Fahrenheit): the note marks it as estimated.
	UnitInferred bool
	Evidence     []transcript.Span
}

// Problem is a diagnosis or problem named in the conversation.
type Problem struct {
	// Name is the vocabulary's name ("hypertension"); Said how it was said.
	Name, Said string
	// ByClinician is true when a clinician named it (not only the patient).
	ByClinician bool
	// Mentions counts the sentences naming it.
	Mentions int
	Evidence []transcript.Span
}

// SymptomFact is a symptom the patient reports (Present) or denies.
type SymptomFact struct {
	Name, System string
	Present      bool
	Evidence     []transcript.Span
}

// Facts are the facts of a transcript.
type Facts struct {
	Medications []Medication
	Allergies   []Allergy
	// NoKnownAllergies cites where the patient said they have no (drug) allergies.
	NoKnownAllergies []transcript.Span
	Vitals           []Vital
	Problems         []Problem
	Symptoms         []SymptomFact
}

// Extract reads the facts of a transcript.
func Extract(t transcript.Transcript) Facts { return ExtractSentences(t.Sentences()) }

// ExtractSentences reads the facts of sentences (in transcript order).
func ExtractSentences(ss []transcript.Sentence) Facts {
	var f Facts
	allergens := map[string]bool{}
	for i, s := range ss {
		prevQ := previousQuestion(ss, i)
		al, nka := allergiesIn(s, prevQ)
		f.Allergies = append(f.Allergies, al...)
		for _, a := range al {
			allergens[a.Substance] = true
			if d, ok := LookupDrug(a.Substance); ok {
				allergens[d.Generic] = true
			}
		}
		if nka {
			f.NoKnownAllergies = append(f.NoKnownAllergies, s.Span())
		}
		f.Medications = append(f.Medications, medicationsIn(s, prevQ, ss, i)...)
		f.Vitals = append(f.Vitals, vitalsIn(s)...)
		f.Problems = mergeProblems(f.Problems, problemsIn(s, prevQ))
		f.Symptoms = append(f.Symptoms, symptomsIn(s, prevQ, ss, i)...)
	}
	// An allergen is never a medication the patient takes.
	meds := f.Medications[:0]
	for _, m := range f.Medications {
		if allergens[m.Generic] || allergens[m.Name] {
			continue
		}
		meds = append(meds, m)
	}
	f.Medications = meds
	f.Allergies = mergeAllergies(f.Allergies)
	f.Vitals = mergeVitals(f.Vitals)
	f.Symptoms = mergeSymptoms(f.Symptoms)
	return f
}

// previousQuestion returns the clinician's question that sentence i answers: the last
// question of the previous speaker's turn when sentence i opens the patient's turn.
func previousQuestion(ss []transcript.Sentence, i int) *transcript.Sentence {
	if i == 0 || ss[i].Role == transcript.RoleClinician || ss[i-1].SegmentID == ss[i].SegmentID {
		return nil
	}
	if p := ss[i-1]; p.Question && p.Role == transcript.RoleClinician {
		return &ss[i-1]
	}
	return nil
}

// CurrentMedications merges the mentions of each medication into what the patient takes
// after the visit, in order of first mention: a medication stopped (by the clinician or
// the patient) or not taken is not current, whatever was said before; a dose changed or
// a medication started at the visit is current with its new dose.
func CurrentMedications(meds []Medication) []Medication {
	return merged(meds, func(action string) bool {
		switch action {
		case ActionCurrent, ActionContinue, ActionIncrease, ActionDecrease, ActionRefill, ActionStart:
			return true
		}
		return false
	})
}

// TriedMedications merges the mentions of each medication the patient took or tried
// before and does not take now.
func TriedMedications(meds []Medication) []Medication {
	return merged(meds, func(action string) bool { return action == ActionTried })
}

// MedicationChanges merges the mentions of each medication the clinician changed at the
// visit (started, stopped, continued, increased, decreased, refilled).
func MedicationChanges(meds []Medication) []Medication {
	return merged(meds, func(action string) bool {
		switch action {
		case ActionStart, ActionStop, ActionContinue, ActionIncrease, ActionDecrease, ActionRefill:
			return true
		}
		return false
	})
}

// actionRank orders actions: a later decision of the visit outranks a report.
var actionRank = map[string]int{ActionMentioned: 0, ActionTried: 1, ActionCurrent: 1, ActionNotTaking: 2, ActionContinue: 3, ActionRefill: 3,
	ActionStart: 4, ActionIncrease: 4, ActionDecrease: 4, ActionStopped: 5, ActionStop: 6}

// merged merges mentions by generic name and keeps those whose resulting action keep
// accepts.
func merged(meds []Medication, keep func(string) bool) []Medication {
	var order []string
	by := map[string]*Medication{}
	for _, m := range meds {
		cur, ok := by[m.Generic]
		if !ok {
			c := m
			c.Evidence = slices.Clone(m.Evidence)
			by[m.Generic] = &c
			order = append(order, m.Generic)
			continue
		}
		cur.Evidence = appendSpans(cur.Evidence, m.Evidence...)
		if actionRank[m.Action] >= actionRank[cur.Action] && m.Action != ActionMentioned {
			if m.Dose == nil && actionRank[m.Action] == actionRank[cur.Action] {
				m.Dose = cur.Dose
			}
			if m.Dose == nil && (m.Action == ActionContinue || m.Action == ActionRefill || m.Action == ActionCurrent) {
				m.Dose = cur.Dose
			}
			if (m.Action == ActionIncrease || m.Action == ActionDecrease) && cur.Dose != nil && (m.Dose == nil || *m.Dose != *cur.Dose) {
				cur.PriorDose, cur.PriorFrequency = cur.Dose, cur.Frequency
			}
			cur.Action, cur.Name, cur.ByClinician = m.Action, m.Name, cur.ByClinician || m.ByClinician
			if m.Dose != nil || m.Action == ActionIncrease || m.Action == ActionDecrease {
				cur.Dose = m.Dose
			}
		} else if cur.Dose == nil && m.Dose != nil && m.Action != ActionMentioned {
			cur.Dose = m.Dose
		}
		if cur.Frequency == "" || m.Frequency != "" && m.Dose != nil && cur.Dose == m.Dose {
			if m.Frequency != "" {
				cur.Frequency = m.Frequency
			}
		}
		if cur.Route == "" {
			cur.Route = m.Route
		}
	}
	var out []Medication
	for _, g := range order {
		if m := by[g]; keep(m.Action) {
			out = append(out, *m)
		}
	}
	return out
}

func appendSpans(dst []transcript.Span, add ...transcript.Span) []transcript.Span {
	for _, s := range add {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

// has reports whether the sentence's tokens contain the phrase (lower case words).
func has(ts []transcript.Token, phrase string) bool { return indexPhrase(ts, phrase, 0) >= 0 }

// indexPhrase returns the token index where phrase starts at or after from, or -1.
func indexPhrase(ts []transcript.Token, phrase string, from int) int {
	words := phraseWords(phrase)
outer:
	for i := from; i+len(words) <= len(ts); i++ {
		for k, w := range words {
			if ts[i+k].Norm != w {
				continue outer
			}
		}
		return i
	}
	return -1
}

// phraseAt reports whether phrase starts at ts[i].
func phraseAt(ts []transcript.Token, phrase string, i int) bool {
	words := phraseWords(phrase)
	if i+len(words) > len(ts) {
		return false
	}
	for k, w := range words {
		if ts[i+k].Norm != w {
			return false
		}
	}
	return true
}

// phraseWords splits a cue phrase into words, once per phrase.
var phraseCache sync.Map

func phraseWords(phrase string) []string {
	if v, ok := phraseCache.Load(phrase); ok {
		return v.([]string)
	}
	w := strings.Fields(phrase)
	phraseCache.Store(phrase, w)
	return w
}
