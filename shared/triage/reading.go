package triage

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"
)

// complaintReading is what the chief complaint says, as the engine read it: the vocabulary's
// complaints named in it (present or negated), their sides, and how much of the text was
// understood. It is held in fixed-size arrays (reading does not allocate).
type complaintReading struct {
	present   ComplaintSet
	negated   ComplaintSet
	findings  [maxFindings]finding
	nFindings uint8
	words     int // words written (before abbreviations expand)
	unknown   int // of them, words neither the lexicon nor a one-letter correction knows
	corrected int // of them, words read after correcting one letter or splitting a compound
	fever     bool
}

type finding struct {
	complaint uint16
	term      uint16
	lat       Laterality
}

func (r *complaintReading) recognised() bool { return !r.present.Empty() }

// scan holds one complaint's tokens while it is read.
type scan struct {
	tok   [maxTokens]uint16 // word ids (0 = unknown word)
	seg   [maxTokens]uint16 // comma-separated segment
	hard  [maxTokens]uint16 // clause between hard breaks (. ; : ! ? brackets, new lines)
	group [maxTokens]uint16 // segments merged for matching
	// absent: a negation mark in brackets follows the token ("LOC (-)")
	absent [maxTokens]bool
	n      int
}

type match struct {
	term      uint16
	complaint uint16
	first     uint16 // first position
	last      uint16 // last position
	pos       [maxTokens / 64]uint64
	negated   bool
}

// readComplaint reads a chief complaint (see the package documentation, "Complaint reading").
func readComplaint(s string) (r complaintReading) {
	v := vocab()
	var sc scan
	v.tokenize(s, &sc, &r)
	v.groupSegments(&sc)
	var ms [maxMatches]match
	nm := 0
	for a := 0; a < sc.n; {
		b := a + 1
		for b < sc.n && sc.group[b] == sc.group[a] {
			b++
		}
		nm = v.matchGroup(&sc, a, b, ms[:], nm)
		a = b
	}
	// A match whose words all belong to a longer match is dropped: "chest wall pain" is not
	// also "chest pain".
	var dropped [maxMatches]bool
	for i := range nm {
		for j := range nm {
			if i != j && !dropped[j] && properSubset(&ms[i].pos, &ms[j].pos) {
				dropped[i] = true
				break
			}
		}
	}
	for i := range nm {
		if dropped[i] {
			continue
		}
		m := &ms[i]
		if m.negated {
			r.negated.add(m.complaint)
			continue
		}
		if r.present.has(m.complaint) {
			continue
		}
		r.present.add(m.complaint)
		if int(r.nFindings) < len(r.findings) {
			r.findings[r.nFindings] = finding{complaint: m.complaint, term: m.term, lat: v.sideOf(&sc, m)}
			r.nFindings++
		}
	}
	r.negated = r.negated.andNot(r.present)
	r.fever = r.present.has(v.fever)
	return r
}

func properSubset(a, b *[maxTokens / 64]uint64) bool {
	strict := false
	for i := range a {
		if a[i]&^b[i] != 0 {
			return false
		}
		if a[i] != b[i] {
			strict = true
		}
	}
	return strict
}

