package triage

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestVocabularyFilesLoad(t *testing.T) {
	t.Parallel()
	v, err := loadVocabulary(dataFiles)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v.complaints); n < 100 || n > maxComplaints {
		t.Errorf("%d complaints, want 100..%d", n, maxComplaints)
	}
	groups := map[string]bool{}
	for i, c := range v.complaints {
		groups[c.Group] = true
		if _, ok := groupFeature[c.Group]; !ok {
			t.Errorf("complaint %s: group %q has no model feature", c.Code, c.Group)
		}
		terms := 0
		for _, tm := range v.terms {
			if int(tm.complaint) == i {
				terms++
			}
		}
		if terms == 0 {
			t.Errorf("complaint %s has no term", c.Code)
		}
		if (c.rule == ruleNone) != (c.Situation == "") {
			t.Errorf("complaint %s: rule %q with situation %q", c.Code, c.Rule(), c.Situation)
		}
	}
	for g := range groupFeature {
		if !groups[g] {
			t.Errorf("model group feature %q has no complaint", g)
		}
	}
	// Complaints the engine's rules rely on by id.
	for _, code := range []string{complaintFeverID, complaintImmunocompromisedID, "chest_pain_cardiac", "stroke", "altered_consciousness", "cardiac_arrest"} {
		if _, ok := LookupComplaint(code); !ok {
			t.Errorf("complaint %q is missing", code)
		}
	}
}

// TestEveryTermIsFound: every phrase of the vocabulary, written as a nurse could (each class
// as one of its words), is recognised as its complaint.
func TestEveryTermIsFound(t *testing.T) {
	t.Parallel()
	v := vocab()
	seen := map[string]int{}
	for ti, tm := range v.terms {
		text := termExample(v, ti)
		cr := readComplaint(text)
		if !cr.present.has(tm.complaint) {
			t.Errorf("term %q of %s, written %q, is not recognised (found %v)", tm.phrase, v.complaints[tm.complaint].Code, text, cr.present.Codes())
		}
		// Two phrases of one complaint that read the same (a variant for its word: "black
		// stools" is "black stool") are one phrase listed twice.
		key := fmt.Sprint(tm.complaint, tm.words)
		if prev, dup := seen[key]; dup {
			t.Errorf("term %q of %s reads as %q, listed already", tm.phrase, v.complaints[tm.complaint].Code, v.terms[prev].phrase)
		}
		seen[key] = ti
	}
}

func TestLexiconRows(t *testing.T) {
	t.Parallel()
	v := vocab()
	for key, exp := range v.abbr {
		if len(exp) == 0 {
			t.Errorf("abbreviation %q expands to nothing", key)
		}
	}
	for _, w := range []string{"no", "denies", "without", "negative"} {
		if !v.negator[v.ids[w]] {
			t.Errorf("negation cue %q missing", w)
		}
	}
	for _, m := range []string{"-", "neg"} {
		if !v.negAfter[m] {
			t.Errorf("negation mark %q missing", m)
		}
	}
	for w, side := range map[string]Laterality{"left": LateralityLeft, "right": LateralityRight, "both": LateralityBilateral} {
		if v.laterality[v.ids[w]] != side {
			t.Errorf("laterality of %q = %q, want %q", w, v.laterality[v.ids[w]], side)
		}
	}
}

type readCase struct {
	text      string
	present   []string
	negated   []string
	sides     map[string]Laterality
	unknown   int
	corrected int
}

func checkReading(t *testing.T, tc readCase) {
	t.Helper()
	cr := readComplaint(tc.text)
	s := summarize(&cr, tc.text)
	var got []string
	sides := map[string]Laterality{}
	for _, f := range s.Recognised() {
		got = append(got, f.Code)
		if f.Laterality != "" {
			sides[f.Code] = f.Laterality
		}
	}
	if diff := cmp.Diff(tc.present, got); diff != "" {
		t.Errorf("%q: recognised (-want +got):\n%s", tc.text, diff)
	}
	if diff := cmp.Diff(tc.negated, s.Negated.Codes()); diff != "" {
		t.Errorf("%q: negated (-want +got):\n%s", tc.text, diff)
	}
	if tc.sides == nil {
		tc.sides = map[string]Laterality{}
	}
	if diff := cmp.Diff(tc.sides, sides); diff != "" {
		t.Errorf("%q: sides (-want +got):\n%s", tc.text, diff)
	}
	if s.UnknownWords != tc.unknown || s.CorrectedWords != tc.corrected {
		t.Errorf("%q: %d unknown, %d corrected; want %d, %d", tc.text, s.UnknownWords, s.CorrectedWords, tc.unknown, tc.corrected)
	}
}

