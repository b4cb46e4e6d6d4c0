package main

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/medi-os/medi/scripts/acibench"
	"github.com/medi-os/medi/shared/clinical"
	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/transcript"
)

// Perturbation kinds.
const (
	KindDrug       = "drug swapped"
	KindDose       = "dose changed"
	KindNumber     = "other number changed"
	KindLaterality = "laterality flipped"
	KindNegation   = "negation flipped"
)

var perturbationKinds = []string{KindDrug, KindDose, KindNumber, KindLaterality, KindNegation}

type perturbed struct {
	all    Ratio
	byKind map[string]*Ratio
}

// groundingEval measures the grounding check on the reference note's sentences that the
// conversation supports: sentences with at least one checkable claim (a number, drug,
// laterality word, symptom or condition), every one of which the conversation says.
// Each is cited as a careful drafter would cite it (alignSpans); unperturbed, a flag is
// a false flag; perturbed (a drug swapped for one the spans do not name, a dose or other
// number changed to one they do not say, left and right swapped, a denial turned into a
// report or back), the check must flag it.
func groundingEval(e acibench.Encounter, t transcript.Transcript) (perturbed, Ratio) {
	ss := t.Sentences()
	dialogue := map[string]bool{}
	for _, s := range ss {
		for _, tk := range s.Tokens {
			dialogue[tk.Norm] = true
		}
		for _, n := range clinical.Numbers(s.Tokens) {
			dialogue[clinical.FormatNumber(n.Value)] = true
			if n.HasSecond {
				dialogue[clinical.FormatNumber(n.Second)] = true
			}
		}
		for _, g := range generics(s.Text) {
			dialogue["drug:"+g] = true
		}
		for _, m := range clinical.Conditions().FindAll(s.Tokens) {
			dialogue["cond:"+m.Value.Name] = true
		}
		for _, m := range clinical.Symptoms().FindAll(s.Tokens) {
			dialogue["cond:"+m.Value.Name] = true
		}
	}
	res := perturbed{byKind: map[string]*Ratio{}}
	var falseFlags Ratio
	for _, ref := range referenceSentences(e) {
		claims := checkableClaims(ref)
		if len(claims) == 0 || !allSaid(claims, dialogue) {
			continue
		}
		spans := alignSpans(ref, ss)
		if len(spans) == 0 {
			continue
		}
		falseFlags.Total++
		if fl := notedraft.Ground(ref, spans); len(fl) > 0 {
			falseFlags.Hit++
			miss(e, "false flag", "%q: %v | spans %q", ref, fl, quotesOf(spans))
		}
		for _, p := range perturb(ref, spans) {
			r := res.byKind[p.kind]
			if r == nil {
				r = &Ratio{}
				res.byKind[p.kind] = r
			}
			r.Total++
			res.all.Total++
			if len(notedraft.Ground(p.text, spans)) > 0 {
				r.Hit++
				res.all.Hit++
			} else {
				miss(e, "perturbation missed", "%s: %q | spans %q", p.kind, p.text, quotesOf(spans))
			}
		}
	}
	return res, falseFlags
}

var sentenceSplitRE = regexp.MustCompile(`(?:[.!?]\s+|\n+)`)

// referenceSentences are the sentences of the reference note (headings dropped).
func referenceSentences(e acibench.Encounter) []string {
	var out []string
	for _, s := range sentenceSplitRE.Split(e.Note, -1) {
		s = strings.TrimSpace(strings.TrimLeft(s, "•-*0123456789. "))
		if len(strings.Fields(s)) < 3 || strings.ToUpper(s) == s {
			continue
		}
		out = append(out, s)
	}
	return out
}

// claim is something the grounding check checks, as a key of the dialogue index.
type claim struct{ kind, key string }

