package transcript

import (
	"strings"
)

// Sentence is one sentence of a segment: where it stands in the segment's text, its
// tokens with fillers and false starts removed, and whether it asks something.
type Sentence struct {
	// Index numbers the transcript's sentences from 0 in order.
	Index     int
	SegmentID string
	Role      Role
	// Start and End delimit the sentence in the segment's text (code points, End
	// exclusive); Text is that part of the segment, as said.
	Start, End int
	Text       string
	// Tokens are the sentence's tokens after cleaning (see Clean).
	Tokens []Token
	// Question is true for a question (not a tag question such as "..., okay?").
	Question bool
	// Answer is what a short reply says: "yes", "no" or "" (not a short reply).
	Answer string
}

// Clean is the cleaned sentence as text: tokens joined with single spaces, punctuation
// attached to the word before it.
func (s Sentence) Clean() string { return JoinTokens(s.Tokens) }

// Words returns the number of word tokens.
func (s Sentence) Words() int {
	n := 0
	for _, t := range s.Tokens {
		if !t.Punct {
			n++
		}
	}
	return n
}

// JoinTokens writes tokens as text: a space before every word, none before punctuation
// (none after an opening bracket or quote either).
func JoinTokens(ts []Token) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 && !(t.Punct && !opening(t.Text)) && !(ts[i-1].Punct && opening(ts[i-1].Text)) {
			b.WriteByte(' ')
		}
		b.WriteString(t.Text)
	}
	return b.String()
}

func opening(p string) bool { return p == "(" || p == "[" || p == "\"" || p == "\u201c" }

// Abbreviations whose period does not end a sentence (lower case, without the period).
var abbreviations = map[string]bool{
	"dr": true, "mr": true, "mrs": true, "ms": true, "st": true, "vs": true, "prof": true, "approx": true,
	"etc": true, "jr": true, "sr": true, "no": false, "fig": true, "mt": true, "e.g": true, "i.e": true,
}

// Sentences splits every segment of t into sentences. A sentence ends at ".", "!" or
// "?" unless the period belongs to an abbreviation ("dr.", "mr .", "e.g.") or an
// initial; speech transcribed without punctuation is split before discourse markers
// and question openings once a stretch runs over MaxUnpunctuatedWords words.
func (t Transcript) Sentences() []Sentence {
	var out []Sentence
	for _, seg := range t.Segments {
		for _, s := range SegmentSentences(seg) {
			s.Index = len(out)
			out = append(out, s)
		}
	}
	return out
}

// MaxUnpunctuatedWords is how long a stretch without sentence punctuation may run before
// it is split at discourse markers ("okay", "so", "now", ...) and question openings.
const MaxUnpunctuatedWords = 18

// SegmentSentences splits one segment (see Transcript.Sentences). Index is left 0.
func SegmentSentences(seg Segment) []Sentence {
	rs := []rune(seg.Text)
	toks := Tokenize(seg.Text)
	// Speech transcribed without sentence punctuation is split at discourse markers; a
	// punctuated segment keeps its long sentences whole.
	punctuated := false
	for _, tk := range toks {
		if tk.Punct && (tk.Text == "." || tk.Text == "?" || tk.Text == "!") {
			punctuated = true
			break
		}
	}
	var out []Sentence
	start := 0
	emit := func(end int) {
		if end <= start {
			return
		}
		pieces := [][]Token{toks[start:end]}
		if !punctuated {
			pieces = splitUnpunctuated(toks[start:end])
		}
		for _, piece := range pieces {
			if s, ok := newSentence(seg, rs, piece); ok {
				out = append(out, s)
			}
		}
		start = end
	}
	for i, tk := range toks {
		if !tk.Punct || !(tk.Text == "." || tk.Text == "!" || tk.Text == "?") {
			continue
		}
		if tk.Text == "." && i > 0 && !toks[i-1].Punct && keepsPeriod(toks, i) {
			continue
		}
		// Take closing quotes and brackets with the sentence.
		end := i + 1
		for end < len(toks) && toks[end].Punct && (toks[end].Text == "\"" || toks[end].Text == ")" || toks[end].Text == "\u201d") {
			end++
		}
		emit(end)
	}
	emit(len(toks))
	return out
}

// keepsPeriod reports whether the period at toks[i] is part of an abbreviation or an
// initial rather than the end of a sentence.
func keepsPeriod(toks []Token, i int) bool {
	w := toks[i-1].Norm
	if abbreviations[w] {
		return true
	}
	// A spoken decimal point: "a hundred . four".
	if isNumber(w) && i+1 < len(toks) && isNumber(toks[i+1].Norm) {
		return true
	}
	// "e.g." / "i.e.": letter . letter .
	if len(w) == 1 && i+1 < len(toks) && !toks[i+1].Punct && len([]rune(toks[i+1].Norm)) == 1 && i+2 < len(toks) && toks[i+2].Text == "." {
		return true
	}
	if i >= 2 && toks[i-2].Text == "." && len(w) == 1 && i >= 3 && len([]rune(toks[i-3].Norm)) == 1 {
		return true
	}
	// An initial: a single capital letter ("J. Smith"); "I." and "a." end sentences.
	if len(w) == 1 && w != "i" && w != "a" && toks[i-1].Text != w && i+1 < len(toks) && !toks[i+1].Punct {
		return true
	}
	return false
}

// splitMarkers start a new sentence in unpunctuated speech; questionOpeners too when
// they open a question.
var (
	splitMarkers    = map[string]bool{"okay": true, "ok": true, "alright": true, "so": true, "now": true, "well": true, "um": true, "uh": true}
	questionOpeners = map[string]bool{"do": true, "does": true, "did": true, "are": true, "is": true, "have": true, "has": true,
		"can": true, "could": true, "would": true, "how": true, "what": true, "when": true, "where": true, "why": true, "any": true}
)

