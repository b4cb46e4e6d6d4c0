package scribe

import (
	"context"
	"errors"
	"fmt"
	"github.com/medi-os/medi/shared/transcript"
	"regexp"
	"strings"

	"github.com/medi-os/medi/shared/notes"
)

// Draft is a drafter's output.
type Draft struct {
	Content notes.Content
	// Engine names what wrote the draft, e.g. "deterministic-v1" or "gemini:<model>".
	Engine string
	// Usage is set by model-based drafters.
	Usage *notes.Usage
}

// Drafter writes a SOAP draft from a transcript. Every sentence must cite segment ids of
// the transcript (checked by ValidateDraft before anything is stored).
type Drafter interface {
	Draft(ctx context.Context, t transcript.Transcript) (Draft, error)
}

// ErrInvalidDraft is wrapped by ValidateDraft's errors.
var ErrInvalidDraft = errors.New("invalid draft")

// ValidateDraft checks that every sentence has text and cites at least one segment, and
// that every cited id exists in t. It also numbers sentence ids ("S1", "O2", ...) when missing.
func ValidateDraft(d *Draft, t transcript.Transcript) error {
	ids := make(map[string]bool, len(t.Segments))
	for _, s := range t.Segments {
		ids[s.ID] = true
	}
	total := 0
	for _, sec := range d.Content.Sections() {
		for i := range *sec.Sentences {
			s := &(*sec.Sentences)[i]
			if strings.TrimSpace(s.Text) == "" {
				return fmt.Errorf("%w: %s sentence %d is empty", ErrInvalidDraft, sec.Name, i+1)
			}
			if len(s.Evidence) == 0 {
				return fmt.Errorf("%w: %s sentence %d cites no segment", ErrInvalidDraft, sec.Name, i+1)
			}
			for _, id := range s.Evidence {
				if !ids[id] {
					return fmt.Errorf("%w: %s sentence %d cites unknown segment %q", ErrInvalidDraft, sec.Name, i+1, id)
				}
			}
			if s.ID == "" {
				s.ID = fmt.Sprintf("%c%d", strings.ToUpper(sec.Name[:1])[0], i+1)
			}
			total++
		}
	}
	if total == 0 {
		return fmt.Errorf("%w: no sentences", ErrInvalidDraft)
	}
	return nil
}

// DeterministicEngine is the engine name of Deterministic drafts.
const DeterministicEngine = "deterministic-v1"

// Deterministic drafts with fixed rules: vitals, medications and allergies are extracted
// with patterns; other sentences are sorted into sections by lexicons (see the user
// guide); greetings and questions are left out. Each output sentence cites the segment it
// came from. It never calls out and always gives the same draft for the same transcript.
type Deterministic struct{}

var _ Drafter = Deterministic{}

// Lexicons (lower case) of the sections. A sentence goes to the first section whose
// lexicon it matches, in the order plan, assessment, objective, subjective.
var (
	subjectiveLexicon = []string{"pain", "ache", "aching", "hurt", "cough", "fever", "feverish", "temperature", "nausea", "vomit",
		"diarrh", "dizz", "breath", "headache", "tired", "fatigue", "rash", "swell", "sore", "itch", "bleed", "since",
		"days", "weeks", "worse", "better", "sleep", "appetite", "chills", "sweat", "wheez", "palpitation", "faint"}
	objectiveLexicon = []string{"on examination", "examination", "chest is clear", "crackles", "wheeze", "tender", "swollen",
		"heart sounds", "abdomen is", "soft", "afebrile", "looks well", "looks unwell", "inflamed", "red", "reflexes",
		"auscultation", "pulse is", "oxygen saturation", "respiratory rate"}
	assessmentLexicon = []string{"i think", "likely", "diagnosis", "consistent with", "suspect", "probably", "impression",
		"looks like", "in keeping with", "most likely", "differential", "rule out"}
	planLexicon = []string{"prescribe", "i'll start", "we'll start", "start you on", "we'll", "we will", "refer", "follow up",
		"follow-up", "come back", "return if", "x-ray", "blood test", "bloods", "review", "advise", "rest", "fluids",
		"book", "safety net", "if it gets worse", "call us", "recheck"}
	smallTalk = []string{"hello", "hi ", "good morning", "good afternoon", "thank you", "thanks", "bye", "take a seat",
		"nice to meet"}
)