func checkableClaims(s string) []claim {
	ts := transcript.Tokenize(s)
	var out []claim
	for _, n := range clinical.Numbers(ts) {
		out = append(out, claim{"number", clinical.FormatNumber(n.Value)})
		if n.HasSecond {
			out = append(out, claim{"number", clinical.FormatNumber(n.Second)})
		}
	}
	for _, g := range generics(s) {
		out = append(out, claim{"drug", "drug:" + g})
	}
	for _, t := range ts {
		switch t.Norm {
		case "left", "right":
			out = append(out, claim{"laterality", t.Norm})
		}
	}
	for _, m := range clinical.Conditions().FindAll(ts) {
		out = append(out, claim{"term", "cond:" + m.Value.Name})
	}
	for _, m := range clinical.Symptoms().FindAll(ts) {
		out = append(out, claim{"term", "cond:" + m.Value.Name})
	}
	return out
}

func allSaid(cs []claim, dialogue map[string]bool) bool {
	for _, c := range cs {
		if !dialogue[c.key] {
			return false
		}
	}
	return true
}

// alignSpans cites for a reference sentence what a careful drafter would: the two
// transcript sentences sharing most of its words, for every claim not in them the
// best-sharing sentence that says it, and the reply to any question cited.
func alignSpans(ref string, ss []transcript.Sentence) []transcript.Span {
	refWords := map[string]bool{}
	for _, w := range Tokens(ref) {
		if !stop[w] {
			refWords[w] = true
		}
	}
	type scored struct {
		i     int
		score int
	}
	var all []scored
	for i, s := range ss {
		n := 0
		seen := map[string]bool{}
		for _, w := range Tokens(s.Clean()) {
			if refWords[w] && !seen[w] {
				n++
				seen[w] = true
			}
		}
		if n > 0 {
			all = append(all, scored{i, n})
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].score > all[b].score })
	var picked []int
	for _, c := range all[:min(2, len(all))] {
		picked = append(picked, c.i)
	}
	covered := func(c claim) bool {
		for _, i := range picked {
			if sentenceSays(ss[i], c) {
				return true
			}
		}
		return false
	}
	for _, c := range checkableClaims(ref) {
		if covered(c) {
			continue
		}
		for _, sc := range all {
			if sentenceSays(ss[sc.i], c) {
				picked = append(picked, sc.i)
				break
			}
		}
	}
	for _, i := range slices.Clone(picked) {
		if ss[i].Question && i+1 < len(ss) && ss[i+1].Role != ss[i].Role && !slices.Contains(picked, i+1) {
			picked = append(picked, i+1)
		}
	}
	sort.Ints(picked)
	var spans []transcript.Span
	for _, i := range picked {
		spans = append(spans, ss[i].Span())
	}
	return spans
}

func sentenceSays(s transcript.Sentence, c claim) bool {
	switch c.kind {
	case "number":
		for _, n := range clinical.Numbers(s.Tokens) {
			if clinical.FormatNumber(n.Value) == c.key || n.HasSecond && clinical.FormatNumber(n.Second) == c.key {
				return true
			}
		}
	case "drug":
		return slices.Contains(generics(s.Text), strings.TrimPrefix(c.key, "drug:"))
	case "laterality":
		for _, t := range s.Tokens {
			if t.Norm == c.key {
				return true
			}
		}
	case "term":
		name := strings.TrimPrefix(c.key, "cond:")
		for _, m := range clinical.Conditions().FindAll(s.Tokens) {
			if m.Value.Name == name {
				return true
			}
		}
		for _, m := range clinical.Symptoms().FindAll(s.Tokens) {
			if m.Value.Name == name {
				return true
			}
		}
	}
	return false
}

var stop = map[string]bool{"the": true, "a": true, "an": true, "and": true, "or": true, "of": true, "to": true, "in": true, "on": true,
	"at": true, "for": true, "with": true, "is": true, "it": true, "that": true, "this": true, "be": true, "as": true, "are": true,
	"was": true, "she": true, "he": true, "her": true, "his": true, "patient": true, "reports": true, "has": true, "have": true,
	"i": true, "you": true, "your": true, "my": true, "we": true, "will": true}

type perturbation struct{ kind, text string }

// swapDrugs are the drugs a swap picks from, the first the spans do not name.
var swapDrugs = []string{"warfarin", "metoprolol", "amoxicillin", "prednisone", "gabapentin", "omeprazole", "sertraline", "lisinopril"}

