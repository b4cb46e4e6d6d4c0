package triage

import (
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The engine's data files: the lexicon that reads a complaint as nurses write it, the
// presenting-complaint vocabulary, and the ordinary English words the reader keeps as written
// (plainwords.go). They are reviewed data, not code; their headers say what every column
// means and where it comes from.
//
//go:embed data/lexicon.csv data/complaints.csv data/plainwords.txt
var dataFiles embed.FS

// Limits of the vocabulary and of one complaint's reading, so that the matcher works in
// fixed-size arrays (Assess does not allocate). Tests check the data against them.
const (
	maxTermWords    = 6   // words of one vocabulary phrase
	maxWordLen      = 32  // longer tokens cannot be a vocabulary word
	maxTokens       = 256 // tokens read from one complaint (1000 runes hold at most ~500 words)
	maxMatches      = 48  // phrase matches kept from one complaint
	maxFindings     = 8   // complaints reported as recognised (or negated)
	maxComplaints   = 256 // complaints in the vocabulary (ComplaintSet)
	maxTerms        = 2048
	maxClasses      = 32
	maxExpansion    = 6 // words an abbreviation stands for
	maxNegationMark = 8 // bytes of a negation mark written in brackets after a term
	// maxGestationWeeks: a number of weeks above it is not a gestational age (a pregnancy is
	// post-term from 42 weeks and induced before 44).
	maxGestationWeeks = 44
	minTypoLen        = 5 // shorter unknown words are not corrected
	minCompoundLen    = 7 // shorter unknown words are not split
	minCompoundPart   = 3
	ambiguousWord     = ^uint16(0)
	severalSpellings  = ^uint16(0)
	noClause          = ^uint16(0)
	lexiconFile       = "data/lexicon.csv"
	complaintsFile    = "data/complaints.csv"
	classHead         = "head"
	complaintFeverID  = "fever"
	// complaintImmunocompromisedID: written in the complaint, the patient is immunocompromised
	// for the rule "immunocompromised with fever" as if the nurse had flagged it.
	complaintImmunocompromisedID = "immunocompromised"
)

// Laterality is the side a complaint names.
type Laterality string

// Values of Laterality.
const (
	LateralityLeft      Laterality = "left"
	LateralityRight     Laterality = "right"
	LateralityBilateral Laterality = "bilateral"
)

// PainSite is the CTAS pain site of a complaint: central (a body cavity or organ) or
// peripheral (skin, soft tissue, axial skeleton, limbs).
type PainSite string

// Values of PainSite.
const (
	PainSiteCentral    PainSite = "central"
	PainSitePeripheral PainSite = "peripheral"
)

// complaintRule is what a complaint means for the ESI decision points (complaints.csv, rule).
type complaintRule uint8

const (
	ruleNone complaintRule = iota
	ruleA                  // point A: level 1
	ruleB                  // point B: high-risk situation
	ruleAMS                // point B: new confusion written in the complaint
)

// olderAdultYears is the age of the older adult of the Geriatric Emergency Department
// Guidelines (ACEP, AGS, ENA, SAEM 2014).
const olderAdultYears = 65

// raiseField is what a complaint modifier's condition reads.
type raiseField uint8

const (
	raiseAge  raiseField = iota + 1 // age in completed years, >= min (an unknown age holds)
	raisePain                       // pain score, >= min (a missing score holds)
	raiseWith                       // complaint with, recognised in the same chief complaint
)

// raise is one modifier of a complaint (complaints.csv, raise): at least level when the
// condition holds.
type raise struct {
	field raiseField
	min   int
	level Level
	code  string // raiseWith: the other complaint's id, resolved into with
	with  uint16
}

// Complaint is one entry of the presenting-complaint vocabulary.
type Complaint struct {
	Code      string   `json:"code"`
	Group     string   `json:"group"`
	Name      string   `json:"name"`
	Situation string   `json:"situation,omitempty"`
	Site      PainSite `json:"site,omitempty"`
	rule      complaintRule
	resources ResourceSet
	raises    []raise
}

// Rule is the complaint's rule as written in complaints.csv ("A", "B", "AMS" or "").
func (c Complaint) Rule() string { return ruleNames[c.rule] }

// Resources are the resource types the usual work-up of the complaint needs.
func (c Complaint) Resources() ResourceSet { return c.resources }

var ruleNames = [...]string{ruleNone: "", ruleA: "A", ruleB: "B", ruleAMS: "AMS"}

// termWord is one word of a vocabulary phrase: a word id, or a lexicon class (class > 0 is
// the class's bit + 1).
type termWord struct {
	id    uint16
	class uint8
}

// deletedFrom returns the spellings that d is a one-deletion variant of.
func (v *vocabulary) deletedFrom(d []byte) []uint16 {
	si, ok := v.deletes[string(d)]
	switch {
	case !ok:
		return nil
	case si == severalSpellings:
		return v.deletesOf[string(d)]
	}
	return v.spellIdx[si : si+1]
}

// spelling is a way of writing a vocabulary word: the word itself or a listed variant.
type spelling struct {
	text string
	id   uint16 // the word it reads as
}

type vocabTerm struct {
	words     []termWord
	complaint uint16
	phrase    string
}

// vocabulary is the lexicon and the complaint vocabulary, read once from the embedded files.
type vocabulary struct {
	words      []string          // id -> word; id 0 is "unknown"
	ids        map[string]uint16 // word -> id
	classNames []string          // class bit -> name
	classOf    []uint32          // word id -> class mask
	headMask   uint32
	abbr       map[string][]uint16 // raw token -> the words it stands for
	stem       map[string]uint16   // variant -> word id
	laterality []Laterality        // word id -> side
	negator    []bool              // word id -> negation cue
	negAfter   map[string]bool     // mark written in brackets after a term: absent ("LOC (-)")
	stop       map[string]bool
	spellings  []spelling          // every word and listed variant a misspelling is corrected to
	spellingOf map[string]uint16   // spelling -> its index
	plain      map[string]bool     // ordinary words kept as written (data/plainwords.txt)
	spellIdx   []uint16            // spellIdx[i] == i, so that one spelling is a slice of it
	deletes    map[string]uint16   // one-deletion variant -> its spelling, or severalSpellings
	deletesOf  map[string][]uint16 // the spellings of a one-deletion variant of several
	idAny      uint16
	// gestation reads a gestational age of at least gestationMin weeks (data/lexicon.csv,
	// gestation); idPregnancy and the words of "gestational age" are read with it.
	gestation     []uint16
	gestationMin  int
	idPregnancy   uint16
	idGestational uint16
	idAge         uint16

	complaints []Complaint
	byCode     map[string]uint16
	terms      []vocabTerm
	byWord     [][]uint16 // word id -> terms anchored on it
	byClass    [maxClasses][]uint16
	fever      uint16 // index of the fever complaint
	// immunocompromised is the index of the immunocompromised complaint.
	immunocompromised uint16
}

// vocab is read on first use (never at init: every deployed function runs every init). The
// files are embedded, so a malformed file is a build defect that the package's tests catch;
// reading them cannot fail at run time in a tested build.
var vocab = sync.OnceValue(func() *vocabulary {
	v, err := loadVocabulary(dataFiles)
	if err != nil {
		panic("triage: " + err.Error())
	}
	return v
})

func readCSV(fsys fs.FS, name string) ([][]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", name)
	}
	return rows[1:], nil // the header
}

