package evaluation

import (
	"fmt"
	"io"

	"github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triage/learn"
)

// Examples turns visits into training examples for the learned second opinion: the engine's
// features of what the nurse recorded, and the experts' level.
func Examples(visits []Visit) []learn.Example {
	ex := make([]learn.Example, len(visits))
	for i, v := range visits {
		ex[i] = learn.Example{X: triage.FeaturesOf(v.Input), Level: v.Expert}
	}
	return ex
}

// Evaluate assesses every visit with model m (nil: the rules alone) and compares the proposed
// levels with the experts'.
func Evaluate(visits []Visit, m *triage.Model) Agreement {
	var a Agreement
	for _, v := range visits {
		a.Add(v.Expert, triage.AssessWith(v.Input, m).Level)
	}
	return a
}

// Nurses compares the study nurses' levels with the experts'.
func Nurses(visits []Visit) Agreement {
	var a Agreement
	for _, v := range visits {
		a.Add(v.Expert, v.Nurse)
	}
	return a
}

// Fold is the cross-validation fold of the visit at index i of k folds: i mod k, so that
// folds follow the file's order and every run splits the same way.
func Fold(i, k int) int { return i % k }

// CrossValidate assesses every visit with a model trained without the visit's fold: k folds,
// each model trained on the other k-1 with opt. The rules are the same for every fold; only
// the learned part is cross-validated.
func CrossValidate(visits []Visit, k int, opt learn.Options) (Agreement, error) {
	var a Agreement
	if k < 2 || k > len(visits) {
		return a, fmt.Errorf("evaluation: %d folds for %d visits", k, len(visits))
	}
	ex := Examples(visits)
	for f := range k {
		var train []learn.Example
		for i := range visits {
			if Fold(i, k) != f {
				train = append(train, ex[i])
			}
		}
		m, _, err := learn.Train(train, opt)
		if err != nil {
			return a, fmt.Errorf("evaluation: fold %d: %w", f+1, err)
		}
		for i, v := range visits {
			if Fold(i, k) == f {
				a.Add(v.Expert, triage.AssessWith(v.Input, m).Level)
			}
		}
	}
	return a, nil
}

// Report is what the evaluation command prints.
type Report struct {
	Rules, CrossValidated, Committed, Nurses, Ceiling Agreement
}

// Ceiling is what the engine would reach with a perfect second opinion: the rules decide
// where they fire (A, B, P), the second opinion gives the experts' level everywhere else (but
// never 1), a level 3 still passes through the danger zone at D, and the first-order
// modifiers still keep a patient at 3 or more urgent. It bounds what any learned part can do
// under the engine's rules.
func Ceiling(visits []Visit) Agreement {
	var a Agreement
	for _, v := range visits {
		in := v.Input
		rules := triage.AssessWith(in, nil)
		var level triage.Level
		switch rules.DecisionPoint {
		case triage.PointA, triage.PointB, triage.PointP:
			level = rules.Level
		default:
			switch e := v.Expert; {
			case e <= triage.Level2:
				level = triage.Level2
			case e == triage.Level3:
				in.ExpectedResources = []triage.ResourceType{triage.ResourceLabs, triage.ResourceECGXRay}
				level = triage.AssessWith(in, nil).Level // 2 in the danger zone, else 3
			default:
				in.ExpectedResources = []triage.ResourceType{}
				level = min(e, triage.AssessWith(in, nil).Level) // 5, or the modifiers' 3 (or 2 through D)
			}
		}
		a.Add(v.Expert, level)
	}
	return a
}

// Run measures the rules alone, the engine cross-validated over folds, the engine with its
// committed model (in-sample: the model was trained on these visits when they are the
// training split) and the study nurses.
func Run(visits []Visit, folds int) (Report, error) {
	var r Report
	var err error
	r.Rules = Evaluate(visits, nil)
	if r.CrossValidated, err = CrossValidate(visits, folds, learn.DefaultOptions); err != nil {
		return r, err
	}
	r.Committed = Evaluate(visits, triage.DefaultModel())
	r.Nurses = Nurses(visits)
	r.Ceiling = Ceiling(visits)
	return r, nil
}

// Write prints the report.
func (r Report) Write(w io.Writer, folds int) {
	r.CrossValidated.Write(w, fmt.Sprintf("engine, learned part %d-fold cross-validated", folds))
	fmt.Fprintln(w)
	r.Rules.Write(w, "rules alone (ESI, physiology, modifiers; resources estimated from the complaint)")
	fmt.Fprintln(w)
	r.Committed.Write(w, "engine with the committed model (in-sample when this is its training data)")
	fmt.Fprintln(w)
	r.Nurses.Write(w, "the study's triage nurses (KTAS_RN)")
	fmt.Fprintln(w)
	r.Ceiling.Write(w, "ceiling: the rules with a perfect second opinion (experts' level wherever no rule decides)")
}
