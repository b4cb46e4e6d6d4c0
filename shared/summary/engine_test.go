package summary

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genai"
)

// fakeVertex is an in-test Vertex AI generateContent endpoint.
type fakeVertex struct {
	mu     sync.Mutex
	status int
	answer string
	calls  int
	prompt string
}

func (f *fakeVertex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	b, _ := io.ReadAll(r.Body)
	var body struct {
		Contents []struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"contents"`
	}
	_ = json.Unmarshal(b, &body)
	if len(body.Contents) > 0 && len(body.Contents[0].Parts) > 0 {
		f.prompt = body.Contents[0].Parts[0].Text
	}
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"error":{"code":500,"message":"backend error","status":"INTERNAL"}}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"candidates":    []any{map[string]any{"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": f.answer}}}, "finishReason": "STOP"}},
		"usageMetadata": map[string]any{"promptTokenCount": 1000, "candidatesTokenCount": 200, "totalTokenCount": 1200},
	})
}

func (f *fakeVertex) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func newGemini(t *testing.T, f *fakeVertex) *Gemini {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		Backend: genai.BackendVertexAI, Project: "proj", Location: "europe-west1",
		HTTPClient: srv.Client(), HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL + "/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Gemini{Client: c, Model: "gemini-test", Price: Price{InputPerMTok: 0.3, OutputPerMTok: 2.5}}
}

// vertexAnswer is what a fakeVertex answers.
type vertexAnswer struct {
	status int
	answer string
}

// memLedger is an in-memory Ledger.
type memLedger struct {
	mu      sync.Mutex
	allowed bool
	records []Usage
}

func (l *memLedger) Allowed(context.Context, string, time.Time) (bool, error) { return l.allowed, nil }
func (l *memLedger) Record(_ context.Context, _, _ string, u Usage, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, u)
	return nil
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
		fake       vertexAnswer
		allowed    bool
		wantEngine string
		wantReason string
		wantCalls  int
		wantUsage  *Usage
	}{
		{name: "valid narrative", fake: vertexAnswer{answer: answer(valid...)}, allowed: true,
			wantEngine: EngineGemini, wantCalls: 1, wantUsage: wantUsage},
		{name: "invented id", fake: vertexAnswer{answer: answer(valid[0], Item{Text: "Had surgery in 2020.", Sources: []string{"encounter/e9"}})},
			allowed: true, wantEngine: EngineDeterministic, wantReason: ReasonInvalidCitations, wantCalls: 1, wantUsage: wantUsage},
		{name: "uncited sentence", fake: vertexAnswer{answer: answer(valid[0], Item{Text: "Doing well."})},
			allowed: true, wantEngine: EngineDeterministic, wantReason: ReasonInvalidCitations, wantCalls: 1, wantUsage: wantUsage},
		{name: "not the schema", fake: vertexAnswer{answer: `{"summary":"free text"}`},
			allowed: true, wantEngine: EngineDeterministic, wantReason: ReasonInvalidCitations, wantCalls: 1, wantUsage: wantUsage},
		{name: "model error", fake: vertexAnswer{status: http.StatusBadRequest},
			allowed: true, wantEngine: EngineDeterministic, wantReason: ReasonModelError, wantCalls: 1},
		{name: "budget cap", fake: vertexAnswer{answer: answer(valid...)}, allowed: false,
			wantEngine: EngineDeterministic, wantReason: ReasonBudgetExceeded, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeVertex{status: tt.fake.status, answer: tt.fake.answer}
			ledger := &memLedger{allowed: tt.allowed}
			b := &Builder{Engine: newGemini(t, fake), Ledger: ledger, Now: func() time.Time { return now }}
			st := b.Build(context.Background(), "c1", testSources())
			if st.Engine != tt.wantEngine || st.FallbackReason != tt.wantReason {
				t.Errorf("engine %q reason %q, want %q %q", st.Engine, st.FallbackReason, tt.wantEngine, tt.wantReason)
			}
			if got := fake.callCount(); got != tt.wantCalls {
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
				if len(ledger.records) != 1 {
					t.Errorf("%d usage records in the ledger, want 1", len(ledger.records))
				}
			} else if len(ledger.records) != 0 {
				t.Errorf("usage recorded without a model answer: %+v", ledger.records)
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
	fake := &fakeVertex{answer: answer(Item{Text: "x", Sources: []string{"patient/p1"}})}
	src := testSources()
	src.Patient.GivenName, src.Patient.FamilyName, src.Patient.MRN = "Ada", "Lovelace", "MRN-000042"
	b := &Builder{Engine: newGemini(t, fake), Now: func() time.Time { return now }}
	b.Build(context.Background(), "c1", src)
	for _, s := range []string{"Ada", "Lovelace", "MRN-000042", "1966-03-15"} {
		if strings.Contains(fake.prompt, s) {
			t.Errorf("prompt contains %q", s)
		}
	}
	for _, s := range []string{"[patient/p1] allergy: penicillin (rash, severe)", "[note/n1/v2] open item: Chest X-ray in 6 weeks."} {
		if !strings.Contains(fake.prompt, s) {
			t.Errorf("prompt lacks %q:\n%s", s, fake.prompt)
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