// loadVocabulary reads the lexicon, the vocabulary and the list of ordinary words.
func loadVocabulary(fsys fs.FS) (*vocabulary, error) {
	v, err := loadWords(fsys)
	if err != nil {
		return nil, err
	}
	if err := v.loadPlainWords(fsys); err != nil {
		return nil, err
	}
	return v, nil
}

// loadWords reads the lexicon and the vocabulary (not the list of ordinary words, which is
// derived from them).
func loadWords(fsys fs.FS) (*vocabulary, error) {
	v := &vocabulary{ids: map[string]uint16{}, abbr: map[string][]uint16{}, stem: map[string]uint16{},
		stop: map[string]bool{}, negAfter: map[string]bool{}, byCode: map[string]uint16{}}
	v.words = []string{""}
	lex, err := readCSV(fsys, lexiconFile)
	if err != nil {
		return nil, err
	}
	comp, err := readCSV(fsys, complaintsFile)
	if err != nil {
		return nil, err
	}
	var errs []error
	bad := func(file string, row int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s row %d: %s", file, row+2, fmt.Sprintf(format, args...)))
	}
	// Classes first, so that every member is a word.
	classMembers := map[string][]string{}
	for i, r := range lex {
		if len(r) != 3 {
			bad(lexiconFile, i, "want 3 columns, got %d", len(r))
			continue
		}
		if r[0] == "class" {
			if _, dup := classMembers[r[1]]; dup {
				bad(lexiconFile, i, "class %q defined twice", r[1])
			}
			if len(v.classNames) >= maxClasses {
				bad(lexiconFile, i, "more than %d classes", maxClasses)
				continue
			}
			v.classNames = append(v.classNames, r[1])
			classMembers[r[1]] = strings.Fields(r[2])
		}
	}
	// A variant listed as a stem is read as its word wherever it is written: in a complaint,
	// and in the lexicon and vocabulary themselves ("vomit" in a term is "vomiting"), so that
	// a variant is never also a word of its own that the stem could not reach.
	variantOf := map[string]string{}
	for i, r := range lex {
		if len(r) == 3 && r[0] == "stem" {
			if _, dup := variantOf[r[1]]; dup {
				bad(lexiconFile, i, "stem %q listed twice", r[1])
			}
			variantOf[r[1]] = r[2]
		}
	}
	for i, r := range lex {
		if len(r) == 3 && r[0] == "stem" {
			if _, chained := variantOf[r[2]]; chained {
				bad(lexiconFile, i, "stem %q: %q is itself a variant; name the word it is a variant of", r[1], r[2])
			}
		}
	}
	word := func(w string) (uint16, error) {
		if !isVocabularyWord(w) {
			return 0, fmt.Errorf("%q is not a lowercase ASCII word of at most %d letters", w, maxWordLen)
		}
		if t, ok := variantOf[w]; ok {
			w = t
		}
		if id, ok := v.ids[w]; ok {
			return id, nil
		}
		if len(v.words) >= int(ambiguousWord)-1 {
			return 0, errors.New("too many words")
		}
		id := uint16(len(v.words))
		v.words = append(v.words, w)
		v.ids[w] = id
		return id, nil
	}
	for bit, name := range v.classNames {
		for _, m := range classMembers[name] {
			id, err := word(m)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: class %s: %w", lexiconFile, name, err))
				continue
			}
			for len(v.classOf) <= int(id) {
				v.classOf = append(v.classOf, 0)
			}
			v.classOf[id] |= 1 << bit
		}
		if name == classHead {
			v.headMask = 1 << bit
		}
	}
	if v.headMask == 0 {
		errs = append(errs, fmt.Errorf("%s: class %q is missing", lexiconFile, classHead))
	}
	var lats []struct {
		id  uint16
		lat Laterality
	}
	var negs []uint16
	for i, r := range lex {
		if len(r) != 3 {
			continue
		}
		kind, key, val := r[0], r[1], r[2]
		switch kind {
		case "class":
		case "abbr":
			if key == "" || strings.ToLower(key) != key || strings.TrimRight(key, ".") != key {
				bad(lexiconFile, i, "abbreviation %q must be lowercase without a trailing dot", key)
				continue
			}
			if _, dup := v.abbr[key]; dup {
				bad(lexiconFile, i, "abbreviation %q listed twice", key)
				continue
			}
			var exp []uint16
			for _, w := range strings.Fields(val) {
				if v.stop[w] {
					continue
				}
				id, err := word(w)
				if err != nil {
					bad(lexiconFile, i, "abbreviation %q: %v", key, err)
					continue
				}
				exp = append(exp, id)
			}
			if len(strings.Fields(val)) == 0 || len(exp) > maxExpansion {
				bad(lexiconFile, i, "abbreviation %q must stand for 1 to %d words", key, maxExpansion)
				continue
			}
			v.abbr[key] = exp
		case "laterality":
			id, err := word(key)
			if err != nil {
				bad(lexiconFile, i, "%v", err)
				continue
			}
			l := Laterality(val)
			if l != LateralityLeft && l != LateralityRight && l != LateralityBilateral {
				bad(lexiconFile, i, "laterality %q must be left, right or bilateral", val)
				continue
			}
			lats = append(lats, struct {
				id  uint16
				lat Laterality
			}{id, l})
		case "negation":
			id, err := word(key)
			if err != nil {
				bad(lexiconFile, i, "%v", err)
				continue
			}
			negs = append(negs, id)
		case "negation-after":
			if !isNegationMark(key) || val != "" {
				bad(lexiconFile, i, "negation mark %q must be 1 to %d lowercase letters or '-', with no value", key, maxNegationMark)
				continue
			}
			v.negAfter[key] = true
		case "gestation":
			n, err := strconv.Atoi(key)
			if err != nil || n < 1 || n > maxGestationWeeks || v.gestation != nil {
				bad(lexiconFile, i, "gestation %q: want one row with a number of weeks from 1 to %d", key, maxGestationWeeks)
				continue
			}
			for _, w := range strings.Fields(val) {
				id, err := word(w)
				if err != nil {
					bad(lexiconFile, i, "gestation %q: %v", key, err)
					continue
				}
				v.gestation = append(v.gestation, id)
			}
			if len(v.gestation) == 0 || len(v.gestation) > maxExpansion {
				bad(lexiconFile, i, "gestation %q must read as 1 to %d words", key, maxExpansion)
				continue
			}
			v.gestationMin = n
		case "stem":
			id, err := word(val)
			if err != nil {
				bad(lexiconFile, i, "stem %q: %v", key, err)
				continue
			}
			if !isVocabularyWord(key) {
				bad(lexiconFile, i, "stem %q is not a lowercase ASCII word", key)
				continue
			}
			v.stem[key] = id
		case "stop":
			if !isVocabularyWord(key) {
				bad(lexiconFile, i, "stop word %q is not a lowercase ASCII word", key)
				continue
			}
			v.stop[key] = true
		default:
			bad(lexiconFile, i, "unknown kind %q", kind)
		}
	}
	anyID, _ := word("any")
	v.idAny = anyID
	v.idPregnancy, _ = word("pregnancy")
	v.idGestational, _ = word("gestational")
	v.idAge, _ = word("age")

	// Complaints and their phrases.
	classBit := map[string]int{}
	for b, n := range v.classNames {
		classBit[n] = b
	}
	for i, r := range comp {
		if len(r) != 9 {
			bad(complaintsFile, i, "want 9 columns, got %d", len(r))
			continue
		}
		c := Complaint{Code: r[0], Group: r[1], Name: r[2], Situation: r[4], Site: PainSite(r[5])}
		if !isCode(c.Code) {
			bad(complaintsFile, i, "id %q must be lowercase letters, digits and underscores", c.Code)
			continue
		}
		if _, dup := v.byCode[c.Code]; dup {
			bad(complaintsFile, i, "id %q listed twice", c.Code)
			continue
		}
		if !isCode(c.Group) || c.Name == "" {
			bad(complaintsFile, i, "%s: group and name are required", c.Code)
		}
		switch r[3] {
		case "":
			c.rule = ruleNone
		case "A":
			c.rule = ruleA
		case "B":
			c.rule = ruleB
		case "AMS":
			c.rule = ruleAMS
		default:
			bad(complaintsFile, i, "%s: rule %q must be A, B, AMS or empty", c.Code, r[3])
		}
		if (c.rule == ruleNone) != (c.Situation == "") {
			bad(complaintsFile, i, "%s: a situation is named exactly when there is a rule", c.Code)
		}
		if c.Site != "" && c.Site != PainSiteCentral && c.Site != PainSitePeripheral {
			bad(complaintsFile, i, "%s: site %q must be central, peripheral or empty", c.Code, r[5])
		}
		for _, t := range strings.Fields(r[6]) {
			idx := resourceIndex(ResourceType(t))
			if idx < 0 || resourceTable[idx].weight == 0 {
				bad(complaintsFile, i, "%s: %q is not an ESI resource type", c.Code, t)
				continue
			}
			c.resources |= 1 << idx
		}
		for _, m := range strings.Fields(r[7]) {
			rz, err := parseRaise(m)
			if err != nil {
				bad(complaintsFile, i, "%s: raise %q: %v", c.Code, m, err)
				continue
			}
			c.raises = append(c.raises, rz)
		}
		if len(v.complaints) >= maxComplaints {
			bad(complaintsFile, i, "more than %d complaints", maxComplaints)
			continue
		}
		ci := uint16(len(v.complaints))
		v.byCode[c.Code] = ci
		v.complaints = append(v.complaints, c)
		phrases := strings.Split(r[8], ";")
		if strings.TrimSpace(r[8]) == "" {
			bad(complaintsFile, i, "%s: no terms", c.Code)
		}
		for _, p := range phrases {
			p = strings.TrimSpace(p)
			var tw []termWord
			for _, w := range strings.Fields(p) {
				if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") {
					b, ok := classBit[strings.Trim(w, "{}")]
					if !ok {
						bad(complaintsFile, i, "%s: term %q: unknown class %s", c.Code, p, w)
						continue
					}
					tw = append(tw, termWord{class: uint8(b + 1)})
					continue
				}
				if v.stop[w] {
					continue
				}
				id, err := word(w)
				if err != nil {
					bad(complaintsFile, i, "%s: term %q: %v", c.Code, p, err)
					continue
				}
				tw = append(tw, termWord{id: id})
			}
			if len(tw) == 0 || len(tw) > maxTermWords {
				bad(complaintsFile, i, "%s: term %q must have 1 to %d words", c.Code, p, maxTermWords)
				continue
			}
			if len(v.terms) >= maxTerms {
				bad(complaintsFile, i, "more than %d terms", maxTerms)
				continue
			}
			v.terms = append(v.terms, vocabTerm{words: tw, complaint: ci, phrase: p})
		}
	}
	for ci := range v.complaints {
		c := &v.complaints[ci]
		for ri := range c.raises {
			rz := &c.raises[ri]
			if rz.field != raiseWith {
				continue
			}
			with, ok := v.byCode[rz.code]
			if !ok || int(with) == ci {
				errs = append(errs, fmt.Errorf("%s: %s: raise with=%s: not another complaint of the vocabulary", complaintsFile, c.Code, rz.code))
			}
			rz.with = with
		}
	}
	for _, rc := range []struct {
		code string
		idx  *uint16
	}{{complaintFeverID, &v.fever}, {complaintImmunocompromisedID, &v.immunocompromised}} {
		i, ok := v.byCode[rc.code]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: complaint %q is missing", complaintsFile, rc.code))
		}
		*rc.idx = i
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Indexes by word id.
	n := len(v.words)
	for len(v.classOf) < n {
		v.classOf = append(v.classOf, 0)
	}
	v.laterality = make([]Laterality, n)
	for _, l := range lats {
		v.laterality[l.id] = l.lat
	}
	v.negator = make([]bool, n)
	for _, id := range negs {
		v.negator[id] = true
	}
	// Every term is indexed by one anchor word: its first literal word, or its first class
	// when it has none; a term can match only where its anchor is.
	v.byWord = make([][]uint16, n)
	for ti, t := range v.terms {
		anchor := t.words[0]
		for _, w := range t.words {
			if w.class == 0 {
				anchor = w
				break
			}
		}
		if anchor.class > 0 {
			v.byClass[anchor.class-1] = append(v.byClass[anchor.class-1], uint16(ti))
		} else {
			v.byWord[anchor.id] = append(v.byWord[anchor.id], uint16(ti))
		}
	}
	// One-deletion variants of every spelling long enough to be corrected (symmetric delete):
	// the vocabulary's words and the lexicon's variants of them ("unconscious" is a known word
	// too, so "unconsious" is corrected to it).
	for id := 1; id < n; id++ {
		v.spellings = append(v.spellings, spelling{text: v.words[id], id: uint16(id)})
	}
	stems := make([]string, 0, len(v.stem))
	for k := range v.stem {
		stems = append(stems, k)
	}
	slices.Sort(stems) // a fixed order, so that the index is the same on every load
	for _, k := range stems {
		v.spellings = append(v.spellings, spelling{text: k, id: v.stem[k]})
	}
	if len(v.spellings) >= int(severalSpellings) {
		return nil, errors.New("too many spellings")
	}
	// Most deletions come from one spelling: the map holds its index; the few that come
	// from several list them apart (fewer allocations when the vocabulary loads).
	v.spellIdx = make([]uint16, len(v.spellings))
	v.spellingOf = make(map[string]uint16, len(v.spellings))
	v.deletes = map[string]uint16{}
	v.deletesOf = map[string][]uint16{}
	for si, sp := range v.spellings {
		v.spellIdx[si] = uint16(si)
		v.spellingOf[sp.text] = uint16(si)
		w := sp.text
		if len(w) < minTypoLen-1 {
			continue
		}
		for i := range len(w) {
			d := w[:i] + w[i+1:]
			prev, ok := v.deletes[d]
			switch {
			case !ok:
				v.deletes[d] = uint16(si)
			case prev == uint16(si):
			case prev != severalSpellings:
				v.deletes[d] = severalSpellings
				v.deletesOf[d] = []uint16{prev, uint16(si)}
			case !slices.Contains(v.deletesOf[d], uint16(si)):
				v.deletesOf[d] = append(v.deletesOf[d], uint16(si))
			}
		}
	}
	return v, nil
}

