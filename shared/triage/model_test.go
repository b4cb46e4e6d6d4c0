package triage

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDefaultModelFile(t *testing.T) {
	t.Parallel()
	m, err := ParseModel(modelFile)
	if err != nil {
		t.Fatal(err)
	}
	if m.FeatureCount() != FeatureCount() || m.Version == "" {
		t.Fatalf("model: %d features (engine %d), version %q", m.FeatureCount(), FeatureCount(), m.Version)
	}
	for i := range m.FeatureCount() {
		if Monotone(i) && m.Weight[i] < 0 {
			t.Errorf("monotone feature %s has weight %v < 0", FeatureName(i), m.Weight[i])
		}
	}
	for k := 1; k < 4; k++ {
		if !(m.Thresholds[k] > m.Thresholds[k-1]) {
			t.Errorf("thresholds %v not increasing", m.Thresholds)
		}
	}
}

func TestParseModelRefusesAWrongFile(t *testing.T) {
	t.Parallel()
	good := string(modelFile)
	for name, tc := range map[string]struct{ file, want string }{
		"not JSON":       {"{", "model file"},
		"no version":     {`{"features": []}`, "no version"},
		"renamed":        {strings.Replace(good, `"name": "pain_score"`, `"name": "pain"`, 1), `the engine's is "pain_score"`},
		"missing":        {strings.Replace(good, `{"name": "injury"`, `{"name": "injury_x"`, 1), "injury"},
		"bad scale":      {strings.Replace(good, `"scale": 1,`, `"scale": 0,`, 1), "non-finite or non-positive"},
		"unordered cuts": {good[:strings.Index(good, `"thresholds"`)] + `"thresholds": [3, 2, 1, 0]` + "\n}\n", "increasing"},
	} {
		if _, err := ParseModel([]byte(tc.file)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, tc.want)
		}
	}
}

// TestAttributionsAreExact: the attributions sum to the score, the probabilities to 1, and
// the score gives the probabilities through the model's thresholds.
func TestAttributionsAreExact(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	m := DefaultModel()
	for range 2000 {
		in := randomInput(r)
		in.AgeYears, in.AgeMonths, in.AgeDays = ip(16+r.IntN(80)), nil, nil
		a := Assess(in)
		o := a.Model
		if !o.Applicable {
			t.Fatalf("model not applicable to an adult: %s", o.NotApplicable)
		}
		sum, ps := 0.0, 0.0
		for _, at := range o.Attributions {
			sum += at.Contribution
		}
		for _, p := range o.Probabilities {
			ps += p
			if p < 0 {
				t.Fatalf("negative probability %v", o.Probabilities)
			}
		}
		if math.Abs(sum-o.Score) > 1e-9 || math.Abs(ps-1) > 1e-9 {
			t.Fatalf("attributions sum %v, score %v; probabilities sum %v", sum, o.Score, ps)
		}
		if p1 := sigmoid(m.Thresholds[0] + o.Score); math.Abs(p1-o.Probabilities[0]) > 1e-12 {
			t.Fatalf("P(level 1) %v, from the score %v", o.Probabilities[0], p1)
		}
		if o.Level < Level2 || o.Level > Level5 {
			t.Fatalf("model level %d", o.Level)
		}
		// The model's level is 2 when the probability of level 1 or 2 reaches the
		// threshold, else the most urgent level whose cumulative probability reaches the
		// quantile of the cost ratio (never 1).
		cum := 0.0
		for k := Level1; k < o.Level; k++ {
			cum += o.Probabilities[k-1]
		}
		if o.Level > Level2 && cum >= underTriageQuantile {
			t.Fatalf("level %d with P(more urgent) %v >= %v", o.Level, cum, underTriageQuantile)
		}
		p12 := o.Probabilities[0] + o.Probabilities[1]
		if o.Level > Level2 && p12 >= highAcuityThreshold {
			t.Fatalf("level %d with P(level 1 or 2) %v >= %v", o.Level, p12, highAcuityThreshold)
		}
		if o.Level == Level2 && p12 < highAcuityThreshold {
			t.Fatalf("level 2 with P(level 1 or 2) %v < %v", p12, highAcuityThreshold)
		}
	}
}

// TestModelNeverLowersARule: where the rules decide at A, B, P or in the danger zone, the
// model does not change the level; where the nurse gave resources, it may only raise it.
func TestModelNeverLowersARule(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		in := randomInput(r)
		rules, both := AssessWith(in, nil), Assess(in)
		switch {
		case rules.DecisionPoint == PointA || rules.DecisionPoint == PointB || rules.DecisionPoint == PointP:
			if both.Level != rules.Level || both.DecisionPoint != rules.DecisionPoint {
				t.Fatalf("rules %d at %s, with the model %d at %s", rules.Level, rules.DecisionPoint, both.Level, both.DecisionPoint)
			}
		case in.ExpectedResources != nil && both.Level > rules.Level:
			t.Fatalf("resources given: rules %d, with the model %d (lowered)", rules.Level, both.Level)
		case rules.Level == Level2 && both.Level != Level2:
			t.Fatalf("danger zone: rules 2 at %s, with the model %d", rules.DecisionPoint, both.Level)
		}
		if both.RulesLevel != rules.Level {
			t.Fatalf("rulesLevel %d, rules alone %d", both.RulesLevel, rules.Level)
		}
	}
}

