package notedraft

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/medi-os/medi/shared/transcript"
)

// Patient is what a drafter knows of the patient from the patient record: the sex, for
// the pronouns of the deterministic note, and the identifiers the model path replaces
// with placeholders before any text leaves for the model (and restores after).
type Patient struct {
	// Sex is "female", "male" or "" (unknown: the note says "the patient").
	Sex string
	// Identifiers; empty when unknown.
	GivenName, FamilyName, MRN, BirthDate, Phone, Email string
	// Address lines (street, city, postal code).
	Address []string
}

// pronouns of a patient: subject, object, possessive, reflexive.
type pronouns struct{ subj, obj, poss, refl string }

func (p Patient) pronouns() pronouns {
	switch strings.ToLower(p.Sex) {
	case "female", "f", "woman":
		return pronouns{"she", "her", "her", "herself"}
	case "male", "m", "man":
		return pronouns{"he", "him", "his", "himself"}
	}
	return pronouns{"the patient", "the patient", "the patient's", "themselves"}
}

// irregular third-person forms.
var thirdPerson = map[string]string{"have": "has", "do": "does", "go": "goes", "am": "is", "are": "is", "be": "is", "was": "was",
	"were": "was", "don't": "does not", "haven't": "has not", "aren't": "is not", "wasn't": "was not", "weren't": "was not",
	"didn't": "did not", "can't": "cannot", "won't": "will not", "couldn't": "could not", "wouldn't": "would not",
	"shouldn't": "should not", "isn't": "is not", "hasn't": "has not", "doesn't": "does not", "ain't": "is not"}

// unchangedVerbs keep their form after a third-person subject.
var unchangedVerbs = map[string]bool{"can": true, "could": true, "will": true, "would": true, "should": true, "may": true,
	"might": true, "must": true, "did": true, "had": true, "also": true, "just": true, "still": true, "never": true, "really": true,
	"always": true, "usually": true, "only": true, "already": true, "actually": true, "definitely": true, "probably": true,
	"not": true, "too": true, "then": true, "and": true, "or": true, "but": true, "to": true, "sometimes": true,
	"often": true, "mostly": true, "even": true, "recently": true, "kind": true, "sort": true, "pretty": true, "so": true, "very": true}

// irregularPast are past forms that stay after any subject ("I went" -> "he went").
var irregularPast = map[string]bool{"went": true, "felt": true, "took": true, "had": true, "did": true, "was": true, "got": true,
	"saw": true, "came": true, "made": true, "said": true, "told": true, "thought": true, "knew": true, "gave": true, "found": true,
	"left": true, "kept": true, "ran": true, "sat": true, "fell": true, "broke": true, "hurt": true, "put": true, "quit": true,
	"slept": true, "woke": true, "ate": true, "drank": true, "began": true, "lost": true, "bought": true, "brought": true,
	"caught": true, "heard": true, "held": true, "hit": true, "let": true, "meant": true, "met": true, "paid": true, "read": true,
	"rode": true, "sent": true, "spent": true, "stood": true, "swam": true, "threw": true, "tore": true, "understood": true,
	"wore": true, "wrote": true, "drove": true, "flew": true, "forgot": true, "got to": true, "used to": true, "tried": true,
	"been": true, "gone": true, "done": true, "seen": true, "taken": true, "given": true, "become": true, "became": true}

// conjugate writes verb after a third-person singular subject ("have" -> "has", "feel"
// -> "feels"); adverbs, modals and past forms stay.
func conjugate(verb string) string {
	if v, ok := thirdPerson[verb]; ok {
		return v
	}
	if unchangedVerbs[verb] || irregularPast[verb] || strings.HasSuffix(verb, "ed") || strings.HasSuffix(verb, "ly") || strings.HasSuffix(verb, "ing") ||
		strings.HasSuffix(verb, "n't") || !isWord(verb) {
		return verb
	}
	switch {
	case strings.HasSuffix(verb, "s") || strings.HasSuffix(verb, "sh") || strings.HasSuffix(verb, "ch") || strings.HasSuffix(verb, "x") || strings.HasSuffix(verb, "o"):
		return verb + "es"
	case strings.HasSuffix(verb, "y") && len(verb) > 2 && !strings.ContainsAny(verb[len(verb)-2:len(verb)-1], "aeiou"):
		return verb[:len(verb)-1] + "ies"
	}
	return verb + "s"
}

func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}

// firstPersonSubjects are the patient's "I" forms and what they become: the subject and
// the verb that follows it ("" when the next word is the verb).
var firstPersonSubjects = map[string][2]string{
	"i": {"", ""}, "i'm": {"", "is"}, "i've": {"", "has"}, "i'll": {"", "will"}, "i'd": {"", "would"},
}

var secondPersonSubjects = map[string][2]string{
	"you": {"", ""}, "you're": {"", "is"}, "you've": {"", "has"}, "you'll": {"", "will"}, "you'd": {"", "would"},
}