// tokenize splits s into words, expands abbreviations, drops stop words and records the
// comma segments and hard clauses.
func (v *vocabulary) tokenize(s string, sc *scan, r *complaintReading) {
	var buf [maxWordLen + 1]byte
	seg, hard := uint16(0), uint16(0)
	pendingComma, pendingBreak := false, false
	prevAbbr := false
	push := func(id uint16) {
		if sc.n >= maxTokens {
			return
		}
		if pendingBreak {
			hard++
			seg++
		} else if pendingComma {
			seg++
		}
		pendingBreak, pendingComma = false, false
		sc.tok[sc.n], sc.seg[sc.n], sc.hard[sc.n] = id, seg, hard
		sc.n++
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c == '(' {
			// "LOC (-)", "fever (neg)": the term the mark follows directly is absent.
			if n := v.negationMarkLen(s[i:]); n > 0 {
				if sc.n > 0 && !pendingComma && !pendingBreak {
					sc.absent[sc.n-1] = true
				}
				pendingComma, prevAbbr = true, false
				i += n
				continue
			}
		}
		if c < utf8.RuneSelf && !isASCIIWordByte(c) {
			switch {
			case c == ',' || c == '(' || c == ')':
				// A parenthesis annotates what it follows ("dyspnea (sudden)", "chest pain
				// (Lt.)"): it separates like a comma, not like the end of a clause.
				pendingComma = true
			case c == '.' && prevAbbr && i > 0 && isASCIIWordByte(s[i-1]):
				// "Lt." or "abd.": the period belongs to the abbreviation.
			case isClauseBreak(c):
				pendingBreak = true
			}
			prevAbbr = false
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			ru, size := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(ru) {
				// Non-ASCII punctuation and symbols end a clause: fewer negations, never more.
				pendingBreak = true
				prevAbbr = false
				i += size
				continue
			}
		}
		// A word: ASCII letters and digits (lowercased into buf) or other letters. An
		// apostrophe between letters is part of the word and dropped ("can't" is "cant").
		bn, ascii := 0, true
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if !isASCIIWordByte(c) {
					if n := apostropheLen(s[i:]); n > 0 && bn > 0 && i+n < len(s) && isASCIILetter(s[i+n]) {
						i += n
						continue
					}
					break
				}
				if bn < len(buf) {
					buf[bn] = lower(c)
				}
				bn++
				i++
				continue
			}
			if n := apostropheLen(s[i:]); n > 0 && bn > 0 && i+n < len(s) && isASCIILetter(s[i+n]) {
				i += n
				continue
			}
			ru, size := utf8.DecodeRuneInString(s[i:])
			if !isWordRune(ru) {
				break
			}
			ascii = false
			i += size
		}
		// Shorthand written with slashes ("g/w", "n/v", "s/p", "w/o", "w/"): join when the
		// joined form is a known abbreviation, longest first.
		if ascii && bn <= maxWordLen && i < len(s) && s[i] == '/' {
			j, jn := i, bn
			best, bestN := -1, 0
			for j < len(s) && s[j] == '/' && jn < len(buf) {
				buf[jn] = '/'
				jn++
				j++
				if _, ok := v.abbr[string(buf[:jn])]; ok {
					best, bestN = j, jn
				}
				for j < len(s) && isASCIIWordByte(s[j]) && jn < len(buf) {
					buf[jn] = lower(s[j])
					jn++
					j++
				}
				if _, ok := v.abbr[string(buf[:jn])]; ok && (j >= len(s) || !isASCIIWordByte(s[j])) {
					best, bestN = j, jn
				}
			}
			if best >= 0 {
				i, bn = best, bestN
			}
		}
		r.words++
		prevAbbr = false
		if !ascii || bn > maxWordLen {
			r.unknown++
			push(0)
			continue
		}
		key := buf[:bn]
		if g, ok := v.gestationalAge(s[i:], key, sc); ok {
			// A gestational age of gestationMin weeks or more reads as the lexicon says.
			i += g.used
			r.words += g.words
			if g.obstetric {
				push(v.idPregnancy)
			}
			for _, id := range v.gestation {
				push(id)
			}
			continue
		}
		if exp, ok := v.abbr[string(key)]; ok {
			prevAbbr = true
			for _, id := range exp {
				push(id)
			}
			continue
		}
		if bn == 1 {
			prevAbbr = true // a single letter followed by "." is an initial, not a sentence end
		}
		if v.stop[string(key)] {
			continue
		}
		if id, ok := v.known(key); ok {
			push(id)
			continue
		}
		if id := v.correct(key); id != 0 {
			r.corrected++
			push(id)
			continue
		}
		if a, b := v.split(key); a != 0 {
			r.corrected++
			push(a)
			push(b)
			continue
		}
		r.unknown++
		push(0)
	}
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// known finds a word as written, as a listed variant (stem) or as a plural of a word.
func (v *vocabulary) known(key []byte) (uint16, bool) {
	if id, ok := v.ids[string(key)]; ok {
		return id, true
	}
	if id, ok := v.stem[string(key)]; ok {
		return id, true
	}
	if n := len(key); n > 3 && key[n-1] == 's' {
		if id, ok := v.ids[string(key[:n-1])]; ok {
			return id, true
		}
		if id, ok := v.stem[string(key[:n-1])]; ok {
			return id, true
		}
	}
	return 0, false
}

