package llm_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/llm"
)

func TestFirestoreLedgerReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := emulatorClient(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	l := &llm.FirestoreLedger{FS: fs, DefaultCapUSD: 50}

	// No clinic setting: the deployment's default cap; months without calls are zeros.
	rep, err := l.Report(ctx, "clinic-without-settings", now, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MonthlyBudgetUSD != 50 || len(rep.Months) != 3 || rep.Months[0].Month != "2026-09" || rep.Months[2].Month != "2026-11" || rep.Months[2].Calls != 0 {
		t.Errorf("empty report: %+v", rep)
	}

	if _, err := fs.Collection("clinics").Doc("c1").Set(ctx, map[string]any{llm.BudgetField: 20}); err != nil {
		t.Fatal(err)
	}
	// Calls of both purposes, this month and last, settled as the workers do.
	for _, c := range []struct {
		at      time.Time
		purpose string
		cost    float64
	}{{now, "summary", 0.25}, {now, "scribe", 0.5}, {now.AddDate(0, -1, 0), "summary", 1.5}} {
		r, err := l.Reserve(ctx, "c1", 0.01, c.at)
		if err != nil {
			t.Fatal(err)
		}
		rec := llm.Record{ClinicID: "c1", Purpose: c.purpose, Outcome: "ok", Attempts: 1, At: c.at,
			Usage: llm.Usage{Model: "m", InputTokens: 1000, OutputTokens: 100, CostUSD: c.cost}}
		if err := l.Settle(ctx, r, rec); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = l.Report(ctx, "c1", now, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := llm.UsageReport{ClinicID: "c1", MonthlyBudgetUSD: 20, Months: []llm.MonthUsage{
		{Month: "2026-10", Calls: 1, InputTokens: 1000, OutputTokens: 100, CostUSD: 1.5},
		{Month: "2026-11", Calls: 2, InputTokens: 2000, OutputTokens: 200, CostUSD: 0.75},
	}}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	for _, n := range []int{0, 25} {
		if _, err := l.Report(ctx, "c1", now, n); err == nil {
			t.Errorf("Report of %d months: no error", n)
		}
	}
}
