package scribe

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/medi-os/medi/shared/transcript"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/llm"

	"github.com/medi-os/medi/shared/notes"
)

// Price is a model's price in US dollars per million tokens.
type Price = llm.Price

// Gemini drafts with a Gemini model on Vertex AI (google.golang.org/genai, Vertex
// backend) under a JSON response schema. Its output is checked by the Worker with
// ValidateDraft (every sentence cites segments that exist) before anything is stored;
// an invalid answer falls back to the deterministic drafter.
//
// Only the transcript's segment ids, roles and words are sent; no patient identifiers.
type Gemini struct {
	Client *genai.Client
	// Model is the model id, e.g. "gemini-2.5-flash".
	Model string
	// Price prices the usage recorded with each draft (from configuration).
	Price Price
}

var _ Drafter = (*Gemini)(nil)

const geminiInstruction = `You write a clinical SOAP note from a consultation transcript.
Each input line is "<segment id> [<role>] <words>". Write short factual sentences in four sections:
subjective (what the patient reports), objective (vitals and examination findings), assessment
(the clinician's impression), plan (medications with dose and route, tests, follow-up).
Every sentence must list in "evidence" the ids of the segments it is based on, and only ids from the input.
Do not add facts that are not in the transcript. Leave a section empty when the transcript says nothing for it.`

// draftSchema is the response schema: four arrays of {text, evidence[]}.
func draftSchema() *genai.Schema {
	sentence := &genai.Schema{
		Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{
			"text":     {Type: genai.TypeString},
			"evidence": {Type: genai.TypeArray, Items: &genai.Schema{Type: genai.TypeString}},
		},
		Required: []string{"text", "evidence"},
	}
	props := map[string]*genai.Schema{}
	for _, s := range []string{"subjective", "objective", "assessment", "plan"} {
		props[s] = &genai.Schema{Type: genai.TypeArray, Items: sentence}
	}
	return &genai.Schema{Type: genai.TypeObject, Properties: props, Required: []string{"subjective", "objective", "assessment", "plan"}}
}

// geminiDraft is the model's JSON answer.
type geminiDraft struct {
	Subjective []notes.Sentence `json:"subjective"`
	Objective  []notes.Sentence `json:"objective"`
	Assessment []notes.Sentence `json:"assessment"`
	Plan       []notes.Sentence `json:"plan"`
}

// Draft implements Drafter.
func (g *Gemini) Draft(ctx context.Context, t transcript.Transcript) (Draft, error) {
	var b strings.Builder
	for _, s := range t.Segments {
		fmt.Fprintf(&b, "%s [%s] %s\n", s.ID, s.Role, s.Text)
	}
	temp := float32(0)
	start := time.Now()
	resp, err := g.Client.Models.GenerateContent(ctx, g.Model, []*genai.Content{genai.NewContentFromText(b.String(), genai.RoleUser)},
		&genai.GenerateContentConfig{
			SystemInstruction: genai.NewContentFromText(geminiInstruction, genai.RoleUser),
			Temperature:       &temp,
			ResponseMIMEType:  "application/json",
			ResponseSchema:    draftSchema(),
		})
	latency := time.Since(start)
	if err != nil {
		return Draft{}, fmt.Errorf("gemini: %w", err)
	}
	var out geminiDraft
	dec := json.NewDecoder(strings.NewReader(resp.Text()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return Draft{}, fmt.Errorf("%w: the model's answer does not match the schema", ErrInvalidDraft)
	}
	d := Draft{
		Content: notes.Content{Subjective: clean(out.Subjective), Objective: clean(out.Objective), Assessment: clean(out.Assessment), Plan: clean(out.Plan)},
		Engine:  "gemini:" + g.Model,
		Usage:   &notes.Usage{Model: g.Model, LatencyMs: latency.Milliseconds()},
	}
	if u := resp.UsageMetadata; u != nil {
		d.Usage.InputTokens, d.Usage.OutputTokens = int64(u.PromptTokenCount), int64(u.CandidatesTokenCount)
		d.Usage.CostUSD = g.Price.Cost(d.Usage.InputTokens, d.Usage.OutputTokens)
	}
	if err := ValidateDraft(&d, t); err != nil {
		return Draft{}, err
	}
	return d, nil
}

// clean drops model-supplied ids (ValidateDraft numbers sentences) and trims text.
func clean(ss []notes.Sentence) []notes.Sentence {
	out := make([]notes.Sentence, 0, len(ss))
	for _, s := range ss {
		out = append(out, notes.Sentence{Text: strings.TrimSpace(s.Text), Evidence: s.Evidence})
	}
	return out
}
