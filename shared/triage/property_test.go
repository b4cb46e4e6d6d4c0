package triage

import (
	"math/rand/v2"
	"testing"
)

// Property tests over seeded random records (deterministic, so a failure reproduces).

var propertyComplaints = []string{
	"cough and sore throat", "twisted ankle", "abdominal pain", "headache since yesterday",
	"feels unwell", "laceration to left hand", "back pain after lifting", "rash on arms",
	"shortness of breath", "dizzy when standing", "chest pain", "vomiting and diarrhoea",
}

func randomInput(r *rand.Rand) Input {
	maybe := func(p float64) bool { return r.Float64() < p }
	intOrNil := func(lo, hi int) *int {
		if maybe(0.1) {
			return nil
		}
		return ip(lo + r.IntN(hi-lo+1))
	}
	in := Input{ChiefComplaint: propertyComplaints[r.IntN(len(propertyComplaints))]}
	switch r.IntN(3) {
	case 0:
		in.AgeDays = ip(r.IntN(3000)) // children across every age band
	case 1:
		in.AgeYears = ip(r.IntN(101))
	default:
		in.AgeYears, in.AgeMonths = ip(r.IntN(4)), ip(r.IntN(12))
	}
	if maybe(0.9) {
		in.MentalStatus = mentalStatuses[r.IntN(len(mentalStatuses))]
	}
	in.PainScore = intOrNil(0, 10)
	in.Vitals = Vitals{
		HeartRate:       intOrNil(0, 250),
		RespiratoryRate: intOrNil(0, 70),
		SystolicBP:      intOrNil(50, 250),
		SpO2:            intOrNil(70, 100),
		SpO2Scale2:      maybe(0.1),
	}
	if maybe(0.9) {
		in.Vitals.TemperatureC = fp(float64(330+r.IntN(100)) / 10)
	}
	if maybe(0.9) {
		in.Vitals.OnSupplementalOxygen = bp(maybe(0.2))
	}
	if maybe(0.7) {
		in.ExpectedResources = rs()
		for i := range resourceTable {
			if maybe(0.15) {
				in.ExpectedResources = append(in.ExpectedResources, resourceTable[i].typ)
			}
		}
	}
	if maybe(0.7) {
		in.ComplaintCategory = categories[r.IntN(len(categories))].category
	}
	in.Flags = Flags{
		Pregnant: maybe(0.05), Immunocompromised: maybe(0.05), Intubated: maybe(0.02),
		Apnoeic: maybe(0.02), Pulseless: maybe(0.02), SevereRespiratoryDistress: maybe(0.02),
	}
	return in
}

// away moves v further from mid by at least 1, clamped to [lo, hi].
func away(r *rand.Rand, v, mid, lo, hi int) int {
	d := 1 + r.IntN(40)
	if v >= mid {
		return min(hi, v+d)
	}
	return max(lo, v-d)
}

type mutation struct {
	name string
	f    func(r *rand.Rand, in *Input) bool // false: not applicable to this record
}

// worse makes one vital sign or observation clinically worse.
var worse = []mutation{
	{"heart rate", func(r *rand.Rand, in *Input) bool {
		if in.Vitals.HeartRate == nil {
			return false
		}
		in.Vitals.HeartRate = ip(away(r, *in.Vitals.HeartRate, 75, 0, 300))
		return true
	}},
	{"respiratory rate", func(r *rand.Rand, in *Input) bool {
		if in.Vitals.RespiratoryRate == nil {
			return false
		}
		in.Vitals.RespiratoryRate = ip(away(r, *in.Vitals.RespiratoryRate, 16, 0, 80))
		return true
	}},
	{"systolic BP", func(r *rand.Rand, in *Input) bool {
		if in.Vitals.SystolicBP == nil {
			return false
		}
		in.Vitals.SystolicBP = ip(away(r, *in.Vitals.SystolicBP, 120, 0, 300))
		return true
	}},
	{"SpO2", func(r *rand.Rand, in *Input) bool {
		if in.Vitals.SpO2 == nil {
			return false
		}
		in.Vitals.SpO2 = ip(max(0, *in.Vitals.SpO2-1-r.IntN(10)))
		return true
	}},
	{"temperature", func(r *rand.Rand, in *Input) bool {
		if in.Vitals.TemperatureC == nil {
			return false
		}
		t := int(*in.Vitals.TemperatureC*10 + 0.5)
		in.Vitals.TemperatureC = fp(float64(away(r, t, 370, 250, 450)) / 10)
		return true
	}},
	{"pain", func(r *rand.Rand, in *Input) bool {
		if in.PainScore == nil || *in.PainScore == 10 {
			return false
		}
		in.PainScore = ip(*in.PainScore + 1 + r.IntN(10-*in.PainScore))
		return true
	}},
	{"mental status", func(r *rand.Rand, in *Input) bool {
		switch in.MentalStatus {
		case MentalAlert:
			in.MentalStatus = []MentalStatus{MentalVoice, MentalNewConfusion, MentalPain, MentalUnresponsive}[r.IntN(4)]
		case MentalVoice, MentalNewConfusion:
			in.MentalStatus = []MentalStatus{MentalPain, MentalUnresponsive}[r.IntN(2)]
		default:
			return false
		}
		return true
	}},
}

