// Package notedraft writes SOAP note drafts from consultation transcripts: the
// deterministic builder (facts read by package clinical plus the salient statements a
// section classifier picks, rewritten in the third person, every sentence citing the
// spans it rests on), the model-backed drafter behind shared/llm, and the grounding check
// every drafted sentence passes before it is stored as supported.
package notedraft

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medi-os/medi/shared/clinical"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/transcript"
)

// Headings of the deterministic draft's sentences.
const (
	HeadingChiefComplaint = "Chief complaint"
	HeadingHPI            = "History of present illness"
	HeadingROS            = "Review of systems"
	HeadingMedications    = "Current medications"
	HeadingTried          = "Previously tried"
	HeadingAllergies      = "Allergies"
	HeadingVitals         = "Vital signs"
	HeadingExam           = "Physical examination"
	HeadingResults        = "Results"
	HeadingPlan           = "Plan"
)

// Thresholds of the section classifier: a sentence goes to a section when the
// classifier gives that section at least this probability (and more than any other).
var Thresholds = map[string]float64{ClassSubjective: 0.10, ClassExam: 0.10, ClassResults: 0.10, ClassAP: 0.10}

// MinWords is the fewest words a statement needs to be written into a note.
const MinWords = 4

// Builder writes deterministic drafts.
type Builder struct {
	// Model is the section classifier (DefaultClassifier when nil).
	Classifier *Classifier
}

// item is a note sentence under construction.
type item struct {
	text    string
	heading string
	spans   []transcript.Span
	flags   []notes.Flag
}

// Build writes the draft of t. It never calls out and gives the same draft for the same
// transcript and patient.
func (b Builder) Build(t transcript.Transcript, p Patient) (notes.Content, error) {
	m := b.Classifier
	if m == nil {
		var err error
		if m, err = DefaultClassifier(); err != nil {
			return notes.Content{}, err
		}
	}
	ss := t.Sentences()
	facts := clinical.ExtractSentences(ss)
	probs := make([][]float64, len(ss))
	for i := range ss {
		probs[i] = m.Predict(Features(ss, i))
	}
	d := &draft{ss: ss, probs: probs, p: p, facts: facts, used: map[int]bool{}}
	d.subjective()
	d.objective()
	d.assessmentAndPlan()
	return d.content(), nil
}

type draft struct {
	ss    []transcript.Sentence
	probs [][]float64
	p     Patient
	facts clinical.Facts
	used  map[int]bool

	subj, obj, assess, plan []item
}

// class returns the sentence's most probable section and its probability.
func (d *draft) class(i int) (string, float64) {
	best, bp := ClassNone, 0.0
	for c, v := range d.probs[i] {
		if Classes[c] != ClassNone && v > bp {
			best, bp = Classes[c], v
		}
	}
	if bp < Thresholds[best] {
		return ClassNone, bp
	}
	return best, bp
}

func (d *draft) subjective() {
	if cc, ok := d.chiefComplaint(); ok {
		d.subj = append(d.subj, cc)
	}
	for i, s := range d.ss {
		if d.used[i] {
			continue
		}
		c, _ := d.class(i)
		if c != ClassSubjective || d.measured(i) {
			continue
		}
		if s.Question {
			if it, ok := d.questionAnswer(i); ok {
				d.subj = append(d.subj, it)
			}
			continue
		}
		if it, ok := d.statement(i, HeadingHPI); ok {
			d.subj = append(d.subj, it)
		}
	}
	d.subj = append(d.subj, d.reviewOfSystems()...)
	if it, ok := d.medicationList(); ok {
		d.subj = append(d.subj, it)
	}
	if it, ok := d.triedMedications(); ok {
		d.subj = append(d.subj, it)
	}
	if it, ok := d.allergies(); ok {
		d.subj = append(d.subj, it)
	}
}

func (d *draft) objective() {
	if it, ok := d.vitals(); ok {
		d.obj = append(d.obj, it)
	}
	for i, s := range d.ss {
		if d.used[i] || s.Question {
			continue
		}
		c, _ := d.class(i)
		if c != ClassAP && reportsResult(s) {
			c = ClassResults // "your x-ray showed ...", "your a1c came back at 8"
		}
		switch c {
		case ClassExam:
			if it, ok := d.statement(i, HeadingExam); ok {
				d.obj = append(d.obj, it)
			}
		case ClassResults:
			if it, ok := d.statement(i, HeadingResults); ok {
				d.obj = append(d.obj, it)
			}
		}
	}
}

