// Package learn trains the triage engine's learned second opinion: a proportional-odds
// (cumulative logit) model of the level triage experts gave, over the features the engine
// computes from what the nurse recorded (triage.FeaturesOf). Training is deterministic
// (Newton's method on a convex objective, fixed order of every sum), and the weights are
// rounded to six significant digits before they are used or written, so that the same data
// and options give the same model file bit for bit.
//
// Model: P(level <= k) = sigmoid(theta_k + s), s = sum_i w_i (x_i - mean_i) / scale_i, for
// k = 1..4, with the features standardised on the training data. The objective is the
// negative log-likelihood plus (L2 / 2) * |w|^2 (the thresholds are not penalised), with the
// weights of the monotone features (triage.Monotone) constrained to be non-negative (projected
// Newton with an active set), so that the model keeps the engine's monotonicity.
package learn

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/medi-os/medi/shared/triage"
)

// Example is one training visit.
type Example struct {
	X     triage.Features
	Level triage.Level
}

// Options of the training.
type Options struct {
	// L2 is the ridge penalty on the standardised weights.
	L2 float64
	// MaxIterations bounds Newton's method.
	MaxIterations int
	// Version names the model.
	Version string
}

// DefaultOptions: a ridge penalty of 1 on standardised features (a unit-variance Gaussian
// prior on every weight, the conventional weakly informative choice) and at most 100 Newton
// steps (convergence takes about 10).
var DefaultOptions = Options{L2: 1, MaxIterations: 100}

// Report says how the training went.
type Report struct {
	Iterations    int
	Converged     bool
	NegLogLik     float64
	GradientNorm  float64
	ClassCounts   [5]int
	TrainingCount int
}

const nTheta = 4