func TestReadingShorthand(t *testing.T) {
	t.Parallel()
	for _, tc := range []readCase{
		{text: "abd pain", present: []string{"abdominal_pain"}},
		{text: "SOB", present: []string{"dyspnea"}},
		{text: "DOE x 3 days", present: []string{"dyspnea"}, unknown: 3},
		{text: "CP", present: []string{"chest_pain_cardiac"}},
		{text: "LOC at home", present: []string{"syncope"}, unknown: 1},
		{text: "DZ - dizziness", present: []string{"dizziness"}},
		{text: "G/W", present: []string{"general_weakness"}},
		{text: "N/V since am", present: []string{"nausea_vomiting"}, unknown: 2},
		{text: "Lt. flank pain", present: []string{"flank_pain"}, sides: map[string]Laterality{"flank_pain": LateralityLeft}},
		{text: "Rt.arm weakness", present: []string{"stroke"}, sides: map[string]Laterality{"stroke": LateralityRight}},
		{text: "Bil. leg swelling", present: []string{"leg_swelling"}, sides: map[string]Laterality{"leg_swelling": LateralityBilateral}},
		{text: "L side weakness", present: []string{"stroke"}, sides: map[string]Laterality{"stroke": LateralityLeft}},
		{text: "s/p fall, hip pain rt", present: []string{"minor_trauma", "limb_pain"}, sides: map[string]Laterality{"limb_pain": LateralityRight}},
		{text: "hx of HTN, c/o HA", present: []string{"hypertension", "headache"}},
		{text: "F/C, C/S", present: []string{"fever", "cough"}},
		{text: "DI, drug intoxication", present: []string{"overdose"}},
		{text: "for PEG tube change", present: []string{"gi_device"}},
	} {
		checkReading(t, tc)
	}
}

