package main

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/medi-os/medi/scripts/acibench"
	"github.com/medi-os/medi/shared/clinical"
	"github.com/medi-os/medi/shared/notedraft"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/transcript"
)

// Misses, when set, receives what the measures missed (the -misses flag).
var Misses func(encounter, what, detail string)

func miss(e acibench.Encounter, what, format string, a ...any) {
	if Misses != nil {
		Misses(e.ID, what, fmt.Sprintf(format, a...))
	}
}

// Ratio is a count of hits out of a total.
type Ratio struct{ Hit, Total int }

// Pct is the ratio in per cent (100 when there is nothing to count).
func (r Ratio) Pct() float64 {
	if r.Total == 0 {
		return 100
	}
	return 100 * float64(r.Hit) / float64(r.Total)
}

func (r Ratio) String() string { return fmt.Sprintf("%5.1f %% (%d/%d)", r.Pct(), r.Hit, r.Total) }

func (r *Ratio) add(o Ratio) { r.Hit += o.Hit; r.Total += o.Total }

// Report is what the evaluation measures on one split.
type Report struct {
	Split      string
	Encounters int
	// Whole-note and per-division ROUGE of the drafts, means over encounters; Paste is
	// the whole-note ROUGE of pasting the transcript itself.
	Note, Paste Rouge
	Division    map[string]Rouge
	// Notes with a non-empty assessment.
	AssessmentNonEmpty Ratio
	// Fact recall against the reference (rules in docs/performance.md).
	Medications, Doses, Vitals, Diagnoses Ratio
	// Wrong facts: stopped drugs listed as current, allergies listed as medications,
	// temperatures written with a unit their value rules out.
	StoppedAsCurrent, AllergyAsMedication, WrongUnit int
	// Sentences whose spans lie inside the cited segments and quote them.
	SpansValid Ratio
	// Grounding check: perturbed reference sentences flagged, unperturbed ones flagged.
	Perturbed       Ratio
	PerturbedByKind map[string]*Ratio
	FalseFlags      Ratio
	// Speaker roles inferred right: unlabelled text (per utterance), diarized labels
	// (per speaker).
	RolesUnlabelled, RolesDiarized Ratio
	SentencesPerNote               float64
	WordsPerNote                   float64
	UnsupportedSentence            Ratio
}

// Evaluate drafts every encounter with the deterministic builder and measures it.
// models, when not nil, gives the section classifier of each encounter (cross-
// validation); otherwise the committed one drafts.
func Evaluate(split string, encs []acibench.Encounter, models []*notedraft.Classifier) (Report, error) {
	rep := Report{Split: split, Encounters: len(encs), Division: map[string]Rouge{}, PerturbedByKind: map[string]*Ratio{}}
	divSum := map[string]Rouge{}
	for ei, e := range encs {
		var b notedraft.Builder
		if models != nil {
			b.Classifier = models[ei]
		}
		t, err := e.Transcript()
		if err != nil {
			return Report{}, fmt.Errorf("%s: %w", e.ID, err)
		}
		c, err := b.Build(t, notedraft.Patient{Sex: e.Gender})
		if err != nil {
			return Report{}, fmt.Errorf("%s: %w", e.ID, err)
		}
		text := c.Text()
		addRouge(&rep.Note, RougeOf(text, e.Note))
		addRouge(&rep.Paste, RougeOf(pasteText(t), e.Note))
		for _, d := range acibench.Divisions {
			r := divSum[d]
			addRouge(&r, RougeOf(DivisionText(c, d), e.Division[d]))
			divSum[d] = r
		}
		if len(c.Assessment) > 0 {
			rep.AssessmentNonEmpty.Hit++
		}
		rep.AssessmentNonEmpty.Total++
		ss := t.Sentences()
		rep.Medications.add(medicationRecall(e, ss, text))
		rep.Doses.add(doseRecall(e, ss, c))
		rep.Vitals.add(vitalRecall(e, ss, text))
		rep.Diagnoses.add(diagnosisRecall(e, ss, c))
		rep.StoppedAsCurrent += stoppedAsCurrent(e, ss, c)
		rep.AllergyAsMedication += allergyAsMedication(ss, c)
		rep.WrongUnit += wrongUnits(text)
		rep.SpansValid.add(spansValid(t, c))
		total, _ := c.SentenceCount()
		rep.SentencesPerNote += float64(total)
		rep.WordsPerNote += float64(len(Tokens(text)))
		gp, gf := groundingEval(e, t)
		rep.Perturbed.add(gp.all)
		for k, r := range gp.byKind {
			if rep.PerturbedByKind[k] == nil {
				rep.PerturbedByKind[k] = &Ratio{}
			}
			rep.PerturbedByKind[k].add(*r)
		}
		rep.FalseFlags.add(gf)
		rep.UnsupportedSentence.add(unsupportedSentences(c))
		rep.RolesUnlabelled.add(roleAccuracy(e, false))
		rep.RolesDiarized.add(roleAccuracy(e, true))
	}
	n := float64(len(encs))
	scale(&rep.Note, n)
	scale(&rep.Paste, n)
	for d, r := range divSum {
		scale(&r, n)
		rep.Division[d] = r
	}
	rep.SentencesPerNote /= n
	rep.WordsPerNote /= n
	return rep, nil
}

