package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/audit"
)

// verifyAll checks that each clinic's chain is intact and holds want records.
func verifyAll(t *testing.T, chain *audit.Chain, want map[string]int64) {
	t.Helper()
	for clinic, n := range want {
		v, err := chain.Verify(context.Background(), clinic)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Valid || v.Checked != n || v.HeadSeq != n {
			t.Errorf("clinic %s: valid %v, checked %d, head %d; want an intact chain of %d (first break %+v)", clinic, v.Valid, v.Checked, v.HeadSeq, n, v.FirstBreak)
		}
	}
}

func TestSealAllSealsEveryClinic(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	// c1 has a clinic document, c2 only its audit trail (a "missing" parent document),
	// c3 a document and no records.
	for _, c := range []string{"c1", "c3"} {
		if _, err := fs.Collection("clinics").Doc(c).Set(ctx, map[string]any{"name": c}); err != nil {
			t.Fatal(err)
		}
	}
	writeRecords(t, fs, "c1", 3)
	writeRecords(t, fs, "c2", 2)
	chain := audit.NewChain(fs)

	rep, err := chain.SealAll(ctx, audit.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.SweepReport{Clinics: 3, ClinicsSealed: 2, Sealed: 5}, rep); diff != "" {
		t.Errorf("first sweep (-want +got):\n%s", diff)
	}
	verifyAll(t, chain, map[string]int64{"c1": 3, "c2": 2, "c3": 0})

	writeRecords(t, fs, "c2", 1)
	rep, err = chain.SealAll(ctx, audit.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.SweepReport{Clinics: 3, ClinicsSealed: 1, Sealed: 1}, rep); diff != "" {
		t.Errorf("second sweep (-want +got):\n%s", diff)
	}
	verifyAll(t, chain, map[string]int64{"c1": 3, "c2": 3})
}

func TestSealAllIsBounded(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	writeRecords(t, fs, "a", 5)
	writeRecords(t, fs, "b", 5)
	chain := audit.NewChain(fs)
	opts := audit.SweepOptions{MaxPerClinic: 3, MaxRecords: 4}

	// Whatever the order of the clinics, a run chains 4 records: 3 of the first clinic
	// and 1 of the second, then (2 + 2 or 3 + 1), then the last 2.
	for i, want := range []int{4, 4, 2, 0} {
		rep, err := chain.SealAll(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sealed != want {
			t.Errorf("run %d sealed %d records, want %d (%+v)", i+1, rep.Sealed, want, rep)
		}
		if i == 0 && (rep.Pending != 2 || rep.ClinicsSealed != 2) {
			t.Errorf("run 1: %+v, want both clinics sealed and both pending", rep)
		}
		if i >= 2 && rep.Pending != 0 {
			t.Errorf("run %d: %d clinics pending, want none", i+1, rep.Pending)
		}
	}
	verifyAll(t, chain, map[string]int64{"a": 5, "b": 5})
}

func TestSealAllStopsAtTheDeadline(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	writeRecords(t, fs, "a", 2)
	writeRecords(t, fs, "b", 1)
	chain := audit.NewChain(fs)
	rep, err := chain.SealAll(ctx, audit.SweepOptions{Deadline: time.Now().Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(audit.SweepReport{Pending: 2}, rep); diff != "" {
		t.Errorf("sweep past its deadline (-want +got):\n%s", diff)
	}
	if n, err := chain.Seal(ctx, "a"); err != nil || n != 2 {
		t.Errorf("Seal after the skipped sweep = %d, %v; want the 2 records still unsealed", n, err)
	}
}

func TestSealUpToBoundsOneClinic(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := context.Background()
	writeRecords(t, fs, "c1", 5)
	chain := audit.NewChain(fs)
	for _, tc := range []struct{ max, want int }{{2, 2}, {2, 2}, {0, 1}, {3, 0}} {
		if n, err := chain.SealUpTo(ctx, "c1", tc.max); err != nil || n != tc.want {
			t.Fatalf("SealUpTo(%d) = %d, %v; want %d", tc.max, n, err, tc.want)
		}
	}
	verifyAll(t, chain, map[string]int64{"c1": 5})
}

// Sealers racing each other and audited writes (as overlapping scheduled runs and admin
// listings do) still build one intact chain holding every record exactly once.
func TestConcurrentSealersBuildOneChain(t *testing.T) {
	t.Parallel()
	fs := client(t)
	ctx := principalCtx()
	const clinic, writers, perWriter, sealers = "c1", 3, 10, 3
	chain := audit.NewChain(fs)
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter+sealers*perWriter)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				// As changes are audited: in the change's transaction, which the client
				// retries when a sealer holds the lock.
				rec := audit.New(ctx, clinic, "encounter.transition", "encounter", fmt.Sprintf("w%d-%d", w, i))
				err := fs.RunTransaction(ctx, func(_ context.Context, tx *firestore.Transaction) error {
					return rec.InTransaction(fs, tx)
				})
				if err != nil {
					errs <- fmt.Errorf("write: %w", err)
				}
			}
		}()
	}
	for s := 0; s < sealers; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				var err error
				if s == 0 {
					_, err = chain.Seal(ctx, clinic)
				} else {
					_, err = chain.SealAll(ctx, audit.SweepOptions{})
				}
				if err != nil {
					errs <- fmt.Errorf("sealer %d: %w", s, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write or seal: %v", err)
	}
	if _, err := chain.Seal(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	verifyAll(t, chain, map[string]int64{clinic: writers * perWriter})
	docs, err := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection).Where("sealed", "==", false).Documents(ctx).GetAll()
	if err != nil || len(docs) != 0 {
		t.Errorf("%d records left unsealed (%v)", len(docs), err)
	}
	ids := chainIDs(t, fs, clinic)
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("record %s chained twice", id)
		}
		seen[id] = true
	}
}