// Results are a clinician reporting a test: a test named and a reporting verb.
var (
	resultTests = []string{"x-ray", "xray", "x-rays", "mri", "ct", "cat scan", "ultrasound", "echo", "echocardiogram", "ekg", "ecg",
		"blood work", "bloodwork", "labs", "lab", "a1c", "hemoglobin", "cholesterol", "lipid panel", "urinalysis", "culture", "biopsy",
		"scan", "test", "results", "levels", "level", "count", "stress test", "pft", "pulmonary function", "mammogram", "colonoscopy", "swab"}
	resultVerbs = []string{"showed", "shows", "show", "revealed", "reveals", "demonstrated", "demonstrates", "came back", "was normal",
		"were normal", "is normal", "was negative", "was positive", "is elevated", "was elevated", "were elevated", "looks", "looked",
		"is within", "was within", "were within", "notable for", "consistent with", "indicates", "indicated"}
)

func reportsResult(s transcript.Sentence) bool {
	return s.Role == transcript.RoleClinician && s.Words() >= MinWords && anyCue(s.Tokens, resultTests) && anyCue(s.Tokens, resultVerbs)
}

// assessmentCues mark a clinician's impression rather than a plan.
var assessmentCues = []string{"i think", "likely", "consistent with", "looks like", "diagnosis", "diagnosed", "impression", "suspect",
	"probably", "concerned", "worried", "seems", "appears", "sounds like", "you have", "you've got", "is controlled", "well controlled",
	"under control", "not controlled", "uncontrolled", "stable", "improving", "worsening", "elevated", "is due to", "caused by"}

func (d *draft) assessmentAndPlan() {
	problems := d.problems()
	heading := func(i int) string {
		// The problem the sentence names, else the last one named before it.
		best := ""
		for _, pr := range problems {
			if pr.first <= i && containsSpanOf(pr.p.Evidence, d.ss[i]) {
				return pr.title
			}
			if pr.first <= i {
				best = pr.title
			}
		}
		if best == "" && len(problems) > 0 {
			best = problems[0].title
		}
		return best
	}
	for _, pr := range problems {
		d.assess = append(d.assess, item{text: pr.title + ".", heading: pr.title, spans: firstSpans(pr.p.Evidence, 2)})
	}
	for _, ch := range clinical.MedicationChanges(d.facts.Medications) {
		it := medicationChange(ch)
		it.heading = HeadingPlan
		if len(problems) > 0 {
			if i := d.sentenceOf(ch.Evidence[len(ch.Evidence)-1]); i >= 0 {
				it.heading = heading(i)
			}
		}
		d.plan = append(d.plan, it)
	}
	for i, s := range d.ss {
		if d.used[i] || s.Question || s.Role != transcript.RoleClinician {
			continue
		}
		if c, _ := d.class(i); c != ClassAP {
			continue
		}
		h := heading(i)
		if h == "" {
			h = HeadingPlan
		}
		it, ok := d.statement(i, h)
		if !ok {
			continue
		}
		if anyCue(s.Tokens, assessmentCues) && !anyCue(s.Tokens, planCues) {
			d.assess = append(d.assess, it)
		} else {
			d.plan = append(d.plan, it)
		}
	}
	if len(d.assess) == 0 {
		d.assess = append(d.assess, d.fallbackAssessment()...)
	}
}

// planCues mark what will be done.
var planCues = []string{"we will", "we'll", "i'll", "i will", "going to", "order", "prescribe", "refer", "follow up", "come back",
	"see you", "start", "continue", "increase", "decrease", "stop", "recommend", "schedule", "should", "need to", "want you to"}

type problem struct {
	p     clinical.Problem
	title string
	first int
}

