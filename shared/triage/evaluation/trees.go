package evaluation

import (
	"errors"
	"math"
	"sort"
)

// Gradient-boosted trees, used only by the evaluation to measure whether a non-linear learned
// part would agree with the experts better than the engine's proportional-odds model
// (Policies). They are never used to triage: the engine's second opinion stays the linear
// model whose attributions are exact by construction.
//
// The model is the usual multinomial one (Friedman, "Greedy function approximation: a
// gradient boosting machine", Ann. Statist. 2001, algorithm 6): one regression tree per level
// and round fitted to the softmax loss's gradient, leaf values by one Newton step with an L2
// penalty (Chen & Guestrin, "XGBoost", KDD 2016, eq. 5-7). Training is deterministic: the
// features are scanned in order and ties between equal values are never split.

// TreeOptions are the boosting's settings.
type TreeOptions struct {
	Rounds, Depth, MinLeaf int
	LearningRate, L2       float64
}

// DefaultTreeOptions: shallow trees and a small learning rate, as is conventional for a few
// hundred examples (depth 3, 200 rounds at 0.05, at least 10 visits per leaf, L2 1).
var DefaultTreeOptions = TreeOptions{Rounds: 200, Depth: 3, MinLeaf: 10, LearningRate: 0.05, L2: 1}

type treeNode struct {
	feature     int
	threshold   float64
	value       float64
	left, right *treeNode
}

func (n *treeNode) eval(x []float64) float64 {
	for n.left != nil {
		if x[n.feature] <= n.threshold {
			n = n.left
		} else {
			n = n.right
		}
	}
	return n.value
}

// Trees is a trained boosted model over five levels.
type Trees struct {
	base   [5]float64
	rounds [][5]*treeNode
	rate   float64
}

// TrainTrees fits the boosted model to feature rows x and levels y (1..5).
func TrainTrees(x [][]float64, y []int, opt TreeOptions) (*Trees, error) {
	n := len(x)
	if n == 0 || len(y) != n {
		return nil, errors.New("evaluation: no examples, or rows and levels differ in number")
	}
	var count [5]float64
	for _, l := range y {
		if l < 1 || l > 5 {
			return nil, errors.New("evaluation: a level is not 1-5")
		}
		count[l-1]++
	}
	t := &Trees{rate: opt.LearningRate}
	for k := range 5 {
		t.base[k] = math.Log((count[k] + 1) / float64(n+5)) // add-one smoothing: no level has probability 0
	}
	nf := len(x[0])
	// Each feature's row order, sorted once (stable: ties keep the rows' order).
	order := make([][]int, nf)
	for f := range nf {
		o := make([]int, n)
		for i := range o {
			o[i] = i
		}
		sort.SliceStable(o, func(a, b int) bool { return x[o[a]][f] < x[o[b]][f] })
		order[f] = o
	}
	score := make([][5]float64, n)
	for i := range score {
		score[i] = t.base
	}
	g, h := make([]float64, n), make([]float64, n)
	in := make([]bool, n)
	for range opt.Rounds {
		var round [5]*treeNode
		for k := range 5 {
			for i := range n {
				p := softmax(score[i])[k]
				g[i] = p
				if y[i] == k+1 {
					g[i]--
				}
				h[i] = math.Max(p*(1-p), 1e-6)
			}
			rows := make([]int, n)
			for i := range rows {
				rows[i] = i
			}
			round[k] = grow(x, g, h, order, in, rows, opt.Depth, opt)
		}
		for i := range n {
			for k := range 5 {
				score[i][k] += t.rate * round[k].eval(x[i])
			}
		}
		t.rounds = append(t.rounds, round)
	}
	return t, nil
}

// grow builds a tree over rows (ascending) by the best gain split at each node.
func grow(x [][]float64, g, h []float64, order [][]int, in []bool, rows []int, depth int, opt TreeOptions) *treeNode {
	var sg, sh float64
	for _, i := range rows {
		sg += g[i]
		sh += h[i]
	}
	leaf := &treeNode{value: -sg / (sh + opt.L2)}
	if depth == 0 || len(rows) < 2*opt.MinLeaf {
		return leaf
	}
	for _, i := range rows {
		in[i] = true
	}
	parent := sg * sg / (sh + opt.L2)
	best, bestFeature, bestThreshold := 1e-12, -1, 0.0
	for f, o := range order {
		var lg, lh float64
		left, prev := 0, -1
		for _, i := range o {
			if !in[i] {
				continue
			}
			if prev >= 0 && x[i][f] != x[prev][f] && left >= opt.MinLeaf && len(rows)-left >= opt.MinLeaf {
				rg, rh := sg-lg, sh-lh
				if gain := lg*lg/(lh+opt.L2) + rg*rg/(rh+opt.L2) - parent; gain > best {
					best, bestFeature, bestThreshold = gain, f, (x[prev][f]+x[i][f])/2
				}
			}
			lg += g[i]
			lh += h[i]
			left++
			prev = i
		}
	}
	for _, i := range rows {
		in[i] = false
	}
	if bestFeature < 0 {
		return leaf
	}
	var l, r []int
	for _, i := range rows {
		if x[i][bestFeature] <= bestThreshold {
			l = append(l, i)
		} else {
			r = append(r, i)
		}
	}
	return &treeNode{feature: bestFeature, threshold: bestThreshold,
		left: grow(x, g, h, order, in, l, depth-1, opt), right: grow(x, g, h, order, in, r, depth-1, opt)}
}

// Probabilities are the model's probabilities of levels 1..5 for feature row x.
func (t *Trees) Probabilities(x []float64) [5]float64 {
	s := t.base
	for _, round := range t.rounds {
		for k := range 5 {
			s[k] += t.rate * round[k].eval(x)
		}
	}
	return softmax(s)
}

func softmax(s [5]float64) (p [5]float64) {
	m := s[0]
	for _, v := range s[1:] {
		m = math.Max(m, v)
	}
	sum := 0.0
	for k, v := range s {
		p[k] = math.Exp(v - m)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
	return p
}