// parseRaise reads a complaint modifier "age>=65:3", "pain>=4:3" or "with=pregnancy_late:2".
func parseRaise(s string) (raise, error) {
	cond, lvl, ok := strings.Cut(s, ":")
	if !ok {
		return raise{}, errors.New(`want "<condition>:<level>"`)
	}
	var r raise
	switch {
	case strings.HasPrefix(cond, "with="):
		r.field, r.code = raiseWith, strings.TrimPrefix(cond, "with=")
		if !isCode(r.code) {
			return raise{}, errors.New("with= names a complaint id")
		}
		cond = "0"
	case strings.HasPrefix(cond, "age>="):
		r.field, cond = raiseAge, strings.TrimPrefix(cond, "age>=")
	case strings.HasPrefix(cond, "pain>="):
		r.field, cond = raisePain, strings.TrimPrefix(cond, "pain>=")
	default:
		return raise{}, errors.New("the condition must be age>=N, pain>=N or with=<complaint id>")
	}
	n, err := strconv.Atoi(cond)
	if err != nil || n < 0 || n > maxAgeYears || r.field == raisePain && n > maxPain {
		return raise{}, errors.New("the condition's number is out of range")
	}
	r.min = n
	switch lvl {
	case "2":
		r.level = Level2
	case "3":
		r.level = Level3
	default:
		return raise{}, errors.New("the level must be 2 or 3")
	}
	return r, nil
}

