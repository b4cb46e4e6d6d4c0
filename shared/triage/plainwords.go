package triage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// Ordinary English words are written on purpose: the reader keeps them as written instead of
// correcting them into a vocabulary word one letter away ("smell" is not "swell", "worse"
// is not "worst", "peptic" is not "septic"). data/plainwords.txt lists the words of an English
// dictionary the corrector would otherwise change into a word of another meaning; it is
// derived by PlainWords and reproduced bit for bit by scripts/cmd/triagewords.

const plainWordsFile = "data/plainwords.txt"

// inflections are the pairs of word endings that make two words one word inflected or derived
// ("anemic" and "anemia", "bruised" and "bruise", "fingers" and "finger", "psychoses" and
// "psychosis"): a dictionary word one edit from a vocabulary spelling by such an ending is
// still corrected, since it reads as the same word.
var inflections = [...][2]string{{"", "s"}, {"", "d"}, {"", "y"}, {"", "c"}, {"", "e"}, {"c", "a"}, {"c", "s"}, {"es", "is"}}

// isInflection reports whether a and b differ, after their common beginning, by a pair of
// endings of inflections.
func isInflection(a, b string) bool {
	k := 0
	for k < len(a) && k < len(b) && a[k] == b[k] {
		k++
	}
	ea, eb := a[k:], b[k:]
	for _, p := range inflections {
		if ea == p[0] && eb == p[1] || ea == p[1] && eb == p[0] {
			return true
		}
	}
	return false
}

// PlainWords returns, sorted, the words of dict (one per line, as in /usr/share/dict) that the
// reader would correct into a vocabulary word of another meaning: lowercase ASCII words of at
// least minTypoLen letters that the vocabulary and lexicon do not know, within one edit of
// exactly one vocabulary word, and not an inflection of it. Proper nouns (capitalised) and
// words with an apostrophe are left out.
func PlainWords(dict io.Reader) ([]string, error) {
	v, err := loadWords(dataFiles) // without the list it derives
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(dict)
	for sc.Scan() {
		w := sc.Text()
		if len(w) < minTypoLen || !isVocabularyWord(w) || v.isKnown(w) {
			continue
		}
		id, inflected := uint16(0), false
		v.eachCorrection([]byte(w), func(si uint16) {
			sp := v.spellings[si]
			switch {
			case id == 0:
				id = sp.id
			case id != sp.id:
				id = ambiguousWord
			}
			inflected = inflected || isInflection(w, sp.text)
		})
		if id != 0 && id != ambiguousWord && !inflected {
			out = append(out, w)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// isKnown reports whether the reader reads w without correcting it: a spelling of the
// vocabulary (or its plural), an abbreviation or a stop word.
func (v *vocabulary) isKnown(w string) bool {
	if _, ok := v.known([]byte(w)); ok {
		return true
	}
	_, abbr := v.abbr[w]
	return abbr || v.stop[w]
}

// loadPlainWords reads data/plainwords.txt: one word per line in increasing order, '#'
// starting a comment line. A word the vocabulary now knows means the list is out of date.
func (v *vocabulary) loadPlainWords(fsys fs.FS) error {
	data, err := fs.ReadFile(fsys, plainWordsFile)
	if err != nil {
		return err
	}
	v.plain = map[string]bool{}
	var errs []error
	prev := ""
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		switch {
		case !isVocabularyWord(line):
			errs = append(errs, fmt.Errorf("%s line %d: %q is not a lowercase ASCII word", plainWordsFile, i+1, line))
		case line <= prev:
			errs = append(errs, fmt.Errorf("%s line %d: %q is out of order or repeated", plainWordsFile, i+1, line))
		case v.isKnown(line):
			errs = append(errs, fmt.Errorf("%s line %d: %q is a word the reader knows now; regenerate the list (go run ./scripts/cmd/triagewords)", plainWordsFile, i+1, line))
		}
		v.plain[line] = true
		prev = line
	}
	return errors.Join(errs...)
}