// problems are the conditions a clinician named (or the patient named and the
// clinician discussed), in order of first mention, at most six.
func (d *draft) problems() []problem {
	var out []problem
	for _, pr := range d.facts.Problems {
		if !pr.ByClinician {
			continue
		}
		first := d.sentenceOf(pr.Evidence[0])
		out = append(out, problem{p: pr, title: capitalize(pr.Name), first: first})
	}
	slices.SortStableFunc(out, func(a, b problem) int { return a.first - b.first })
	// "diabetes" and "type 2 diabetes" are one problem: keep the more specific name.
	kept := out[:0]
	for _, p := range out {
		general := false
		for _, q := range out {
			if q.p.Name != p.p.Name && strings.Contains(q.p.Name, p.p.Name) {
				general = true
			}
		}
		if !general {
			kept = append(kept, p)
		}
	}
	out = kept
	if len(out) > 6 {
		// Keep the most discussed.
		slices.SortStableFunc(out, func(a, b problem) int { return b.p.Mentions - a.p.Mentions })
		out = out[:6]
		slices.SortStableFunc(out, func(a, b problem) int { return a.first - b.first })
	}
	return out
}

// fallbackAssessment names the chief complaint when no diagnosis was named, else the
// clinician's most assessment-like sentence.
func (d *draft) fallbackAssessment() []item {
	for _, s := range d.facts.Symptoms {
		if s.Present {
			return []item{{text: capitalize(s.Name) + ".", heading: capitalize(s.Name), spans: firstSpans(s.Evidence, 2)}}
		}
	}
	best, bp := -1, 0.0
	for i, s := range d.ss {
		if s.Role != transcript.RoleClinician || s.Question || s.Words() < MinWords {
			continue
		}
		ci := slices.Index(Classes, ClassAP)
		if d.probs[i][ci] > bp {
			best, bp = i, d.probs[i][ci]
		}
	}
	if best < 0 {
		return nil
	}
	d.used[best] = false
	it, ok := d.statement(best, "")
	if !ok {
		return nil
	}
	return []item{it}
}

// visitCues say what a visit is for.
var visitCues = []string{"presents", "presenting", "here for", "in for", "here today for", "complaining of", "complains of",
	"brings you in", "coming in for", "came in for", "here to see me for", "follow up for", "follow-up for", "evaluation of"}

// indexOf returns where phrase starts in ts, or -1.
func indexOf(ts []transcript.Token, phrase string) int {
	ws := strings.Fields(phrase)
outer:
	for i := 0; i+len(ws) <= len(ts); i++ {
		for k, w := range ws {
			if ts[i+k].Norm != w {
				continue outer
			}
		}
		return i
	}
	return -1
}

// chiefComplaint is what the visit is for when the conversation says it ("presents with",
// "here for"), else the first symptom the patient reports, else the first condition named.
func (d *draft) chiefComplaint() (item, bool) {
	// What the visit is for, when said: "presents today with back pain", "here for".
	for _, s := range d.ss {
		at := -1
		for _, c := range visitCues {
			if k := indexOf(s.Tokens, c); k >= 0 && (at < 0 || k < at) {
				at = k
			}
		}
		if at < 0 {
			continue
		}
		rest := s.Tokens[at:]
		if ms := clinical.Symptoms().FindAll(rest); len(ms) > 0 {
			return item{text: capitalize(ms[0].Value.Name) + ".", heading: HeadingChiefComplaint, spans: []transcript.Span{s.Span()}}, true
		}
		if ms := clinical.Conditions().FindAll(rest); len(ms) > 0 {
			return item{text: capitalize(ms[0].Value.Name) + ".", heading: HeadingChiefComplaint, spans: []transcript.Span{s.Span()}}, true
		}
	}
	for _, s := range d.facts.Symptoms {
		if s.Present {
			return item{text: capitalize(s.Name) + ".", heading: HeadingChiefComplaint, spans: firstSpans(s.Evidence, 1)}, true
		}
	}
	for _, pr := range d.facts.Problems {
		return item{text: capitalize(pr.Name) + ".", heading: HeadingChiefComplaint, spans: firstSpans(pr.Evidence, 1)}, true
	}
	return item{}, false
}

// measured reports whether sentence i states a measurement the vital signs line already
// holds (it belongs to the objective findings, not the history).
func (d *draft) measured(i int) bool {
	for _, v := range d.facts.Vitals {
		if containsSpanOf(v.Evidence, d.ss[i]) && d.ss[i].Role == transcript.RoleClinician {
			return true
		}
	}
	return false
}

// requests open sentences that ask for something rather than state it ("tell me a
// little bit about", "let me take a look").
var requests = []string{"tell me", "let me", "show me", "give me", "can you", "could you", "would you", "go ahead and"}

