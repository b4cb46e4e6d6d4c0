package notedraft

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/medi-os/medi/shared/clinical"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/transcript"
)

// Ground checks a drafted sentence against the spans it cites and returns a flag for
// every claim they do not support:
//   - number: every number (digits or words) must be said in the spans; a dose (a number
//     with a dose unit) is reported as "dose". A unit conversion the drafter added in
//     brackets after a supported value ("101.3 °F (38.5 °C)") is not a claim;
//   - drug: every drug (generic or brand, compared by generic name) must be named;
//   - laterality: left, right and bilateral must be said as such ("both" for bilateral);
//   - negation: a symptom or condition the sentence denies must not be reported in the
//     spans, and one it reports must not be denied there (a "no" answering the
//     clinician's question counts as a denial); a denial needs a negation in the spans;
//   - diagnosis: every condition of the vocabulary must be named (any synonym).
//
// The check reads words, not meaning: a sentence can pass it and still be wrong, which is
// why the doctor signs; it catches what a model most often gets wrong in a note.
func Ground(text string, spans []transcript.Span) []notes.Flag {
	sent := transcript.Tokenize(text)
	ev := evidenceOf(spans)
	var flags []notes.Flag
	add := func(claim, format string, a ...any) {
		f := notes.Flag{Kind: notes.FlagUnsupported, Claim: claim, Detail: fmt.Sprintf(format, a...)}
		if !slices.Contains(flags, f) {
			flags = append(flags, f)
		}
	}
	// Numbers.
	evNums := map[float64]bool{}
	for _, q := range ev.quotes {
		for _, n := range clinical.Numbers(q) {
			evNums[round1(n.Value)] = true
			if n.HasSecond {
				evNums[round1(n.Second)] = true
			}
		}
	}
	nums := clinical.Numbers(sent)
	for k, n := range nums {
		if k > 0 && derived(sent, nums[k-1], n) {
			continue
		}
		for _, v := range []float64{n.Value, n.Second} {
			if v == n.Second && !n.HasSecond {
				continue
			}
			if evNums[round1(v)] {
				continue
			}
			if isDoseAt(sent, n.End) {
				add("dose", "%s %s is not in the cited words", clinical.FormatNumber(v), sent[n.End].Text)
			} else {
				add("number", "%s is not in the cited words", clinical.FormatNumber(v))
			}
		}
	}
	// Drugs.
	evDrugs := map[string]bool{}
	for _, q := range ev.quotes {
		for _, m := range clinical.Drugs().FindAll(q) {
			evDrugs[m.Value.Generic] = true
			for _, g := range strings.Split(m.Value.Generic, " / ") {
				evDrugs[g] = true
			}
		}
	}
	for _, m := range clinical.Drugs().FindAll(sent) {
		if !evDrugs[m.Value.Generic] {
			add("drug", "%s is not named in the cited words", m.Term)
		}
	}
	// Laterality.
	side := func(ts []transcript.Token) map[string]bool {
		out := map[string]bool{}
		for _, t := range ts {
			switch t.Norm {
			case "left", "right":
				out[t.Norm] = true
			case "bilateral", "bilaterally", "both":
				out["bilateral"] = true
			}
		}
		return out
	}
	evSide := map[string]bool{}
	for _, q := range ev.quotes {
		for k := range side(q) {
			evSide[k] = true
		}
	}
	if evSide["left"] && evSide["right"] {
		evSide["bilateral"] = true
	}
	for k := range side(sent) {
		if k == "right" && hasPhrase(sent, "right now") || k == "right" && hasPhrase(sent, "all right") {
			continue
		}
		if !evSide[k] {
			add("laterality", "%s is not said in the cited words", k)
		}
	}
	// Conditions and symptoms: named, and with the same polarity.
	evConds := map[string]bool{}
	for _, q := range ev.quotes {
		for _, m := range clinical.Conditions().FindAll(q) {
			evConds[m.Value.Name] = true
		}
	}
	for _, m := range clinical.Conditions().FindAll(sent) {
		if !evConds[m.Value.Name] && !ev.hasSymptomNamed(m.Value.Name) {
			add("diagnosis", "%s is not named in the cited words", m.Term)
		}
	}
	sentNeg := false
	for _, t := range sent {
		if negationWord(t.Norm) {
			sentNeg = true
		}
	}
	terms := termPositions(sent)
	for _, tp := range terms {
		neg := clinical.Negated(sent, tp.at) || deniesBefore(sent, tp.at)
		pol, found := ev.polarity(tp.name)
		if found && pol != !neg {
			if neg {
				add("negation", "%s is denied here but reported in the cited words", tp.said)
			} else {
				add("negation", "%s is reported here but denied in the cited words", tp.said)
			}
		}
	}
	if sentNeg && !ev.negated {
		add("negation", "the sentence denies something; the cited words deny nothing")
	}
	return flags
}

// evidence is what cited spans say.
type evidence struct {
	quotes [][]transcript.Token
	// negated is true when some quote holds a negation or a "no" reply.
	negated bool
}

