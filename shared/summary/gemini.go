package summary

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/llm"
)

// Price is a model's price in US dollars per million tokens.
type Price = llm.Price

// Gemini writes the narrative with a Gemini model on Vertex AI (google.golang.org/genai,
// Vertex backend) under a JSON response schema. It is sent only the extracted facts,
// each line prefixed with the ids it cites, never names or identifiers of the patient;
// Builder validates the answer's citations.
type Gemini struct {
	Client *genai.Client
	// Model is the model id, e.g. "gemini-2.5-flash".
	Model string
	// Price prices the recorded usage (from configuration).
	Price Price
}

var _ Engine = (*Gemini)(nil)

// Name implements Engine.
func (g *Gemini) Name() string { return EngineGemini }

const summaryInstruction = `You summarize a patient's history for a doctor about to see the patient.
Each input line is "[<ids>] <section>: <fact>". Write at most eight short factual sentences covering
the synopsis, active problems, medications, allergies, recent encounters, vital-sign trends and open
items. Every sentence must list in "sources" the ids, copied exactly from the brackets, of the facts
it states. Use only the facts given; do not add, infer or recommend anything.`

func narrativeSchema() *genai.Schema {
	sentence := &genai.Schema{
		Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{
			"text":    {Type: genai.TypeString},
			"sources": {Type: genai.TypeArray, Items: &genai.Schema{Type: genai.TypeString}},
		},
		Required: []string{"text", "sources"},
	}
	return &genai.Schema{Type: genai.TypeObject,
		Properties: map[string]*genai.Schema{"sentences": {Type: genai.TypeArray, Items: sentence}},
		Required:   []string{"sentences"}}
}

// FactLines renders the facts as the model sees them.
func FactLines(f Facts) string {
	var b strings.Builder
	line := func(section string, it Item) {
		fmt.Fprintf(&b, "[%s] %s: %s\n", strings.Join(it.Sources, " "), section, it.Text)
	}
	line("synopsis", f.Synopsis)
	for _, it := range f.Problems {
		line("problem", it)
	}
	for _, it := range f.Medications {
		line("medication", it)
	}
	for _, it := range f.Allergies {
		line("allergy", it)
	}
	for _, e := range f.Encounters {
		line("encounter", Item{Text: e.Text, Sources: e.Sources})
	}
	for _, v := range f.Vitals {
		line("vital signs", Item{Text: v.Text, Sources: v.Sources})
	}
	for _, it := range f.OpenItems {
		line("open item", it)
	}
	return b.String()
}

// Write implements Engine. The usage is returned with an error too when the model
// answered (the call cost).
func (g *Gemini) Write(ctx context.Context, _ string, f Facts) (Written, error) {
	temp := float32(0)
	start := time.Now()
	resp, err := g.Client.Models.GenerateContent(ctx, g.Model,
		[]*genai.Content{genai.NewContentFromText(FactLines(f), genai.RoleUser)},
		&genai.GenerateContentConfig{
			SystemInstruction: genai.NewContentFromText(summaryInstruction, genai.RoleUser),
			Temperature:       &temp,
			ResponseMIMEType:  "application/json",
			ResponseSchema:    narrativeSchema(),
		})
	latency := time.Since(start)
	if err != nil {
		return Written{}, fmt.Errorf("gemini: %w", err)
	}
	w := Written{Model: g.Model, Usage: &Usage{Model: g.Model, LatencyMs: latency.Milliseconds()}}
	if u := resp.UsageMetadata; u != nil {
		w.Usage.InputTokens, w.Usage.OutputTokens = int64(u.PromptTokenCount), int64(u.CandidatesTokenCount)
		w.Usage.CostUSD = g.Price.Cost(w.Usage.InputTokens, w.Usage.OutputTokens)
	}
	var out struct {
		Sentences []Item `json:"sentences"`
	}
	dec := json.NewDecoder(strings.NewReader(resp.Text()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return w, fmt.Errorf("%w: the model's answer does not match the schema", ErrInvalidCitations)
	}
	for _, s := range out.Sentences {
		if t := strings.TrimSpace(s.Text); t != "" || len(s.Sources) > 0 {
			w.Narrative = append(w.Narrative, Item{Text: t, Sources: s.Sources})
		}
	}
	return w, nil
}
