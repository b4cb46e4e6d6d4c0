package clinical

import (
	"strings"

	"github.com/medi-os/medi/shared/transcript"
)

// Substances patients are commonly allergic to besides drugs (lower case).
var otherAllergens = []string{"sulfa", "sulfa drugs", "latex", "peanuts", "peanut", "tree nuts", "nuts", "shellfish", "eggs", "egg",
	"bee stings", "bees", "iodine", "contrast", "contrast dye", "dye", "adhesive", "tape", "pollen", "dust", "cats", "dogs",
	"penicillins", "antibiotics", "nsaids", "opioids", "codeine", "morphine", "steroids", "strawberries", "milk", "soy", "wheat", "gluten", "fish"}

// Reaction cues ("causes", "gives me") introduce the reaction after an allergen.
var reactionCues = []string{"causes", "caused", "gives me", "gave me", "makes my", "made my", "makes me", "made me", "i get", "i got",
	"i break out", "break out in", "broke out in", "i had", "which causes", "that causes", "it causes", "reaction"}

// reactions the note names (lower case).
var reactionWords = map[string]string{"hives": "hives", "rash": "rash", "itching": "itching", "itch": "itching", "itchy": "itching",
	"swelling": "swelling", "anaphylaxis": "anaphylaxis", "race": "palpitations", "racing": "palpitations", "palpitations": "palpitations",
	"nausea": "nausea", "vomiting": "vomiting", "throat": "throat swelling", "breathing": "trouble breathing", "wheezing": "wheezing",
	"diarrhea": "diarrhea", "upset": "stomach upset", "headache": "headache", "dizzy": "dizziness"}

// allergiesIn reads allergies from a sentence: "allergic to X", "allergy to X", "X
// allergy", "no known (drug) allergies", and a "no" to a clinician's question about
// allergies.
func allergiesIn(s transcript.Sentence, prevQ *transcript.Sentence) (out []Allergy, none bool) {
	ts := s.Tokens
	if has(ts, "no known allergies") || has(ts, "no known drug allergies") || has(ts, "nkda") || has(ts, "no allergies") ||
		has(ts, "not allergic to anything") || has(ts, "no drug allergies") || has(ts, "no medication allergies") ||
		has(ts, "don't have any allergies") || has(ts, "no allergies to medications") {
		return nil, true
	}
	if prevQ != nil && (has(prevQ.Tokens, "allergies") || has(prevQ.Tokens, "allergic")) && s.Answer == "no" && s.Words() <= 6 {
		return nil, true
	}
	if s.Question {
		return nil, false
	}
	for i, t := range ts {
		var subjStart, subjEnd int
		switch {
		case (t.Norm == "allergic" || t.Norm == "allergy" || t.Norm == "allergies" || t.Norm == "reaction" || t.Norm == "reactions") &&
			i+1 < len(ts) && ts[i+1].Norm == "to":
			subjStart = i + 2
			if subjStart < len(ts) && (ts[subjStart].Norm == "the" || ts[subjStart].Norm == "a") {
				subjStart++
			}
			subjEnd = allergenEnd(ts, subjStart)
		case (t.Norm == "allergy" || t.Norm == "allergies") && i > 0 && !ts[i-1].Punct:
			subjEnd = i
			subjStart = allergenStart(ts, i)
		default:
			continue
		}
		if subjStart >= subjEnd || Negated(ts, i) {
			continue
		}
		name := transcript.JoinTokens(ts[subjStart:subjEnd])
		if name == "" || !knownAllergen(name) {
			continue
		}
		out = append(out, Allergy{Substance: name, Reaction: reactionIn(ts, subjEnd), Evidence: []transcript.Span{s.Span()}})
	}
	return out, false
}

// allergenEnd returns where the allergen after "allergic to" ends: the longest drug or
// listed substance, else up to three words.
func allergenEnd(ts []transcript.Token, i int) int {
	if i >= len(ts) {
		return i
	}
	if m, ok := Drugs().At(ts, i); ok {
		return m.End
	}
	for n := 3; n >= 1; n-- {
		if i+n <= len(ts) {
			cand := transcript.JoinTokens(ts[i : i+n])
			for _, a := range otherAllergens {
				if cand == a {
					return i + n
				}
			}
		}
	}
	return i
}

