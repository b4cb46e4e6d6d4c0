package llm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/llm/llmtest"
)

type answer struct {
	Sentences []string `json:"sentences"`
}

func schema() *genai.Schema {
	return &genai.Schema{Type: genai.TypeObject, Properties: map[string]*genai.Schema{
		"sentences": {Type: genai.TypeArray, Items: &genai.Schema{Type: genai.TypeString}}}}
}

func client(c *genai.Client, l llm.Ledger) (*llm.Client, *[]time.Duration) {
	var waits []time.Duration
	return &llm.Client{GenAI: c, Model: "gemini-test", Price: llm.Price{InputPerMTok: 0.3, OutputPerMTok: 2.5}, Ledger: l,
		Timeout: 2 * time.Second, Attempts: 3, Backoff: 100 * time.Millisecond,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}, &waits
}

func req() llm.Request {
	return llm.Request{ClinicID: "c1", Purpose: "scribe", System: "Summarise.", Prompt: "s1 [patient] a cough", Schema: schema()}
}

func TestCallRetriesRateLimitsWithBackoff(t *testing.T) {
	t.Parallel()
	fake, gc := llmtest.New(t,
		llmtest.Reply{Status: http.StatusTooManyRequests},
		llmtest.Reply{Status: http.StatusServiceUnavailable, Details: []map[string]any{{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}}},
		llmtest.Reply{Text: `{"sentences":["Cough."]}`})
	l := &llmtest.Ledger{}
	c, waits := client(gc, l)
	var out answer
	res, err := c.Call(context.Background(), req(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fake.Calls() != 3 || res.Attempts != 3 || len(out.Sentences) != 1 {
		t.Errorf("calls %d, attempts %d, answer %+v", fake.Calls(), res.Attempts, out)
	}
	// Exponential backoff, and the server's RetryInfo delay when longer.
	if len(*waits) != 2 || (*waits)[0] != 100*time.Millisecond || (*waits)[1] != 2*time.Second {
		t.Errorf("waits %v", *waits)
	}
	if len(l.Records) != 1 || l.Records[0].Outcome != "ok" || l.Records[0].Attempts != 3 || l.Records[0].Usage.InputTokens != 1000 ||
		l.Records[0].Usage.CostUSD != 0.3*1000/1e6+2.5*200/1e6 {
		t.Errorf("records %+v", l.Records)
	}
	if l.Reserved > 1e-12 || l.Reserved < -1e-12 {
		t.Errorf("reservation not released: %v", l.Reserved)
	}
}

func TestCallFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		replies []llmtest.Reply
		ledger  *llmtest.Ledger
		reason  string
		calls   int
		records int
	}{
		{"429 on every attempt", []llmtest.Reply{{Status: http.StatusTooManyRequests}}, &llmtest.Ledger{}, llm.ReasonRateLimited, 3, 1},
		{"503 on every attempt", []llmtest.Reply{{Status: http.StatusServiceUnavailable}}, &llmtest.Ledger{}, llm.ReasonUnavailable, 3, 1},
		{"400 is not retried", []llmtest.Reply{{Status: http.StatusBadRequest}}, &llmtest.Ledger{}, llm.ReasonModelError, 1, 1},
		{"slower than the timeout", []llmtest.Reply{{Text: `{"sentences":[]}`, Delay: 3 * time.Second}}, &llmtest.Ledger{}, llm.ReasonTimeout, 1, 1},
		{"unknown field", []llmtest.Reply{{Text: `{"sentences":[],"diagnosis":"x"}`}}, &llmtest.Ledger{}, llm.ReasonInvalidAnswer, 1, 1},
		{"trailing data", []llmtest.Reply{{Text: `{"sentences":[]} {}`}}, &llmtest.Ledger{}, llm.ReasonInvalidAnswer, 1, 1},
		{"not JSON", []llmtest.Reply{{Text: `Here is the note: ...`}}, &llmtest.Ledger{}, llm.ReasonInvalidAnswer, 1, 1},
		{"budget spent", []llmtest.Reply{{Text: `{"sentences":[]}`}}, &llmtest.Ledger{CapUSD: 1, Spent: 1}, llm.ReasonBudgetExceeded, 0, 0},
		{"budget unreadable", []llmtest.Reply{{Text: `{"sentences":[]}`}}, &llmtest.Ledger{Fail: errors.New("firestore down")}, llm.ReasonBudgetUnavailable, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, gc := llmtest.New(t, tc.replies...)
			c, _ := client(gc, tc.ledger)
			c.Timeout = 500 * time.Millisecond
			var out answer
			_, err := c.Call(context.Background(), req(), &out, nil)
			if got := llm.ReasonOf(err); err == nil || got != tc.reason {
				t.Fatalf("err = %v (reason %q), want %q", err, got, tc.reason)
			}
			if fake.Calls() != tc.calls {
				t.Errorf("%d calls, want %d", fake.Calls(), tc.calls)
			}
			// Every call made is recorded, the rejected ones with their reason.
			if len(tc.ledger.Records) != tc.records || tc.records > 0 && tc.ledger.Records[0].Outcome != tc.reason {
				t.Errorf("records %+v", tc.ledger.Records)
			}
		})
	}
}