// subjectBefore are words after which "you" is a subject ("and you have"); after any
// other word it is an object ("start you on").
var subjectBefore = map[string]bool{"and": true, "but": true, "so": true, "that": true, "if": true, "when": true, "because": true,
	"since": true, "or": true, "then": true, ",": true, "think": true, "know": true, "mean": true, "until": true, "unless": true,
	"before": true, "after": true, "while": true, "once": true, "where": true, "now": true, "also": true, "said": true,
	"guess": true, "okay": true, "well": true, "like": true, "as": true, "though": true, "although": true}

// clinicianIntents are how clinicians announce what they will do, and what the note writes.
var clinicianIntents = []struct{ said, write string }{
	{"i'm going to go ahead and", "we will"}, {"we're going to go ahead and", "we will"}, {"i am going to go ahead and", "we will"},
	{"i'm going to have you", "she will"}, {"i'm going to", "we will"}, {"i am going to", "we will"}, {"we're going to", "we will"},
	{"we are going to", "we will"}, {"i'll go ahead and", "we will"}, {"we'll go ahead and", "we will"}, {"i'd like to", "we will"},
	{"i want to", "we will"}, {"i would like to", "we will"}, {"let's go ahead and", "we will"}, {"let's", "we will"}, {"i'll", "we will"}, {"we'll", "we will"},
	{"i will", "we will"}, {"i want you to", "she should"}, {"i'd like you to", "she should"}, {"i need you to", "she should"},
	{"you need to", "she needs to"}, {"you should", "she should"}, {"make sure you", "she should"}, {"you can", "she can"},
	{"go ahead and", ""},
}

// thirdPersonTokens rewrites a sentence's tokens in the third person: the patient's "I",
// "my", "me" and, in a clinician's sentence, "you", "your" become the patient's pronouns
// with verbs agreeing; a clinician's "i'm going to" becomes "we will".
func thirdPersonTokens(s transcript.Sentence, p Patient) []string {
	pr := p.pronouns()
	words := make([]string, 0, len(s.Tokens))
	for _, t := range s.Tokens {
		words = append(words, strings.Fields(t.Text)...) // "going to" is two words
	}
	lower := make([]string, len(words))
	for i, w := range words {
		lower[i] = strings.ToLower(w)
	}
	var out []string
	subjects := firstPersonSubjects
	possessive, object, reflexive := map[string]bool{"my": true}, map[string]bool{"me": true}, map[string]bool{"myself": true}
	if s.Role == transcript.RoleClinician {
		subjects = secondPersonSubjects
		possessive, object, reflexive = map[string]bool{"your": true}, map[string]bool{}, map[string]bool{"yourself": true}
	}
	for i := 0; i < len(words); i++ {
		w := lower[i]
		if s.Role == transcript.RoleClinician {
			if n, write := intentAt(lower, i); n > 0 {
				if write != "" {
					out = append(out, strings.Fields(strings.ReplaceAll(write, "she", pr.subj))...)
				}
				i += n - 1
				continue
			}
		}
		if sub, ok := subjects[w]; ok && (w != "you" || i == 0 || subjectBefore[lower[i-1]]) {
			out = append(out, strings.Fields(pr.subj)...)
			if sub[1] != "" {
				out = append(out, sub[1])
				continue
			}
			// The verb after "I"/"you" agrees with the new subject.
			if i+1 < len(words) && !isPunct(words[i+1]) {
				i++
				out = append(out, conjugate(lower[i]))
			}
			continue
		}
		switch {
		case s.Role == transcript.RoleClinician && (w == "i" || strings.HasPrefix(w, "i'")):
			out = append(out, "I"+words[i][1:]) // the clinician writes "I"
		case possessive[w]:
			out = append(out, strings.Fields(pr.poss)...)
		case reflexive[w]:
			out = append(out, pr.refl)
		case object[w] || s.Role == transcript.RoleClinician && w == "you":
			out = append(out, strings.Fields(pr.obj)...)
		case w == "mine" && s.Role != transcript.RoleClinician:
			out = append(out, strings.Fields(pr.poss)...)
		default:
			out = append(out, words[i])
		}
	}
	return out
}

func intentAt(lower []string, i int) (int, string) {
	for _, c := range clinicianIntents {
		ws := strings.Fields(c.said)
		if i+len(ws) > len(lower) {
			continue
		}
		ok := true
		for k, w := range ws {
			if lower[i+k] != w {
				ok = false
				break
			}
		}
		if ok {
			return len(ws), c.write
		}
	}
	return 0, ""
}

func isPunct(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// sentenceText joins words into a sentence: capitalised, punctuation attached, ending
// with a period (a question mark is never written: the note states).
func sentenceText(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 && !(isPunct(w) && w != "(" && w != "\"") && words[i-1] != "(" {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	s := strings.TrimSpace(b.String())
	s = strings.TrimRight(s, " ,;:-?")
	if s == "" {
		return ""
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	if strings.HasSuffix(s, "!") {
		s = strings.TrimSuffix(s, "!") + "."
	}
	return capitalize(s)
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