// Train fits the model to examples.
func Train(examples []Example, opt Options) (*triage.Model, Report, error) {
	var rep Report
	if len(examples) == 0 {
		return nil, rep, errors.New("learn: no examples")
	}
	if opt.MaxIterations <= 0 {
		opt.MaxIterations = DefaultOptions.MaxIterations
	}
	rep.TrainingCount = len(examples)
	for _, e := range examples {
		if !e.Level.Valid() {
			return nil, rep, fmt.Errorf("learn: level %d is not 1-5", e.Level)
		}
		rep.ClassCounts[e.Level-1]++
	}
	for k, c := range rep.ClassCounts {
		if c == 0 {
			return nil, rep, fmt.Errorf("learn: no example of level %d", k+1)
		}
	}
	var mean, scale, weight triage.Features
	var thresholds [nTheta]float64
	n := float64(len(examples))
	nf := triage.FeatureCount()
	for i := range nf {
		sum := 0.0
		for _, e := range examples {
			sum += e.X[i]
		}
		mu := sum / n
		ss := 0.0
		for _, e := range examples {
			d := e.X[i] - mu
			ss += d * d
		}
		sd := math.Sqrt(ss / n)
		if sd < 1e-9 {
			sd = 1 // a constant feature: its weight is 0 at the optimum
		}
		mean[i], scale[i] = round(mu), round(sd)
	}
	z := make([][]float64, len(examples))
	y := make([]int, len(examples))
	for j, e := range examples {
		z[j] = make([]float64, nf)
		for i := range nf {
			z[j][i] = (e.X[i] - mean[i]) / scale[i]
		}
		y[j] = int(e.Level)
	}
	// Parameters: theta (4) then w (nf). Start from the class proportions and w = 0.
	np := nTheta + nf
	beta := make([]float64, np)
	cum := 0.0
	for k := range nTheta {
		cum += float64(rep.ClassCounts[k]) / n
		beta[k] = math.Log(cum / (1 - cum))
	}
	obj := func(b []float64) float64 {
		if !ordered(b) {
			return math.Inf(1)
		}
		nll := 0.0
		for j := range z {
			s := dot(b, z[j])
			p := classProb(b, s, y[j])
			if p <= 0 {
				return math.Inf(1)
			}
			nll -= math.Log(p)
		}
		pen := 0.0
		for i := range nf {
			pen += b[nTheta+i] * b[nTheta+i]
		}
		return nll + opt.L2/2*pen
	}
	cur := obj(beta)
	for it := 1; it <= opt.MaxIterations; it++ {
		rep.Iterations = it
		g := make([]float64, np)
		h := make([][]float64, np)
		for i := range h {
			h[i] = make([]float64, np)
		}
		for j := range z {
			accumulate(beta, z[j], y[j], g, h)
		}
		for i := range nf {
			g[nTheta+i] += opt.L2 * beta[nTheta+i]
			h[nTheta+i][nTheta+i] += opt.L2
		}
		// Active set: non-negative weights at 0 whose gradient pushes them below 0.
		active := make([]bool, np)
		for i := range nf {
			if triage.Monotone(i) && beta[nTheta+i] <= 0 && g[nTheta+i] > 0 {
				active[nTheta+i] = true
			}
		}
		gn := 0.0
		for i, v := range g {
			if !active[i] {
				gn = math.Max(gn, math.Abs(v))
			}
		}
		rep.GradientNorm = gn
		if gn < 1e-9 {
			rep.Converged = true
			break
		}
		var free []int
		for i := range np {
			if !active[i] {
				free = append(free, i)
			}
		}
		hf := make([][]float64, len(free))
		gf := make([]float64, len(free))
		for a, i := range free {
			hf[a] = make([]float64, len(free))
			for b, j := range free {
				hf[a][b] = h[i][j]
			}
			gf[a] = g[i]
		}
		stepF, err := solve(hf, gf)
		if err != nil {
			return nil, rep, fmt.Errorf("learn: iteration %d: %w", it, err)
		}
		step := make([]float64, np)
		for a, i := range free {
			step[i] = stepF[a]
		}
		t := 1.0
		improved := false
		for range 60 {
			cand := make([]float64, np)
			for i := range beta {
				cand[i] = beta[i] - t*step[i]
				if i >= nTheta && triage.Monotone(i-nTheta) && cand[i] < 0 {
					cand[i] = 0
				}
			}
			if v := obj(cand); v < cur || v == cur && t == 1 {
				beta, cur, improved = cand, v, true
				break
			}
			t /= 2
		}
		if !improved {
			rep.Converged = gn < 1e-6
			break
		}
	}
	rep.NegLogLik = cur
	for k := range nTheta {
		thresholds[k] = round(beta[k])
	}
	for i := range nf {
		weight[i] = round(beta[nTheta+i])
	}
	for k := 1; k < nTheta; k++ {
		if !(thresholds[k] > thresholds[k-1]) {
			return nil, rep, errors.New("learn: thresholds not increasing after rounding")
		}
	}
	return triage.NewModel(opt.Version, mean, scale, weight, thresholds), rep, nil
}

