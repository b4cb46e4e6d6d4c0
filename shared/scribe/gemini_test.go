package scribe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/notes"
)

// fakeVertex is an in-test Vertex AI generateContent endpoint.
type fakeVertex struct {
	mu     sync.Mutex
	status int
	answer string // the model's text
	paths  []string
	bodies []map[string]any
}

func (f *fakeVertex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	f.paths, f.bodies = append(f.paths, r.URL.Path), append(f.bodies, body)
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(`{"error":{"code":500,"message":"backend error","status":"INTERNAL"}}`))
		return
	}
	resp := map[string]any{
		"candidates":    []any{map[string]any{"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": f.answer}}}, "finishReason": "STOP"}},
		"usageMetadata": map[string]any{"promptTokenCount": 1000, "candidatesTokenCount": 200, "totalTokenCount": 1200},
	}
	_ = json.NewEncoder(w).Encode(resp)
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

func TestGeminiDraft(t *testing.T) {
	t.Parallel()
	tr := mustParse(t, "text", "Doctor: What brings you in?\nPatient: I've had a cough for three days.\nDoctor: Temp 38.4.")
	f := &fakeVertex{answer: `{"subjective":[{"text":"Cough for three days.","evidence":["s2"]}],"objective":[{"text":"Temperature 38.4 C.","evidence":["s3"]}],"assessment":[],"plan":[]}`}
	g := newGemini(t, f)
	d, err := g.Draft(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	want := notes.Content{
		Subjective: []notes.Sentence{{ID: "S1", Text: "Cough for three days.", Evidence: []string{"s2"}}},
		Objective:  []notes.Sentence{{ID: "O1", Text: "Temperature 38.4 C.", Evidence: []string{"s3"}}},
		Assessment: []notes.Sentence{}, Plan: []notes.Sentence{},
	}
	if diff := cmp.Diff(want, d.Content); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if d.Engine != "gemini:gemini-test" || d.Usage == nil || d.Usage.InputTokens != 1000 || d.Usage.OutputTokens != 200 ||
		math.Abs(d.Usage.CostUSD-0.0008) > 1e-12 {
		t.Errorf("engine %q usage %+v", d.Engine, d.Usage)
	}
	if got, want := f.paths[0], "/v1beta1/projects/proj/locations/europe-west1/publishers/google/models/gemini-test:generateContent"; got != want {
		t.Errorf("path %s, want %s", got, want)
	}
	cfg, _ := f.bodies[0]["generationConfig"].(map[string]any)
	if cfg["responseMimeType"] != "application/json" || cfg["responseSchema"] == nil || cfg["temperature"] != 0.0 {
		t.Errorf("generationConfig = %v", cfg)
	}
	if b, _ := json.Marshal(f.bodies[0]["contents"]); !strings.Contains(string(b), `s2 [patient] I've had a cough`) {
		t.Errorf("prompt lacks the segment lines: %s", b)
	}
}

func TestGeminiDraftRejectsBadAnswers(t *testing.T) {
	t.Parallel()
	tr := mustParse(t, "text", "Doctor: What brings you in?\nPatient: I've had a cough for three days.")
	for _, tc := range []struct {
		name    string
		f       *fakeVertex
		invalid bool
	}{
		{"cites a segment that does not exist", &fakeVertex{answer: `{"subjective":[{"text":"Cough.","evidence":["s7"]}],"objective":[],"assessment":[],"plan":[]}`}, true},
		{"sentence without evidence", &fakeVertex{answer: `{"subjective":[{"text":"Cough.","evidence":[]}],"objective":[],"assessment":[],"plan":[]}`}, true},
		{"not JSON", &fakeVertex{answer: `Here is your note: ...`}, true},
		{"extra fields", &fakeVertex{answer: `{"subjective":[],"objective":[],"assessment":[],"plan":[],"diagnosis":"x"}`}, true},
		{"backend error", &fakeVertex{status: http.StatusInternalServerError}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := newGemini(t, tc.f).Draft(context.Background(), tr)
			if err == nil || errors.Is(err, ErrInvalidDraft) != tc.invalid {
				t.Errorf("err = %v, want invalid=%v", err, tc.invalid)
			}
		})
	}
}

func TestWorkerFallsBackFromInvalidModelDraft(t *testing.T) {
	t.Parallel()
	tr := mustParse(t, "text", "Patient: I've had a cough for three days.\nDoctor: Temp 38.4.")
	w := &Worker{Drafter: newGemini(t, &fakeVertex{answer: `{"subjective":[{"text":"x","evidence":["s99"]}],"objective":[],"assessment":[],"plan":[]}`}),
		Fallback: Deterministic{}}
	d, err := w.draft(context.Background(), tr)
	if err != nil || d.Engine != DeterministicEngine {
		t.Fatalf("draft engine %q, err %v; want the deterministic fallback", d.Engine, err)
	}
}