func TestRejectedAnswerIsRecordedWithItsCost(t *testing.T) {
	t.Parallel()
	_, gc := llmtest.New(t, llmtest.Reply{Text: `{"sentences":["Acute myocardial infarction."]}`})
	l := &llmtest.Ledger{}
	c, _ := client(gc, l)
	var out answer
	_, err := c.Call(context.Background(), req(), &out, func() error { return &llm.Error{Reason: "ungrounded"} })
	if llm.ReasonOf(err) != "ungrounded" {
		t.Fatalf("err = %v", err)
	}
	if len(l.Records) != 1 || l.Records[0].Outcome != "ungrounded" || l.Records[0].Usage.CostUSD == 0 {
		t.Errorf("records %+v", l.Records)
	}
}

func TestConcurrentCallsCannotOverspend(t *testing.T) {
	t.Parallel()
	_, gc := llmtest.New(t, llmtest.Reply{Text: `{"sentences":[]}`, Delay: 50 * time.Millisecond})
	c, _ := client(gc, nil)
	est := c.Estimate(req())
	l := &llmtest.Ledger{CapUSD: est * 3.5} // room for three reservations
	c.Ledger = l
	var wg sync.WaitGroup
	var mu sync.Mutex
	reasons := map[string]int{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out answer
			_, err := c.Call(context.Background(), req(), &out, nil)
			mu.Lock()
			reasons[llm.ReasonOf(err)]++
			if err == nil {
				reasons["ok"]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if l.Spent > l.CapUSD {
		t.Errorf("spent %v over the cap %v", l.Spent, l.CapUSD)
	}
	if reasons["ok"] == 0 || reasons[llm.ReasonBudgetExceeded] == 0 {
		t.Errorf("outcomes %v", reasons)
	}
}

func TestIdentifiersNeverLeaveAndComeBack(t *testing.T) {
	t.Parallel()
	fake, gc := llmtest.New(t, llmtest.Reply{Text: `{"sentences":["[PATIENT_GIVEN_NAME] [PATIENT_FAMILY_NAME] reports a cough.","Call [PHONE]."]}`})
	c, _ := client(gc, nil)
	red := llm.NewRedactor(llm.Identifiers{GivenName: "Martha", FamilyName: "Collins", MRN: "A-123 45", BirthDate: "1971-01-12",
		Phone: "+44 20 7946 0000", Email: "martha@example.org", Address: []string{"12 Rose Lane"}})
	r := req()
	r.Redactor = red
	r.Prompt = "s1 [clinician] Martha Collins, date of birth 1/12/71, MRN a12345, lives at 12 rose lane.\n" +
		"s2 [patient] You can call me on 020 7946 0000 or write to martha@example.org. My neighbour's number is 555-123-4567.\n" +
		"s3 [clinician] Thanks Martha. Born January 12th, 1971? Blood pressure 120/80, 98.6 degrees."
	var out answer
	if _, err := c.Call(context.Background(), r, &out, nil); err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	for _, leak := range []string{"Martha", "Collins", "1/12/71", "a12345", "rose lane", "7946", "martha@example.org", "555-123-4567", "January 12th, 1971"} {
		if strings.Contains(strings.ToLower(sent), strings.ToLower(leak)) {
			t.Errorf("%q was sent to the model", leak)
		}
	}
	for _, kept := range []string{"120/80", "98.6"} {
		if !strings.Contains(sent, kept) {
			t.Errorf("%q (clinical, not an identifier) was removed", kept)
		}
	}
	if out.Sentences[0] != "Martha Collins reports a cough." {
		t.Errorf("placeholders not restored: %q", out.Sentences[0])
	}
}
