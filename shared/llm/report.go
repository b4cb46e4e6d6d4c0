package llm

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MonthUsage is one month's model usage of a clinic (clinics/{c}/llmUsageMonths/{YYYY-MM}):
// every purpose (scribe drafts, history summaries).
type MonthUsage struct {
	Month        string  `json:"month"`
	Calls        int64   `json:"calls"`
	InputTokens  int64   `json:"inputTokens"`
	OutputTokens int64   `json:"outputTokens"`
	CostUSD      float64 `json:"costUsd"`
}

// UsageReport is a clinic's model spend over its last months against the monthly cap.
type UsageReport struct {
	ClinicID string `json:"clinicId"`
	// MonthlyBudgetUSD is the cap in force: the clinic's llmMonthlyBudgetUsd when set,
	// else the deployment's default; 0 means no cap.
	MonthlyBudgetUSD float64 `json:"monthlyBudgetUsd"`
	// Months are the last months, oldest first, the current one last; a month without
	// model calls has zeros.
	Months []MonthUsage `json:"months"`
}

// Report returns the clinic's usage of the n months up to now's (1 <= n <= 24), read from
// the monthly totals in one batch (at most 24 documents and the clinic's).
func (l *FirestoreLedger) Report(ctx context.Context, clinicID string, now time.Time, n int) (UsageReport, error) {
	if n < 1 || n > 24 {
		return UsageReport{}, fmt.Errorf("llm: usage report of %d months (1-24)", n)
	}
	clinic := l.clinic(clinicID)
	first := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(n - 1), 0)
	out := UsageReport{ClinicID: clinicID, MonthlyBudgetUSD: l.DefaultCapUSD, Months: make([]MonthUsage, n)}
	refs := []*firestore.DocumentRef{clinic}
	for i := range n {
		out.Months[i].Month = Month(first.AddDate(0, i, 0))
		refs = append(refs, clinic.Collection(CollectionUsageMonths).Doc(out.Months[i].Month))
	}
	snaps, err := l.FS.GetAll(ctx, refs)
	if err != nil && status.Code(err) != codes.NotFound {
		return UsageReport{}, fmt.Errorf("llm: reading monthly usage: %w", err)
	}
	if snaps[0].Exists() {
		if v, ok := number(snaps[0], BudgetField); ok {
			out.MonthlyBudgetUSD = v
		}
	}
	for i, snap := range snaps[1:] {
		if !snap.Exists() {
			continue
		}
		m := &out.Months[i]
		calls, _ := number(snap, "calls")
		in, _ := number(snap, "inputTokens")
		outTok, _ := number(snap, "outputTokens")
		m.Calls, m.InputTokens, m.OutputTokens = int64(calls), int64(in), int64(outTok)
		m.CostUSD, _ = number(snap, "costUsd")
	}
	return out, nil
}
