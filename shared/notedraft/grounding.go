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
	for _, q := range ev.quotes {
		for i, t := range q {
			switch t.Norm {
			case "once", "a", "an", "single":
				if t.Norm == "once" || i+1 < len(q) && timeUnits[q[i+1].Norm] {
					evNums[1] = true
				}
			case "twice", "both", "couple", "pair":
				evNums[2] = true
			case "half":
				evNums[0.5] = true
			}
			if m, ok := months[t.Norm]; ok {
				evNums[m] = true
			}
		}
	}
	nums := clinical.Numbers(sent)
	for k, n := range nums {
		if k > 0 && derived(sent, nums[k-1], n) {
			continue
		}
		if n.HasSecond && n.Second >= 1900 && n.Value >= 1 && n.Value <= 12 {
			// A date ("02/2020"): its year must be said; the month may be said as a name.
			if !evNums[n.Second] {
				add("number", "%s is not in the cited words", clinical.FormatNumber(n.Second))
			}
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
	for _, q := range ev.quotes {
		for _, t := range q {
			if pairedPlurals[t.Norm] {
				evSide["bilateral"] = true // "swelling in my legs": both sides
			}
		}
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
	terms := termPositions(sent)
	for _, tp := range terms {
		neg := negatedAt(sent, tp.at)
		if neg {
			sentNeg = true
		}
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
		add("negation", "the sentence denies a symptom or condition; the cited words deny nothing")
	}
	return flags
}

// evidence is what cited spans say.
type evidence struct {
	quotes [][]transcript.Token
	// questions marks the quotes that ask (a question mark, or an interrogative opening
	// in speech transcribed without punctuation).
	questions []bool
	// negated is true when some quote holds a negation or a "no" reply.
	negated bool
}

func evidenceOf(spans []transcript.Span) evidence {
	var ev evidence
	for _, sp := range spans {
		ts := transcript.Tokenize(sp.Quote)
		_, q := transcript.Clean(ts)
		ev.quotes = append(ev.quotes, ts)
		ev.questions = append(ev.questions, q)
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
// name it with one polarity at all. A term in a question takes the polarity of the reply
// cited right after it: a short "no" denies it, a short "yes" to a question about it
// alone reports it, and a reply naming some of the symptoms a question lists denies the
// others ("fever, chills, congestion?" "a little congestion").
func (ev evidence) polarity(name string) (present, found bool) {
	anyPresent, anyDenied := false, false
	for k, q := range ev.quotes {
		question := ev.questions[k]
		terms := termPositions(q)
		var reply []transcript.Token
		answer := ""
		if question && k+1 < len(ev.quotes) && !ev.questions[k+1] {
			reply = ev.quotes[k+1]
			answer = replyOf(reply)
		}
		repliedNames := map[string]bool{}
		for _, tp := range termPositions(reply) {
			repliedNames[tp.name] = true
		}
		answersList := false
		for _, tp := range terms {
			if repliedNames[tp.name] {
				answersList = true
			}
		}
		for _, tp := range terms {
			if tp.name != name {
				continue
			}
			found = true
			switch {
			case question && answer == "no":
				anyDenied = true
			case question && answer == "yes" && len(terms) == 1:
				anyPresent = true
			case question && answer == "" && len(terms) > 1 && answersList && !repliedNames[name]:
				anyDenied = true
			case question:
				// Asked, the reply not cited or not telling: no polarity.
			case negatedAt(q, tp.at):
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

// negatedAt reports whether the term at ts[i] is negated: a negation in its clause, a
// "denies" before it in a list, or "no longer" ("no longer gets up at night with
// reflux").
func negatedAt(ts []transcript.Token, i int) bool {
	if clinical.Negated(ts, i) || deniesBefore(ts, i) {
		return true
	}
	for k := max(0, i-6); k+1 < i; k++ {
		if ts[k].Norm == "no" && ts[k+1].Norm == "longer" || ts[k].Norm == "anymore" {
			return true
		}
	}
	for k := i + 1; k < len(ts) && k <= i+4; k++ {
		if ts[k].Norm == "anymore" {
			return true
		}
	}
	return false
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

// timeUnits make "a"/"an" before them mean one ("a year", "an hour").
var timeUnits = map[string]bool{"year": true, "week": true, "day": true, "month": true, "hour": true, "time": true, "minute": true}

// months are said by name where notes write numbers.
var months = map[string]float64{"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12}

// pairedPlurals are body parts said in the plural: both sides.
var pairedPlurals = map[string]bool{"legs": true, "ankles": true, "knees": true, "feet": true, "hands": true, "arms": true,
	"extremities": true, "eyes": true, "ears": true, "wrists": true, "hips": true, "shoulders": true, "elbows": true,
	"lungs": true, "kidneys": true, "breasts": true, "calves": true, "thighs": true, "fingers": true, "toes": true, "both": true}

var doseUnitWords = map[string]bool{"mg": true, "milligram": true, "milligrams": true, "mcg": true, "microgram": true, "micrograms": true,
	"g": true, "gram": true, "grams": true, "units": true, "unit": true, "ml": true, "milliliters": true, "cc": true, "puffs": true,
	"tablets": true, "tablet": true, "capsules": true, "drops": true, "meq": true}

func isDoseAt(ts []transcript.Token, i int) bool { return i < len(ts) && doseUnitWords[ts[i].Norm] }

func hasPhrase(ts []transcript.Token, phrase string) bool { return anyCue(ts, []string{phrase}) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }
