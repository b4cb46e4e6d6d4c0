package patient

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldTable maps lower-case letters that compatibility decomposition leaves alone to
// the Latin letters a clerk types for them.
var foldTable = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d",
	'ł': "l", 'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŀ': "l",
}

// Fold returns the search form of a name: compatibility-decomposed (NFKD) with
// combining marks removed, lower case, special letters spelled out (foldTable),
// apostrophes dropped ("O'Brien" -> "obrien"), and every run of other non-letters
// (spaces, hyphens, commas, dots) turned into one space, trimmed. So "Núñez",
// "NUNEZ" and "nuñez" all fold to "nunez", and "Smith-Jones, Ann" to "smith jones ann".
func Fold(s string) string {
	folded, _ := fold(s)
	return folded
}

// fold is Fold that also reports whether s ended with a word separator.
func fold(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// combining mark: the accent of the previous letter
		case isApostrophe(r):
			// joins the parts of one name
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if pendingSpace && b.Len() > 0 {
				b.WriteByte(' ')
			}
			pendingSpace = false
			r = unicode.ToLower(r)
			if f, ok := foldTable[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteRune(r)
			}
		default:
			pendingSpace = true
		}
	}
	return b.String(), pendingSpace && b.Len() > 0
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019' || r == '\u02bc' || r == '`' || r == '\u00b4'
}

// NameKey is the folded search key of a patient's name: family name first, then given
// names, so that a prefix search for "nunez jo" finds José Núñez.
func NameKey(familyName, givenName string) string {
	return strings.TrimSpace(Fold(familyName) + " " + Fold(givenName))
}

// FoldPrefix folds a name prefix typed into a search box. A trailing separator is
// kept as one space, so that "nunez " finds "Núñez José" but not "Nunezova".
func FoldPrefix(s string) string {
	folded, trailing := fold(s)
	if trailing {
		return folded + " "
	}
	return folded
}

// prefixEnd returns the smallest string greater than every string that starts with
// prefix, for a range query prefix <= key < end (Firestore orders strings by their
// UTF-8 bytes, which is code point order). ok is false when no such bound exists (the
// prefix is empty or made only of U+10FFFF).
//
// This is exact, unlike the common prefix+"\uf8ff", which misses keys whose next
// character is above U+F8FF.
func prefixEnd(prefix string) (string, bool) {
	for prefix != "" {
		r, size := utf8.DecodeLastRuneInString(prefix)
		prefix = prefix[:len(prefix)-size]
		next := r + 1
		if next == 0xD800 {
			next = 0xE000 // skip the surrogates, which are not valid in UTF-8
		}
		if next <= unicode.MaxRune {
			return prefix + string(next), true
		}
	}
	return "", false
}

// NormalizeMRN returns the uniqueness key of an MRN: trimmed and upper case, so that
// "mrn-7" and "MRN-7" are the same record number.
func NormalizeMRN(mrn string) string { return strings.ToUpper(strings.TrimSpace(mrn)) }
