package clinical

import (
	_ "embed"
	"sort"
	"strings"
	"sync"

	"github.com/medi-os/medi/shared/transcript"
)

//go:embed drugs.tsv
var drugsTSV string

// Drug is an entry of the drug vocabulary.
type Drug struct {
	// Name is the name as said (lower case): a generic or a brand.
	Name string
	// Generic is the generic name (ingredients joined by " / " for combinations).
	Generic string
	Brand   bool
}

// Lexicon finds multi-word terms in token sequences, longest match first.
type Lexicon[T any] struct {
	byFirst map[string][]lexEntry[T]
}

type lexEntry[T any] struct {
	words []string
	value T
}

// NewLexicon builds a lexicon of terms (lower case, words separated by spaces).
func NewLexicon[T any](terms map[string]T) *Lexicon[T] {
	l := &Lexicon[T]{byFirst: map[string][]lexEntry[T]{}}
	for term, v := range terms {
		words := termWords(term)
		if len(words) == 0 {
			continue
		}
		l.byFirst[words[0]] = append(l.byFirst[words[0]], lexEntry[T]{words, v})
	}
	for k, es := range l.byFirst {
		sort.Slice(es, func(i, j int) bool {
			if len(es[i].words) != len(es[j].words) {
				return len(es[i].words) > len(es[j].words)
			}
			return strings.Join(es[i].words, " ") < strings.Join(es[j].words, " ")
		})
		l.byFirst[k] = es
	}
	return l
}

// termWords splits a term the way Tokenize splits speech ("co-amoxiclav" stays whole,
// "vitamin d" is two words).
func termWords(term string) []string {
	var out []string
	for _, t := range transcript.Tokenize(term) {
		out = append(out, t.Norm)
	}
	return out
}

// Match is a term found in tokens i..j-1.
type Match[T any] struct {
	Start, End int
	Term       string
	Value      T
}

// At returns the longest term starting at ts[i].
func (l *Lexicon[T]) At(ts []transcript.Token, i int) (Match[T], bool) {
	for _, e := range l.byFirst[ts[i].Norm] {
		if i+len(e.words) > len(ts) {
			continue
		}
		ok := true
		for k, w := range e.words {
			if ts[i+k].Norm != w {
				ok = false
				break
			}
		}
		if ok {
			return Match[T]{Start: i, End: i + len(e.words), Term: strings.Join(e.words, " "), Value: e.value}, true
		}
	}
	return Match[T]{}, false
}

// FindAll returns the non-overlapping terms of ts, left to right.
func (l *Lexicon[T]) FindAll(ts []transcript.Token) []Match[T] {
	var out []Match[T]
	for i := 0; i < len(ts); {
		if m, ok := l.At(ts, i); ok {
			out = append(out, m)
			i = m.End
			continue
		}
		i++
	}
	return out
}

var (
	drugsOnce sync.Once
	drugs     *Lexicon[Drug]
	drugCount int
)

// Drugs returns the drug vocabulary (generic and brand names of drugs/tsv).
func Drugs() *Lexicon[Drug] {
	drugsOnce.Do(func() {
		m := map[string]Drug{}
		for _, line := range strings.Split(drugsTSV, "\n") {
			if line == "" || line[0] == '#' {
				continue
			}
			f := strings.Split(line, "\t")
			if len(f) != 3 {
				continue
			}
			m[f[0]] = Drug{Name: f[0], Generic: f[1], Brand: f[2] == "brand"}
		}
		drugCount = len(m)
		drugs = NewLexicon(m)
	})
	return drugs
}

// DrugCount is the size of the drug vocabulary.
func DrugCount() int { Drugs(); return drugCount }

// LookupDrug returns the vocabulary entry of a name (lower case).
func LookupDrug(name string) (Drug, bool) {
	ts := transcript.Tokenize(name)
	if len(ts) == 0 {
		return Drug{}, false
	}
	m, ok := Drugs().At(ts, 0)
	if !ok || m.End != len(ts) {
		return Drug{}, false
	}
	return m.Value, true
}
