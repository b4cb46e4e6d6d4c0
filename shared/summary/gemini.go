package summary

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/llm"
)

// Gemini writes the narrative with a Gemini model through shared/llm (budget reserved,
// retried, bounded, strictly decoded, recorded, identifiers replaced). It is sent only the
// extracted facts, each line prefixed with the ids it cites; the answer's citations are
// validated before it is used.
type Gemini struct {
	LLM *llm.Client
}

var _ Engine = (*Gemini)(nil)

// Name implements Engine.
func (g *Gemini) Name() string { return EngineGemini }

const summaryInstruction = `You summarize a patient's history for a doctor about to see the patient.
Each input line is "[<ids>] <section>: <fact>". Write at most eight short factual sentences covering
the synopsis, active problems, medications, allergies, recent encounters, vital-sign trends and open
items. Every sentence must list in "sources" the ids, copied exactly from the brackets, of the facts
it states. Use only the facts given; do not add, infer or recommend anything. Placeholders in
brackets stand for the patient's identifiers: keep them as they are.`

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
func (g *Gemini) Write(ctx context.Context, clinicID string, f Facts, id llm.Identifiers) (Written, error) {
	var out struct {
		Sentences []Item `json:"sentences"`
	}
	var narrative []Item
	res, err := g.LLM.Call(ctx, llm.Request{ClinicID: clinicID, Purpose: "summary", System: summaryInstruction, Prompt: FactLines(f),
		Schema: narrativeSchema(), Redactor: llm.NewRedactor(id)}, &out, func() error {
		narrative = nil
		for _, s := range out.Sentences {
			if t := strings.TrimSpace(s.Text); t != "" || len(s.Sources) > 0 {
				narrative = append(narrative, Item{Text: t, Sources: s.Sources})
			}
		}
		if err := ValidateNarrative(narrative, f); err != nil {
			return &llm.Error{Reason: ReasonInvalidCitations, Err: err}
		}
		return nil
	})
	w := Written{Model: g.LLM.Model}
	if res.Usage.InputTokens > 0 || res.Usage.OutputTokens > 0 {
		u := res.Usage
		w.Usage = &u
	}
	if err != nil {
		return w, err
	}
	w.Narrative = narrative
	return w, nil
}