// TestReadingClinicalReview: phrasings a clinical review of the vocabulary found read as
// another complaint, or not at all, each with the complaint it means. The first ones were
// misread in a way that hid a high-risk situation (rule B).
func TestReadingClinicalReview(t *testing.T) {
	t.Parallel()
	for _, tc := range []readCase{
		// Carbon monoxide poisoning, not alcohol; charcoal burning is how it is written in
		// departments that see it often.
		{text: "CO intoxication", present: []string{"inhalation"}},
		{text: "CO poisoning", present: []string{"inhalation"}},
		{text: "carbon monoxide intoxication", present: []string{"inhalation"}},
		{text: "charcoal burning", present: []string{"inhalation"}},
		// "co" alone names nothing.
		{text: "co-morbid", unknown: 1},
		// An electrical injury, not a minor one.
		{text: "electric injury", present: []string{"electrical"}},
		// Self-harm, not minor trauma.
		{text: "self-injury", present: []string{"suicidal"}},
		{text: "self inflicted wrist laceration", present: []string{"suicidal", "laceration"}},
		// Herbicide poisoning.
		{text: "glufosinate ingestion", present: []string{"overdose"}},
		// Myocardial infarction written as an abbreviation.
		{text: "AMI", present: []string{"chest_pain_cardiac"}},
		{text: "NSTEMI", present: []string{"chest_pain_cardiac"}},
		// A swallowed foreign body, not an overdose.
		{text: "FB ingestion", present: []string{"throat_foreign_body"}},
		// Choking is an airway complaint until shown otherwise.
		{text: "choking", present: []string{"airway_threat"}},
		{text: "throat swelling", present: []string{"airway_threat"}},
		// Both legs weak is a spinal cord sign, however the words are ordered.
		{text: "weakness of both legs", present: []string{"stroke"}, sides: map[string]Laterality{"stroke": LateralityBilateral}},
		{text: "paralysis", present: []string{"stroke"}},
		{text: "suicide ideation", present: []string{"suicidal"}},
		{text: "no suicide ideation", negated: []string{"suicidal"}},
		{text: "violent", present: []string{"homicidal"}},
		{text: "bradycardia", present: []string{"palpitations"}},
		{text: "PND", present: []string{"dyspnea"}},
		{text: "orthopnea", present: []string{"dyspnea"}},
		{text: "visual field defect", present: []string{"visual_disturbance"}},
		// Heartburn is epigastric, not a burn; referral diagnoses read as abdominal pain.
		{text: "heartburn", present: []string{"abdominal_pain"}},
		{text: "acute pancreatitis", present: []string{"abdominal_pain"}},
		{text: "dyspepsia", present: []string{"abdominal_pain"}},
		{text: "glufosinate", present: []string{"overdose"}},
		{text: "r/o appendicitis", present: []string{"abdominal_pain"}},
		// Shorthand of high-risk situations.
		{text: "M/C", present: []string{"altered_consciousness"}},
		{text: "SDH", present: []string{"headache_high_risk"}},
		{text: "EDH", present: []string{"headache_high_risk"}},
		{text: "PPH", present: []string{"pregnancy_high_risk"}},
		{text: "postpartum bleeding", present: []string{"pregnancy_high_risk"}},
		{text: "decreased FM", present: []string{"pregnancy_high_risk"}},
		{text: "VA decrease", present: []string{"vision_loss"}},
		{text: "gun shot", present: []string{"major_trauma"}},
		{text: "crushing injury", present: []string{"major_trauma"}},
		{text: "gas inhalation", present: []string{"inhalation"}},
		{text: "smoke", present: []string{"inhalation"}},
		// "crushing" qualifies chest pain; it does not make it an injury.
		{text: "crushing chest pain", present: []string{"chest_pain_cardiac"}},
		// Other shorthand.
		{text: "TBI", present: []string{"head_injury"}},
		{text: "AUR", present: []string{"urinary_retention"}},
		{text: "O2 sat drop", present: []string{"dyspnea"}},
		{text: "SpO2 low", present: []string{"dyspnea"}},
		{text: "Hb drop", present: []string{"abnormal_lab"}},
		{text: "ureter stone", present: []string{"flank_pain"}},
		{text: "stitch out", present: []string{"wound_care"}},
		{text: "slip down", present: []string{"minor_trauma"}},
		{text: "general edema", present: []string{"leg_swelling"}},
		{text: "edema", present: []string{"leg_swelling"}},
		{text: "anasarca", present: []string{"leg_swelling"}},
		{text: "face edema", present: []string{"facial_swelling"}},
		{text: "tonic-clonic", present: []string{"seizure"}},
		{text: "chilling", present: []string{"fever"}},
		// Second review (engine 2.1.2): ordinary words that a one-letter correction read as
		// another complaint ("spitting" as "spotting", "skipped" as "slipped"), variants not
		// listed, and shorthand.
		{text: "spitting blood", present: []string{"hemoptysis"}},
		{text: "coughed up blood", present: []string{"hemoptysis"}},
		{text: "skipped beats", present: []string{"palpitations"}},
		{text: "fluttering in chest", present: []string{"palpitations"}},
		{text: "PR bleeding", present: []string{"gi_bleed_lower"}},
		{text: "bleeding per rectum", present: []string{"gi_bleed_lower"}},
		{text: "hypertensive urgency", present: []string{"hypertension"}},
		{text: "hypotensive", present: []string{"hypotension"}},
		{text: "seized", present: []string{"seizure"}},
		{text: "convulsing", present: []string{"seizure"}},
		{text: "not responsive", present: []string{"altered_consciousness"}},
		{text: "non-responsive", present: []string{"altered_consciousness"}},
		{text: "somnolent", present: []string{"altered_consciousness"}},
		{text: "hallucinating", present: []string{"psychosis"}},
		{text: "face drooping", present: []string{"stroke"}},
		{text: "shivering", present: []string{"fever"}},
		{text: "nauseous", present: []string{"nausea_vomiting"}},
		{text: "swallowed battery", present: []string{"throat_foreign_body"}},
		// Life-threatening situations written in plain words, and contractions: an apostrophe
		// between letters is part of the word ("can't" is "cant", which is "cannot"; "isn't"
		// is "not").
		{text: "stopped breathing", present: []string{"cardiac_arrest"}},
		{text: "isn't breathing", present: []string{"cardiac_arrest"}},
		{text: "no pulse", present: []string{"cardiac_arrest"}},
		{text: "apnoeic", present: []string{"cardiac_arrest"}},
		// A pulse missing in a limb is a limb's, not an arrest.
		{text: "no pulse in left foot", present: []string{"limb_ischemia"}, sides: map[string]Laterality{"limb_ischemia": LateralityLeft}},
		{text: "no pedal pulse", present: []string{"limb_ischemia"}},
		{text: "can't breathe", present: []string{"dyspnea"}},
		{text: "can\u2019t breathe", present: []string{"dyspnea"}},
		{text: "cant breathe", present: []string{"dyspnea"}},
		{text: "won't wake up", present: []string{"altered_consciousness"}},
		{text: "hard to wake", present: []string{"altered_consciousness"}},
		{text: "doesn't respond", present: []string{"altered_consciousness"}},
		{text: "turning blue", present: []string{"dyspnea_sudden"}},
		{text: "cyanosis", present: []string{"dyspnea_sudden"}},
		{text: "gasping", present: []string{"dyspnea_sudden"}},
		{text: "choked on food", present: []string{"airway_threat"}},
		{text: "can't speak", present: []string{"stroke"}},
		{text: "jumped from building", present: []string{"major_trauma"}},
		{text: "impaled", present: []string{"major_trauma"}},
		{text: "bleeding heavily", present: []string{"major_bleeding"}},
		{text: "didn't faint", negated: []string{"syncope"}},
		// A contraction not directly before the complaint negates nothing (errs to urgent).
		{text: "can't stop vomiting", present: []string{"nausea_vomiting"}},
		{text: "patient's chest pain", present: []string{"chest_pain_cardiac"}},
		// Fractures named without a site, by their bone, or where they are high-risk.
		{text: "Fx", present: []string{"minor_trauma"}},
		{text: "Lt. femur fx", present: []string{"lower_limb_injury"}, sides: map[string]Laterality{"lower_limb_injury": LateralityLeft}},
		{text: "humerus fracture", present: []string{"upper_limb_injury"}},
		{text: "pelvic fracture", present: []string{"major_trauma"}},
		{text: "compression fracture", present: []string{"back_injury"}},
		{text: "ST elevation", present: []string{"chest_pain_cardiac"}},
		{text: "not able to walk", present: []string{"gait"}},
		{text: "can't bear weight", present: []string{"lower_limb_injury"}},
		// Ordinary words the corrector turned into another complaint ("drank" into "drunk",
		// "child" into "chill").
		{text: "drank bleach", present: []string{"overdose"}},
		{text: "child abuse", present: []string{"minor_trauma"}},
		{text: "wants to kill himself", present: []string{"suicidal"}},
		{text: "house fire", present: []string{"inhalation"}},
		// "afebrile" is without fever, not a misspelt "febrile".
		{text: "afebrile", negated: []string{"fever"}},
		{text: "afebrile, cough", present: []string{"cough"}, negated: []string{"fever"}},
	} {
		checkReading(t, tc)
	}
}

func TestReadingTyposAndCompounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []readCase{
		{text: "rigth side weakness", present: []string{"stroke"}, sides: map[string]Laterality{"stroke": LateralityRight}, corrected: 1},
		{text: "sezure like motion", present: []string{"seizure"}, unknown: 1, corrected: 1},
		{text: "vomitting", present: []string{"nausea_vomiting"}, corrected: 1},
		{text: "abdominl pain", present: []string{"abdominal_pain"}, corrected: 1},
		{text: "chset pain", present: []string{"chest_pain_cardiac"}, corrected: 1},
		{text: "sorethroat", present: []string{"sore_throat"}, corrected: 1},
		// Short words are not corrected ("pian" is not "pain"): errs to unknown.
		{text: "pian", unknown: 1},
		// A misspelling of a listed variant is corrected to its word, as one of the word.
		{text: "unconsious", present: []string{"altered_consciousness"}, corrected: 1},
		{text: "stomache ache", present: []string{"abdominal_pain"}, corrected: 1},
		{text: "bellly pain", present: []string{"abdominal_pain"}, corrected: 1},
		{text: "haematemsis", present: []string{"gi_bleed_upper"}, corrected: 1},
		{text: "faintted", present: []string{"syncope"}, corrected: 1},
		// Two words within one edit: not corrected, read as unknown (blood or bloody).
		{text: "bloodd", unknown: 1},
	} {
		checkReading(t, tc)
	}
}

// TestReadingVariantsEverywhere: a variant the lexicon lists (stem) is read as its word
// wherever it is written, also where a vocabulary term uses the variant itself.
func TestReadingVariantsEverywhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []readCase{
		{text: "vomit", present: []string{"nausea_vomiting"}},
		{text: "coughing", present: []string{"cough"}},
		{text: "chills", present: []string{"fever"}},
		{text: "burns", present: []string{"burn"}},
		{text: "lethargic", present: []string{"altered_consciousness"}},
		{text: "itchy", present: []string{"rash"}},
		{text: "suicide", present: []string{"suicidal"}},
		{text: "seizing", present: []string{"seizure"}},
		{text: "actively seizing", present: []string{"seizure_active"}},
		{text: "dental pain", present: []string{"dental"}},
	} {
		checkReading(t, tc)
	}
	v := vocab()
	for key, id := range v.stem {
		if w, ok := v.ids[key]; ok && w != id {
			t.Errorf("the variant %q is also a word of its own: the lexicon's stem to %q is never read", key, v.words[id])
		}
	}
}

// TestMisspellingsWithinOneEdit checks the correction of every misspelling within one edit
// of every spelling the vocabulary knows (its words and the lexicon's variants) against a
// direct enumeration of the edits: a misspelling is corrected to the one word it is one edit
// from, and to none when it is one edit from two words or is an ordinary English word
// (data/plainwords.txt).
func TestMisspellingsWithinOneEdit(t *testing.T) {
	t.Parallel()
	v := vocab()
	type spell struct {
		text string
		id   uint16
	}
	var spellings []spell
	for id := 1; id < len(v.words); id++ {
		spellings = append(spellings, spell{v.words[id], uint16(id)})
	}
	for key, id := range v.stem {
		spellings = append(spellings, spell{key, id})
	}
	// Every one-edit misspelling, with the word it comes from (ambiguousWord from several).
	from := map[string]uint16{}
	for _, sp := range spellings {
		w := sp.text
		note := func(m string) {
			if len(m) < minTypoLen || m == w {
				return
			}
			if prev, ok := from[m]; ok && prev != sp.id {
				from[m] = ambiguousWord
				return
			}
			from[m] = sp.id
		}
		for i := 0; i <= len(w); i++ {
			if i < len(w) {
				note(w[:i] + w[i+1:]) // a letter missing
				if i+1 < len(w) {
					note(w[:i] + w[i+1:i+2] + w[i:i+1] + w[i+2:]) // neighbours swapped
				}
			}
			for c := byte('a'); c <= 'z'; c++ {
				note(w[:i] + string(c) + w[i:]) // a letter added
				if i < len(w) {
					note(w[:i] + string(c) + w[i+1:]) // a letter changed
				}
			}
		}
	}
	checked, corrected, ambiguous, kept := 0, 0, 0, 0
	for m, want := range from {
		if _, ok := v.known([]byte(m)); ok || v.stop[m] {
			continue // a word of its own, read as written
		}
		if _, ok := v.abbr[m]; ok {
			continue
		}
		switch {
		case v.plain[m]: // an ordinary word is kept as written
			want = 0
			kept++
		case want == ambiguousWord:
			want = 0
			ambiguous++
		}
		checked++
		got := v.correct([]byte(m))
		if got != want {
			t.Errorf("%q corrected to %q, want %q", m, v.words[got], v.words[want])
		}
		if got != 0 {
			corrected++
		}
	}
	if checked < 100000 {
		t.Fatalf("only %d misspellings checked", checked)
	}
	t.Logf("%d misspellings checked: %d corrected to their one word, %d within one edit of two words, %d ordinary words kept as written",
		checked, corrected, ambiguous, kept)
}