func evidenceOf(spans []transcript.Span) evidence {
	var ev evidence
	for _, sp := range spans {
		ts := transcript.Tokenize(sp.Quote)
		ev.quotes = append(ev.quotes, ts)
		for _, t := range ts {
			if negationWord(t.Norm) || t.Norm == "nope" || t.Norm == "nothing" {
				ev.negated = true
			}
		}
	}
	return ev
}

func (ev evidence) hasSymptomNamed(name string) bool {
	for _, q := range ev.quotes {
		for _, m := range clinical.Symptoms().FindAll(q) {
			if m.Value.Name == name {
				return true
			}
		}
	}
	return false
}

// polarity says whether the spans report (true) or deny (false) a term, and whether they
// name it at all. A term in a question is answered by a quote that is a short yes/no.
func (ev evidence) polarity(name string) (present, found bool) {
	answer := ""
	for _, q := range ev.quotes {
		if a := replyOf(q); a != "" {
			answer = a
		}
	}
	anyPresent, anyDenied := false, false
	for _, q := range ev.quotes {
		question := len(q) > 0 && q[len(q)-1].Text == "?"
		for _, tp := range termPositions(q) {
			if tp.name != name {
				continue
			}
			found = true
			switch {
			case question && answer == "no":
				anyDenied = true
			case question && answer == "yes":
				anyPresent = true
			case question:
				// Asked, answer not cited: no polarity.
			case clinical.Negated(q, tp.at) || deniesBefore(q, tp.at):
				anyDenied = true
			default:
				anyPresent = true
			}
		}
	}
	if !found || anyPresent == anyDenied {
		return true, false // not named, or said both ways: nothing to compare
	}
	return anyPresent, true
}

// replyOf classifies a quote that is a short yes/no reply.
func replyOf(q []transcript.Token) string {
	words := 0
	first := ""
	for _, t := range q {
		if !t.Punct {
			if first == "" {
				first = t.Norm
			}
			words++
		}
	}
	if words == 0 || words > 8 {
		return ""
	}
	switch first {
	case "no", "nope", "nah", "never", "nothing", "not":
		return "no"
	case "yes", "yeah", "yep", "yup", "uh-huh", "mm-hmm", "correct", "sure":
		return "yes"
	}
	return ""
}

type termPos struct {
	name, said string
	at         int
}

// termPositions finds the symptoms and conditions of a token sequence.
func termPositions(ts []transcript.Token) []termPos {
	var out []termPos
	for _, m := range clinical.Symptoms().FindAll(ts) {
		out = append(out, termPos{m.Value.Name, m.Term, m.Start})
	}
	for _, m := range clinical.Conditions().FindAll(ts) {
		out = append(out, termPos{m.Value.Name, m.Term, m.Start})
	}
	return out
}

func negationWord(w string) bool {
	switch w {
	case "no", "not", "denies", "denied", "deny", "denying", "without", "never", "negative", "none", "nor", "absent":
		return true
	}
	return strings.HasSuffix(w, "n't")
}

// deniesBefore reports a "denies" anywhere before ts[i] in the sentence (lists: "denies
// fever, chills or cough").
func deniesBefore(ts []transcript.Token, i int) bool {
	for k := i - 1; k >= 0; k-- {
		switch ts[k].Norm {
		case "denies", "denied", "deny", "denying":
			return true
		case "but", "however", ".", ";", "reports", "endorses", "notes", "has":
			return false
		}
	}
	return false
}

// derived reports whether n is a conversion the drafter wrote in brackets after prev
// ("101.3 °F (38.5 °C)", "150 lb (68 kg)").
func derived(ts []transcript.Token, prev, n clinical.Number) bool {
	if n.Start == 0 || ts[n.Start-1].Text != "(" {
		return false
	}
	unitOf := func(end int) string {
		if end < len(ts) {
			return ts[end].Norm
		}
		return ""
	}
	a, b := unitOf(prev.End), unitOf(n.End)
	if a == "°" && prev.End+1 < len(ts) {
		a = ts[prev.End+1].Norm
	}
	if b == "°" && n.End+1 < len(ts) {
		b = ts[n.End+1].Norm
	}
	switch {
	case a == "f" && b == "c":
		return math.Abs((prev.Value-32)*5/9-n.Value) < 0.11
	case a == "c" && b == "f":
		return math.Abs(prev.Value*9/5+32-n.Value) < 0.11
	case a == "lb" && b == "kg":
		return math.Abs(prev.Value*0.45359237-n.Value) < 0.11
	case a == "kg" && b == "lb":
		return math.Abs(prev.Value/0.45359237-n.Value) < 0.11
	}
	return false
}

var doseUnitWords = map[string]bool{"mg": true, "milligram": true, "milligrams": true, "mcg": true, "microgram": true, "micrograms": true,
	"g": true, "gram": true, "grams": true, "units": true, "unit": true, "ml": true, "milliliters": true, "cc": true, "puffs": true,
	"tablets": true, "tablet": true, "capsules": true, "drops": true, "meq": true}

func isDoseAt(ts []transcript.Token, i int) bool { return i < len(ts) && doseUnitWords[ts[i].Norm] }

func hasPhrase(ts []transcript.Token, phrase string) bool { return anyCue(ts, []string{phrase}) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