// statement rewrites sentence i in the third person.
func (d *draft) statement(i int, heading string) (item, bool) {
	s := d.ss[i]
	if s.Words() < MinWords {
		return item{}, false
	}
	for _, r := range requests {
		if prefixIs(s.Tokens, r) {
			return item{}, false
		}
	}
	words := thirdPersonTokens(s, d.p)
	if s.Role == transcript.RolePatient && !startsWithSubject(words, d.p) {
		if len(words) > 0 && strings.ToLower(words[0][1:]) == words[0][1:] {
			words[0] = strings.ToLower(words[0]) // "It started" -> "... reports that it started"
		}
		words = append(strings.Fields(d.p.pronouns().subj+" reports that"), words...)
	}
	text := sentenceText(words)
	if text == "" {
		return item{}, false
	}
	d.used[i] = true
	return item{text: text, heading: heading, spans: []transcript.Span{s.Span()}}, true
}

func startsWithSubject(words []string, p Patient) bool {
	if len(words) == 0 {
		return false
	}
	subj := strings.Fields(p.pronouns().subj)
	for k, w := range subj {
		if k >= len(words) || !strings.EqualFold(words[k], w) {
			return false
		}
	}
	return true
}

// questionAnswer turns a clinician's yes/no question and the patient's reply into a
// statement ("any chest pain?" "no" -> "She denies chest pain.").
func (d *draft) questionAnswer(i int) (item, bool) {
	if i+1 >= len(d.ss) {
		return item{}, false
	}
	q, a := d.ss[i], d.ss[i+1]
	if q.Role != transcript.RoleClinician || a.Role == transcript.RoleClinician || a.Answer == "" {
		return item{}, false
	}
	rest := questionBody(q)
	if len(rest) < 2 {
		return item{}, false
	}
	verb := "reports"
	if a.Answer == "no" {
		verb = "denies"
	}
	pr := d.p.pronouns()
	body := thirdPersonTokens(transcript.Sentence{Role: transcript.RoleClinician, Tokens: rest}, d.p)
	words := append(strings.Fields(pr.subj+" "+verb), body...)
	d.used[i], d.used[i+1] = true, true
	return item{text: sentenceText(words), heading: HeadingHPI, spans: []transcript.Span{q.Span(), a.Span()}}, true
}

// questionOpenings are removed from a yes/no question to leave what it asks about.
var questionOpenings = []string{"do you have any", "do you have", "have you had any", "have you had", "have you noticed any", "have you noticed",
	"are you having any", "are you having", "have you been having any", "have you been having", "did you have any", "did you have",
	"have you experienced any", "have you experienced", "are you experiencing any", "are you experiencing", "any", "do you get",
	"do you feel", "are you", "do you", "have you", "did you", "is there any", "is there", "you have any", "you have", "you're"}

func questionBody(q transcript.Sentence) []transcript.Token {
	ts := q.Tokens
	for len(ts) > 0 && ts[len(ts)-1].Punct {
		ts = ts[:len(ts)-1]
	}
	for _, o := range questionOpenings {
		if n := len(strings.Fields(o)); prefixIs(ts, o) && len(ts) > n {
			return ts[n:]
		}
	}
	return nil
}

func prefixIs(ts []transcript.Token, phrase string) bool {
	ws := strings.Fields(phrase)
	if len(ts) < len(ws) {
		return false
	}
	for k, w := range ws {
		if ts[k].Norm != w {
			return false
		}
	}
	return true
}

func (d *draft) reviewOfSystems() []item {
	var rep, den []clinical.SymptomFact
	for _, s := range d.facts.Symptoms {
		if s.Present {
			rep = append(rep, s)
		} else {
			den = append(den, s)
		}
	}
	var out []item
	list := func(verb string, ss []clinical.SymptomFact) {
		if len(ss) == 0 {
			return
		}
		var names []string
		var spans []transcript.Span
		for _, s := range ss {
			names = append(names, s.Name)
			spans = appendSpans(spans, firstSpans(s.Evidence, 2)...)
		}
		out = append(out, item{text: capitalize(verb + " " + joinList(names) + "."), heading: HeadingROS, spans: spans})
	}
	list("reports", rep)
	list("denies", den)
	return out
}