func isVocabularyWord(w string) bool {
	if w == "" || len(w) > maxWordLen {
		return false
	}
	for i := range len(w) {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isNegationMark reports whether s can be a negation mark written in brackets after a term:
// lowercase ASCII letters and '-' ("-", "neg", "-ve").
func isNegationMark(s string) bool {
	if s == "" || len(s) > maxNegationMark {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

func isCode(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Complaints returns the vocabulary's complaints in file order (a copy).
func Complaints() []Complaint { return append([]Complaint(nil), vocab().complaints...) }

// LookupComplaint returns the complaint with code.
func LookupComplaint(code string) (Complaint, bool) {
	v := vocab()
	i, ok := v.byCode[code]
	if !ok {
		return Complaint{}, false
	}
	return v.complaints[i], true
}

// ComplaintSet is a set of vocabulary complaints. It marshals to JSON as their codes.
type ComplaintSet [maxComplaints / 64]uint64

func (s *ComplaintSet) add(i uint16)     { s[i>>6] |= 1 << (i & 63) }
func (s ComplaintSet) has(i uint16) bool { return s[i>>6]&(1<<(i&63)) != 0 }
func (s *ComplaintSet) remove(i uint16)  { s[i>>6] &^= 1 << (i & 63) }
func (s ComplaintSet) andNot(o ComplaintSet) ComplaintSet {
	var r ComplaintSet
	for i := range s {
		r[i] = s[i] &^ o[i]
	}
	return r
}

// Empty reports whether the set has no complaint.
func (s ComplaintSet) Empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

// Len is the number of complaints in the set.
func (s ComplaintSet) Len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// Codes lists the set's complaint codes in vocabulary order.
func (s ComplaintSet) Codes() []string {
	v := vocab()
	var out []string
	for i := range v.complaints {
		if s.has(uint16(i)) {
			out = append(out, v.complaints[i].Code)
		}
	}
	return out
}

// MarshalJSON encodes the set as a list of complaint codes.
func (s ComplaintSet) MarshalJSON() ([]byte, error) {
	c := s.Codes()
	if c == nil {
		c = []string{}
	}
	return json.Marshal(c)
}

// UnmarshalJSON decodes a list of complaint codes.
func (s *ComplaintSet) UnmarshalJSON(b []byte) error {
	var codes []string
	if err := json.Unmarshal(b, &codes); err != nil {
		return err
	}
	var out ComplaintSet
	v := vocab()
	for _, c := range codes {
		i, ok := v.byCode[c]
		if !ok {
			return fmt.Errorf("triage: unknown complaint %q", c)
		}
		out.add(i)
	}
	*s = out
	return nil
}
