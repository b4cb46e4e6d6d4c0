package evaluation

import (
	"fmt"
	"io"

	"github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triage/learn"
)

// What-if measures of how the engine combines its rules with its learned second opinion, for
// the clinical lead who decides the policy: the same cross-validation as CrossValidate, with
// the level re-decided from each assessment under a variant of the policy. They are figures,
// not engine modes: the engine triages only as specified (triage-rules.md).

// engineQuantile and engineHighAcuity are the engine's decision rule (shared/triage/model.go):
// the model proposes 2 when the probability of level 1 or 2 reaches engineHighAcuity, and
// otherwise the most urgent level L whose cumulative probability reaches engineQuantile (an
// under-triage weighed twice an over-triage). A test checks that they reproduce the engine's
// choice.
const (
	engineQuantile   = 1.0 / 3
	engineHighAcuity = 0.10
)

// Policy is one variant.
type Policy struct {
	Name string
	// Quantile is the learned part's decision quantile (the engine: 1/3; 1/2 is the median,
	// an under-triage weighed the same as an over-triage).
	Quantile float64
	// HighAcuity is the probability of level 1 or 2 from which the learned part proposes 2
	// whatever the quantile (the engine: 0.10; 0: no such threshold).
	HighAcuity float64
	// Trees replaces the engine's proportional-odds model by gradient-boosted trees.
	Trees *TreeOptions
	// PainWeighed leaves a patient whom point B holds at level 2 for severe pain alone
	// (pain >= 7 recorded, no other point-B finding) to the learned part, which weighs the
	// pain among the other inputs; a pain that is not recorded still decides.
	PainWeighed bool
	// DangerZoneWeighed leaves the danger-zone vital signs (point D: adult heart rate > 100,
	// respiratory rate > 20) to the learned part instead of proposing 2.
	DangerZoneWeighed bool
}

// Policies are the variants the evaluation command measures, the engine's first.
var Policies = []Policy{
	{Name: "the engine as specified", Quantile: engineQuantile, HighAcuity: engineHighAcuity},
	{Name: "without the level 1-2 threshold (engine 2.0.0)", Quantile: engineQuantile},
	{Name: "level 1-2 threshold at 0.20 instead of 0.10", Quantile: engineQuantile, HighAcuity: 0.20},
	{Name: "level 1-2 threshold at 0.05 instead of 0.10", Quantile: engineQuantile, HighAcuity: 0.05},
	{Name: "learned part at its median instead of 1/3", Quantile: 0.5, HighAcuity: engineHighAcuity},
	{Name: "learned part at its median, without the level 1-2 threshold", Quantile: 0.5},
	{Name: "gradient-boosted trees instead of the ordinal model", Quantile: engineQuantile, HighAcuity: engineHighAcuity, Trees: &DefaultTreeOptions},
	{Name: "gradient-boosted trees, median, without the threshold", Quantile: 0.5, Trees: &DefaultTreeOptions},
	{Name: "pain >= 7 weighed by the learned part", Quantile: engineQuantile, HighAcuity: engineHighAcuity, PainWeighed: true},
	{Name: "danger zone weighed by the learned part", Quantile: engineQuantile, HighAcuity: engineHighAcuity, DangerZoneWeighed: true},
	{Name: "pain >= 7 and danger zone weighed", Quantile: engineQuantile, HighAcuity: engineHighAcuity, PainWeighed: true, DangerZoneWeighed: true},
	{Name: "pain >= 7 and danger zone weighed, median, without the threshold", Quantile: 0.5, PainWeighed: true, DangerZoneWeighed: true},
	{Name: "pain >= 7 and danger zone weighed, at the median", Quantile: 0.5, HighAcuity: engineHighAcuity, PainWeighed: true, DangerZoneWeighed: true},
}

// level is the learned part's level under the policy's decision rule.
func (p Policy) level(probs [5]float64) triage.Level {
	if p.HighAcuity > 0 && probs[0]+probs[1] >= p.HighAcuity {
		return triage.Level2
	}
	return quantileLevel(probs, p.Quantile)
}

// quantileLevel is the most urgent level whose cumulative probability reaches q, never 1 (as
// the engine's model: level 1 is a bedside judgement).
func quantileLevel(p [5]float64, q float64) triage.Level {
	cum := 0.0
	for k := range 5 {
		cum += p[k]
		if cum >= q {
			return max(triage.Level(k+1), triage.Level2)
		}
	}
	return triage.Level5
}

// severePainAlone reports whether point B decided on a recorded pain >= 7 and nothing else.
func severePainAlone(a *triage.Assessment) bool {
	if a.DecisionPoint != triage.PointB {
		return false
	}
	for i := range a.Reasons.Len() {
		r := a.Reasons.At(i)
		if r.Point == triage.PointB && (r.Code != triage.CodeSeverePain || r.Evidence != triage.EvidenceObserved) {
			return false
		}
	}
	return true
}