func (d *draft) medicationList() (item, bool) {
	var parts []string
	var spans []transcript.Span
	var flags []notes.Flag
	for _, m := range clinical.CurrentMedications(d.facts.Medications) {
		if m.Action == clinical.ActionStart {
			continue // started today: in the plan
		}
		flags = append(flags, doseFlags(m)...)
		if m.Action == clinical.ActionIncrease || m.Action == clinical.ActionDecrease {
			// The dose changes today (in the plan): list what was taken until now.
			prior := m
			prior.Dose, prior.Frequency, prior.Route = m.PriorDose, m.PriorFrequency, ""
			parts = append(parts, medicationPhrase(prior))
		} else {
			parts = append(parts, medicationPhrase(m))
		}
		spans = appendSpans(spans, firstSpans(m.Evidence, 2)...)
	}
	if len(parts) == 0 {
		return item{}, false
	}
	return item{text: HeadingMedications + ": " + strings.Join(parts, "; ") + ".", heading: HeadingMedications, spans: spans, flags: flags}, true
}

// triedMedications lists what the patient took or tried before ("a little tylenol").
func (d *draft) triedMedications() (item, bool) {
	var parts []string
	var spans []transcript.Span
	for _, m := range clinical.TriedMedications(d.facts.Medications) {
		parts = append(parts, medicationPhrase(m))
		spans = appendSpans(spans, firstSpans(m.Evidence, 2)...)
	}
	if len(parts) == 0 {
		return item{}, false
	}
	return item{text: "Previously tried: " + strings.Join(parts, "; ") + ".", heading: HeadingTried, spans: spans}, true
}

// doseFlags marks a dose whose unit was inferred.
func doseFlags(ms ...clinical.Medication) []notes.Flag {
	var out []notes.Flag
	for _, m := range ms {
		for _, d := range []*clinical.Dose{m.Dose, m.PriorDose} {
			if d != nil && d.UnitInferred {
				out = append(out, notes.Flag{Kind: notes.FlagEstimated, Claim: "unit",
					Detail: fmt.Sprintf("%s %s: no unit was said; %s inferred", m.Name, clinical.FormatNumber(d.Value), d.Unit)})
			}
		}
	}
	return out
}

func medicationPhrase(m clinical.Medication) string {
	s := m.Name
	if m.Dose != nil {
		s += " " + m.Dose.String()
	}
	if m.Route != "" {
		s += " " + m.Route
	}
	if m.Frequency != "" {
		s += " " + m.Frequency
	}
	return s
}

func medicationChange(m clinical.Medication) item {
	var text string
	switch m.Action {
	case clinical.ActionStart:
		text = "Start " + medicationPhrase(m)
	case clinical.ActionStop:
		text = "Stop " + m.Name
	case clinical.ActionContinue:
		text = "Continue " + medicationPhrase(m)
	case clinical.ActionIncrease:
		text = "Increase " + m.Name
		if m.Dose != nil {
			text += " to " + strings.TrimPrefix(medicationPhrase(m), m.Name+" ")
		}
	case clinical.ActionDecrease:
		text = "Decrease " + m.Name
		if m.Dose != nil {
			text += " to " + strings.TrimPrefix(medicationPhrase(m), m.Name+" ")
		}
	case clinical.ActionRefill:
		text = "Refill " + medicationPhrase(m)
	}
	return item{text: text + ".", spans: firstSpans(lastSpans(m.Evidence, 2), 2), flags: doseFlags(m)}
}

func (d *draft) allergies() (item, bool) {
	if len(d.facts.Allergies) > 0 {
		var parts []string
		var spans []transcript.Span
		for _, a := range d.facts.Allergies {
			p := a.Substance
			if a.Reaction != "" {
				p += " (" + a.Reaction + ")"
			}
			parts = append(parts, p)
			spans = appendSpans(spans, firstSpans(a.Evidence, 2)...)
		}
		return item{text: HeadingAllergies + ": " + strings.Join(parts, "; ") + ".", heading: HeadingAllergies, spans: spans}, true
	}
	if len(d.facts.NoKnownAllergies) > 0 {
		return item{text: "No known drug allergies.", heading: HeadingAllergies, spans: firstSpans(d.facts.NoKnownAllergies, 1)}, true
	}
	return item{}, false
}