func TestReadingNegationInversionAndSpecificity(t *testing.T) {
	t.Parallel()
	for _, tc := range []readCase{
		{text: "no chest pain", negated: []string{"chest_pain_cardiac"}},
		{text: "denies SOB", negated: []string{"dyspnea"}},
		{text: "denies any chest pain", negated: []string{"chest_pain_cardiac"}},
		{text: "chest pain, no fever", present: []string{"chest_pain_cardiac"}, negated: []string{"fever"}},
		{text: "negative for fever", negated: []string{"fever"}},
		// Only the simplest negation: anything between the cue and the term keeps it present.
		{text: "no relief from chest pain", present: []string{"chest_pain_cardiac"}, unknown: 1},
		{text: "fever. no cough", present: []string{"fever"}, negated: []string{"cough"}},
		// A negation mark in brackets right after the term, as nurses chart findings.
		{text: "LOC (-)", negated: []string{"syncope"}},
		{text: "head trauma, LOC(-)", present: []string{"head_injury"}, negated: []string{"syncope"}},
		{text: "fever( NEG ), cough", present: []string{"cough"}, negated: []string{"fever"}},
		{text: "seizure (-ve) headache", present: []string{"headache"}, negated: []string{"seizure"}},
		{text: "chest pain (\u2212), dyspnea", present: []string{"dyspnea"}, negated: []string{"chest_pain_cardiac"}},
		{text: "SI (-) HI(-) depression", present: []string{"depression"}, negated: []string{"suicidal", "homicidal"}},
		// Any other bracket annotates; a mark after a comma or a full stop negates nothing.
		{text: "head trauma, LOC (+)", present: []string{"head_injury", "syncope"}},
		{text: "fever (- -)", present: []string{"fever"}, unknown: 0},
		{text: "fever, (-)", present: []string{"fever"}},
		{text: "fever. (-) cough", present: []string{"fever", "cough"}},
		{text: "(-) cough", present: []string{"cough"}},
		// A term both negated and present is present.
		{text: "no fever yesterday, fever today", present: []string{"fever"}, unknown: 2},
		// The inverted form nurses use.
		{text: "pain, chest", present: []string{"chest_pain_cardiac"}},
		{text: "injury, finger", present: []string{"upper_limb_injury"}},
		{text: "leg pain, lt.", present: []string{"limb_pain"}, sides: map[string]Laterality{"limb_pain": LateralityLeft}},
		{text: "pain in the chest", present: []string{"chest_pain_cardiac"}},
		// A parenthesis annotates what it follows, as a comma does.
		{text: "Dyspnea (sudden)", present: []string{"dyspnea_sudden"}},
		{text: "weakness (Rt. side)", present: []string{"stroke"}, sides: map[string]Laterality{"stroke": LateralityRight}},
		{text: "fever (no cough)", present: []string{"fever"}, negated: []string{"cough"}},
		// A comma between full phrases keeps them apart.
		{text: "general weakness, left leg pain", present: []string{"general_weakness", "limb_pain"}, sides: map[string]Laterality{"limb_pain": LateralityLeft}},
		// The longest phrase wins over the phrases it contains.
		{text: "chest wall pain left", present: []string{"chest_pain_noncardiac"}, sides: map[string]Laterality{"chest_pain_noncardiac": LateralityLeft}},
		// Whole words only: "vomiting" does not contain "mi" (myocardial infarction).
		{text: "vomiting", present: []string{"nausea_vomiting"}},
	} {
		checkReading(t, tc)
	}
}