func addRouge(dst *Rouge, r Rouge) { dst.R1 += r.R1; dst.R2 += r.R2; dst.RL += r.RL }
func scale(r *Rouge, n float64)    { r.R1 /= n; r.R2 /= n; r.RL /= n }

func pasteText(t transcript.Transcript) string {
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteString(s.Text)
		b.WriteString("\n")
	}
	return b.String()
}

// DivisionText is the part of a draft that corresponds to a reference division:
// subjective; objective without results; results; assessment and plan.
func DivisionText(c notes.Content, division string) string {
	pick := func(ss []notes.Sentence, keep func(notes.Sentence) bool) notes.Content {
		var out []notes.Sentence
		for _, s := range ss {
			if keep(s) {
				out = append(out, s)
			}
		}
		return notes.Content{Subjective: out}
	}
	all := func(notes.Sentence) bool { return true }
	switch division {
	case "subjective":
		return pick(c.Subjective, all).Text()
	case "objective_exam":
		return pick(c.Objective, func(s notes.Sentence) bool { return s.Heading != notedraft.HeadingResults }).Text()
	case "objective_results":
		return pick(c.Objective, func(s notes.Sentence) bool { return s.Heading == notedraft.HeadingResults }).Text()
	case "assessment_and_plan":
		return notes.Content{Assessment: c.Assessment, Plan: c.Plan}.Text()
	}
	return ""
}

// generics returns the generic names of the drugs named in text.
func generics(text string) []string {
	var out []string
	for _, m := range clinical.Drugs().FindAll(transcript.Tokenize(text)) {
		if !slices.Contains(out, m.Value.Generic) {
			out = append(out, m.Value.Generic)
		}
	}
	return out
}

func dialogueText(ss []transcript.Sentence) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Text)
		b.WriteString("\n")
	}
	return b.String()
}

// medicationRecall: the drugs (by generic name) the reference note names that the
// conversation names too; a hit when the draft names them.
func medicationRecall(e acibench.Encounter, ss []transcript.Sentence, draft string) Ratio {
	said := generics(dialogueText(ss))
	have := generics(draft)
	var r Ratio
	for _, g := range generics(e.Note) {
		if !slices.Contains(said, g) {
			continue
		}
		r.Total++
		if slices.Contains(have, g) {
			r.Hit++
		} else {
			miss(e, "medication", "%s", g)
		}
	}
	return r
}

var doseUnitRE = `(mg|milligrams?|mcg|micrograms?|units?|ml|g|grams?)\b`