func TestModelApplicability(t *testing.T) {
	t.Parallel()
	child := Assess(childToD(2000))
	if child.Model.Applicable || child.Model.NotApplicable != notApplicableAge {
		t.Errorf("child: %+v", child.Model)
	}
	none := AssessWith(normalAdult(), nil)
	if none.Model.Applicable || none.Model.NotApplicable != notApplicableNoModel {
		t.Errorf("no model: %+v", none.Model)
	}
	// An unknown age is scored as the oldest, and the model may then only raise the level.
	unknown := Assess(with(normalAdult(), func(in *Input) { in.AgeYears = nil; in.ExpectedResources = nil }))
	if !unknown.Model.Applicable || unknown.Level > unknown.RulesLevel {
		t.Errorf("unknown age: model %+v, level %d, rules %d", unknown.Model.Applicable, unknown.Level, unknown.RulesLevel)
	}
}

// TestModelChoosesWithoutResources: with no resources from the nurse the model chooses among
// 3, 4 and 5 (and a level 3 passes through D).
func TestModelChoosesWithoutResources(t *testing.T) {
	t.Parallel()
	minor := Assess(with(normalAdult(), func(in *Input) {
		in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources, in.PainScore = "urticarial rash", "", nil, ip(0)
	}))
	if minor.DecisionPoint != PointL || minor.Level < Level4 || !minor.Missing.Has(FieldExpectedResources) {
		t.Errorf("minor complaint: level %d at %s; reasons %q", minor.Level, minor.DecisionPoint, minor.Reasons.Strings())
	}
	tachy := Assess(with(normalAdult(), func(in *Input) {
		in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources, in.PainScore = "abd pain, vomiting", "", nil, ip(5)
		in.AgeYears, in.Vitals.HeartRate = ip(70), ip(118)
	}))
	if tachy.Level != Level2 || (tachy.DecisionPoint != PointD && tachy.DecisionPoint != PointL) {
		t.Errorf("abdominal pain with tachycardia: level %d at %s; reasons %q", tachy.Level, tachy.DecisionPoint, tachy.Reasons.Strings())
	}
}

// TestHighAcuityThresholdReason: where the probability of level 1 or 2 reaches the threshold
// but the quantile alone would propose 3 or less urgent, the model proposes 2 and its reason
// says why, with the probability and the threshold.
func TestHighAcuityThresholdReason(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 3))
	found := 0
	for range 5000 {
		in := randomInput(r)
		in.AgeYears, in.AgeMonths, in.AgeDays, in.ExpectedResources = ip(16+r.IntN(80)), nil, nil, nil
		a := Assess(in)
		if a.DecisionPoint != PointL || !a.Model.byHighAcuity() {
			continue
		}
		found++
		p12 := a.Model.Probabilities[0] + a.Model.Probabilities[1]
		last := a.Reasons.At(a.Reasons.Len() - 1)
		if a.Level != Level2 || a.Model.Level != Level2 || last.Code != CodeModelHighAcuity ||
			last.Value != p12 || last.Limit != highAcuityThreshold {
			t.Fatalf("level %d, model %d, reason %+v (P(1-2) %v)", a.Level, a.Model.Level, last, p12)
		}
		want := "L: learned second opinion proposes level 2: probability of level 1 or 2 " +
			formatPercent(p12) + " >= 10 %"
		if got := last.String(); got != want {
			t.Fatalf("reason %q, want %q", got, want)
		}
	}
	if found == 0 {
		t.Fatal("no random adult reached the threshold below the quantile")
	}
}

func BenchmarkAssessRulesOnly(b *testing.B) {
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		sink = AssessWith(in, nil)
	}
}

// BenchmarkModelOpinion is the learned part alone: features, score, probabilities and
// attributions.
func BenchmarkModelOpinion(b *testing.B) {
	in := benchInput()
	in.ExpectedResources = nil
	ageDays, ageKnown := in.ageInDays()
	tempTenths, tempKnown := temperatureTenths(in.Vitals.TemperatureC)
	cr := readComplaint(in.ChiefComplaint)
	var a Assessment
	a.Resources = countResources(&in, nil, &cr)
	e := engine{in: &in, a: &a, ageDays: ageDays, ageKnown: ageKnown, tempTenths: tempTenths, tempKnown: tempKnown,
		cr: &cr, model: DefaultModel()}
	b.ReportAllocs()
	for b.Loop() {
		e.opinion(true)
	}
}