// added adds a symptom, flag or resource.
var added = []mutation{
	{"flag", func(r *rand.Rand, in *Input) bool {
		f := []*bool{&in.Flags.Pregnant, &in.Flags.Immunocompromised, &in.Flags.Intubated, &in.Flags.Apnoeic,
			&in.Flags.Pulseless, &in.Flags.SevereRespiratoryDistress}[r.IntN(6)]
		if *f {
			return false
		}
		*f = true
		return true
	}},
	{"complaint term", func(r *rand.Rand, in *Input) bool {
		v := vocab()
		in.ChiefComplaint += ", " + termExample(v, r.IntN(len(v.terms)))
		return true
	}},
	{"complaint words", func(r *rand.Rand, in *Input) bool {
		words := []string{"no", "not", "denies", "any", "negative", "for", "and", "pain", "since", "—", ".", "fever", "chest"}
		for range 1 + r.IntN(5) {
			in.ChiefComplaint += " " + words[r.IntN(len(words))]
		}
		return true
	}},
	{"resource", func(r *rand.Rand, in *Input) bool {
		if in.ExpectedResources == nil {
			return false
		}
		in.ExpectedResources = append(in.ExpectedResources, resourceTable[r.IntN(len(resourceTable))].typ)
		return true
	}},
}

func checkNotLessUrgent(t *testing.T, kind, name string, before, after Input) {
	t.Helper()
	a, b := Assess(before), Assess(after)
	if b.Level > a.Level {
		t.Fatalf("%s %s: level %d -> %d (less urgent)\nbefore %+v\nreasons %q\nafter %+v\nreasons %q",
			kind, name, a.Level, b.Level, before, a.Reasons.Strings(), after, b.Reasons.Strings())
	}
	if a.QSOFA.Score > b.QSOFA.Score && kind == "worse" {
		t.Fatalf("%s %s: qSOFA %d -> %d", kind, name, a.QSOFA.Score, b.QSOFA.Score)
	}
	// NEWS2 is monotone on scale 1; on scale 2 a lower SpO2 on oxygen may score less by design.
	if kind == "worse" && a.NEWS2.Applicable && !before.Vitals.SpO2Scale2 && b.NEWS2.Aggregate < a.NEWS2.Aggregate {
		t.Fatalf("%s %s: NEWS2 %d -> %d", kind, name, a.NEWS2.Aggregate, b.NEWS2.Aggregate)
	}
}

func TestPropertyWorseNeverLessUrgent(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20240611, 1))
	for range 20000 {
		base := randomInput(r)
		for _, m := range worse {
			after := clone(base)
			if m.f(r, &after) {
				checkNotLessUrgent(t, "worse", m.name, base, after)
			}
		}
	}
}

func TestPropertyAddingNeverLowersUrgency(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20240611, 2))
	for range 20000 {
		base := randomInput(r)
		for _, m := range added {
			after := clone(base)
			if m.f(r, &after) {
				checkNotLessUrgent(t, "added", m.name, base, after)
			}
		}
	}
}

