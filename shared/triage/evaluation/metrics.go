package evaluation

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

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

// z95 is the standard normal quantile of a two-sided 95 % interval.
const z95 = 1.959963984540054

// Wilson is the 95 % Wilson score interval of the proportion part / whole (Wilson, J Am Stat
// Assoc 1927; the interval Brown, Cai and DasGupta, Stat Sci 2001, recommend for small counts
// and for rates near 0, where the normal approximation's interval is too narrow or leaves
// [0, 1]). An empty whole gives [0, 1]: nothing is known.
func Wilson(part, whole int) (lo, hi float64) {
	if whole == 0 {
		return 0, 1
	}
	n := float64(whole)
	p := float64(part) / n
	z2 := z95 * z95
	centre := (p + z2/(2*n)) / (1 + z2/n)
	half := z95 * math.Sqrt(p*(1-p)/n+z2/(4*n*n)) / (1 + z2/n)
	return max(0, centre-half), min(1, centre+half)
}

// The bootstrap of KappaInterval: its resamples, and the seed of its PCG generator, fixed so
// that every run prints the same interval (only PCG.Uint64, whose output the PCG-DXSM
// algorithm fixes, is drawn from).
const (
	kappaResamples = 2000
	kappaSeed1     = 0x4b544153 // "KTAS"
	kappaSeed2     = 0x6b617070 // "kapp"
)

// KappaInterval is a 95 % percentile bootstrap interval of QuadraticKappa (Efron and
// Tibshirani 1993, ch. 13): kappaResamples resamples of N visits drawn with replacement from
// the confusion matrix, the interval between the resampled kappas' 2.5th and 97.5th
// percentiles ((R+1)·α convention). It measures the sampling uncertainty of the visits only:
// the proposed levels are held fixed, so the variability of a retrained model is not in it.
func (a Agreement) KappaInterval() (lo, hi float64) {
	if a.N == 0 {
		return 0, 0
	}
	// cum[i] counts the visits in cells 0..i, the 25 cells in row-major order.
	var cells [25][2]int
	var cum [25]int
	total := 0
	for r := 1; r <= 5; r++ {
		for p := 1; p <= 5; p++ {
			i := (r-1)*5 + p - 1
			cells[i] = [2]int{r, p}
			total += a.Confusion[r][p]
			cum[i] = total
		}
	}
	rng := rand.New(rand.NewPCG(kappaSeed1, kappaSeed2))
	kappas := make([]float64, kappaResamples)
	for b := range kappas {
		var s Agreement
		s.N = a.N
		for range a.N {
			u := int(rng.Uint64() % uint64(total)) // the modulo bias is below 2^-50 for any real N
			i, _ := slices.BinarySearch(cum[:], u+1)
			s.Confusion[cells[i][0]][cells[i][1]]++
		}
		kappas[b] = s.QuadraticKappa()
	}
	slices.Sort(kappas)
	lower := int(math.Floor(float64(kappaResamples+1)*0.025)) - 1
	upper := int(math.Ceil(float64(kappaResamples+1)*0.975)) - 1
	return kappas[lower], kappas[upper]
}

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
	fmt.Fprintf(w, "%s (n=%d; 95 %% intervals: Wilson for rates, bootstrap for kappa)\n", title, a.N)
	rate := func(name string, part, whole int, count string) {
		lo, hi := Wilson(part, whole)
		fmt.Fprintf(w, "  %-26s %5.1f %%  %-12s [%4.1f, %4.1f] %%\n", name, 100*Rate(part, whole), count, 100*lo, 100*hi)
	}
	rate("exact agreement", a.Exact, a.N, fmt.Sprintf("(%d)", a.Exact))
	rate("under-triage", a.Under, a.N, fmt.Sprintf("(%d)", a.Under))
	rate("over-triage", a.Over, a.N, fmt.Sprintf("(%d)", a.Over))
	rate("under-triage, expert 1-2", a.HighAcuityUnder, a.HighAcuity, fmt.Sprintf("(%d of %d)", a.HighAcuityUnder, a.HighAcuity))
	lo, hi := a.KappaInterval()
	fmt.Fprintf(w, "  %-26s %6.3f   %-12s [%.3f, %.3f]\n", "quadratic-weighted kappa", a.QuadraticKappa(), "", lo, hi)
	fmt.Fprintf(w, "  confusion (rows: expert level, columns: proposed level; then the row's visits, under- and over-triage)\n")
	fmt.Fprintf(w, "         1    2    3    4    5      n    under     over\n")
	for r := triage.Level1; r <= triage.Level5; r++ {
		fmt.Fprintf(w, "    %d", r)
		for p := 1; p <= 5; p++ {
			fmt.Fprintf(w, " %4d", a.Confusion[r][p])
		}
		n, under, over := a.AtLevel(r)
		fmt.Fprintf(w, "  %5d  %5.1f %%  %5.1f %%\n", n, 100*Rate(under, n), 100*Rate(over, n))
	}
}

// AtLevel counts the visits the experts put at level l, and those of them proposed at a less
// urgent level (under) and at a more urgent one (over). Rates within a level carry over to a
// department with another case mix when only the mix of levels differs; the overall rates
// do not (over-triage is rarer among level-2 patients than among level-3 to 5 ones).
func (a Agreement) AtLevel(l triage.Level) (n, under, over int) {
	for p := triage.Level1; p <= triage.Level5; p++ {
		c := a.Confusion[l][p]
		n += c
		switch {
		case p > l:
			under += c
		case p < l:
			over += c
		}
	}
	return n, under, over
}
