// Package llm holds what every use of a Vertex AI model shares: the price table that
// turns token counts into the cost recorded in llmUsage. The genai client itself comes
// from the platform (shared/app).
package llm

// Price is a model's price in US dollars per million tokens (from configuration).
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

// Cost is the price of one call's tokens in US dollars.
func (p Price) Cost(inputTokens, outputTokens int64) float64 {
	return (float64(inputTokens)*p.InputPerMTok + float64(outputTokens)*p.OutputPerMTok) / 1e6
}
