// Package llm is the one way the suite calls a language model (Gemini on Vertex AI, via
// the official google.golang.org/genai client the platform layer creates): the AI scribe
// and the history summarizer both go through Client.Call, which
//
//   - reserves the call's estimated cost against the clinic's monthly budget in a
//     Firestore transaction before calling, so concurrent workers cannot overspend, and
//     settles the reservation with the real cost after;
//   - replaces the patient's identifiers (name, MRN, birth date, phone, e-mail, address)
//     with placeholders before the text leaves, and restores them in the answer;
//   - bounds every attempt with a timeout and retries 429 and 503 with exponential
//     backoff (or the delay the server asks for in its RetryInfo, when longer);
//   - decodes the answer strictly into the caller's type (unknown fields and trailing
//     data rejected);
//   - records the usage of every call, answered, rejected or failed, in
//     clinics/{clinicId}/llmUsage/{id} with the monthly totals in llmUsageMonths/{YYYY-MM}.
//
// A failed call returns an *Error whose Reason the caller stores as its fallback reason.
package llm

import (
	"errors"
	"fmt"
)

// Price is a model's price in US dollars per million tokens (from configuration).
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

// Cost is the price of one call's tokens in US dollars.
func (p Price) Cost(inputTokens, outputTokens int64) float64 {
	return (float64(inputTokens)*p.InputPerMTok + float64(outputTokens)*p.OutputPerMTok) / 1e6
}

// Usage is what one call cost.
type Usage struct {
	Model        string  `firestore:"model" json:"model"`
	InputTokens  int64   `firestore:"inputTokens" json:"inputTokens"`
	OutputTokens int64   `firestore:"outputTokens" json:"outputTokens"`
	CostUSD      float64 `firestore:"costUsd" json:"costUsd"`
	LatencyMs    int64   `firestore:"latencyMs" json:"latencyMs"`
}

// Reasons a call's answer was not used; callers store them as fallback reasons.
const (
	ReasonBudgetExceeded    = "budget_exceeded"    // the clinic's monthly budget would be overspent
	ReasonBudgetUnavailable = "budget_unavailable" // the budget could not be read or reserved
	ReasonRateLimited       = "rate_limited"       // 429 after every retry
	ReasonUnavailable       = "model_unavailable"  // 503 after every retry
	ReasonTimeout           = "timeout"            // an attempt ran out of time
	ReasonModelError        = "model_error"        // any other failure of the call
	ReasonInvalidAnswer     = "invalid_answer"     // the answer is not the JSON asked for
	// Callers add their own reasons for answers they reject after decoding
	// (ungrounded, invalid_citations).
)

// Error is a call that gave no usable answer.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "llm: " + e.Reason
	}
	return fmt.Sprintf("llm: %s: %v", e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the reason of a failed call: the *Error's, else model_error.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonModelError
}
