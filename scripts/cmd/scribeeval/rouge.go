package main

import "strings"

// Tokens splits text as the usual ROUGE implementation (Google's rouge-score, without
// stemming) does: lower case, every run of letters and digits a token.
func Tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// Score is a ROUGE F-measure with its precision and recall.
type Score struct{ P, R, F float64 }

func fscore(overlap, cand, ref int) Score {
	if overlap == 0 || cand == 0 || ref == 0 {
		return Score{}
	}
	p, r := float64(overlap)/float64(cand), float64(overlap)/float64(ref)
	return Score{p, r, 2 * p * r / (p + r)}
}

// RougeN is ROUGE-N between candidate and reference tokens (clipped n-gram counts).
func RougeN(cand, ref []string, n int) Score {
	cg, rg := ngrams(cand, n), ngrams(ref, n)
	overlap, nc, nr := 0, 0, 0
	for _, c := range cg {
		nc += c
	}
	for g, c := range rg {
		nr += c
		overlap += min(c, cg[g])
	}
	return fscore(overlap, nc, nr)
}

func ngrams(ts []string, n int) map[string]int {
	m := map[string]int{}
	for i := 0; i+n <= len(ts); i++ {
		m[strings.Join(ts[i:i+n], " ")]++
	}
	return m
}

// RougeL is ROUGE-L between candidate and reference tokens: the longest common
// subsequence of the whole texts.
func RougeL(cand, ref []string) Score {
	if len(cand) == 0 || len(ref) == 0 {
		return Score{}
	}
	prev := make([]int, len(ref)+1)
	cur := make([]int, len(ref)+1)
	for i := 1; i <= len(cand); i++ {
		for j := 1; j <= len(ref); j++ {
			if cand[i-1] == ref[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return fscore(prev[len(ref)], len(cand), len(ref))
}

// Rouge holds ROUGE-1, ROUGE-2 and ROUGE-L F-measures.
type Rouge struct{ R1, R2, RL float64 }

// RougeOf scores candidate text against reference text.
func RougeOf(cand, ref string) Rouge {
	c, r := Tokens(cand), Tokens(ref)
	return Rouge{RougeN(c, r, 1).F, RougeN(c, r, 2).F, RougeL(c, r).F}
}