// correct returns the one vocabulary word within one edit (a letter missing, added, changed,
// or two neighbours swapped) of an unknown word of at least minTypoLen letters, or 0 when
// there is none or more than one. The word may be misspelt from any of its spellings (the
// lexicon's variants included). An ordinary English word the reader keeps as written
// (data/plainwords.txt) is not corrected.
func (v *vocabulary) correct(key []byte) uint16 {
	if len(key) < minTypoLen || v.plain[string(key)] {
		return 0
	}
	cand := uint16(0)
	v.eachCorrection(key, func(si uint16) {
		switch id := v.spellings[si].id; {
		case cand == 0:
			cand = id
		case cand != id:
			cand = ambiguousWord
		}
	})
	if cand == ambiguousWord {
		return 0
	}
	return cand
}

// eachCorrection calls f with every spelling within one edit of key (a spelling may come
// more than once).
func (v *vocabulary) eachCorrection(key []byte, f func(si uint16)) {
	for _, si := range v.deletedFrom(key) { // a letter missing
		f(si)
	}
	var d [maxWordLen]byte
	for i := range key {
		n := copy(d[:], key[:i])
		n += copy(d[n:], key[i+1:])
		if si, ok := v.spellingOf[string(d[:n])]; ok { // a letter added
			f(si)
		}
		for _, si := range v.deletedFrom(d[:n]) { // a letter changed, or neighbours swapped
			if oneEdit(key, v.spellings[si].text) {
				f(si)
			}
		}
	}
}

// oneEdit reports whether a and b (same length) differ by one substituted letter or one
// swap of neighbouring letters.
func oneEdit(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	diff := -1
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		if diff >= 0 {
			// Second difference: only a swap of neighbours at diff, diff+1.
			return i == diff+1 && a[diff] == b[i] && a[i] == b[diff] && string(a[i+1:]) == b[i+1:]
		}
		diff = i
	}
	return diff >= 0
}

// split reads an unknown word as two vocabulary words written together ("sorethroat").
func (v *vocabulary) split(key []byte) (uint16, uint16) {
	if len(key) < minCompoundLen {
		return 0, 0
	}
	for k := minCompoundPart; k <= len(key)-minCompoundPart; k++ {
		a, okA := v.ids[string(key[:k])]
		b, okB := v.ids[string(key[k:])]
		if okA && okB && !v.negator[a] {
			return a, b
		}
	}
	return 0, 0
}

// groupSegments merges comma segments that belong together: the inverted form nurses use
// ("pain, chest", "injury, finger", "leg pain, lt."), a single word on either side of a
// comma next to a short segment, and a segment made only of head nouns.
func (v *vocabulary) groupSegments(sc *scan) {
	if sc.n == 0 {
		return
	}
	g := uint16(0)
	segStart := 0
	prevStart, prevLen, prevHead := -1, 0, false
	for i := 0; i <= sc.n; i++ {
		if i < sc.n && (i == segStart || sc.seg[i] == sc.seg[segStart]) {
			continue
		}
		// Segment [segStart, i).
		l := i - segStart
		head := true
		for p := segStart; p < i; p++ {
			if v.classOf[sc.tok[p]]&v.headMask == 0 {
				head = false
				break
			}
		}
		merge := prevStart >= 0 && sc.hard[prevStart] == sc.hard[segStart] &&
			(prevLen == 1 && l <= 3 || l == 1 && prevLen <= 3 || prevHead)
		if !merge && prevStart >= 0 {
			g++
		}
		for p := segStart; p < i; p++ {
			sc.group[p] = g
		}
		prevStart, prevLen, prevHead = segStart, l, head
		segStart = i
	}
}

func (v *vocabulary) wordMatches(tok uint16, w termWord) bool {
	if tok == 0 {
		return false
	}
	if w.class > 0 {
		return v.classOf[tok]&(1<<(w.class-1)) != 0
	}
	return tok == w.id
}

