package notedraft

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/transcript"
)

// Reasons the model's draft is rejected after decoding (besides llm's).
const (
	// ReasonUngrounded: more than MaxUnsupportedShare of the sentences failed the
	// grounding check.
	ReasonUngrounded = "ungrounded"
)

// MaxUnsupportedShare is the share of unsupported sentences above which a model draft is
// rejected for the deterministic one; below it, the unsupported sentences are kept and
// flagged for the doctor.
const MaxUnsupportedShare = 0.3

// Model drafts with a language model through shared/llm: the transcript (its patient
// identifiers replaced by placeholders) goes out as numbered segments, the answer comes
// back as sentences citing segment ids and the exact words they rest on. Each quoted
// stretch is located in the original segment to give the span; a sentence whose quote is
// not found keeps the segment as its span and is flagged unsupported. Every sentence then
// passes the grounding check; the draft is rejected (ReasonUngrounded) when too many fail.
type Model struct {
	LLM *llm.Client
}

type modelAnswer struct {
	Subjective []modelSentence `json:"subjective"`
	Objective  []modelSentence `json:"objective"`
	Assessment []modelSentence `json:"assessment"`
	Plan       []modelSentence `json:"plan"`
}

type modelSentence struct {
	Text     string          `json:"text"`
	Heading  string          `json:"heading"`
	Evidence []modelEvidence `json:"evidence"`
}

type modelEvidence struct {
	SegmentID string `json:"segmentId"`
	Quote     string `json:"quote"`
}

const modelInstruction = `You write a clinical SOAP note from a consultation transcript, as the clinician would sign it.
Each input line is "<segment id> [<role>] <words>". Write short, third-person, factual sentences in four sections:
subjective (history of present illness, review of systems, medications, allergies), objective (vital signs,
examination findings, results), assessment (each problem the clinician names) and plan (per problem: medications with
dose, route and frequency; tests; referrals; follow-up). Give each sentence a short "heading" (e.g. "History of present
illness", "Vital signs", the problem's name). Every sentence must list in "evidence" the segment ids it rests on, each
with "quote": words copied exactly from that segment that support the sentence. Never state a number, dose, drug,
side (left/right) or diagnosis that the quoted words do not say; never turn a denial into a finding or back.
Placeholders in brackets stand for the patient's identifiers: keep them as they are. Leave a section empty when the
transcript says nothing for it.`

func answerSchema() *genai.Schema {
	ev := &genai.Schema{Type: genai.TypeObject, Properties: map[string]*genai.Schema{
		"segmentId": {Type: genai.TypeString}, "quote": {Type: genai.TypeString}}, Required: []string{"segmentId", "quote"}}
	sentence := &genai.Schema{Type: genai.TypeObject, Properties: map[string]*genai.Schema{
		"text":     {Type: genai.TypeString},
		"heading":  {Type: genai.TypeString},
		"evidence": {Type: genai.TypeArray, Items: ev},
	}, Required: []string{"text", "heading", "evidence"}}
	props := map[string]*genai.Schema{}
	for _, s := range []string{"subjective", "objective", "assessment", "plan"} {
		props[s] = &genai.Schema{Type: genai.TypeArray, Items: sentence}
	}
	return &genai.Schema{Type: genai.TypeObject, Properties: props, Required: []string{"subjective", "objective", "assessment", "plan"}}
}

// DraftFor drafts for a clinic (whose budget the call draws on).
func (m *Model) DraftFor(ctx context.Context, clinicID string, in Input) (Draft, error) {
	var b strings.Builder
	for _, s := range in.Transcript.Segments {
		fmt.Fprintf(&b, "%s [%s] %s\n", s.ID, s.Role, s.Text)
	}
	red := llm.NewRedactor(in.Patient.identifiers())
	var ans modelAnswer
	var d Draft
	res, err := m.LLM.Call(ctx, llm.Request{ClinicID: clinicID, Purpose: "scribe", System: modelInstruction, Prompt: b.String(),
		Schema: answerSchema(), Redactor: red}, &ans, func() error {
		d = Draft{Engine: "gemini:" + m.LLM.Model, Content: ans.content(in.Transcript)}
		if err := Validate(&d, in.Transcript); err != nil {
			return &llm.Error{Reason: llm.ReasonInvalidAnswer, Err: err}
		}
		total, _ := d.Content.SentenceCount()
		if n := Check(&d.Content); float64(n) > MaxUnsupportedShare*float64(total) {
			return &llm.Error{Reason: ReasonUngrounded, Err: fmt.Errorf("%d of %d sentences unsupported by their spans", n, total)}
		}
		return nil
	})
	if err != nil {
		return Draft{}, err
	}
	u := notes.Usage(res.Usage)
	d.Usage = &u
	return d, nil
}

// content turns the answer into note content: quotes located in the original segments.
func (a modelAnswer) content(t transcript.Transcript) notes.Content {
	conv := func(ms []modelSentence) []notes.Sentence {
		out := make([]notes.Sentence, 0, len(ms))
		for _, m := range ms {
			s := notes.Sentence{Text: strings.TrimSpace(m.Text), Heading: strings.TrimSpace(m.Heading)}
			missing := false
			for _, e := range m.Evidence {
				seg, ok := t.Segment(e.SegmentID)
				if !ok {
					continue // an id the transcript does not have: not evidence
				}
				sp, found := locate(seg, e.Quote)
				if !found {
					missing = true
				}
				s.Spans = append(s.Spans, sp)
				if !containsString(s.Evidence, seg.ID) {
					s.Evidence = append(s.Evidence, seg.ID)
				}
			}
			if missing {
				s.Flags = append(s.Flags, notes.Flag{Kind: notes.FlagUnsupported, Claim: "quote",
					Detail: "the words the model quoted are not in the cited segment"})
			}
			out = append(out, s)
		}
		return out
	}
	return notes.Content{Subjective: conv(a.Subjective), Objective: conv(a.Objective), Assessment: conv(a.Assessment), Plan: conv(a.Plan)}
}

// locate finds quote in the segment's text (case and white space folded); not found, the
// whole segment is the span.
func locate(seg transcript.Segment, quote string) (transcript.Span, bool) {
	rs := []rune(seg.Text)
	whole := transcript.Span{SegmentID: seg.ID, Start: 0, End: len(rs), Quote: seg.Text}
	q := strings.Join(strings.Fields(quote), " ")
	if q == "" {
		return whole, false
	}
	lower := []rune(strings.ToLower(seg.Text))
	ql := []rune(strings.ToLower(q))
	for i := 0; i+len(ql) <= len(lower); i++ {
		if string(lower[i:i+len(ql)]) == string(ql) {
			return transcript.Span{SegmentID: seg.ID, Start: i, End: i + len(ql), Quote: string(rs[i : i+len(ql)])}, true
		}
	}
	return whole, false
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (p Patient) identifiers() llm.Identifiers {
	return llm.Identifiers{GivenName: p.GivenName, FamilyName: p.FamilyName, MRN: p.MRN, BirthDate: p.BirthDate,
		Phone: p.Phone, Email: p.Email, Address: p.Address}
}
