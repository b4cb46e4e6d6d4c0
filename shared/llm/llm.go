// Package llm holds what every use of a Vertex AI model shares: the client and the
// price table that turns token counts into the cost recorded in llmUsage.
package llm

import (
	"context"

	"google.golang.org/genai"
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

// NewVertexClient returns a genai client for Vertex AI in project and location, with
// Application Default Credentials (the function's service account).
func NewVertexClient(ctx context.Context, project, location string) (*genai.Client, error) {
	return genai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendVertexAI, Project: project, Location: location})
}
