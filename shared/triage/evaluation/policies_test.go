package evaluation

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triage/learn"
)

func TestQuantileLevel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p    [5]float64
		q    float64
		want triage.Level
	}{
		{[5]float64{0.9, 0.1, 0, 0, 0}, 0.5, triage.Level2}, // never 1
		{[5]float64{0, 0.2, 0.2, 0.3, 0.3}, 1.0 / 3, triage.Level3},
		{[5]float64{0, 0.2, 0.2, 0.3, 0.3}, 0.5, triage.Level4},
		{[5]float64{0, 0, 0, 0, 1}, 0.5, triage.Level5},
	} {
		if got := quantileLevel(c.p, c.q); got != c.want {
			t.Errorf("quantileLevel(%v, %.2f) = %d, want %d", c.p, c.q, got, c.want)
		}
	}
	// The level 1-2 threshold proposes 2 from its probability on, whatever the quantile.
	for _, c := range []struct {
		p    [5]float64
		h    float64
		want triage.Level
	}{
		{[5]float64{0.02, 0.08, 0.2, 0.4, 0.3}, 0.10, triage.Level2},
		{[5]float64{0.02, 0.07, 0.2, 0.4, 0.31}, 0.10, triage.Level4},
		{[5]float64{0.02, 0.08, 0.2, 0.4, 0.3}, 0, triage.Level4},
	} {
		if got := (Policy{Quantile: engineQuantile, HighAcuity: c.h}).level(c.p); got != c.want {
			t.Errorf("level(%v) with threshold %.2f = %d, want %d", c.p, c.h, got, c.want)
		}
	}
}

// TestTrainTrees: the trees learn a level that a threshold of one feature decides (the other
// feature is noise), the same data train the same model, and bad examples are refused.
func TestTrainTrees(t *testing.T) {
	t.Parallel()
	var x [][]float64
	var y []int
	for i := range 200 {
		v := float64(i % 50)
		x = append(x, []float64{float64((i * 7) % 13), v})
		y = append(y, 5-int(v)/10) // 0-9 -> 5, ..., 40-49 -> 1
	}
	opt := TreeOptions{Rounds: 50, Depth: 2, MinLeaf: 5, LearningRate: 0.3, L2: 1}
	m, err := TrainTrees(x, y, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		p := m.Probabilities(x[i])
		best := 0
		for k := range p {
			if p[k] > p[best] {
				best = k
			}
		}
		if best+1 != y[i] {
			t.Fatalf("row %d: most likely level %d, want %d (%v)", i, best+1, y[i], p)
		}
		if s := p[0] + p[1] + p[2] + p[3] + p[4]; math.Abs(s-1) > 1e-12 {
			t.Fatalf("probabilities sum to %v", s)
		}
	}
	again, _ := TrainTrees(x, y, opt)
	if fmt.Sprint(again.Probabilities(x[3])) != fmt.Sprint(m.Probabilities(x[3])) {
		t.Error("the same data trained a different model")
	}
	if _, err := TrainTrees(nil, nil, opt); err == nil {
		t.Error("no examples: no error")
	}
	if _, err := TrainTrees([][]float64{{1}}, []int{6}, opt); err == nil {
		t.Error("level 6: no error")
	}
}

// TestPoliciesOnTheKTASTrainingSplit: the first policy is the engine itself (its figures are
// CrossValidate's, visit for visit, and its decision rule is the engine's), and the
// table that docs/clinical-validation.md shows is what go run ./scripts/cmd/triagemodel
// policies prints.
func TestPoliciesOnTheKTASTrainingSplit(t *testing.T) {
	t.Parallel()
	visits, _ := readData(t)
	rs, err := CrossValidatePolicies(visits, 5, Policies)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := CrossValidate(visits, 5, learn.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Agreement != cv {
		t.Errorf("the engine's policy %+v, the engine cross-validated %+v", rs[0].Agreement, cv)
	}
	m := triage.DefaultModel()
	for _, v := range visits {
		a := triage.AssessWith(v.Input, m)
		if a.Model.Applicable && Policies[0].level(a.Model.Probabilities) != a.Model.Level {
			t.Fatalf("row %d: the engine's model proposes %d, the engine's policy %d", v.Row, a.Model.Level,
				Policies[0].level(a.Model.Probabilities))
		}
	}
	var b strings.Builder
	WritePolicies(&b, rs)
	t.Log("\n" + b.String())
	// Exact, under, over, under among expert 1-2 (counts) and kappa, as documented.
	want := []string{
		"338 39 311 7 0.514",
		"364 42 282 10 0.523",
		"356 42 290 10 0.519",
		"298 38 352 6 0.502",
		"351 54 283 7 0.533",
		"378 57 253 10 0.544",
		"349 38 301 9 0.483",
		"364 59 265 10 0.525",
		"349 43 296 7 0.532",
		"362 40 286 8 0.539",
		"376 44 268 8 0.561",
		"434 72 182 21 0.584",
		"390 59 239 8 0.576",
	}
	if len(rs) != len(want) {
		t.Fatalf("%d policies, %d documented", len(rs), len(want))
	}
	for i, r := range rs {
		a := r.Agreement
		if got := fmt.Sprintf("%d %d %d %d %.3f", a.Exact, a.Under, a.Over, a.HighAcuityUnder, a.QuadraticKappa()); got != want[i] {
			t.Errorf("%s: %s, documented %s", r.Policy.Name, got, want[i])
		}
	}
}
