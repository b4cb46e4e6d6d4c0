package triage

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// termGroup is the clinical situation a complaint term points to.
type termGroup uint8

const (
	groupNone termGroup = iota
	groupACS
	groupStroke
	groupSelfHarm
	groupOverdose
	groupEctopic
	groupTorsion
	groupChemicalEye
	groupTimeCritical
	// groupFever terms are not high-risk by themselves; they take part in
	// "immunocompromised with fever" and the infant fever rules (TRIAGE.md §1).
	groupFever
)

var groupLabels = [...]string{
	groupNone:         "",
	groupACS:          "possible ACS",
	groupStroke:       "stroke signs",
	groupSelfHarm:     "suicidal or homicidal",
	groupOverdose:     "overdose or poisoning",
	groupEctopic:      "possible ectopic pregnancy",
	groupTorsion:      "possible testicular torsion",
	groupChemicalEye:  "chemical eye injury",
	groupTimeCritical: "time-critical condition",
	groupFever:        "fever",
}

func (g termGroup) label() string { return groupLabels[g] }

type term struct {
	phrase string
	group  termGroup
}

// terms is the reviewable list of complaint terms. All but the fever group are high-risk
// situations for ESI point B (TRIAGE.md §1 B: "chest pain suggestive of ACS, stroke signs,
// suicidal, immunocompromised with fever"; the other groups follow the high-risk examples of
// the ESI v4 handbook, ch. 4). Phrases are matched on whole words after lowercasing, with
// punctuation (including hyphens) read as a word break, so "one-sided weakness" is written
// "one sided weakness". Short abbreviations are included on purpose ("mi", "si", "tia"): a
// false match over-triages, a missed one under-triages (TRIAGE.md §6). At most 128 terms of
// at most 6 words each (TermSet and the matcher's window depend on it; a test checks).
var terms = [...]term{
	// Chest pain suggestive of ACS (TRIAGE.md §1 B).
	{"chest pain", groupACS},
	{"chest pains", groupACS},
	{"chest pressure", groupACS},
	{"chest tightness", groupACS},
	{"tight chest", groupACS},
	{"heart attack", groupACS},
	{"myocardial infarction", groupACS},
	{"mi", groupACS},
	{"stemi", groupACS},
	{"nstemi", groupACS},
	{"acs", groupACS},
	{"acute coronary syndrome", groupACS},
	{"angina", groupACS},

	// Stroke signs (TRIAGE.md §1 B): face, arm, speech, sudden neurological deficit.
	{"stroke", groupStroke},
	{"cva", groupStroke},
	{"tia", groupStroke},
	{"transient ischaemic attack", groupStroke},
	{"transient ischemic attack", groupStroke},
	{"facial droop", groupStroke},
	{"facial drooping", groupStroke},
	{"face droop", groupStroke},
	{"face drooping", groupStroke},
	{"drooping face", groupStroke},
	{"droopy face", groupStroke},
	{"slurred speech", groupStroke},
	{"slurring speech", groupStroke},
	{"speech slurred", groupStroke},
	{"difficulty speaking", groupStroke},
	{"trouble speaking", groupStroke},
	{"aphasia", groupStroke},
	{"dysarthria", groupStroke},
	{"one sided weakness", groupStroke},
	{"weakness on one side", groupStroke},
	{"unilateral weakness", groupStroke},
	{"left sided weakness", groupStroke},
	{"right sided weakness", groupStroke},
	{"hemiparesis", groupStroke},
	{"hemiplegia", groupStroke},
	{"sudden numbness", groupStroke},
	{"sudden weakness", groupStroke},
	{"sudden vision loss", groupStroke},
	{"sudden loss of vision", groupStroke},

	// Suicidal or homicidal (TRIAGE.md §1 B "suicidal").
	{"suicidal", groupSelfHarm},
	{"suicide", groupSelfHarm},
	{"si", groupSelfHarm},
	{"kill myself", groupSelfHarm},
	{"killing myself", groupSelfHarm},
	{"end my life", groupSelfHarm},
	{"want to die", groupSelfHarm},
	{"wants to die", groupSelfHarm},
	{"self harm", groupSelfHarm},
	{"self harming", groupSelfHarm},
	{"homicidal", groupSelfHarm},

	// Overdose or poisoning.
	{"overdose", groupOverdose},
	{"overdosed", groupOverdose},
	{"took too many pills", groupOverdose},
	{"poisoning", groupOverdose},
	{"poisoned", groupOverdose},
	{"ingestion", groupOverdose},
	{"ingested", groupOverdose},

	// Possible ectopic pregnancy.
	{"ectopic", groupEctopic},
	{"ectopic pregnancy", groupEctopic},

	// Possible testicular torsion.
	{"testicular torsion", groupTorsion},
	{"torsion", groupTorsion},
	{"testicular pain", groupTorsion},
	{"testicle pain", groupTorsion},

	// Chemical splash to the eye.
	{"chemical in eye", groupChemicalEye},
	{"chemical in eyes", groupChemicalEye},
	{"chemical splash", groupChemicalEye},
	{"chemical eye", groupChemicalEye},

	// Other time-critical conditions named in the complaint.
	{"aortic dissection", groupTimeCritical},
	{"pulmonary embolism", groupTimeCritical},
	{"sepsis", groupTimeCritical},
	{"septic", groupTimeCritical},
	{"meningitis", groupTimeCritical},
	{"anaphylaxis", groupTimeCritical},
	{"anaphylactic", groupTimeCritical},
	{"thunderclap headache", groupTimeCritical},
	{"worst headache", groupTimeCritical},

	// Fever reported in the complaint (not high-risk by itself).
	{"fever", groupFever},
	{"fevers", groupFever},
	{"febrile", groupFever},
	{"pyrexia", groupFever},
	{"pyrexial", groupFever},
	{"high temperature", groupFever},
	{"rigors", groupFever},
}