// splitUnpunctuated splits a run of tokens with no sentence punctuation that is longer
// than MaxUnpunctuatedWords words before discourse markers ("okay", "so", "now", ...)
// and question openings ("do you", "how", ...), leaving pieces of at least four words.
func splitUnpunctuated(ts []Token) [][]Token {
	words := 0
	for _, t := range ts {
		if !t.Punct {
			words++
		}
	}
	if words <= MaxUnpunctuatedWords {
		return [][]Token{ts}
	}
	var out [][]Token
	start, since := 0, 0
	for i, t := range ts {
		if t.Punct {
			continue
		}
		if since >= 4 && remainingWords(ts[i:]) >= 3 && (splitMarkers[t.Norm] || opensQuestion(ts, i) || opensExam(ts, i) ||
			t.Norm == "and" && i+1 < len(ts) && (ts[i+1].Norm == "then" || opensExam(ts, i+1))) {
			out = append(out, ts[start:i])
			start, since = i, 0
		}
		since++
	}
	return append(out, ts[start:])
}

func remainingWords(ts []Token) int {
	n := 0
	for _, t := range ts {
		if !t.Punct {
			n++
		}
	}
	return n
}

// opensQuestion reports whether ts[i] opens a question: an interrogative word, or an
// auxiliary followed by "you"/"it"/"he"/"she"/"they"/"your".
func opensQuestion(ts []Token, i int) bool {
	w := ts[i].Norm
	if !questionOpeners[w] {
		return false
	}
	if i > 0 && (subjects[ts[i-1].Norm] || bindsNext[ts[i-1].Norm]) { // "we have you on", "going to have you"
		return false
	}
	switch w {
	case "how", "what", "when", "where", "why":
		// "how long", "what do you", but not "what we call".
		return i+1 < len(ts) && (whFollowers[ts[i+1].Norm] || questionStarts[ts[i+1].Norm])
	case "any":
		return false // "stop taking any of the nonsteroidals": an object as often as a question
	}
	if i+1 >= len(ts) {
		return false
	}
	switch ts[i+1].Norm {
	case "you", "it", "he", "she", "they", "your", "there", "anyone", "anybody":
		return true
	}
	return false
}

// bindsNext are words after which an auxiliary continues the clause ("going to have
// you continue") rather than opening a question.
var bindsNext = map[string]bool{"to": true, "will": true, "would": true, "can": true, "could": true, "should": true, "might": true,
	"must": true, "let": true, "make": true, "help": true, "that": true, "which": true, "who": true,
	"going to": true, "want to": true, "got to": true, "going": true}

// subjects are pronouns that make the next word a verb, not a question opening.
var subjects = map[string]bool{"i": true, "we": true, "you": true, "they": true, "he": true, "she": true, "it": true}

// opensExam reports whether ts[i] opens a dictated examination finding: "on (your|the)
// ... exam(ination)" within five words.
func opensExam(ts []Token, i int) bool {
	if ts[i].Norm != "on" || i+1 >= len(ts) || ts[i+1].Norm != "your" && ts[i+1].Norm != "the" && ts[i+1].Norm != "his" && ts[i+1].Norm != "her" {
		return false
	}
	for k := i + 2; k < len(ts) && k <= i+5; k++ {
		if ts[k].Norm == "exam" || ts[k].Norm == "examination" || ts[k].Norm == "auscultation" || ts[k].Norm == "palpation" {
			return true
		}
	}
	return false
}

// newSentence builds a sentence from tokens of seg; ok is false when nothing but
// fillers and punctuation remains.
func newSentence(seg Segment, rs []rune, ts []Token) (Sentence, bool) {
	if len(ts) == 0 {
		return Sentence{}, false
	}
	s := Sentence{SegmentID: seg.ID, Role: seg.Role, Start: ts[0].Start, End: ts[len(ts)-1].End}
	s.Text = string(rs[s.Start:s.End])
	s.Answer = shortAnswer(ts)
	clean, question := Clean(ts)
	s.Tokens, s.Question = clean, question
	if s.Words() == 0 && s.Answer == "" {
		return Sentence{}, false
	}
	return s, true
}

// Span is a stretch of a segment's text cited as evidence: code points Start..End
// (exclusive) of the segment's text, and Quote, the text there.
type Span struct {
	SegmentID string `firestore:"segmentId" json:"segmentId"`
	Start     int    `firestore:"start" json:"start"`
	End       int    `firestore:"end" json:"end"`
	Quote     string `firestore:"quote" json:"quote"`
}

// Span returns the whole sentence as a span.
func (s Sentence) Span() Span {
	return Span{SegmentID: s.SegmentID, Start: s.Start, End: s.End, Quote: s.Text}
}

// TokenSpan returns the span of the sentence's tokens i..j-1 (j > i). The quote is
// taken from the sentence's text, so it is what was said.
func (s Sentence) TokenSpan(i, j int) Span {
	start, end := s.Tokens[i].Start, s.Tokens[j-1].End
	rs := []rune(s.Text)
	return Span{SegmentID: s.SegmentID, Start: start, End: end, Quote: string(rs[start-s.Start : end-s.Start])}
}

// CheckSpan reports whether sp lies inside segment seg and quotes it exactly.
func CheckSpan(seg Segment, sp Span) bool {
	rs := []rune(seg.Text)
	return sp.SegmentID == seg.ID && sp.Start >= 0 && sp.Start < sp.End && sp.End <= len(rs) && string(rs[sp.Start:sp.End]) == sp.Quote
}