// allergenStart returns where the allergen before "allergy" starts ("penicillin allergy").
func allergenStart(ts []transcript.Token, i int) int {
	for k := max(0, i-3); k < i; k++ {
		if m, ok := Drugs().At(ts, k); ok && m.End == i {
			return k
		}
		cand := transcript.JoinTokens(ts[k:i])
		for _, a := range otherAllergens {
			if cand == a {
				return k
			}
		}
	}
	return i
}

func knownAllergen(name string) bool {
	if _, ok := LookupDrug(name); ok {
		return true
	}
	for _, a := range otherAllergens {
		if name == a {
			return true
		}
	}
	return false
}

// reactionIn finds the reaction said after the allergen.
func reactionIn(ts []transcript.Token, from int) string {
	tail := ts[from:]
	if !anyCue(tail, reactionCues) {
		return ""
	}
	for _, t := range tail {
		if r, ok := reactionWords[t.Norm]; ok {
			return r
		}
	}
	return ""
}

// negationCues negate what follows them in a clause.
var negationCues = map[string]bool{"no": true, "not": true, "denies": true, "denied": true, "deny": true, "without": true, "never": true,
	"none": true, "negative": true, "nor": true, "neither": true, "don't": true, "doesn't": true, "didn't": true, "haven't": true,
	"hasn't": true, "isn't": true, "aren't": true, "wasn't": true, "weren't": true, "can't": true, "cannot": true, "won't": true, "nothing": true}

// clauseBreaks end the reach of a negation ("no fever but a cough").
var clauseBreaks = map[string]bool{"but": true, "however": true, "although": true, "though": true, "except": true, "apart": true,
	"aside": true, "besides": true, "other": true, ";": true, ".": true, "?": true, "!": true, "which": true, "so": true, "because": true}

// positiveVerbs say that something is there when not negated themselves.
var positiveVerbs = map[string]bool{"have": true, "has": true, "had": true, "got": true, "having": true, "feel": true, "feels": true,
	"noticed": true, "notice": true, "get": true, "gets": true, "getting": true}

// Negated reports whether a negation cue stands before ts[i] in its clause (within
// eight tokens): "no", "not", "denies", "without", "never", a contraction in "n't"; a
// clause break ("but", a full stop) or a positive verb after the cue ("no, i have a
// stuffy nose") ends its reach.
func Negated(ts []transcript.Token, i int) bool {
	for k := i - 1; k >= 0 && k >= i-8; k-- {
		w := ts[k].Norm
		if clauseBreaks[w] {
			return false
		}
		// A positive verb after the cue starts a new clause: "no, i have a stuffy nose".
		if positiveVerbs[w] && k > 0 && !negationCues[ts[k-1].Norm] && !strings.HasSuffix(ts[k-1].Norm, "n't") && ts[k-1].Norm != "any" {
			return false
		}
		if negationCues[w] || strings.HasSuffix(w, "n't") {
			// "not only", "no longer" do not negate.
			if w == "not" && k+1 < len(ts) && ts[k+1].Norm == "only" || w == "no" && k+1 < len(ts) && ts[k+1].Norm == "longer" {
				continue
			}
			return true
		}
	}
	return false
}

func mergeAllergies(as []Allergy) []Allergy {
	var out []Allergy
	idx := map[string]int{}
	for _, a := range as {
		key := a.Substance
		if d, ok := LookupDrug(a.Substance); ok {
			key = d.Generic
		}
		if j, ok := idx[key]; ok {
			out[j].Evidence = appendSpans(out[j].Evidence, a.Evidence...)
			if out[j].Reaction == "" {
				out[j].Reaction = a.Reaction
			}
			continue
		}
		idx[key] = len(out)
		out = append(out, a)
	}
	return out
}