// matchGroup finds the vocabulary phrases in the tokens [a, b) of one group.
func (v *vocabulary) matchGroup(sc *scan, a, b int, ms []match, nm int) int {
	var cand [maxTerms / 64]uint64
	for p := a; p < b; p++ {
		t := sc.tok[p]
		if t == 0 {
			continue
		}
		for _, ti := range v.byWord[t] {
			cand[ti>>6] |= 1 << (ti & 63)
		}
		for mask := v.classOf[t]; mask != 0; mask &= mask - 1 {
			bit := bits.TrailingZeros32(mask)
			for _, ti := range v.byClass[bit] {
				cand[ti>>6] |= 1 << (ti & 63)
			}
		}
	}
	for wi, w := range cand {
		for ; w != 0; w &= w - 1 {
			ti := uint16(wi*64 + bits.TrailingZeros64(w))
			if nm >= len(ms) {
				return nm
			}
			if v.matchTerm(sc, a, b, ti, &ms[nm]) {
				nm++
			}
		}
	}
	return nm
}

// matchTerm looks for term ti in [a, b): its words in order with at most one other word
// between them, or in any order side by side. A present occurrence wins over a negated one.
func (v *vocabulary) matchTerm(sc *scan, a, b int, ti uint16, out *match) bool {
	t := &v.terms[ti]
	k := len(t.words)
	found := false
	try := func(m match) bool {
		m.negated = v.negatedAt(sc, a, int(m.first)) || sc.absent[m.last]
		if !found || out.negated && !m.negated {
			*out, found = m, true
		}
		return found && !out.negated
	}
	for s := a; s < b; s++ {
		if !v.wordMatches(sc.tok[s], t.words[0]) {
			continue
		}
		// In order, at most one word skipped.
		m := match{term: ti, complaint: t.complaint, first: uint16(s)}
		j, p, gaps := 1, s+1, 0
		m.pos[s>>6] |= 1 << (s & 63)
		last := s
		for j < k && p < b {
			if v.wordMatches(sc.tok[p], t.words[j]) {
				m.pos[p>>6] |= 1 << (p & 63)
				last = p
				j++
			} else if gaps == 0 {
				gaps = 1
			} else {
				break
			}
			p++
		}
		if j == k {
			m.last = uint16(last)
			if try(m) {
				return true
			}
		}
	}
	if k > 1 {
		// Any order, side by side ("pain chest" after "pain, chest").
		for s := a; s+k <= b; s++ {
			var used uint8
			ok := true
			for p := s; p < s+k && ok; p++ {
				ok = false
				for j := range k {
					if used&(1<<j) == 0 && v.wordMatches(sc.tok[p], t.words[j]) {
						used |= 1 << j
						ok = true
						break
					}
				}
			}
			if !ok {
				continue
			}
			m := match{term: ti, complaint: t.complaint, first: uint16(s), last: uint16(s + k - 1)}
			for p := s; p < s+k; p++ {
				m.pos[p>>6] |= 1 << (p & 63)
			}
			if try(m) {
				return true
			}
		}
	}
	return found
}

// gestation is a gestational age read from a complaint.
type gestation struct {
	weeks     int
	used      int  // bytes consumed after the number
	words     int  // words consumed after the number ("32 weeks": 1)
	obstetric bool // an obstetric notation ("34+2", "32/40"), written only for a pregnancy
}

// gestationalAge reads a gestational age of v.gestationMin to maxGestationWeeks weeks at
// the word key, which rest follows: "32 weeks", "32 wks", "32wk", "32w", "34+2", "34+2 wks",
// "32/40", or a bare number after "gestational age" ("GA 32"). Other numbers are not read.
func (v *vocabulary) gestationalAge(rest string, key []byte, sc *scan) (g gestation, ok bool) {
	if v.gestation == nil {
		return g, false
	}
	d := 0
	for d < len(key) && key[d] >= '0' && key[d] <= '9' {
		d++
	}
	if d == 0 || d > 2 {
		return g, false
	}
	g.weeks = int(key[0] - '0')
	if d == 2 {
		g.weeks = g.weeks*10 + int(key[1]-'0')
	}
	switch {
	case d < len(key): // "32wks"
		ok = isWeeksWord(key[d:])
	case len(rest) >= 2 && rest[0] == '+' && rest[1] >= '0' && rest[1] <= '6' &&
		(len(rest) == 2 || !isASCIIDigit(rest[2])): // "34+2", "34+2wks", "34+2 wks"
		g.used, g.obstetric, ok = 2, true, true
		if n := weeksWordLen(rest[2:]); n > 0 {
			g.used += n
		} else if n := spacedWeeksWordLen(rest[2:]); n > 0 {
			g.used += n
			g.words++
		}
	case strings.HasPrefix(rest, "/40") && (len(rest) == 3 || !isASCIIWordByte(rest[3])): // "32/40"
		// "20/40" is also a visual acuity (Snellen, in feet): not read.
		g.used, g.obstetric, ok = 3, true, g.weeks != snellenFeet
	default:
		if n := spacedWeeksWordLen(rest); n > 0 { // "32 weeks"
			g.used, g.words, ok = n, 1, true
		} else { // "GA 32"
			ok = sc.n >= 2 && sc.tok[sc.n-2] == v.idGestational && sc.tok[sc.n-1] == v.idAge
		}
	}
	return g, ok && g.weeks >= v.gestationMin && g.weeks <= maxGestationWeeks
}