// negationCues negate a term that follows immediately (optionally after "any") in the same
// clause. "negative for" is handled as a two-word cue.
var negationCues = [...]string{"no", "not", "denies", "denied", "deny", "without"}

const (
	maxTermWords = 6  // longest phrase, in words
	maxWordLen   = 32 // longer tokens cannot be a term word
	windowSize   = 16 // power of two > maxTermWords + 3 cue words
)

// TermSet is a set of complaint terms. It marshals to JSON as the list of phrases.
type TermSet [2]uint64

func (s *TermSet) add(i int)     { s[i>>6] |= 1 << (i & 63) }
func (s TermSet) has(i int) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s TermSet) andNot(o TermSet) TermSet {
	return TermSet{s[0] &^ o[0], s[1] &^ o[1]}
}
func (s TermSet) intersects(o TermSet) bool { return s[0]&o[0] != 0 || s[1]&o[1] != 0 }

// Empty reports whether the set has no term.
func (s TermSet) Empty() bool { return s[0] == 0 && s[1] == 0 }

// Len is the number of terms in the set.
func (s TermSet) Len() int { return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) }

// Phrases lists the set's terms in table order.
func (s TermSet) Phrases() []string {
	var out []string
	for i := range terms {
		if s.has(i) {
			out = append(out, terms[i].phrase)
		}
	}
	return out
}

// MarshalJSON encodes the set as a list of phrases.
func (s TermSet) MarshalJSON() ([]byte, error) {
	p := s.Phrases()
	if p == nil {
		p = []string{}
	}
	return json.Marshal(p)
}

// UnmarshalJSON decodes a list of phrases of the term table.
func (s *TermSet) UnmarshalJSON(b []byte) error {
	var phrases []string
	if err := json.Unmarshal(b, &phrases); err != nil {
		return err
	}
	var out TermSet
outer:
	for _, p := range phrases {
		for i := range terms {
			if terms[i].phrase == p {
				out.add(i)
				continue outer
			}
		}
		return fmt.Errorf("triage: unknown complaint term %q", p)
	}
	*s = out
	return nil
}

// complaintMatcher is built once from the tables above.
type complaintMatcher struct {
	vocab     map[string]uint16 // word -> id; 0 is "not a known word"
	termWords [len(terms)][]uint16
	// byLast lists, for every word id, the terms ending with that word, longest first.
	byLast  [][]uint8
	negator []bool  // indexed by word id
	fever   TermSet // the fever group
	idAny   uint16
	idNeg   uint16 // "negative"
	idFor   uint16 // "for"
}

var matcher = newComplaintMatcher()