var (
	sentenceSplit = regexp.MustCompile(`([.!?])\s+`)
	bpRE          = regexp.MustCompile(`(?i)\b(?:bp|blood pressure)\b(?:\s+(?:is|was|of))?\s*:?\s*(\d{2,3})\s*(?:/|over)\s*(\d{2,3})`)
	tempRE        = regexp.MustCompile(`(?i)\b(?:temp|temperature)\b(?:\s+(?:is|was|of))?\s*:?\s*(\d{2}(?:\.\d)?)`)
	satsRE        = regexp.MustCompile(`(?i)\b(?:sats|spo2|saturations?|oxygen saturation|o2 sats)\b(?:\s+(?:is|are|was|were|of))?\s*:?\s*(\d{2,3})\s*%?`)
	hrRE          = regexp.MustCompile(`(?i)\b(?:hr|heart rate|pulse)\b(?:\s+(?:is|was|of))?\s*:?\s*(\d{2,3})\b`)
	rrRE          = regexp.MustCompile(`(?i)\b(?:rr|resp(?:iratory)? rate)\b(?:\s+(?:is|was|of))?\s*:?\s*(\d{1,2})\b`)
	doseRE        = regexp.MustCompile(`(?i)^\s*(\d+(?:\.\d+)?)\s*(mg|mcg|micrograms|g|ml|units|puffs?)\b`)
	routeRE       = regexp.MustCompile(`(?i)\b(orally|by mouth|po|iv|intravenous(?:ly)?|im|intramuscular(?:ly)?|inhaled|via inhaler|topical(?:ly)?|subcutaneous(?:ly)?|sc)\b`)
	allergyRE     = regexp.MustCompile(`(?i)\b(?:allergic to|allergy to|allergies to)\s+([a-z][a-z\- ]{1,40}?)(?:[.,;!]|\s+and\b|\s+but\b|$)`)
	noAllergyRE   = regexp.MustCompile(`(?i)\b(?:no known (?:drug )?allergies|no allergies|not allergic to anything|nkda)\b`)
)

// Medications the deterministic drafter recognises (generic names, lower case).
var medicationLexicon = []string{"amoxicillin", "co-amoxiclav", "penicillin", "flucloxacillin", "clarithromycin", "doxycycline",
	"azithromycin", "cefalexin", "ceftriaxone", "nitrofurantoin", "trimethoprim", "paracetamol", "acetaminophen", "ibuprofen",
	"naproxen", "codeine", "morphine", "tramadol", "aspirin", "clopidogrel", "salbutamol", "albuterol", "prednisolone",
	"prednisone", "metformin", "insulin", "lisinopril", "ramipril", "amlodipine", "atorvastatin", "simvastatin",
	"omeprazole", "lansoprazole", "sertraline", "fluoxetine", "levothyroxine", "warfarin", "apixaban", "furosemide",
	"ondansetron", "cetirizine", "loratadine", "adrenaline", "epinephrine", "hydrocortisone", "beclometasone"}

// extraction is a sentence found by a pattern (vital sign, medication, allergy).
type extraction struct {
	section string
	text    string
}