// isWeeksWord reports whether w (lowercase) is a unit of weeks.
func isWeeksWord(w []byte) bool {
	switch string(w) {
	case "w", "wk", "wks", "week", "weeks":
		return true
	}
	return false
}

// weeksWordLen returns the length of the unit of weeks s begins with ("wks" in "wks,"), or 0.
// The unit must end the word and not begin shorthand ("w/o" is "without").
func weeksWordLen(s string) int {
	var buf [len("weeks")]byte
	n := 0
	for n < len(s) && isASCIILetter(s[n]) {
		if n == len(buf) {
			return 0
		}
		buf[n] = lower(s[n])
		n++
	}
	if n == 0 || !isWeeksWord(buf[:n]) || n < len(s) && (isASCIIWordByte(s[n]) || s[n] == '/') {
		return 0
	}
	return n
}

// spacedWeeksWordLen is weeksWordLen after one or more spaces.
func spacedWeeksWordLen(s string) int {
	sp := 0
	for sp < len(s) && s[sp] == ' ' {
		sp++
	}
	if sp == 0 {
		return 0
	}
	if n := weeksWordLen(s[sp:]); n > 0 {
		return sp + n
	}
	return 0
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

// snellenFeet is the testing distance of a visual acuity written in feet ("20/40").
const snellenFeet = 20

// negationMarkLen returns the length of the bracketed negation mark s begins with ("(-)",
// "( neg )", the minus sign U+2212 read as "-"), or 0.
func (v *vocabulary) negationMarkLen(s string) int {
	var buf [maxNegationMark]byte
	n := 0
	for i := 1; i < len(s) && i <= 2*maxNegationMark+2; {
		switch c := s[i]; {
		case c == ')':
			if n == 0 || !v.negAfter[string(buf[:n])] {
				return 0
			}
			return i + 1
		case c == ' ':
			if n > 0 && i+1 < len(s) && s[i+1] != ' ' && s[i+1] != ')' {
				return 0 // two words
			}
			i++
			continue
		case strings.HasPrefix(s[i:], "\u2212"):
			c = '-'
			i += len("\u2212") - 1
			fallthrough
		default:
			if n == len(buf) {
				return 0
			}
			buf[n] = lower(c)
			n++
			i++
		}
	}
	return 0
}

// negatedAt reports whether a negation cue stands right before position first in its
// group: "no X", "denies any X", "negative for X" ("for" is a stop word).
func (v *vocabulary) negatedAt(sc *scan, a, first int) bool {
	p := first - 1
	if p < a {
		return false
	}
	if sc.tok[p] == v.idAny {
		p--
		if p < a {
			return false
		}
	}
	return v.negator[sc.tok[p]]
}

// sideOf is the side named in or next to a match (two words before it, one after): left,
// right, or bilateral when both or "both"/"bilateral" are named.
func (v *vocabulary) sideOf(sc *scan, m *match) Laterality {
	g := sc.group[m.first]
	var l Laterality
	for p := int(m.first) - 2; p <= int(m.last)+1; p++ {
		if p < 0 || p >= sc.n || sc.group[p] != g {
			continue
		}
		switch s := v.laterality[sc.tok[p]]; {
		case s == "":
		case l == "" || l == s:
			l = s
		default:
			l = LateralityBilateral
		}
	}
	return l
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// apostropheLen returns the length of the apostrophe s begins with (' or the typographic ’),
// or 0.
func apostropheLen(s string) int {
	switch {
	case strings.HasPrefix(s, "'"):
		return 1
	case strings.HasPrefix(s, "\u2019"):
		return len("\u2019")
	}
	return 0
}

func isASCIIWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isClauseBreak reports ASCII punctuation that ends a clause.
func isClauseBreak(c byte) bool {
	switch c {
	case '.', ';', ':', '!', '?', '[', ']', '{', '}', '\n', '\r':
		return true
	}
	return false
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r))
}

