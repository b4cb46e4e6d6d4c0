package evaluation

import (
	"fmt"
	"io"

	"github.com/medi-os/medi/shared/triage"
)

// Agreement compares proposed levels with reference levels (the experts').
type Agreement struct {
	N int
	// Confusion[r][p] counts visits with reference level r proposed at level p (index 1..5).
	Confusion [6][6]int
	// Exact, Under and Over count visits proposed at the reference level, at a less urgent
	// level (under-triage, the dangerous error) and at a more urgent level (over-triage).
	Exact, Under, Over int
	// HighAcuity counts visits with reference level 1 or 2; HighAcuityUnder those of them
	// proposed at a less urgent level than the reference.
	HighAcuity, HighAcuityUnder int
}

// Add counts one visit.
func (a *Agreement) Add(reference, proposed triage.Level) {
	a.N++
	a.Confusion[reference][proposed]++
	switch {
	case proposed == reference:
		a.Exact++
	case proposed > reference:
		a.Under++
	default:
		a.Over++
	}
	if reference <= triage.Level2 {
		a.HighAcuity++
		if proposed > reference {
			a.HighAcuityUnder++
		}
	}
}

// Rate is part / whole, 0 for an empty whole.
func Rate(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// ExactRate, UnderRate, OverRate and HighAcuityUnderRate are the counts as fractions.
func (a Agreement) ExactRate() float64           { return Rate(a.Exact, a.N) }
func (a Agreement) UnderRate() float64           { return Rate(a.Under, a.N) }
func (a Agreement) OverRate() float64            { return Rate(a.Over, a.N) }
func (a Agreement) HighAcuityUnderRate() float64 { return Rate(a.HighAcuityUnder, a.HighAcuity) }

// QuadraticKappa is Cohen's kappa with quadratic weights over the five levels (Cohen 1968):
// 1 - sum(w*O) / sum(w*E), w = (i-j)^2 / 16, E the product of the marginals / N.
func (a Agreement) QuadraticKappa() float64 {
	if a.N == 0 {
		return 0
	}
	var rowSum, colSum [6]float64
	for r := 1; r <= 5; r++ {
		for p := 1; p <= 5; p++ {
			rowSum[r] += float64(a.Confusion[r][p])
			colSum[p] += float64(a.Confusion[r][p])
		}
	}
	n := float64(a.N)
	var obs, exp float64
	for r := 1; r <= 5; r++ {
		for p := 1; p <= 5; p++ {
			w := float64((r-p)*(r-p)) / 16
			obs += w * float64(a.Confusion[r][p])
			exp += w * rowSum[r] * colSum[p] / n
		}
	}
	if exp == 0 {
		return 1
	}
	return 1 - obs/exp
}

// Write prints the figures and the confusion matrix.
func (a Agreement) Write(w io.Writer, title string) {
	fmt.Fprintf(w, "%s (n=%d)\n", title, a.N)
	fmt.Fprintf(w, "  exact agreement            %5.1f %%  (%d)\n", 100*a.ExactRate(), a.Exact)
	fmt.Fprintf(w, "  under-triage               %5.1f %%  (%d)\n", 100*a.UnderRate(), a.Under)
	fmt.Fprintf(w, "  over-triage                %5.1f %%  (%d)\n", 100*a.OverRate(), a.Over)
	fmt.Fprintf(w, "  under-triage, expert 1-2   %5.1f %%  (%d of %d)\n", 100*a.HighAcuityUnderRate(), a.HighAcuityUnder, a.HighAcuity)
	fmt.Fprintf(w, "  quadratic-weighted kappa   %6.3f\n", a.QuadraticKappa())
	fmt.Fprintf(w, "  confusion (rows: expert level, columns: proposed level)\n         1    2    3    4    5\n")
	for r := 1; r <= 5; r++ {
		fmt.Fprintf(w, "    %d", r)
		for p := 1; p <= 5; p++ {
			fmt.Fprintf(w, " %4d", a.Confusion[r][p])
		}
		fmt.Fprintln(w)
	}
}