// withResources is in with the given expected resources (none: an empty list, "no
// resources", not "not given").
func withResources(in triage.Input, rs ...triage.ResourceType) triage.Input {
	in.ExpectedResources = append([]triage.ResourceType{}, rs...)
	return in
}

// place is the engine's level when its learned part chooses g where the rules left the
// level to C, D and the modifiers: 2 stays 2; 3 is "two or more resources" and passes
// through the danger zone; 4 and 5 are "one resource" and "none", which the first-order
// modifiers (and, through them, the danger zone) may still raise.
func (p Policy) place(in triage.Input, g triage.Level) triage.Level {
	switch {
	case g <= triage.Level2:
		return triage.Level2
	case g == triage.Level3:
		if p.DangerZoneWeighed {
			return triage.Level3
		}
		return triage.AssessWith(withResources(in, triage.ResourceLabs, triage.ResourceECGXRay), nil).Level
	}
	rs := []triage.ResourceType{}
	if g == triage.Level4 {
		rs = []triage.ResourceType{triage.ResourceLabs}
	}
	r := triage.AssessWith(withResources(in, rs...), nil)
	if p.DangerZoneWeighed && r.DecisionPoint == triage.PointD {
		return triage.Level3 // the modifiers' 3, not lifted to 2 by the danger zone
	}
	return r.Level
}

// decide is the level of visit in under the policy, from its assessment a (with the
// engine's model) and the learned part's probabilities.
func (p Policy) decide(in triage.Input, a *triage.Assessment, probs [5]float64) triage.Level {
	if !a.Model.Applicable {
		return a.Level
	}
	g := p.level(probs)
	switch a.DecisionPoint {
	case triage.PointA, triage.PointP:
		return a.Level
	case triage.PointB:
		if !p.PainWeighed || !severePainAlone(a) {
			return a.Level
		}
		calm := in
		six := 6
		calm.PainScore = &six // below the threshold: what the rules say without the pain
		if r := triage.AssessWith(calm, nil); r.DecisionPoint == triage.PointA || r.DecisionPoint == triage.PointB || r.DecisionPoint == triage.PointP {
			return r.Level
		}
		return p.place(calm, g)
	}
	if a.Resources.Evidence == triage.EvidenceObserved || in.AgeYears == nil && in.AgeMonths == nil && in.AgeDays == nil {
		return a.Level // the nurse's resources (or an unknown age): the model only raises, as in the engine
	}
	return p.place(in, g)
}

// PolicyResult is one policy's cross-validated agreement.
type PolicyResult struct {
	Policy    Policy
	Agreement Agreement
}

// CrossValidatePolicies measures each policy over k folds (as CrossValidate: each fold
// assessed with models trained without it).
func CrossValidatePolicies(visits []Visit, k int, policies []Policy) ([]PolicyResult, error) {
	nf := triage.FeatureCount()
	rows := make([][]float64, len(visits))
	for i, e := range Examples(visits) {
		rows[i] = e.X[:nf]
	}
	out := make([]PolicyResult, len(policies))
	for i, p := range policies {
		out[i].Policy = p
	}
	fold, trees := -1, map[TreeOptions]*Trees{}
	err := crossValidate(visits, k, learn.DefaultOptions, func(i int, v Visit, a *triage.Assessment) error {
		if f := Fold(i, k); f != fold { // a new fold: its trees, trained without it
			fold, trees = f, map[TreeOptions]*Trees{}
			var tx [][]float64
			var ty []int
			for j, w := range visits {
				if Fold(j, k) != f {
					tx, ty = append(tx, rows[j]), append(ty, int(w.Expert))
				}
			}
			for _, p := range policies {
				if p.Trees != nil && trees[*p.Trees] == nil {
					t, err := TrainTrees(tx, ty, *p.Trees)
					if err != nil {
						return fmt.Errorf("evaluation: fold %d: %w", f+1, err)
					}
					trees[*p.Trees] = t
				}
			}
		}
		for j, p := range policies {
			probs := a.Model.Probabilities
			if p.Trees != nil {
				probs = trees[*p.Trees].Probabilities(rows[i])
			}
			out[j].Agreement.Add(v.Expert, p.decide(v.Input, a, probs))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WritePolicies prints one line per policy.
func WritePolicies(w io.Writer, rs []PolicyResult) {
	fmt.Fprintf(w, "%-66s %6s %6s %6s %14s %6s\n", "policy (cross-validated)", "exact", "under", "over", "under, exp 1-2", "kappa")
	for _, r := range rs {
		a := r.Agreement
		fmt.Fprintf(w, "%-66s %5.1f%% %5.1f%% %5.1f%% %5.1f%% (%2d) %6.3f\n", r.Policy.Name, 100*a.ExactRate(),
			100*a.UnderRate(), 100*a.OverRate(), 100*a.HighAcuityUnderRate(), a.HighAcuityUnder, a.QuadraticKappa())
	}
}