func (d *draft) vitals() (item, bool) {
	var parts []string
	var spans []transcript.Span
	var flags []notes.Flag
	for _, v := range d.facts.Vitals {
		parts = append(parts, VitalText(v))
		spans = appendSpans(spans, firstSpans(v.Evidence, 1)...)
		if v.UnitInferred {
			flags = append(flags, notes.Flag{Kind: notes.FlagEstimated, Claim: "unit",
				Detail: fmt.Sprintf("%s: the unit was not said; %s inferred from the value", vitalName(v.Kind), v.Unit)})
		}
	}
	if len(parts) == 0 {
		return item{}, false
	}
	return item{text: HeadingVitals + ": " + strings.Join(parts, ", ") + ".", heading: HeadingVitals, spans: spans, flags: flags}, true
}

func vitalName(kind string) string {
	switch kind {
	case clinical.VitalTemperature:
		return "temperature"
	case clinical.VitalBloodPressure:
		return "blood pressure"
	case clinical.VitalHeartRate:
		return "heart rate"
	case clinical.VitalRespRate:
		return "respiratory rate"
	case clinical.VitalSpO2:
		return "oxygen saturation"
	case clinical.VitalWeight:
		return "weight"
	}
	return kind
}

// VitalText writes a vital sign with its unit; temperatures in both °F and °C, weights
// in both lb and kg.
func VitalText(v clinical.Vital) string {
	n := clinical.FormatNumber
	switch v.Kind {
	case clinical.VitalBloodPressure:
		return "blood pressure " + n(v.Value) + "/" + n(v.Value2) + " mmHg"
	case clinical.VitalTemperature:
		if v.Unit == "°F" {
			return "temperature " + n(v.Value) + " °F (" + n(v.Celsius()) + " °C)"
		}
		return "temperature " + n(v.Value) + " °C (" + n(v.Fahrenheit()) + " °F)"
	case clinical.VitalWeight:
		if v.Unit == "lb" {
			return "weight " + n(v.Value) + " lb (" + n(roundTo(v.Value*0.45359237, 1)) + " kg)"
		}
		return "weight " + n(v.Value) + " kg (" + n(roundTo(v.Value/0.45359237, 1)) + " lb)"
	}
	return vitalName(v.Kind) + " " + n(v.Value) + " " + v.Unit
}

// sentenceOf returns the index of the sentence a span quotes (-1 when none).
func (d *draft) sentenceOf(sp transcript.Span) int {
	for i, s := range d.ss {
		if s.SegmentID == sp.SegmentID && s.Start <= sp.Start && sp.End <= s.End {
			return i
		}
	}
	return -1
}

func containsSpanOf(spans []transcript.Span, s transcript.Sentence) bool {
	for _, sp := range spans {
		if sp.SegmentID == s.SegmentID && sp.Start >= s.Start && sp.End <= s.End {
			return true
		}
	}
	return false
}

// content assembles the note: sentence ids are set by ValidateDraft.
func (d *draft) content() notes.Content {
	conv := func(items []item) []notes.Sentence {
		out := make([]notes.Sentence, 0, len(items))
		for _, it := range items {
			if it.text == "" || len(it.spans) == 0 {
				continue
			}
			s := notes.Sentence{Text: it.text, Heading: it.heading, Spans: it.spans, Flags: it.flags}
			for _, sp := range it.spans {
				if !slices.Contains(s.Evidence, sp.SegmentID) {
					s.Evidence = append(s.Evidence, sp.SegmentID)
				}
			}
			out = append(out, s)
		}
		return out
	}
	return notes.Content{Subjective: conv(d.subj), Objective: conv(d.obj), Assessment: conv(d.assess), Plan: conv(d.plan)}
}

func firstSpans(s []transcript.Span, n int) []transcript.Span {
	return slices.Clone(s[:min(n, len(s))])
}

func lastSpans(s []transcript.Span, n int) []transcript.Span {
	return slices.Clone(s[max(0, len(s)-n):])
}

func appendSpans(dst []transcript.Span, add ...transcript.Span) []transcript.Span {
	for _, s := range add {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func anyCue(ts []transcript.Token, cues []string) bool {
	for _, c := range cues {
		ws := strings.Fields(c)
	outer:
		for i := 0; i+len(ws) <= len(ts); i++ {
			for k, w := range ws {
				if ts[i+k].Norm != w {
					continue outer
				}
			}
			return true
		}
	}
	return false
}

func joinList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// Engine names the deterministic builder in notes ("deterministic-v2": v1 copied
// transcript sentences).
const Engine = "deterministic-v2"
