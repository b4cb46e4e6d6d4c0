package transcript

import "strings"

// Fillers are removed wherever they stand (lower case).
var fillers = map[string]bool{
	"um": true, "umm": true, "uh": true, "uhh": true, "uhm": true, "er": true, "erm": true, "ah": true, "hmm": true,
	"hm": true, "mm": true, "mhm": true, "mm-hmm": true, "uh-huh": true, "mmhmm": true, "oh": true,
}

// openers are discourse markers stripped from the start of a sentence (and "yes"/"no"
// when a comma follows them: "no, it started monday").
var openers = map[string]bool{
	"okay": true, "ok": true, "alright": true, "so": true, "well": true, "yeah": true, "yep": true, "now": true,
	"and": true, "but": true, "right": true, "great": true, "good": true, "perfect": true, "sure": true, "hey": true,
	"actually": true, "anyway": true, "also": true, "then": true, "because": true, "cause": true, "like": true, "just": true,
}

// tags end tag questions ("we'll start with that, okay?"): the sentence is a statement.
var tags = map[string]bool{"okay": true, "ok": true, "right": true, "alright": true, "yeah": true, "huh": true, "correct": true}

// questionStarts open a question when a sentence has no punctuation to say so.
var questionStarts = map[string]bool{
	"do": true, "does": true, "did": true, "are": true, "is": true, "was": true, "were": true, "have": true, "has": true,
	"had": true, "can": true, "could": true, "would": true, "will": true, "should": true, "how": true, "what": true,
	"when": true, "where": true, "why": true, "which": true, "who": true, "any": true, "anything": true,
	"what's": true, "how's": true, "where's": true, "who's": true,
}

// Clean removes what a note should not repeat from a sentence's tokens: fillers ("um",
// "uh"), discourse markers at its start ("okay", "so", "well"), "you know" and "i mean"
// used as fillers, "like" before a number ("for like four days"), hedges ("kind of"),
// repeated words and phrases ("i, i", "my, my vaccine"), false starts ("or-"), a tag
// question at its end (", okay?") and stray punctuation. question reports whether the
// sentence asks something: it ends with "?" (not a tag question) or, unpunctuated,
// starts with an interrogative.
func Clean(in []Token) (out []Token, question bool) {
	ts := make([]Token, 0, len(in))
	for i := 0; i < len(in); i++ {
		t := in[i]
		switch {
		case fillers[t.Norm]:
			continue
		case !t.Punct && i+1 < len(in) && in[i+1].Text == "-" && (i+2 >= len(in) || in[i+2].Start > in[i+1].End):
			// A false start: "or- well", "i was-".
			i++
			continue
		case t.Norm == "you" && i+1 < len(in) && in[i+1].Norm == "know" && fillerYouKnow(in, i):
			i++
			continue
		case t.Norm == "i" && i+2 < len(in) && in[i+1].Norm == "mean" && in[i+2].Text == ",":
			i += 2
			continue
		case t.Norm == "like" && i+1 < len(in) && (isNumber(in[i+1].Norm) || in[i+1].Text == "," || i > 0 && in[i-1].Text == ","):
			continue
		case (t.Norm == "kind" || t.Norm == "sort") && i+1 < len(in) && in[i+1].Norm == "of" && !(i > 0 && determiners[in[i-1].Norm]):
			i++
			continue
		}
		ts = append(ts, t)
	}
	ts = collapseRepeats(ts)
	question, ts = endQuestion(ts)
	ts = stripOpeners(ts)
	ts = tidyPunctuation(ts)
	if !question {
		question = startsQuestion(ts)
	}
	return ts, question
}

var determiners = map[string]bool{"what": true, "which": true, "this": true, "that": true, "the": true, "a": true, "any": true,
	"some": true, "same": true, "these": true, "those": true, "one": true}

// fillerYouKnow reports whether "you know" at in[i] is a filler: not after an auxiliary
// or "if"/"as"/"to" ("do you know", "as you know"), not before "what"/"that"/"if"/"how".
func fillerYouKnow(in []Token, i int) bool {
	if i > 0 {
		switch in[i-1].Norm {
		case "do", "did", "does", "don't", "didn't", "would", "if", "as", "to", "let", "will", "can":
			return false
		}
	}
	if i+2 < len(in) {
		switch in[i+2].Norm {
		case "what", "that", "if", "how", "why", "when", "where", "the", "about", "him", "her", "them":
			return false
		}
	}
	return true
}

// collapseRepeats drops the second copy of a word or phrase of up to three words said
// twice in a row ("i, i", "the the", "have, have gotten", "four four days") and a word
// restarted as its contraction ("i, i've").
func collapseRepeats(ts []Token) []Token {
	for n := 3; n >= 1; n-- {
		out := ts[:0:0]
		for i := 0; i < len(ts); i++ {
			if j, ok := repeatAt(ts, i, n); ok {
				out = append(out, ts[i:i+n]...) // keep the first copy, skip the comma and the second
				i = j + n - 1
				continue
			}
			// "i, i've": a word restarted as its contraction.
			if n == 1 && i+2 < len(ts) && !ts[i].Punct && ts[i+1].Text == "," && strings.HasPrefix(ts[i+2].Norm, ts[i].Norm+"'") {
				i++
				continue
			}
			out = append(out, ts[i])
		}
		ts = out
	}
	return ts
}

