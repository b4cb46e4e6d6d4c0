package summary

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/llm/llmtest"
)

func newGemini(t *testing.T, l llm.Ledger, replies ...llmtest.Reply) (*Gemini, *llmtest.Vertex) {
	t.Helper()
	fake, gc := llmtest.New(t, replies...)
	return &Gemini{LLM: &llm.Client{GenAI: gc, Model: "gemini-test", Price: llm.Price{InputPerMTok: 0.3, OutputPerMTok: 2.5},
		Ledger: l, Attempts: 1, Now: func() time.Time { return now }}}, fake
}

// prompt returns the user prompt of the fake's last request.
func prompt(f *llmtest.Vertex) string {
	if len(f.Requests) == 0 {
		return ""
	}
	var body struct {
		Contents []struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"contents"`
	}
	_ = json.Unmarshal([]byte(f.Requests[len(f.Requests)-1].Raw), &body)
	if len(body.Contents) == 0 || len(body.Contents[0].Parts) == 0 {
		return ""
	}
	return body.Contents[0].Parts[0].Text
}

func answer(sentences ...Item) string {
	b, _ := json.Marshal(map[string]any{"sentences": sentences})
	return string(b)
}

func TestBuilderEngines(t *testing.T) {
	t.Parallel()
	valid := []Item{
		{Text: "A 60-year-old woman with type 2 diabetes.", Sources: []string{"patient/p1"}},
		{Text: "Seen on 2 November with a cough and a fast heart rate.", Sources: []string{"encounter/e2", "assessment/e2/000001"}},
	}
	wantUsage := &Usage{Model: "gemini-test", InputTokens: 1000, OutputTokens: 200, CostUSD: (1000*0.3 + 200*2.5) / 1e6}
	tests := []struct {
		name       string
		fake       llmtest.Reply
		capUSD     float64
		wantEngine string
		wantReason string
		wantCalls  int
		wantUsage  *Usage
	}{
		{name: "valid narrative", fake: llmtest.Reply{Text: answer(valid...)},
			wantEngine: EngineGemini, wantCalls: 1, wantUsage: wantUsage},
		{name: "invented id", fake: llmtest.Reply{Text: answer(valid[0], Item{Text: "Had surgery in 2020.", Sources: []string{"encounter/e9"}})},
			wantEngine: EngineDeterministic, wantReason: ReasonInvalidCitations, wantCalls: 1, wantUsage: wantUsage},
		{name: "uncited sentence", fake: llmtest.Reply{Text: answer(valid[0], Item{Text: "Doing well."})},
			wantEngine: EngineDeterministic, wantReason: ReasonInvalidCitations, wantCalls: 1, wantUsage: wantUsage},
		{name: "not the schema", fake: llmtest.Reply{Text: `{"summary":"free text"}`},
			wantEngine: EngineDeterministic, wantReason: llm.ReasonInvalidAnswer, wantCalls: 1, wantUsage: wantUsage},
		{name: "model error", fake: llmtest.Reply{Status: http.StatusBadRequest},
			wantEngine: EngineDeterministic, wantReason: ReasonModelError, wantCalls: 1},
		{name: "budget cap", fake: llmtest.Reply{Text: answer(valid...)}, capUSD: 1e-9,
			wantEngine: EngineDeterministic, wantReason: ReasonBudgetExceeded, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ledger := &llmtest.Ledger{CapUSD: tt.capUSD}
			eng, fake := newGemini(t, ledger, tt.fake)
			b := &Builder{Engine: eng, Now: func() time.Time { return now }}
			st := b.Build(context.Background(), "c1", testSources())
			if st.Engine != tt.wantEngine || st.FallbackReason != tt.wantReason {
				t.Errorf("engine %q reason %q, want %q %q", st.Engine, st.FallbackReason, tt.wantEngine, tt.wantReason)
			}
			if got := fake.Calls(); got != tt.wantCalls {
				t.Errorf("%d model calls, want %d", got, tt.wantCalls)
			}
			if tt.wantUsage != nil {
				u := st.Usage
				if u == nil {
					t.Fatal("no usage recorded on the summary")
				}
				u2 := *u
				u2.LatencyMs = 0
				if d := cmp.Diff(&u2, tt.wantUsage); d != "" {
					t.Errorf("usage diff (-got +want):\n%s", d)
				}
			}
			// Every call made is recorded, with its outcome.
			if len(ledger.Records) != tt.wantCalls || tt.wantCalls > 0 && ledger.Records[0].Outcome != map[bool]string{true: "ok", false: tt.wantReason}[tt.wantReason == ""] {
				t.Errorf("ledger records %+v", ledger.Records)
			}
			wantNarrative := valid
			if tt.wantEngine == EngineDeterministic {
				wantNarrative = []Item{st.Summary.Synopsis}
			}
			if d := cmp.Diff(st.Summary.Narrative, wantNarrative); d != "" {
				t.Errorf("narrative diff (-got +want):\n%s", d)
			}
			if st.SourceHash != SourceHash(testSources()) {
				t.Error("source hash is not the sources' hash")
			}
		})
	}
}

// The model is sent the facts with their ids and nothing that identifies the patient.
func TestGeminiPromptHoldsFactsOnly(t *testing.T) {
	t.Parallel()
	eng, fake := newGemini(t, nil, llmtest.Reply{Text: answer(Item{Text: "x", Sources: []string{"patient/p1"}})})
	src := testSources()
	src.Patient.GivenName, src.Patient.FamilyName, src.Patient.MRN = "Ada", "Lovelace", "MRN-000042"
	b := &Builder{Engine: eng, Now: func() time.Time { return now }}
	b.Build(context.Background(), "c1", src)
	sent := fake.Sent()
	for _, s := range []string{"Ada", "Lovelace", "MRN-000042", "1966-03-15"} {
		if strings.Contains(sent, s) {
			t.Errorf("request contains %q", s)
		}
	}
	for _, s := range []string{"[patient/p1] allergy: penicillin (rash, severe)", "[note/n1/v2] open item: Chest X-ray in 6 weeks."} {
		if !strings.Contains(prompt(fake), s) {
			t.Errorf("prompt lacks %q:\n%s", s, prompt(fake))
		}
	}
}

func TestValidateNarrative(t *testing.T) {
	t.Parallel()
	f := Extract(testSources(), now)
	tests := []struct {
		name string
		n    []Item
		ok   bool
	}{
		{"cited", []Item{{Text: "a", Sources: []string{"patient/p1", "note/n1/v2"}}}, true},
		{"empty", nil, false},
		{"invented id", []Item{{Text: "a", Sources: []string{"patient/p2"}}}, false},
		{"one good one invented", []Item{{Text: "a", Sources: []string{"patient/p1", "note/n1/v1"}}}, false},
		{"uncited", []Item{{Text: "a", Sources: []string{"patient/p1"}}, {Text: "b"}}, false},
		{"blank text", []Item{{Text: " ", Sources: []string{"patient/p1"}}}, false},
	}
	for _, tt := range tests {
		if err := ValidateNarrative(tt.n, f); (err == nil) != tt.ok {
			t.Errorf("%s: ValidateNarrative = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