// Draft implements Drafter.
func (Deterministic) Draft(_ context.Context, t transcript.Transcript) (Draft, error) {
	var c notes.Content
	add := func(section, text, segID string) {
		for _, s := range c.Sections() {
			if s.Name != section {
				continue
			}
			for i := range *s.Sentences {
				if (*s.Sentences)[i].Text == text { // the same fact said twice: cite both
					if !contains((*s.Sentences)[i].Evidence, segID) {
						(*s.Sentences)[i].Evidence = append((*s.Sentences)[i].Evidence, segID)
					}
					return
				}
			}
			*s.Sentences = append(*s.Sentences, notes.Sentence{Text: text, Evidence: []string{segID}})
		}
	}
	for _, seg := range t.Segments {
		for _, sent := range splitSentences(seg.Text) {
			ex := extract(sent, seg.Role)
			for _, e := range ex {
				add(e.section, e.text, seg.ID)
			}
			if len(ex) > 0 || strings.HasSuffix(sent, "?") || isSmallTalk(sent) {
				continue
			}
			if sec := classify(sent, seg.Role); sec != "" {
				add(sec, phrase(sent, seg.Role, sec), seg.ID)
			}
		}
	}
	d := Draft{Content: c, Engine: DeterministicEngine}
	if err := ValidateDraft(&d, t); err != nil {
		return Draft{}, err
	}
	return d, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// splitSentences splits on . ! ? followed by white space (so "38.4" stays whole).
func splitSentences(text string) []string {
	marked := sentenceSplit.ReplaceAllString(text, "$1\x00")
	var out []string
	for _, s := range strings.Split(marked, "\x00") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func isSmallTalk(s string) bool {
	l := strings.ToLower(s) + " "
	if len(strings.Fields(l)) > 6 {
		return false
	}
	for _, w := range smallTalk {
		if strings.HasPrefix(l, w) {
			return true
		}
	}
	return false
}

func matchAny(l string, lex []string) bool {
	for _, w := range lex {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// classify picks the section of a sentence: clinicians' sentences may be plan, assessment
// or objective; patients' (and others') subjective only.
func classify(sent string, role transcript.Role) string {
	l := " " + strings.ToLower(sent) + " "
	if role == transcript.RoleClinician {
		switch {
		case matchAny(l, planLexicon):
			return "plan"
		case matchAny(l, assessmentLexicon):
			return "assessment"
		case matchAny(l, objectiveLexicon):
			return "objective"
		}
		return ""
	}
	if matchAny(l, subjectiveLexicon) {
		return "subjective"
	}
	return ""
}

// phrase writes the note sentence: patients' and others' words are reported as quotes,
// clinicians' are kept as said.
func phrase(sent string, role transcript.Role, _ string) string {
	sent = strings.TrimSpace(sent)
	if !strings.ContainsAny(sent[len(sent)-1:], ".!?") {
		sent += "."
	}
	switch role {
	case transcript.RolePatient:
		return "Patient reports: \u201c" + sent + "\u201d"
	case transcript.RoleOther:
		return "Companion reports: \u201c" + sent + "\u201d"
	}
	return strings.ToUpper(sent[:1]) + sent[1:]
}

// extract finds vitals, medications and allergies in one sentence.
func extract(sent string, role transcript.Role) []extraction {
	var out []extraction
	if m := bpRE.FindStringSubmatch(sent); m != nil {
		out = append(out, extraction{"objective", "Blood pressure " + m[1] + "/" + m[2] + " mmHg."})
	}
	if m := tempRE.FindStringSubmatch(sent); m != nil {
		out = append(out, extraction{"objective", "Temperature " + m[1] + " \u00b0C."})
	}
	if m := satsRE.FindStringSubmatch(sent); m != nil {
		out = append(out, extraction{"objective", "Oxygen saturation " + m[1] + " %."})
	}
	if m := hrRE.FindStringSubmatch(sent); m != nil {
		out = append(out, extraction{"objective", "Heart rate " + m[1] + " /min."})
	}
	if m := rrRE.FindStringSubmatch(sent); m != nil {
		out = append(out, extraction{"objective", "Respiratory rate " + m[1] + " /min."})
	}
	l := strings.ToLower(sent)
	allergyNames := map[string]bool{}
	if noAllergyRE.MatchString(sent) {
		out = append(out, extraction{"subjective", "No known drug allergies."})
	} else {
		for _, m := range allergyRE.FindAllStringSubmatch(sent, -1) {
			name := strings.TrimSpace(strings.ToLower(m[1]))
			allergyNames[name] = true
			out = append(out, extraction{"subjective", "Allergy: " + name + "."})
		}
	}
	for _, med := range medicationLexicon {
		i := indexWord(l, med)
		if i < 0 || allergyNames[med] {
			continue
		}
		rest := sent[i+len(med):]
		desc := med
		if m := doseRE.FindStringSubmatch(rest); m != nil {
			desc += " " + m[1] + " " + strings.ToLower(m[2])
		}
		window := rest
		if len(window) > 60 {
			window = window[:60]
		}
		if m := routeRE.FindStringSubmatch(window); m != nil {
			desc += " " + normalizeRoute(m[1])
		}
		if role == transcript.RoleClinician && matchAny(" "+l+" ", []string{"prescribe", "start", "give", "take", "continue", "increase", "stop"}) {
			out = append(out, extraction{"plan", "Medication: " + desc + "."})
		} else {
			out = append(out, extraction{"subjective", "Current medication: " + desc + "."})
		}
	}
	return out
}

// indexWord finds w in l as a whole word.
func indexWord(l, w string) int {
	for off := 0; ; {
		i := strings.Index(l[off:], w)
		if i < 0 {
			return -1
		}
		i += off
		before := i == 0 || !isLetter(l[i-1])
		after := i+len(w) >= len(l) || !isLetter(l[i+len(w)])
		if before && after {
			return i
		}
		off = i + len(w)
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b == '-' }

func normalizeRoute(r string) string {
	switch strings.ToLower(r) {
	case "orally", "by mouth", "po":
		return "orally"
	case "iv", "intravenous", "intravenously":
		return "intravenously"
	case "im", "intramuscular", "intramuscularly":
		return "intramuscularly"
	case "inhaled", "via inhaler":
		return "inhaled"
	case "topical", "topically":
		return "topically"
	default:
		return "subcutaneously"
	}
}

// Speech transcribes an audio upload. The Google implementation uses Speech-to-Text v2;
// with none configured, audio sessions fail with FailNoSpeechProvider.
type Speech interface {
	Transcribe(ctx context.Context, audio AudioObject) (transcript.Transcript, error)
}

// AudioObject is the upload a Speech provider reads (gs://bucket/object).
type AudioObject struct {
	Bucket, Object, ContentType string
	Generation                  int64
}
