package llm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/testenv"
)

// emulatorClient is a Firestore client of the test's own project on the emulator.
func emulatorClient(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return fs
}

func TestFirestoreLedgerReservesInATransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := emulatorClient(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	clinic := fs.Collection("clinics").Doc("c1")
	if _, err := clinic.Set(ctx, map[string]any{llm.BudgetField: 1.0}); err != nil {
		t.Fatal(err)
	}
	l := &llm.FirestoreLedger{FS: fs, DefaultCapUSD: 100} // the clinic's own cap wins
	// Eight workers reserve 0.15 each at once: at most six fit under 1.00.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var granted []llm.Reservation
	refused := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := l.Reserve(ctx, "c1", 0.15, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, llm.ErrBudgetExceeded):
				refused++
			case err != nil:
				t.Error(err)
			default:
				granted = append(granted, r)
			}
		}()
	}
	wg.Wait()
	if len(granted) != 6 || refused != 2 {
		t.Fatalf("granted %d, refused %d; want 6 and 2", len(granted), refused)
	}
	// Settling records each call and moves the real cost from reserved to spent.
	for i, r := range granted {
		outcome := "ok"
		if i == 0 {
			outcome = "ungrounded"
		}
		rec := llm.Record{ClinicID: "c1", Purpose: "scribe", Usage: llm.Usage{Model: "m", InputTokens: 10, OutputTokens: 5, CostUSD: 0.1},
			Outcome: outcome, Attempts: 1, At: now}
		if err := l.Settle(ctx, r, rec); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := clinic.Collection(llm.CollectionUsageMonths).Doc("2026-11").Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cost, _ := snap.DataAt("costUsd")
	reserved, _ := snap.DataAt("reservedUsd")
	calls, _ := snap.DataAt("calls")
	if c := cost.(float64); c < 0.599 || c > 0.601 {
		t.Errorf("costUsd %v, want 0.6", cost)
	}
	if r := reserved.(float64); r > 1e-9 || r < -1e-9 {
		t.Errorf("reservedUsd %v, want 0", reserved)
	}
	if calls.(int64) != 6 {
		t.Errorf("calls %v", calls)
	}
	recs, err := clinic.Collection(llm.CollectionUsage).Where("outcome", "==", "ungrounded").Documents(ctx).GetAll()
	if err != nil || len(recs) != 1 {
		t.Errorf("rejected call records: %d %v", len(recs), err)
	}
	// 0.6 spent: four more 0.1 reservations fit, the fifth does not.
	for i := 0; i < 4; i++ {
		if _, err := l.Reserve(ctx, "c1", 0.1, now); err != nil {
			t.Fatalf("reservation %d: %v", i, err)
		}
	}
	if _, err := l.Reserve(ctx, "c1", 0.1, now); !errors.Is(err, llm.ErrBudgetExceeded) {
		t.Errorf("over the cap: %v", err)
	}
	// A new month starts again; a clinic without a document has the default cap.
	if _, err := l.Reserve(ctx, "c1", 0.1, now.AddDate(0, 1, 0)); err != nil {
		t.Errorf("next month: %v", err)
	}
	if _, err := l.Reserve(ctx, "c2", 99, now); err != nil {
		t.Errorf("default cap: %v", err)
	}
	if _, err := l.Reserve(ctx, "c2", 2, now); !errors.Is(err, llm.ErrBudgetExceeded) {
		t.Errorf("default cap exceeded: %v", err)
	}
}