// doseRecall: each drug of the reference note followed within four words by an amount
// and a unit whose amount the conversation says (digits or words); a hit when a draft
// sentence names that drug with that amount.
func doseRecall(e acibench.Encounter, ss []transcript.Sentence, c notes.Content) Ratio {
	saidNums := map[float64]bool{}
	for _, s := range ss {
		for _, n := range clinical.Numbers(s.Tokens) {
			saidNums[n.Value] = true
		}
	}
	var sentences []string
	for _, sec := range c.Sections() {
		for _, s := range *sec.Sentences {
			sentences = append(sentences, s.Text)
		}
	}
	var r Ratio
	seen := map[string]bool{}
	for _, ref := range splitReference(e.Note) {
		for _, d := range drugDoses(ref) {
			key := d.generic + "@" + clinical.FormatNumber(d.value)
			if seen[key] || !saidNums[d.value] {
				continue
			}
			seen[key] = true
			r.Total++
			hit := false
			for _, s := range sentences {
				if slices.Contains(generics(s), d.generic) && hasDose(s, d.value) {
					hit = true
					break
				}
			}
			if hit {
				r.Hit++
			} else {
				miss(e, "dose", "%s %s", d.generic, clinical.FormatNumber(d.value))
			}
		}
	}
	return r
}

type drugDose struct {
	generic string
	value   float64
}

var amountRE = regexp.MustCompile(`(?i)^\s*(?:\w+\s+){0,3}?(\d+(?:\.\d+)?)\s*` + doseUnitRE)

// drugDoses finds "lisinopril 40 mg", "metformin 1000 mg" in a sentence: an amount and
// unit within four words after the drug, before any other drug.
func drugDoses(s string) []drugDose {
	var out []drugDose
	ts := transcript.Tokenize(s)
	rs := []rune(s)
	ms := clinical.Drugs().FindAll(ts)
	for k, m := range ms {
		after := string(rs[ts[m.End-1].End:])
		if k+1 < len(ms) {
			after = string(rs[ts[m.End-1].End:ts[ms[k+1].Start].Start]) // up to the next drug
		}
		if g := amountRE.FindStringSubmatch(strings.ReplaceAll(after, ",", "")); g != nil {
			v, _ := strconv.ParseFloat(g[1], 64)
			out = append(out, drugDose{m.Value.Generic, v})
		}
	}
	return out
}

func hasDose(s string, v float64) bool {
	for _, m := range regexp.MustCompile(`(\d+(?:\.\d+)?)\s*`+doseUnitRE).FindAllStringSubmatch(strings.ToLower(s), -1) {
		if x, _ := strconv.ParseFloat(m[1], 64); x == v {
			return true
		}
	}
	return false
}

func splitReference(note string) []string {
	return regexp.MustCompile(`[.\n]\s+`).Split(note, -1)
}

// referenceVital is a vital sign of the reference note.
type referenceVital struct {
	kind   string
	value  float64
	value2 float64
}

var refVitalPatterns = []struct {
	kind string
	re   *regexp.Regexp
}{
	{clinical.VitalBloodPressure, regexp.MustCompile(`(?i)(?:blood pressure|\bbp\b)[^0-9.\n]{0,40}?(\d{2,3})\s*/\s*(\d{2,3})`)},
	{clinical.VitalTemperature, regexp.MustCompile(`(?i)(?:temperature|\btemp\b)[^0-9.\n]{0,40}?(\d{2,3}(?:\.\d)?)`)},
	{clinical.VitalHeartRate, regexp.MustCompile(`(?i)(?:heart rate|pulse\b[^o]|\bhr\b)[^0-9.\n]{0,40}?(\d{2,3})\b`)},
	{clinical.VitalRespRate, regexp.MustCompile(`(?i)(?:respiratory rate|respirations|\brr\b)[^0-9.\n]{0,40}?(\d{1,2})\b`)},
	{clinical.VitalSpO2, regexp.MustCompile(`(?i)(?:oxygen saturation|o2 sat\w*|spo2|pulse ox\w*|saturating)[^0-9.\n]{0,40}?(\d{2,3})\s*%`)},
}

func referenceVitals(text string) []referenceVital {
	var out []referenceVital
	for _, p := range refVitalPatterns {
		for _, m := range p.re.FindAllStringSubmatch(text, -1) {
			v := referenceVital{kind: p.kind}
			v.value, _ = strconv.ParseFloat(m[1], 64)
			if len(m) > 2 {
				v.value2, _ = strconv.ParseFloat(m[2], 64)
			}
			out = append(out, v)
		}
	}
	return out
}

