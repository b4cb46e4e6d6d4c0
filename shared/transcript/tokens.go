package transcript

import (
	"strings"
	"unicode"
)

// Token is a word, number or punctuation mark of a segment, with where it stands in the
// segment's text (code points, End exclusive).
type Token struct {
	// Text is the token as the cleaned sentence writes it (contractions joined: "don't").
	Text string
	// Norm is Text in lower case, for matching.
	Norm       string
	Start, End int
	// Punct is true for punctuation marks.
	Punct bool
}

// Tokenize splits text into tokens. Words keep inner apostrophes and hyphens ("don't",
// "x-ray"), numbers keep decimal points, slashes and colons between digits ("38.4",
// "120/80", "3/6", "10:30"); every other non-space character is a punctuation token.
// Split contractions as some transcribers write them ("do n't", "i 'm") are joined.
func Tokenize(text string) []Token {
	rs := []rune(text)
	var out []Token
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case isWordRune(r):
			j := i + 1
			for j < len(rs) {
				c := rs[j]
				if isWordRune(c) {
					j++
					continue
				}
				// Inner apostrophe or hyphen between letters/digits, decimal point, slash or
				// colon between digits.
				if j+1 < len(rs) && isWordRune(rs[j+1]) {
					prev, next := rs[j-1], rs[j+1]
					if c == '\'' || c == '\u2019' || c == '-' {
						j++
						continue
					}
					if (c == '.' || c == '/' || c == ':' || c == ',') && unicode.IsDigit(prev) && unicode.IsDigit(next) {
						if c == ',' && !thousands(rs, j) {
							break
						}
						j++
						continue
					}
				}
				break
			}
			out = append(out, word(rs, i, j))
			i = j
		default:
			out = append(out, Token{Text: string(r), Norm: string(r), Start: i, End: i + 1, Punct: true})
			i++
		}
	}
	return joinSpoken(joinContractions(rs, out))
}

// spokenForms are colloquial forms written as two tokens ("gon na") or one ("gonna"),
// and what a note writes instead.
var spokenForms = map[string]string{
	"gon na": "going to", "wan na": "want to", "got ta": "got to", "gonna": "going to", "wanna": "want to", "gotta": "got to",
	"kinda": "kind of", "sorta": "sort of", "lemme": "let me", "cuz": "because", "'cause": "because",
}

// joinSpoken replaces colloquial forms, keeping the span of what was said.
func joinSpoken(ts []Token) []Token {
	out := ts[:0:0]
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		if t.Punct {
			out = append(out, t)
			continue
		}
		if i+1 < len(ts) && !ts[i+1].Punct {
			if v, ok := spokenForms[t.Norm+" "+ts[i+1].Norm]; ok {
				out = append(out, Token{Text: v, Norm: v, Start: t.Start, End: ts[i+1].End})
				i++
				continue
			}
		}
		if v, ok := spokenForms[t.Norm]; ok {
			t.Text, t.Norm = v, v
		}
		out = append(out, t)
	}
	return out
}

// thousands reports whether the comma at j separates thousands ("1,000"): exactly three
// digits follow it.
func thousands(rs []rune, j int) bool {
	n := 0
	for k := j + 1; k < len(rs) && unicode.IsDigit(rs[k]); k++ {
		n++
	}
	return n == 3
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func word(rs []rune, i, j int) Token {
	t := strings.ReplaceAll(string(rs[i:j]), "\u2019", "'")
	t = strings.ReplaceAll(t, ",", "") // 1,000 -> 1000
	return Token{Text: t, Norm: strings.ToLower(t), Start: i, End: j}
}

// contraction tails written as separate tokens ("do n't", "i 'm", "it 's").
var contractionTails = map[string]bool{"n't": true, "'m": true, "'s": true, "'re": true, "'ve": true, "'ll": true, "'d": true}

// joinContractions joins "do" "n't" into "don't" and "i" "'" "m" into "i'm".
func joinContractions(rs []rune, ts []Token) []Token {
	out := ts[:0:0]
	for i := 0; i < len(ts); i++ {
		t := ts[i]
		// "n't" is tokenised as word "n" apostrophe "t" only when spaced ("do n't").
		if len(out) > 0 && !out[len(out)-1].Punct {
			if tail, n := tailAt(ts, i); tail != "" {
				prev := &out[len(out)-1]
				prev.Text += tail
				prev.Norm = strings.ToLower(prev.Text)
				prev.End = ts[i+n-1].End
				i += n - 1
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// tailAt recognises a contraction tail starting at ts[i]: the word "n't" (as Tokenize
// keeps it when written "n't"), or an apostrophe followed by m/s/re/ve/ll/d.
func tailAt(ts []Token, i int) (string, int) {
	t := ts[i]
	if !t.Punct && contractionTails[t.Norm] {
		return t.Norm, 1
	}
	if t.Punct && (t.Text == "'" || t.Text == "\u2019") && i+1 < len(ts) && !ts[i+1].Punct && ts[i+1].Start == t.End {
		if tail := "'" + ts[i+1].Norm; contractionTails[tail] {
			return tail, 2
		}
	}
	return "", 0
}