// repeatAt reports whether the n words at ts[i:] are said again right after (a comma
// may stand between); next is where the second copy starts.
func repeatAt(ts []Token, i, n int) (next int, ok bool) {
	if i+n > len(ts) {
		return 0, false
	}
	for k := 0; k < n; k++ {
		if ts[i+k].Punct {
			return 0, false
		}
	}
	j := i + n
	if j < len(ts) && ts[j].Text == "," {
		j++
	}
	if j+n > len(ts) {
		return 0, false
	}
	for k := 0; k < n; k++ {
		if ts[j+k].Punct || ts[j+k].Norm != ts[i+k].Norm {
			return 0, false
		}
	}
	if n == 1 && (keepDoubled[ts[i].Norm] || isDigits(ts[i].Norm)) {
		return 0, false // "that that", "had had" and digits ("20 20") may be meant
	}
	return j, true
}

var keepDoubled = map[string]bool{"that": true, "had": true, "bye": true, "no": true, "very": true, "really": true}

// endQuestion removes a tag question (", okay?") and reports whether the sentence still
// ends with a question mark.
func endQuestion(ts []Token) (bool, []Token) {
	n := len(ts)
	if n == 0 || ts[n-1].Text != "?" {
		return false, ts
	}
	words := 0
	for _, t := range ts {
		if !t.Punct {
			words++
		}
	}
	if n >= 2 && tags[ts[n-2].Norm] && words > 3 {
		k := n - 2
		for k > 0 && ts[k-1].Punct {
			k--
		}
		ts = append(ts[:k:k], Token{Text: ".", Norm: ".", Start: ts[n-1].Start, End: ts[n-1].End, Punct: true})
		return false, ts
	}
	return true, ts
}

// stripOpeners removes discourse markers (and a comma-followed "yes"/"no") from the
// start of a sentence.
func stripOpeners(ts []Token) []Token {
	for len(ts) > 0 {
		t := ts[0]
		switch {
		case t.Punct && t.Text != "(" && t.Text != "\"":
			ts = ts[1:]
		case t.Norm == "all" && len(ts) > 1 && ts[1].Norm == "right":
			ts = ts[2:]
		case openers[t.Norm] && len(ts) > 2:
			ts = ts[1:]
		case (t.Norm == "yes" || t.Norm == "no") && len(ts) > 2 && ts[1].Text == ",":
			ts = ts[2:]
		default:
			return ts
		}
	}
	return ts
}

// tidyPunctuation drops commas that start or end a sentence or repeat, and commas
// before the final mark.
func tidyPunctuation(ts []Token) []Token {
	out := ts[:0:0]
	for i, t := range ts {
		if t.Text == "," {
			if len(out) == 0 || out[len(out)-1].Punct || i+1 == len(ts) || ts[i+1].Punct {
				continue
			}
		}
		if t.Punct && (t.Text == "." || t.Text == "?" || t.Text == "!") && len(out) > 0 && out[len(out)-1].Text == "," {
			out = out[:len(out)-1]
		}
		out = append(out, t)
	}
	return out
}

func startsQuestion(ts []Token) bool {
	if len(ts) < 2 || ts[len(ts)-1].Text == "." || ts[len(ts)-1].Text == "!" {
		return false
	}
	if !questionStarts[ts[0].Norm] {
		return false
	}
	switch ts[0].Norm {
	case "any", "anything":
		return len(ts) <= 12 // "any chest pain", not a fragment "any signs of arthritis that i would've been suspecting i would like you to ..."
	case "what", "how", "when", "where", "why", "which", "who":
		// "how long", "what do", "when did", but not "when i was a kid".
		return whFollowers[ts[1].Norm] || questionStarts[ts[1].Norm]
	case "what's", "how's", "where's", "who's":
		return true
	}
	switch ts[1].Norm {
	case "you", "it", "he", "she", "they", "your", "there", "anyone", "anybody", "that", "this", "the":
		return true
	}
	return false
}

// whFollowers make a question of a wh-word before them ("how long", "what kind").
var whFollowers = map[string]bool{"long": true, "much": true, "many": true, "often": true, "old": true, "far": true,
	"bad": true, "about": true, "kind": true, "type": true, "sort": true, "else": true, "time": true, "brings": true,
	"happened": true, "medications": true, "medicine": true, "makes": true, "helps": true, "are": true, "'s": true}

// yes and no words of a short reply.
var (
	yesWords = map[string]bool{"yes": true, "yeah": true, "yep": true, "yup": true, "mm-hmm": true, "uh-huh": true, "mhm": true,
		"correct": true, "right": true, "sure": true, "definitely": true, "absolutely": true}
	noWords = map[string]bool{"no": true, "nope": true, "nah": true, "uh-uh": true, "never": true, "none": true}
)

// shortAnswer classifies a reply that starts with yes/no words: "yes", "no" or "" (not
// a yes/no reply). "no, not that i've noticed" is "no"; "yes, i have" is "yes".
func shortAnswer(ts []Token) string {
	for _, t := range ts {
		if t.Punct || fillers[t.Norm] && !yesWords[t.Norm] {
			continue
		}
		switch {
		case yesWords[t.Norm]:
			return "yes"
		case noWords[t.Norm]:
			return "no"
		}
		return ""
	}
	return ""
}

// numberWords are spelled numbers.
var numberWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a": -1, "half": -1, "couple": -1,
}

func isNumberWord(w string) bool { v, ok := numberWords[w]; return ok && v >= 0 }

// isNumber reports whether w is written with digits or spelled.
func isNumber(w string) bool {
	if isNumberWord(w) {
		return true
	}
	return w != "" && strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) != 0
}

func isDigits(w string) bool {
	return w != "" && strings.IndexFunc(w, func(r rune) bool { return r < '0' || r > '9' }) < 0
}