// TestPropertyMissingNeverLessUrgent: removing a recorded input never makes the proposal less
// urgent (triage-rules.md §5), except that point A is never concluded from an absent value.
func TestPropertyMissingNeverLessUrgent(t *testing.T) {
	t.Parallel()
	removals := []mutation{
		{"age", func(_ *rand.Rand, in *Input) bool { in.AgeYears, in.AgeMonths, in.AgeDays = nil, nil, nil; return true }},
		{"mental status", func(_ *rand.Rand, in *Input) bool { in.MentalStatus = ""; return true }},
		{"pain", func(_ *rand.Rand, in *Input) bool { in.PainScore = nil; return true }},
		{"heart rate", func(_ *rand.Rand, in *Input) bool { in.Vitals.HeartRate = nil; return true }},
		{"respiratory rate", func(_ *rand.Rand, in *Input) bool { in.Vitals.RespiratoryRate = nil; return true }},
		{"systolic BP", func(_ *rand.Rand, in *Input) bool { in.Vitals.SystolicBP = nil; return true }},
		{"SpO2", func(_ *rand.Rand, in *Input) bool { in.Vitals.SpO2 = nil; return true }},
		{"temperature", func(_ *rand.Rand, in *Input) bool { in.Vitals.TemperatureC = nil; return true }},
		{"oxygen", func(_ *rand.Rand, in *Input) bool { in.Vitals.OnSupplementalOxygen = nil; return true }},
		// Resources estimated from a category are an estimate, not an assumption, and may be
		// fewer than the nurse's list (they are reported as estimated); with no basis for an
		// estimate, >= 2 is assumed.
		{"resources and a category that only estimates them", func(_ *rand.Rand, in *Input) bool {
			if c := lookupCategory(in.ComplaintCategory); c != nil && c.highRisk != "" {
				return false // the category is a finding, not a resource estimate
			}
			if cr := readComplaint(in.ChiefComplaint); cr.recognised() {
				return false // a recognised complaint gives an estimate (or the model's choice)
			}
			in.ExpectedResources, in.ComplaintCategory = nil, ""
			return true
		}},
	}
	r := rand.New(rand.NewPCG(20240611, 3))
	for range 20000 {
		base := randomInput(r)
		recorded := Assess(base)
		for _, m := range removals {
			after := clone(base)
			if !m.f(r, &after) {
				continue
			}
			missing := Assess(after)
			if recorded.DecisionPoint == PointA && missing.DecisionPoint != PointA {
				continue // point A from the removed value; never concluded from its absence
			}
			if missing.Level > recorded.Level {
				t.Fatalf("removing %s: level %d -> %d\nrecorded %+v\nreasons %q\nmissing reasons %q",
					m.name, recorded.Level, missing.Level, base, recorded.Reasons.Strings(), missing.Reasons.Strings())
			}
			if missing.QSOFA.Score < recorded.QSOFA.Score {
				t.Fatalf("removing %s: qSOFA %d -> %d", m.name, recorded.QSOFA.Score, missing.QSOFA.Score)
			}
			if recorded.NEWS2.Applicable && missing.NEWS2.Aggregate < recorded.NEWS2.Aggregate {
				t.Fatalf("removing %s: NEWS2 %d -> %d", m.name, recorded.NEWS2.Aggregate, missing.NEWS2.Aggregate)
			}
		}
	}
}

func TestPropertyAlwaysAValidExplainedLevel(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(20240611, 4))
	for range 20000 {
		in := randomInput(r)
		a := Assess(in)
		if !a.Level.Valid() || a.Reasons.Len() == 0 {
			t.Fatalf("level %d with %d reasons for %+v", a.Level, a.Reasons.Len(), in)
		}
		// A, B and P decide alone; C, D, L and M are steps of one path (resources, the danger
		// zone, the second opinion, the modifiers) whose reasons come together.
		path := func(p DecisionPoint) bool { return p == PointC || p == PointD || p == PointL || p == PointM }
		for i := range a.Reasons.Len() {
			if p := a.Reasons.At(i).Point; p != a.DecisionPoint && !(path(a.DecisionPoint) && path(p)) {
				t.Fatalf("decision point %s with a reason from %s: %q", a.DecisionPoint, p, a.Reasons.Strings())
			}
		}
		if a.TargetMinutes != targetMinutes[a.Level] {
			t.Fatalf("target %d for level %d", a.TargetMinutes, a.Level)
		}
	}
}

// clone copies in deeply enough that mutations do not leak into the original.
func clone(in Input) Input {
	cp := func(p *int) *int {
		if p == nil {
			return nil
		}
		return ip(*p)
	}
	out := in
	out.AgeYears, out.AgeMonths, out.AgeDays, out.PainScore = cp(in.AgeYears), cp(in.AgeMonths), cp(in.AgeDays), cp(in.PainScore)
	out.Vitals.HeartRate, out.Vitals.RespiratoryRate = cp(in.Vitals.HeartRate), cp(in.Vitals.RespiratoryRate)
	out.Vitals.SystolicBP, out.Vitals.DiastolicBP, out.Vitals.SpO2 = cp(in.Vitals.SystolicBP), cp(in.Vitals.DiastolicBP), cp(in.Vitals.SpO2)
	if in.Vitals.TemperatureC != nil {
		out.Vitals.TemperatureC = fp(*in.Vitals.TemperatureC)
	}
	if in.Vitals.OnSupplementalOxygen != nil {
		out.Vitals.OnSupplementalOxygen = bp(*in.Vitals.OnSupplementalOxygen)
	}
	if in.ExpectedResources != nil {
		out.ExpectedResources = append(rs(), in.ExpectedResources...)
	}
	return out
}