// TestReadingGestationalAge: a gestational age of 20 weeks or more is read in every way it
// is written; a smaller number of weeks, or weeks that cannot be a pregnancy's, is not.
func TestReadingGestationalAge(t *testing.T) {
	t.Parallel()
	late := []string{"pregnancy_late"}
	for _, tc := range []readCase{
		{text: "pregnant 32 weeks", present: late},
		{text: "32 weeks pregnant", present: late},
		{text: "Pregnant at 20 wks", present: late},
		{text: "IUP 30wks", present: late},
		{text: "pregnancy (28 Wk)", present: late},
		{text: "pregnant 44w", present: late},
		{text: "GA 36", present: late},
		{text: "GA 34+2 weeks", present: late},
		// Obstetric notation is written only for a pregnancy.
		{text: "34+2", present: late},
		{text: "34+2wks", present: late},
		{text: "32/40", present: late},
		{text: "third trimester", present: late},
		// Under 20 weeks, the pregnancy is read as before and the number is not.
		{text: "pregnant 12 weeks", present: []string{"pregnancy_early"}, unknown: 2},
		{text: "pregnant 19+6", present: []string{"pregnancy_early"}, unknown: 2},
		// More than 44 weeks, three digits, a day count or "w/o" (without) are not a gestation.
		{text: "pregnant 45 weeks", present: []string{"pregnancy_early"}, unknown: 2},
		{text: "pregnant 120 weeks", present: []string{"pregnancy_early"}, unknown: 2},
		{text: "pregnant 34+7", present: []string{"pregnancy_early"}, unknown: 2},
		{text: "pregnant 32/41", present: []string{"pregnancy_early"}, unknown: 2},
		{text: "fever 30 w/o cough", present: []string{"fever"}, negated: []string{"cough"}, unknown: 1},
		// "20/40" is also a visual acuity.
		{text: "blurred vision, VA 20/40", present: []string{"visual_disturbance"}, unknown: 2},
		// Weeks with no pregnancy named read as no complaint.
		{text: "cough 25 weeks", present: []string{"cough"}},
		{text: "cough for 3 weeks", present: []string{"cough"}, unknown: 2},
	} {
		checkReading(t, tc)
	}
	// Vaginal bleeding in a pregnancy of 20 weeks or more is a high-risk situation, written
	// together or apart; earlier in pregnancy it is not.
	for _, tc := range []struct {
		text  string
		level Level
		point DecisionPoint
	}{
		{"pregnant 32 weeks, vaginal bleeding", Level2, PointB},
		{"32/40 PV bleeding", Level2, PointB},
		{"vaginal spotting. IUP 28wks", Level2, PointB},
		{"pregnant 12 weeks, vaginal bleeding", Level3, PointD},
		{"pregnant 32 weeks", Level3, PointD},
		{"vaginal bleeding", Level3, PointD},
	} {
		a := AssessWith(with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources = tc.text, "", nil
		}), nil)
		if a.RulesLevel != tc.level || a.DecisionPoint != tc.point {
			t.Errorf("%q: rules level %d at %s, want %d at %s (%q)", tc.text, a.RulesLevel, a.DecisionPoint, tc.level, tc.point, a.Reasons.Strings())
		}
		if tc.point == PointB && !strings.Contains(strings.Join(a.Reasons.Strings(), "\n"),
			"B: Vaginal bleeding, Pregnancy problem (20 weeks or more) written together") {
			t.Errorf("%q: reasons %q", tc.text, a.Reasons.Strings())
		}
	}
}

// TestReadingPluralsAndPrepositions: a plural reads as its singular wherever it is written,
// and a phrase written with a preposition reads as the phrase, not as a milder complaint.
func TestReadingPluralsAndPrepositions(t *testing.T) {
	t.Parallel()
	for _, tc := range []readCase{
		{text: "blood in stools", present: []string{"gi_bleed_lower"}},
		{text: "bleeding from rectum", present: []string{"gi_bleed_lower"}},
		{text: "blood from the rectum", present: []string{"gi_bleed_lower"}},
		{text: "bleeding per vagina", present: []string{"vaginal_bleeding"}},
		{text: "swelling of lips", present: []string{"airway_threat", "facial_swelling"}},
		{text: "loss of speech", present: []string{"stroke"}},
		{text: "knocked down by car", present: []string{"major_trauma"}},
		{text: "run over", present: []string{"major_trauma"}},
		{text: "fitting at home", present: []string{"seizure"}, unknown: 1},
		{text: "heavy periods", present: []string{"vaginal_bleeding"}},
		{text: "pain between shoulder blades", present: []string{"back_pain"}, unknown: 1},
		{text: "scapula pain", present: []string{"back_pain"}},
		// Major bleeding, high-risk mechanisms and paralysis written as people say them.
		{text: "arterial bleed", present: []string{"major_bleeding"}},
		{text: "spurting blood", present: []string{"major_bleeding"}},
		{text: "bleeding profusely", present: []string{"major_bleeding"}},
		{text: "nose bleed not stopping", present: []string{"epistaxis", "major_bleeding"}},
		{text: "motorbike accident", present: []string{"major_trauma"}},
		{text: "RTA", present: []string{"major_trauma"}},
		{text: "pedestrian vs car", present: []string{"major_trauma"}, unknown: 1},
		{text: "head on collision", present: []string{"major_trauma"}},
		{text: "jumped from bridge", present: []string{"major_trauma"}},
		{text: "can't move legs", present: []string{"stroke"}},
		{text: "post ictal", present: []string{"seizure"}},
		{text: "loss of bladder control with back pain", present: []string{"incontinence", "back_pain"}},
		{text: "unable to pass urine", present: []string{"urinary_retention"}},
		{text: "weakness both legs", present: []string{"stroke"}, sides: map[string]Laterality{"stroke": LateralityBilateral}},
	} {
		checkReading(t, tc)
	}
	// No vocabulary word is the plural of another: it would be read apart from it.
	v := vocab()
	for _, w := range v.words {
		if n := len(w); n > 3 && w[n-1] == 's' {
			if _, ok := v.ids[w[:n-1]]; ok {
				t.Errorf("%q and %q are both vocabulary words: list the plural as a variant (stem)", w, w[:n-1])
			}
		}
	}
}