// ComplaintStatus says whether the engine understood the chief complaint.
type ComplaintStatus string

// Values of ComplaintStatus.
const (
	ComplaintRecognised    ComplaintStatus = "recognised"     // at least one complaint of the vocabulary
	ComplaintNotRecognised ComplaintStatus = "not_recognised" // words, but no complaint the engine knows
	ComplaintEmpty         ComplaintStatus = "empty"          // no words
)

// ComplaintFinding is one vocabulary complaint recognised in the chief complaint.
type ComplaintFinding struct {
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Group      string     `json:"group"`
	Laterality Laterality `json:"laterality,omitempty"`
	// Phrase is the vocabulary phrase that matched (in the lexicon's words).
	Phrase string `json:"phrase"`
	// Rule is the complaint's decision rule (A, B, AMS) when it has one.
	Rule string `json:"rule,omitempty"`
}

// ComplaintSummary is how the engine read the chief complaint.
type ComplaintSummary struct {
	Status     ComplaintStatus
	recognised [maxFindings]ComplaintFinding
	n          uint8
	// Negated are complaints written as absent ("no chest pain"); they count for nothing.
	Negated ComplaintSet
	// Words, UnknownWords and CorrectedWords count the words written, those the engine did not
	// know, and those it read after correcting one letter or splitting a compound.
	Words, UnknownWords, CorrectedWords int
}

// Recognised lists the recognised complaints.
func (s ComplaintSummary) Recognised() []ComplaintFinding {
	return append([]ComplaintFinding(nil), s.recognised[:s.n]...)
}

func summarize(cr *complaintReading, text string) ComplaintSummary {
	v := vocab()
	s := ComplaintSummary{Negated: cr.negated, Words: cr.words, UnknownWords: cr.unknown, CorrectedWords: cr.corrected}
	switch {
	case cr.words == 0:
		s.Status = ComplaintEmpty
	case cr.recognised():
		s.Status = ComplaintRecognised
	default:
		s.Status = ComplaintNotRecognised
	}
	for _, f := range cr.findings[:cr.nFindings] {
		c := &v.complaints[f.complaint]
		s.recognised[s.n] = ComplaintFinding{Code: c.Code, Name: c.Name, Group: c.Group, Laterality: f.lat,
			Phrase: v.terms[f.term].phrase, Rule: ruleNames[c.rule]}
		s.n++
	}
	return s
}

type complaintSummaryJSON struct {
	Status         ComplaintStatus    `json:"status"`
	Recognised     []ComplaintFinding `json:"recognised"`
	Negated        ComplaintSet       `json:"negated"`
	Words          int                `json:"words"`
	UnknownWords   int                `json:"unknownWords"`
	CorrectedWords int                `json:"correctedWords"`
}

// MarshalJSON writes the summary with its lists.
func (s ComplaintSummary) MarshalJSON() ([]byte, error) {
	r := s.Recognised()
	if r == nil {
		r = []ComplaintFinding{}
	}
	return json.Marshal(complaintSummaryJSON{s.Status, r, s.Negated, s.Words, s.UnknownWords, s.CorrectedWords})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *ComplaintSummary) UnmarshalJSON(b []byte) error {
	var o complaintSummaryJSON
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	if len(o.Recognised) > maxFindings {
		return fmt.Errorf("triage: %d recognised complaints, at most %d", len(o.Recognised), maxFindings)
	}
	*s = ComplaintSummary{Status: o.Status, Negated: o.Negated, Words: o.Words, UnknownWords: o.UnknownWords,
		CorrectedWords: o.CorrectedWords}
	s.n = uint8(copy(s.recognised[:], o.Recognised))
	return nil
}
