package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/logging"
)

// Client calls one model with the guards of the package.
type Client struct {
	// GenAI is the platform's genai client (Vertex AI backend).
	GenAI *genai.Client
	// Model is the model id, e.g. "gemini-2.5-flash"; Price prices its tokens.
	Model string
	Price Price
	// Ledger reserves and records every call; nil disables the budget (tests of the
	// decoding only).
	Ledger Ledger
	// Timeout bounds each attempt (default 60 s); Attempts is how many times a 429 or 503
	// is tried (default 4); Backoff is the first wait, doubled after each (default 1 s,
	// at most 30 s; a longer delay the server asks for in RetryInfo wins).
	Timeout  time.Duration
	Attempts int
	Backoff  time.Duration
	// MaxOutputTokens caps the answer (default 8192); it prices the reservation.
	MaxOutputTokens int32
	// Now and Sleep are the clock (tests replace them).
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
}

// Request is one call.
type Request struct {
	ClinicID string
	// Purpose is recorded with the usage: "scribe" or "summary".
	Purpose string
	// System is the instruction; Prompt the input. Both pass through the Redactor.
	System, Prompt string
	// Schema is the JSON schema the answer must follow.
	Schema *genai.Schema
	// Redactor, when set, replaces the patient's identifiers in System and Prompt and
	// restores them in the answer before it is decoded.
	Redactor *Redactor
}

// Result is a decoded answer's usage.
type Result struct {
	Usage    Usage
	Attempts int
}

// Accept is called with the decoded answer; a non-nil error rejects it (the error's
// Reason, when it is an *Error, is recorded as the call's outcome).
type Accept func() error

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 60 * time.Second
}

func (c *Client) maxOutput() int32 {
	if c.MaxOutputTokens > 0 {
		return c.MaxOutputTokens
	}
	return 8192
}

// Estimate is the most a request can cost: its text at about four characters a token,
// and the whole answer cap.
func (c *Client) Estimate(req Request) float64 {
	in := int64(len(req.System)+len(req.Prompt))/4 + 1
	return c.Price.Cost(in, int64(c.maxOutput()))
}

// Call sends req and decodes the answer strictly into out, then asks accept (may be
// nil) whether the answer is usable. Whatever happens after the reservation, the call is
// recorded with its usage and outcome. The error is an *Error naming the reason.
func (c *Client) Call(ctx context.Context, req Request, out any, accept Accept) (Result, error) {
	log := logging.FromContext(ctx)
	start := c.now()
	var res Reservation
	if c.Ledger != nil {
		var err error
		res, err = c.Ledger.Reserve(ctx, req.ClinicID, c.Estimate(req), start)
		switch {
		case errors.Is(err, ErrBudgetExceeded):
			return Result{}, &Error{Reason: ReasonBudgetExceeded}
		case err != nil:
			return Result{}, &Error{Reason: ReasonBudgetUnavailable, Err: err}
		}
	}
	result, text, callErr := c.generate(ctx, req)
	outcome := "ok"
	if callErr == nil {
		if req.Redactor != nil {
			text = req.Redactor.Restore(text)
		}
		if err := decodeStrict(text, out); err != nil {
			callErr = &Error{Reason: ReasonInvalidAnswer, Err: err}
		} else if accept != nil {
			if err := accept(); err != nil {
				callErr = err
			}
		}
	}
	if callErr != nil {
		outcome = ReasonOf(callErr)
	}
	if c.Ledger != nil {
		rec := Record{ClinicID: req.ClinicID, Purpose: req.Purpose, Usage: result.Usage, Outcome: outcome, Attempts: result.Attempts, At: start}
		if err := c.Ledger.Settle(context.WithoutCancel(ctx), res, rec); err != nil {
			log.LogAttrs(ctx, slog.LevelError, "model usage not recorded", slog.String("error", err.Error()))
		}
	}
	if callErr != nil {
		var e *Error
		if !errors.As(callErr, &e) {
			callErr = &Error{Reason: outcome, Err: callErr}
		}
		return result, callErr
	}
	return result, nil
}

// generate calls the model, retrying 429 and 503.
func (c *Client) generate(ctx context.Context, req Request) (Result, string, error) {
	system, prompt := req.System, req.Prompt
	if req.Redactor != nil {
		system, prompt = req.Redactor.Redact(system), req.Redactor.Redact(prompt)
	}
	temp := float32(0)
	cfg := &genai.GenerateContentConfig{
		SystemInstruction: genai.NewContentFromText(system, genai.RoleUser),
		Temperature:       &temp,
		MaxOutputTokens:   c.maxOutput(),
		ResponseMIMEType:  "application/json",
		ResponseSchema:    req.Schema,
	}
	attempts := c.Attempts
	if attempts <= 0 {
		attempts = 4
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = time.Second
	}
	var result Result
	begin := c.now()
	for attempt := 1; ; attempt++ {
		result.Attempts = attempt
		actx, cancel := context.WithTimeout(ctx, c.timeout())
		resp, err := c.GenAI.Models.GenerateContent(actx, c.Model, []*genai.Content{genai.NewContentFromText(prompt, genai.RoleUser)}, cfg)
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		result.Usage = Usage{Model: c.Model, LatencyMs: c.now().Sub(begin).Milliseconds()}
		if err == nil {
			if u := resp.UsageMetadata; u != nil {
				result.Usage.InputTokens, result.Usage.OutputTokens = int64(u.PromptTokenCount), int64(u.CandidatesTokenCount)
				result.Usage.CostUSD = c.Price.Cost(result.Usage.InputTokens, result.Usage.OutputTokens)
			}
			return result, resp.Text(), nil
		}
		var api genai.APIError
		retryable := errors.As(err, &api) && (api.Code == http.StatusTooManyRequests || api.Code == http.StatusServiceUnavailable)
		switch {
		case timedOut:
			return result, "", &Error{Reason: ReasonTimeout, Err: err}
		case ctx.Err() != nil:
			return result, "", &Error{Reason: ReasonModelError, Err: ctx.Err()}
		case !retryable:
			return result, "", &Error{Reason: ReasonModelError, Err: err}
		case attempt >= attempts:
			reason := ReasonRateLimited
			if api.Code == http.StatusServiceUnavailable {
				reason = ReasonUnavailable
			}
			return result, "", &Error{Reason: reason, Err: err}
		}
		wait := min(backoff<<(attempt-1), 30*time.Second)
		if ra := retryAfter(api); ra > wait {
			wait = min(ra, 60*time.Second)
		}
		logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "model call retried", slog.Int("status", api.Code),
			slog.Int("attempt", attempt), slog.Duration("wait", wait))
		if err := c.sleep(ctx, wait); err != nil {
			return result, "", &Error{Reason: ReasonModelError, Err: err}
		}
	}
}

// retryAfter reads a RetryInfo detail ("retryDelay": "7s") of a 429.
func retryAfter(e genai.APIError) time.Duration {
	for _, d := range e.Details {
		if v, ok := d["retryDelay"].(string); ok {
			if dur, err := time.ParseDuration(v); err == nil {
				return dur
			}
			if secs, err := strconv.ParseFloat(v, 64); err == nil {
				return time.Duration(secs * float64(time.Second))
			}
		}
	}
	return 0
}

// decodeStrict decodes one JSON value into out: unknown fields and trailing data are
// errors.
func decodeStrict(text string, out any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("the answer does not match the schema: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the answer has data after its JSON value")
	}
	return nil
}
