// Package llmtest is an in-test Vertex AI: an HTTP server that answers generateContent
// as Vertex AI does (the JSON of the REST API the genai client speaks), scripted per
// call, and a genai client pointed at it.
package llmtest

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

	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/llm"
)

// Reply is one scripted answer: an HTTP error status, or the model's text with its
// token counts; Delay holds the answer back.
type Reply struct {
	Status                    int
	Text                      string
	Delay                     time.Duration
	Details                   []map[string]any // error details (RetryInfo)
	InputTokens, OutputTokens int
}

// Vertex is the fake. Replies are used in order; the last one repeats.
type Vertex struct {
	mu      sync.Mutex
	replies []Reply
	// Requests holds every request body (the JSON the client sent) and path.
	Requests []Request
}

// Request is a request the fake received.
type Request struct {
	Path string
	Body map[string]any
	Raw  string
}

// Start serves a fake answering with replies and returns it with its address
// (host:port), for a genai client configured elsewhere (VERTEX_EMULATOR_HOST).
func Start(t testing.TB, replies ...Reply) (*Vertex, string) {
	t.Helper()
	v := &Vertex{replies: replies}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	return v, strings.TrimPrefix(srv.URL, "http://")
}

// New starts a fake answering with replies and returns it with a genai client for it.
func New(t testing.TB, replies ...Reply) (*Vertex, *genai.Client) {
	t.Helper()
	v := &Vertex{replies: replies}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		Backend: genai.BackendVertexAI, Project: "proj", Location: "europe-west1",
		HTTPClient: srv.Client(), HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL + "/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v, c
}

// Calls returns how many requests arrived.
func (v *Vertex) Calls() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.Requests)
}

// Sent returns everything the client sent, as one string.
func (v *Vertex) Sent() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var b strings.Builder
	for _, r := range v.Requests {
		b.WriteString(r.Raw)
	}
	return b.String()
}

// ServeHTTP implements http.Handler.
func (v *Vertex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	v.mu.Lock()
	n := len(v.Requests)
	v.Requests = append(v.Requests, Request{Path: r.URL.Path, Body: body, Raw: string(raw)})
	rep := Reply{Status: http.StatusInternalServerError}
	if len(v.replies) > 0 {
		rep = v.replies[min(n, len(v.replies)-1)]
	}
	v.mu.Unlock()
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if rep.Status != 0 && rep.Status != http.StatusOK {
		w.WriteHeader(rep.Status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
			"code": rep.Status, "message": http.StatusText(rep.Status), "status": statusName(rep.Status), "details": rep.Details}})
		return
	}
	in, out := rep.InputTokens, rep.OutputTokens
	if in == 0 && out == 0 {
		in, out = 1000, 200
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"candidates": []any{map[string]any{"content": map[string]any{"role": "model",
			"parts": []any{map[string]any{"text": rep.Text}}}, "finishReason": "STOP"}},
		"usageMetadata": map[string]any{"promptTokenCount": in, "candidatesTokenCount": out, "totalTokenCount": in + out},
	})
}

func statusName(code int) string {
	switch code {
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusBadRequest:
		return "INVALID_ARGUMENT"
	}
	return "INTERNAL"
}

// Ledger is an in-memory llm.Ledger with a monthly cap (0: none), for tests of callers
// (the Firestore ledger has its own tests against the emulator).
type Ledger struct {
	mu       sync.Mutex
	CapUSD   float64
	Spent    float64
	Reserved float64
	Records  []llm.Record
	// Fail, when set, is what Reserve returns.
	Fail error
}

// Reserve implements llm.Ledger.
func (l *Ledger) Reserve(_ context.Context, clinic string, est float64, now time.Time) (llm.Reservation, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Fail != nil {
		return llm.Reservation{}, l.Fail
	}
	if l.CapUSD > 0 && l.Spent+l.Reserved+est > l.CapUSD {
		return llm.Reservation{}, llm.ErrBudgetExceeded
	}
	l.Reserved += est
	return llm.Reservation{ClinicID: clinic, Month: llm.Month(now), EstimateUSD: est}, nil
}

// Settle implements llm.Ledger.
func (l *Ledger) Settle(_ context.Context, r llm.Reservation, rec llm.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Reserved -= r.EstimateUSD
	l.Spent += rec.Usage.CostUSD
	l.Records = append(l.Records, rec)
	return nil
}