func TestReadingUnknownText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text   string
		status ComplaintStatus
		words  int
	}{
		{"", ComplaintEmpty, 0},
		{"   ", ComplaintEmpty, 0},
		{"??", ComplaintEmpty, 0},
		{"zzz qqq", ComplaintNotRecognised, 2},
		{"두통", ComplaintNotRecognised, 1},
		{"headache", ComplaintRecognised, 1},
	} {
		cr := readComplaint(tc.text)
		s := summarize(&cr, tc.text)
		if s.Status != tc.status || s.Words != tc.words {
			t.Errorf("%q: status %s, %d words; want %s, %d", tc.text, s.Status, s.Words, tc.status, tc.words)
		}
	}
	// A complaint the engine cannot read keeps the patient at level 3 or more urgent until
	// a nurse reads it, and says so.
	a := AssessWith(with(normalAdult(), func(in *Input) { in.ChiefComplaint, in.ComplaintCategory = "zzz qqq", "" }), nil)
	if a.Level > Level3 || !a.Missing.Has(FieldChiefComplaint) || !a.Provisional {
		t.Errorf("unread complaint: level %d, missing %v", a.Level, a.Missing.Slice())
	}
}

func TestReadingLongComplaint(t *testing.T) {
	t.Parallel()
	// A high-risk term at the end of a long complaint is still found.
	text := strings.Repeat("patient feels generally unwell and tired ", 24) + "now crushing chest pain"
	cr := readComplaint(text)
	if c, _ := LookupComplaint("chest_pain_cardiac"); !cr.present.has(vocab().byCode[c.Code]) {
		t.Errorf("chest pain at the end of %d characters not found", len(text))
	}
}