// vitalRecall: the vital signs of the reference note whose values the conversation says
// (digits or words); a hit when the draft has the same sign with the same value and the
// right unit (mmHg, °F for a value in the Fahrenheit range, bpm, breaths/min, %).
func vitalRecall(e acibench.Encounter, ss []transcript.Sentence, draft string) Ratio {
	said := map[float64]bool{}
	for _, s := range ss {
		for _, n := range clinical.Numbers(s.Tokens) {
			said[n.Value] = true
			if n.HasSecond {
				said[n.Second] = true
			}
		}
	}
	var r Ratio
	seen := map[referenceVital]bool{}
	for _, v := range referenceVitals(e.Note) {
		if seen[v] || !said[v.value] || v.value2 != 0 && !said[v.value2] {
			continue
		}
		seen[v] = true
		r.Total++
		if draftHasVital(draft, v) {
			r.Hit++
		} else {
			miss(e, "vital", "%s %v/%v", v.kind, v.value, v.value2)
		}
	}
	return r
}

func draftHasVital(draft string, v referenceVital) bool {
	n := clinical.FormatNumber
	var want string
	switch v.kind {
	case clinical.VitalBloodPressure:
		want = "blood pressure " + n(v.value) + "/" + n(v.value2) + " mmHg"
	case clinical.VitalTemperature:
		unit := "°F"
		if v.value < 45 {
			unit = "°C"
		}
		want = "temperature " + n(v.value) + " " + unit
	case clinical.VitalHeartRate:
		want = "heart rate " + n(v.value) + " bpm"
	case clinical.VitalRespRate:
		want = "respiratory rate " + n(v.value) + " breaths/min"
	case clinical.VitalSpO2:
		want = "oxygen saturation " + n(v.value) + " %"
	}
	return strings.Contains(draft, want)
}

var draftTempRE = regexp.MustCompile(`temperature (\d+(?:\.\d+)?) °([CF])`)

// wrongUnits counts temperatures written with a unit their value rules out.
func wrongUnits(draft string) int {
	n := 0
	for _, m := range draftTempRE.FindAllStringSubmatch(draft, -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "C" && (v < 30 || v > 45) || m[2] == "F" && (v < 86 || v > 113) {
			n++
		}
	}
	return n
}

// diagnosisRecall: the conditions (condition vocabulary) the reference's assessment and
// plan names that the conversation names too; a hit when the draft's assessment names
// them.
func diagnosisRecall(e acibench.Encounter, ss []transcript.Sentence, c notes.Content) Ratio {
	conds := func(text string) []string {
		var out []string
		for _, m := range clinical.Conditions().FindAll(transcript.Tokenize(strings.ToLower(text))) {
			if !slices.Contains(out, m.Value.Name) {
				out = append(out, m.Value.Name)
			}
		}
		return out
	}
	said := conds(dialogueText(ss))
	have := conds(notes.Content{Assessment: c.Assessment}.Text())
	var r Ratio
	for _, d := range conds(e.Division["assessment_and_plan"]) {
		if !slices.Contains(said, d) {
			continue
		}
		r.Total++
		if slices.Contains(have, d) {
			r.Hit++
		}
	}
	return r
}

// stopWords say to stop a drug named within the next eight words ("stop the norvasc",
// "discontinue the use of ibuprofen"); blockers between them end the reach ("stop the
// ibuprofen and take tylenol", "switched her from furosemide to torsemide").
var (
	stopWords = map[string]bool{"stop": true, "stopped": true, "stopping": true, "discontinue": true, "discontinued": true,
		"discontinuing": true, "cease": true, "hold": true, "off": true, "quit": true}
	stopBlockers = map[string]bool{"start": true, "starting": true, "started": true, "put": true, "switch": true, "switched": true,
		"instead": true, "and": true, "but": true, "then": true, "prescribe": true, "give": true, "continue": true, "can": true,
		"may": true, "to": true, "smoking": true, ".": true, ";": true, ",": false}
)