func newComplaintMatcher() *complaintMatcher {
	m := &complaintMatcher{vocab: map[string]uint16{}}
	id := func(w string) uint16 {
		if v, ok := m.vocab[w]; ok {
			return v
		}
		v := uint16(len(m.vocab) + 1)
		m.vocab[w] = v
		return v
	}
	for i, t := range terms {
		forEachWord(t.phrase, func(w string) { m.termWords[i] = append(m.termWords[i], id(w)) })
		if t.group == groupFever {
			m.fever.add(i)
		}
	}
	for _, c := range negationCues {
		id(c)
	}
	m.idAny, m.idNeg, m.idFor = id("any"), id("negative"), id("for")
	m.byLast = make([][]uint8, len(m.vocab)+1)
	m.negator = make([]bool, len(m.vocab)+1)
	for _, c := range negationCues {
		m.negator[m.vocab[c]] = true
	}
	// Longest first, so that a negated long term negates the shorter ones it ends with.
	for n := maxTermWords; n >= 1; n-- {
		for i, w := range m.termWords {
			if len(w) == n {
				last := w[len(w)-1]
				m.byLast[last] = append(m.byLast[last], uint8(i))
			}
		}
	}
	return m
}

// forEachWord calls f with every lowercase ASCII word of a table phrase (the tables are
// lowercase ASCII; a test checks that they survive the complaint tokenizer unchanged).
func forEachWord(s string, f func(string)) {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isASCIIWordByte(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			f(s[start:i])
			start = -1
		}
	}
}

func isASCIIWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isClauseBreak reports ASCII punctuation that ends a clause for negation scope.
func isClauseBreak(c byte) bool {
	switch c {
	case '.', ',', ';', ':', '!', '?', '(', ')', '[', ']', '{', '}', '\n', '\r':
		return true
	}
	return false
}

// complaintFindings is what the chief complaint says.
type complaintFindings struct {
	highRisk TermSet // high-risk terms present (not negated)
	negated  TermSet // terms present only in negated form
	fever    bool    // a fever term is present (not negated)
	words    int     // number of words
}

// scanComplaint finds the terms of the table in s. It does not allocate.
func scanComplaint(s string) complaintFindings {
	m := matcher
	var (
		found, negated TermSet
		ring           [windowSize]uint16 // word ids of the last tokens
		brk            [windowSize]bool   // a clause break precedes the token
		n              int                // tokens seen
		pendingBreak   bool
		buf            [maxWordLen]byte
	)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && !isASCIIWordByte(c) {
			if isClauseBreak(c) {
				pendingBreak = true
			}
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				// Non-ASCII punctuation and symbols (dashes, ellipses, invalid bytes) end a
				// clause: fewer negations, never more.
				pendingBreak = true
				i += size
				continue
			}
		}
		// A token: ASCII letters/digits and non-ASCII letters, digits and marks.
		bn, ascii := 0, true
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if !isASCIIWordByte(c) {
					break
				}
				if bn < len(buf) {
					if c >= 'A' && c <= 'Z' {
						c += 'a' - 'A'
					}
					buf[bn] = c
				}
				bn++
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(r) {
				break
			}
			ascii = false
			i += size
		}
		var id uint16
		if ascii && bn <= len(buf) {
			id = m.vocab[string(buf[:bn])]
		}
		pos := n & (windowSize - 1)
		ring[pos], brk[pos] = id, pendingBreak
		pendingBreak = false
		n++
		if id == 0 {
			continue
		}
		// Terms ending with this word, longest first.
		negFrom := -1
		for _, ti := range m.byLast[id] {
			w := m.termWords[ti]
			if len(w) > n {
				continue
			}
			start := n - len(w)
			ok := true
			for k := 0; k < len(w)-1; k++ {
				if ring[(start+k)&(windowSize-1)] != w[k] {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			neg := negFrom >= 0 && start >= negFrom
			if !neg && m.negatedAt(&ring, &brk, start) {
				neg = true
				negFrom = start
			}
			if neg {
				negated.add(int(ti))
			} else {
				found.add(int(ti))
			}
		}
	}
	return complaintFindings{
		highRisk: found.andNot(m.fever),
		negated:  negated.andNot(found),
		fever:    found.intersects(m.fever),
		words:    n,
	}
}

// negatedAt reports whether a negation cue immediately precedes the token at start in the
// same clause: "no X", "no any X", "negative for X", "negative for any X".
func (m *complaintMatcher) negatedAt(ring *[windowSize]uint16, brk *[windowSize]bool, start int) bool {
	at := func(i int) uint16 { return ring[i&(windowSize-1)] }
	breakBefore := func(i int) bool { return brk[i&(windowSize-1)] }
	p := start - 1
	if p < 0 || breakBefore(start) {
		return false
	}
	if at(p) == m.idAny {
		if breakBefore(p) || p == 0 {
			return false
		}
		p--
	}
	if m.negator[at(p)] {
		return true
	}
	return at(p) == m.idFor && p >= 1 && !breakBefore(p) && at(p-1) == m.idNeg
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
}