// perturb makes the perturbed variants of a reference sentence.
func perturb(ref string, spans []transcript.Span) []perturbation {
	var out []perturbation
	ts := transcript.Tokenize(ref)
	rs := []rune(ref)
	replace := func(start, end int, with string) string {
		return string(rs[:ts[start].Start]) + with + string(rs[ts[end-1].End:])
	}
	var quotes strings.Builder
	for _, sp := range spans {
		quotes.WriteString(sp.Quote + "\n")
	}
	spanDrugs := generics(quotes.String())
	spanNums := map[string]bool{}
	for _, q := range spans {
		for _, n := range clinical.Numbers(transcript.Tokenize(q.Quote)) {
			spanNums[clinical.FormatNumber(n.Value)] = true
			if n.HasSecond {
				spanNums[clinical.FormatNumber(n.Second)] = true
			}
		}
	}
	// Drug swapped.
	if ms := clinical.Drugs().FindAll(ts); len(ms) > 0 {
		for _, d := range swapDrugs {
			g, _ := clinical.LookupDrug(d)
			if !slices.Contains(spanDrugs, g.Generic) && !slices.Contains(generics(ref), g.Generic) {
				out = append(out, perturbation{KindDrug, replace(ms[0].Start, ms[0].End, d)})
				break
			}
		}
	}
	// Dose or other number changed: to a value the spans do not say.
	for _, n := range clinical.Numbers(ts) {
		if n.HasSecond {
			continue
		}
		v := n.Value*2 + 10
		for spanNums[clinical.FormatNumber(v)] {
			v += 7
		}
		kind := KindNumber
		if n.End < len(ts) && doseUnit(ts[n.End].Norm) {
			kind = KindDose
		}
		out = append(out, perturbation{kind, replace(n.Start, n.End, clinical.FormatNumber(v))})
		break
	}
	// Laterality flipped (only when the spans do not say the other side too).
	for i, t := range ts {
		other := map[string]string{"left": "right", "right": "left"}[t.Norm]
		if other == "" || strings.Contains(strings.ToLower(quotes.String()), other) {
			continue
		}
		out = append(out, perturbation{KindLaterality, replace(i, i+1, matchCase(t.Text, other))})
		break
	}
	// Negation flipped.
	if p, ok := flipNegation(ref, ts, rs); ok {
		out = append(out, perturbation{KindNegation, p})
	}
	return out
}

func doseUnit(w string) bool {
	switch w {
	case "mg", "milligrams", "mcg", "units", "ml", "g", "grams":
		return true
	}
	return false
}

func matchCase(like, w string) string {
	if like != "" && like[0] >= 'A' && like[0] <= 'Z' {
		return strings.ToUpper(w[:1]) + w[1:]
	}
	return w
}

// flipNegation turns a denial into a report ("denies" -> "reports", "no X" -> "X") or a
// report of a symptom or condition into a denial (its verb -> "denies", else "no" before
// the term).
func flipNegation(ref string, ts []transcript.Token, rs []rune) (string, bool) {
	terms := append(clinical.Symptoms().FindAll(ts), nil...)
	var condStarts []int
	for _, m := range terms {
		condStarts = append(condStarts, m.Start)
	}
	for _, m := range clinical.Conditions().FindAll(ts) {
		condStarts = append(condStarts, m.Start)
	}
	if len(condStarts) == 0 {
		return "", false
	}
	sort.Ints(condStarts)
	first := condStarts[0]
	cut := func(start, end int, with string) string {
		return string(rs[:ts[start].Start]) + with + string(rs[ts[end-1].End:])
	}
	for i := first - 1; i >= 0 && i >= first-6; i-- {
		switch ts[i].Norm {
		case "denies", "denied":
			return cut(i, i+1, matchCase(ts[i].Text, "reports")), true
		case "no", "not", "without", "negative":
			return strings.Replace(cut(i, i+1, ""), "  ", " ", 1), true
		case "reports", "endorses", "notes", "has", "complains", "experiences", "reported", "had":
			return cut(i, i+1, matchCase(ts[i].Text, "denies")), true
		}
	}
	return string(rs[:ts[first].Start]) + "no " + string(rs[ts[first].Start:]), true
}

func quotesOf(spans []transcript.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Quote)
	}
	return out
}