// stoppedIn returns the generics a text says to stop.
func stoppedIn(text string) []string {
	ts := transcript.Tokenize(text)
	var out []string
	for _, m := range clinical.Drugs().FindAll(ts) {
		for q := m.Start - 1; q >= 0 && q >= m.Start-8; q-- {
			w := ts[q].Norm
			if stopBlockers[w] {
				break
			}
			if stopWords[w] && !(q > 0 && (ts[q-1].Norm == "don't" || ts[q-1].Norm == "not")) {
				if !slices.Contains(out, m.Value.Generic) {
					out = append(out, m.Value.Generic)
				}
				break
			}
		}
	}
	return out
}

// stoppedDrugs: drugs a clinician's sentence or the reference note says to stop.
func stoppedDrugs(e acibench.Encounter, ss []transcript.Sentence) []string {
	var out []string
	add := func(text string) {
		for _, g := range stoppedIn(text) {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	for _, s := range ss {
		if s.Role == transcript.RoleClinician {
			add(s.Clean())
		}
	}
	for _, ref := range splitReference(e.Note) {
		add(ref)
	}
	return out
}

// currentMedicationText is the draft's list of what the patient takes.
func currentMedicationText(c notes.Content) string {
	var b strings.Builder
	for _, sec := range c.Sections() {
		for _, s := range *sec.Sentences {
			if strings.HasPrefix(s.Text, "Current medications") || strings.HasPrefix(s.Text, "Continue ") ||
				strings.HasPrefix(s.Text, "Start ") {
				b.WriteString(s.Text)
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

func stoppedAsCurrent(e acibench.Encounter, ss []transcript.Sentence, c notes.Content) int {
	cur := generics(currentMedicationText(c))
	n := 0
	for _, g := range stoppedDrugs(e, ss) {
		if slices.Contains(cur, g) {
			n++
			miss(e, "stopped as current", "%s in %q", g, currentMedicationText(c))
		}
	}
	return n
}

// allergensIn returns the drugs a text names as allergies: "allergic to X", "allergy to
// X", "allergies to X", "reaction to X" (X within the next three words) and "X allergy".
func allergensIn(text string) []string {
	ts := transcript.Tokenize(strings.ToLower(text))
	var out []string
	for _, m := range clinical.Drugs().FindAll(ts) {
		hit := m.End < len(ts) && (ts[m.End].Norm == "allergy" || ts[m.End].Norm == "allergies")
		for q := m.Start - 1; q >= 1 && q >= m.Start-4 && !hit; q-- {
			if ts[q].Norm == "to" && (ts[q-1].Norm == "allergic" || ts[q-1].Norm == "allergy" || ts[q-1].Norm == "allergies" || ts[q-1].Norm == "reaction") {
				hit = true
			}
		}
		if hit && !slices.Contains(out, m.Value.Generic) {
			out = append(out, m.Value.Generic)
		}
	}
	return out
}

// allergyAsMedication counts drugs the conversation names as allergies that the draft
// lists as medications taken or started.
func allergyAsMedication(ss []transcript.Sentence, c notes.Content) int {
	var allergens []string
	for _, s := range ss {
		for _, g := range allergensIn(s.Clean()) {
			if !slices.Contains(allergens, g) {
				allergens = append(allergens, g)
			}
		}
	}
	cur := generics(currentMedicationText(c))
	n := 0
	for _, g := range allergens {
		if slices.Contains(cur, g) {
			n++
			miss(acibench.Encounter{}, "allergy as medication", "%s in %q", g, currentMedicationText(c))
		}
	}
	return n
}

// spansValid: sentences with at least one span, every span inside a cited segment and
// quoting it exactly.
func spansValid(t transcript.Transcript, c notes.Content) Ratio {
	var r Ratio
	for _, sec := range c.Sections() {
		for _, s := range *sec.Sentences {
			r.Total++
			ok := len(s.Spans) > 0
			for _, sp := range s.Spans {
				seg, found := t.Segment(sp.SegmentID)
				if !found || !slices.Contains(s.Evidence, sp.SegmentID) || !transcript.CheckSpan(seg, sp) {
					ok = false
				}
			}
			if ok {
				r.Hit++
			}
		}
	}
	return r
}

func unsupportedSentences(c notes.Content) Ratio {
	var r Ratio
	for _, sec := range c.Sections() {
		for _, s := range *sec.Sentences {
			r.Total++
			if s.Unsupported() {
				r.Hit++
			}
		}
	}
	return r
}

// Print writes the report as the docs quote it.
func (r Report) Print() string {
	var b strings.Builder
	p := func(f string, a ...any) { fmt.Fprintf(&b, f+"\n", a...) }
	p("ACI-Bench %s split: %d conversations (deterministic drafter %s)", r.Split, r.Encounters, notedraft.Engine)
	p("  whole-note ROUGE-1 %.4f  ROUGE-2 %.4f  ROUGE-L %.4f   (pasting the transcript: ROUGE-1 %.4f)", r.Note.R1, r.Note.R2, r.Note.RL, r.Paste.R1)
	for _, d := range acibench.Divisions {
		x := r.Division[d]
		p("  %-20s ROUGE-1 %.4f  ROUGE-2 %.4f  ROUGE-L %.4f", d, x.R1, x.R2, x.RL)
	}
	p("  mean sentences per note %.1f, words per note %.0f", r.SentencesPerNote, r.WordsPerNote)
	p("  assessment non-empty            %s", r.AssessmentNonEmpty)
	p("  medication recall               %s", r.Medications)
	p("  dose captured where said        %s", r.Doses)
	p("  vital sign recall, right unit   %s", r.Vitals)
	p("  diagnosis recall (assessment)   %s", r.Diagnoses)
	p("  stopped drugs listed as current %d", r.StoppedAsCurrent)
	p("  allergies listed as medications %d", r.AllergyAsMedication)
	p("  temperatures with a wrong unit  %d", r.WrongUnit)
	p("  sentences with valid spans      %s", r.SpansValid)
	p("  draft sentences flagged         %s", r.UnsupportedSentence)
	p("  grounding: perturbed flagged    %s", r.Perturbed)
	for _, k := range perturbationKinds {
		if x := r.PerturbedByKind[k]; x != nil {
			p("    %-28s %s", k, *x)
		}
	}
	p("  grounding: reference flagged    %s", r.FalseFlags)
	p("  speaker roles, unlabelled text  %s", r.RolesUnlabelled)
	p("  speaker roles, diarized labels  %s", r.RolesDiarized)
	return b.String()
}

func roundPct(v float64) float64 { return math.Round(v*10) / 10 }

// CrossValidate evaluates encounters with k-fold cross-validation: the encounters of fold
// f (index mod k) are drafted by a classifier trained on the others.
func CrossValidate(split string, encs []acibench.Encounter, k int) (Report, error) {
	models := make([]*notedraft.Classifier, len(encs))
	for f := 0; f < k; f++ {
		var train []acibench.Encounter
		for i, e := range encs {
			if i%k != f {
				train = append(train, e)
			}
		}
		m, _, err := acibench.Train(train)
		if err != nil {
			return Report{}, err
		}
		for i := range encs {
			if i%k == f {
				models[i] = m
			}
		}
	}
	rep, err := Evaluate(split, encs, models)
	rep.Split = fmt.Sprintf("%s (%d-fold cross-validation)", split, k)
	return rep, err
}

// roleAccuracy: utterances whose inferred role is the one the data set's label says, when
// the labels are removed (diarized false) or replaced by "Speaker N" (diarized true).
func roleAccuracy(e acibench.Encounter, diarized bool) Ratio {
	text, want := e.Relabelled(diarized)
	t, err := transcript.ParseTranscript("text", []byte(text))
	var r Ratio
	if err != nil || len(t.Segments) != len(want) {
		return Ratio{Total: len(want)}
	}
	for i, s := range t.Segments {
		r.Total++
		if s.Role == want[i] {
			r.Hit++
		}
	}
	return r
}