// round keeps six significant digits (what the model file holds).
func round(v float64) float64 {
	if v == 0 {
		return 0
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return r
}

func ordered(b []float64) bool {
	for k := 1; k < nTheta; k++ {
		if !(b[k] > b[k-1]) {
			return false
		}
	}
	return true
}

func dot(b []float64, z []float64) float64 {
	s := 0.0
	for i := range z {
		s += b[nTheta+i] * z[i]
	}
	return s
}

func sigmoid(t float64) float64 {
	if t >= 0 {
		return 1 / (1 + math.Exp(-t))
	}
	e := math.Exp(t)
	return e / (1 + e)
}

// cdf is P(level <= k) for k in 0..5 (0 and 1 at the ends).
func cdf(b []float64, s float64, k int) float64 {
	switch {
	case k <= 0:
		return 0
	case k >= 5:
		return 1
	}
	return sigmoid(b[k-1] + s)
}

func classProb(b []float64, s float64, y int) float64 {
	return cdf(b, s, y) - cdf(b, s, y-1)
}

// accumulate adds one example's gradient and Hessian of the negative log-likelihood.
// With a = theta_y + s, c = theta_{y-1} + s, F the sigmoid, f = F(1-F), f' = f(1-2F) and
// p = F(a) - F(c):
//
//	d(-log p)/ds = -(f(a) - f(c)) / p,  d/dtheta_y = -f(a)/p,  d/dtheta_{y-1} = f(c)/p,
//
// and the second derivatives follow by the quotient rule.
func accumulate(b, z []float64, y int, g []float64, h [][]float64) {
	s := dot(b, z)
	var fa, fc, da, dc float64 // f and f' at the upper (a) and lower (c) cut
	upper, lower := y < 5, y > 1
	if upper {
		F := sigmoid(b[y-1] + s)
		fa = F * (1 - F)
		da = fa * (1 - 2*F)
	}
	if lower {
		F := sigmoid(b[y-2] + s)
		fc = F * (1 - F)
		dc = fc * (1 - 2*F)
	}
	p := classProb(b, s, y)
	if p < 1e-300 {
		p = 1e-300
	}
	// First derivatives of log p.
	ls := (fa - fc) / p
	la, lc := fa/p, -fc/p
	// Second derivatives of log p.
	lss := (da-dc)/p - ls*ls
	laa := da/p - la*la
	lcc := -dc/p - lc*lc
	lac := -la * lc
	las := da/p - la*ls
	lcs := -dc/p - lc*ls
	nf := len(z)
	// Gradient and Hessian of -log p.
	for i := range nf {
		g[nTheta+i] -= ls * z[i]
		for j := range nf {
			h[nTheta+i][nTheta+j] -= lss * z[i] * z[j]
		}
	}
	if upper {
		ia := y - 1
		g[ia] -= la
		h[ia][ia] -= laa
		for i := range nf {
			h[ia][nTheta+i] -= las * z[i]
			h[nTheta+i][ia] -= las * z[i]
		}
	}
	if lower {
		ic := y - 2
		g[ic] -= lc
		h[ic][ic] -= lcc
		for i := range nf {
			h[ic][nTheta+i] -= lcs * z[i]
			h[nTheta+i][ic] -= lcs * z[i]
		}
	}
	if upper && lower {
		h[y-1][y-2] -= lac
		h[y-2][y-1] -= lac
	}
}

// solve returns x with h x = g by Cholesky decomposition (h is symmetric positive definite
// for this convex objective with a ridge penalty); a tiny diagonal shift is added if needed.
func solve(h [][]float64, g []float64) ([]float64, error) {
	n := len(g)
	for shift := 0.0; shift < 1e3; shift = math.Max(1e-10, shift*100) {
		l := make([][]float64, n)
		for i := range l {
			l[i] = make([]float64, n)
		}
		ok := true
		for i := 0; i < n && ok; i++ {
			for j := 0; j <= i; j++ {
				sum := h[i][j]
				if i == j {
					sum += shift
				}
				for k := 0; k < j; k++ {
					sum -= l[i][k] * l[j][k]
				}
				if i == j {
					if sum <= 0 {
						ok = false
						break
					}
					l[i][i] = math.Sqrt(sum)
				} else {
					l[i][j] = sum / l[j][j]
				}
			}
		}
		if !ok {
			continue
		}
		x := make([]float64, n)
		for i := range n { // forward: L u = g
			sum := g[i]
			for k := 0; k < i; k++ {
				sum -= l[i][k] * x[k]
			}
			x[i] = sum / l[i][i]
		}
		for i := n - 1; i >= 0; i-- { // backward: L^T x = u
			sum := x[i]
			for k := i + 1; k < n; k++ {
				sum -= l[k][i] * x[k]
			}
			x[i] = sum / l[i][i]
		}
		return x, nil
	}
	return nil, errors.New("the Hessian is not positive definite")
}