// TestVocabularyRowsAreChecked: a malformed row of either file is refused with its row.
func TestVocabularyRowsAreChecked(t *testing.T) {
	t.Parallel()
	lex, _ := fs.ReadFile(dataFiles, lexiconFile)
	comp, _ := fs.ReadFile(dataFiles, complaintsFile)
	for _, tc := range []struct {
		name      string
		lex, comp string
		want      string
	}{
		{"unknown resource", string(lex), string(comp) + "x_bad,general,Bad,,,,xray,,bad thing\n", `"xray" is not an ESI resource type`},
		{"unknown rule", string(lex), string(comp) + "x_bad,general,Bad,C,something,,,,bad thing\n", "rule \"C\""},
		{"rule without situation", string(lex), string(comp) + "x_bad,general,Bad,B,,,,,bad thing\n", "a situation is named exactly when there is a rule"},
		{"unknown class", string(lex), string(comp) + "x_bad,general,Bad,,,,,,{nope} pain\n", "unknown class {nope}"},
		{"duplicate id", string(lex), string(comp) + "fever,general,Again,,,,,,again\n", `id "fever" listed twice`},
		{"wrong column count", string(lex), string(comp) + "x_bad,general\n", "want 9 columns"},
		{"bad site", string(lex), string(comp) + "x_bad,general,Bad,,,inside,,,bad thing\n", `site "inside"`},
		{"uppercase word", string(lex), string(comp) + "x_bad,general,Bad,,,,,,Bad Thing\n", "lowercase ASCII word"},
		{"unknown lexicon kind", string(lex) + "synonym,a,b\n", string(comp), `unknown kind "synonym"`},
		{"bad laterality", string(lex) + "laterality,upper,up\n", string(comp), `laterality "up"`},
		{"bad negation mark", string(lex) + "negation-after,(-),\n", string(comp), `negation mark "(-)"`},
		{"negation mark with a value", string(lex) + "negation-after,nil,none\n", string(comp), `negation mark "nil"`},
		{"abbreviation twice", string(lex) + "abbr,abd,abdomen\n", string(comp), `abbreviation "abd" listed twice`},
		{"variant twice", string(lex) + "stem,belly,stomach\n", string(comp), `stem "belly" listed twice`},
		{"variant of a variant", string(lex) + "stem,bellies,belly\n", string(comp), `"belly" is itself a variant`},
		{"bad modifier", string(lex), string(comp) + "x_bad,general,Bad,,,,,age>65:3,bad thing\n", `raise "age>65:3"`},
		{"modifier with an unknown complaint", string(lex), string(comp) + "x_bad,general,Bad,,,,,with=nothing:2,bad thing\n", "raise with=nothing: not another complaint"},
		{"modifier with itself", string(lex), string(comp) + "x_bad,general,Bad,,,,,with=x_bad:2,bad thing\n", "raise with=x_bad: not another complaint"},
		{"modifier with no id", string(lex), string(comp) + "x_bad,general,Bad,,,,,with=:2,bad thing\n", "with= names a complaint id"},
		{"gestation twice", string(lex) + "gestation,24,late gestation\n", string(comp), `gestation "24": want one row`},
		{"gestation beyond 44 weeks", strings.Replace(string(lex), "gestation,20,", "gestation,45,", 1), string(comp), `gestation "45": want one row`},
		{"gestation read as nothing", strings.Replace(string(lex), "gestation,20,late gestation", "gestation,20,", 1), string(comp), `gestation "20" must read as 1 to`},
		{"modifier level 4", string(lex), string(comp) + "x_bad,general,Bad,,,,,age>=65:4,bad thing\n", "the level must be 2 or 3"},
		{"missing fever", string(lex), strings.Replace(string(comp), "\nfever,", "\nfeverx,", 1), `complaint "fever" is missing`},
		{"missing immunocompromised", string(lex), strings.Replace(string(comp), "\nimmunocompromised,", "\nimmunocompromisedx,", 1), `complaint "immunocompromised" is missing`},
	} {
		_, err := loadVocabulary(fstest.MapFS{
			lexiconFile:    {Data: []byte(tc.lex)},
			complaintsFile: {Data: []byte(tc.comp)},
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := loadVocabulary(fstest.MapFS{}); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing files: %v", err)
	}
}

// TestComplaintModifiers: a complaint's modifier keeps the patient from levels 4-5 when its
// condition holds (an unknown age holds), and only then.
func TestComplaintModifiers(t *testing.T) {
	t.Parallel()
	base := func(age *int, complaint string) Input {
		return with(normalAdult(), func(in *Input) {
			in.AgeYears, in.ChiefComplaint, in.ComplaintCategory, in.PainScore = age, complaint, "", ip(2)
			in.ExpectedResources = rs() // no resources: ESI 5 before the modifier
		})
	}
	for _, tc := range []struct {
		name  string
		in    Input
		level Level
		point DecisionPoint
		text  string
	}{
		{"abdominal pain at 72", base(ip(72), "abd pain"), 3, PointM, "M: Abdominal pain with age 72 >= 65: at least level 3"},
		{"abdominal pain at 40", base(ip(40), "abd pain"), 5, PointC, ""},
		{"syncope at 81", base(ip(81), "syncope"), 3, PointM, "M: Syncope / pre-syncope with age 81 >= 65: at least level 3"},
		{"headache at 55", base(ip(55), "headache"), 3, PointM, "M: Headache with age 55 >= 50: at least level 3"},
		{"headache at 30", base(ip(30), "headache"), 5, PointC, ""},
		// Back pain with urinary retention or incontinence: suspected cauda equina syndrome.
		{"back pain with retention", base(ip(40), "low back pain, unable to void"), 2, PointB, "B: Urinary retention, Back pain written together"},
		{"back pain with incontinence", base(ip(40), "LBP and incontinence"), 2, PointB, "B: Urinary or bowel incontinence, Back pain written together"},
		{"back pain alone", base(ip(40), "low back pain"), 5, PointC, ""},
	} {
		a := AssessWith(tc.in, nil)
		if a.Level != tc.level || a.DecisionPoint != tc.point {
			t.Errorf("%s: level %d at %s, want %d at %s (%q)", tc.name, a.Level, a.DecisionPoint, tc.level, tc.point, a.Reasons.Strings())
			continue
		}
		if tc.text != "" && !strings.Contains(strings.Join(a.Reasons.Strings(), "\n"), tc.text) {
			t.Errorf("%s: reasons %q, want %q", tc.name, a.Reasons.Strings(), tc.text)
		}
	}
}

func TestYearsFromDays(t *testing.T) {
	t.Parallel()
	for y := range 121 {
		if got := yearsFromDays(daysFromYears(y)); got != y {
			t.Errorf("yearsFromDays(daysFromYears(%d)) = %d", y, got)
		}
		if y > 0 {
			if got := yearsFromDays(daysFromYears(y) - 1); got != y-1 {
				t.Errorf("a day before %d years: %d", y, got)
			}
		}
	}
}
