package evaluation

import (
	"fmt"
	"io"
	"sort"
	"strings"

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
	err := crossValidate(visits, k, opt, func(_ int, v Visit, as *triage.Assessment) error {
		a.Add(v.Expert, as.Level)
		return nil
	})
	return a, err
}

// crossValidate calls each with every visit (its index, the visit, and its assessment by the
// model trained without the visit's fold), fold after fold; it stops at each's first error.
func crossValidate(visits []Visit, k int, opt learn.Options, each func(int, Visit, *triage.Assessment) error) error {
	if k < 2 || k > len(visits) {
		return fmt.Errorf("evaluation: %d folds for %d visits", k, len(visits))
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
			return fmt.Errorf("evaluation: fold %d: %w", f+1, err)
		}
		for i, v := range visits {
			if Fold(i, k) == f {
				a := triage.AssessWith(v.Input, m)
				if err := each(i, v, &a); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Origins counts visits by what decided their level, and by the experts' level.
type Origins struct {
	// rows maps a label to its counts by expert level (index 1-5).
	rows map[string]*[6]int
}

func (o *Origins) add(label string, expert triage.Level) {
	if o.rows == nil {
		o.rows = map[string]*[6]int{}
	}
	c := o.rows[label]
	if c == nil {
		c = &[6]int{}
		o.rows[label] = c
	}
	c[expert]++
}

// Count is the number of visits of row label at expert level l.
func (o Origins) Count(label string, l triage.Level) int {
	if c := o.rows[label]; c != nil {
		return c[l]
	}
	return 0
}

// Write prints the rows sorted by label.
func (o Origins) Write(w io.Writer, title, head string) {
	labels := make([]string, 0, len(o.rows))
	width := len(head)
	for l := range o.rows {
		labels = append(labels, l)
		width = max(width, len(l))
	}
	sort.Strings(labels)
	fmt.Fprintf(w, "%s\n  %-*s %5s %5s %5s %5s %5s\n", title, width, head, "1", "2", "3", "4", "5")
	for _, l := range labels {
		c := o.rows[l]
		fmt.Fprintf(w, "  %-*s %5d %5d %5d %5d %5d\n", width, l, c[1], c[2], c[3], c[4], c[5])
	}
}

// pointLabel is an origins row of the decision points: the point and the level it gave.
func pointLabel(a *triage.Assessment) string {
	return fmt.Sprintf("%s -> %d", a.DecisionPoint, a.Level)
}

// pointBLabel names what made point B fire: each point-B reason's code and evidence, with
// the complaints it names, sorted.
func pointBLabel(a *triage.Assessment) string {
	seen := map[string]bool{}
	var parts []string
	for i := range a.Reasons.Len() {
		r := a.Reasons.At(i)
		if r.Point != triage.PointB {
			continue
		}
		p := string(r.Code) + "/" + string(r.Evidence)
		if cs := r.Complaints.Codes(); len(cs) > 0 {
			p += " " + strings.Join(cs, ",")
		}
		if !seen[p] {
			seen[p] = true
			parts = append(parts, p)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " + ")
}

// Report is what the evaluation command prints.
type Report struct {
	Rules, CrossValidated, Committed, Nurses, Ceiling Agreement
	// Points are the cross-validated levels by decision point; PointB the visits the rules
	// decide at point B, by what made it fire (the same in every fold: rules only).
	Points, PointB Origins
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
	err = crossValidate(visits, folds, learn.DefaultOptions, func(_ int, v Visit, a *triage.Assessment) error {
		r.CrossValidated.Add(v.Expert, a.Level)
		r.Points.add(pointLabel(a), v.Expert)
		if a.DecisionPoint == triage.PointB {
			r.PointB.add(pointBLabel(a), v.Expert)
		}
		return nil
	})
	if err != nil {
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
	fmt.Fprintln(w)
	r.Points.Write(w, "where the levels come from (cross-validated; visits by the experts' level)", "decision point -> engine's level")
	fmt.Fprintln(w)
	r.PointB.Write(w, "point B by what made it fire (visits by the experts' level)", "point-B reasons (code/evidence complaints)")
}
