package audit_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/audit"
)

func benchWriters(b *testing.B, fs *firestore.Client, clinic string, write func(ctx context.Context) error) {
	const writers = 16
	ctx := principalCtx()
	var wg sync.WaitGroup
	per := (b.N + writers - 1) / writers
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := write(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkAuditChain compares, for 16 concurrent writers of one clinic, the design used
// (records written unsealed, sealed in batches) with chaining in every writer's
// transaction through one head document. Against the emulator:
//
//	go test -run '^$' -bench AuditChain -benchtime 64x ./shared/audit/
//
// Numbers go to docs/deployment.md, never into assertions.
func BenchmarkAuditChain(b *testing.B) {
	if testing.Short() {
		b.Skip("emulator benchmark")
	}
	fs, err := firestore.NewClient(context.Background(), "demo-audit-bench")
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	b.Run("unsealed+batch-seal", func(b *testing.B) {
		clinic := "bench-batch-" + audit.NewID(time.Now())
		benchWriters(b, fs, clinic, func(ctx context.Context) error {
			return fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				return audit.New(ctx, clinic, "patient.read", "patient", "p").InTransaction(fs, tx)
			})
		})
		if _, err := audit.NewChain(fs).Seal(context.Background(), clinic); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("head-per-record", func(b *testing.B) {
		clinic := "bench-head-" + audit.NewID(time.Now())
		head := fs.Collection("clinics").Doc(clinic).Collection(audit.ChainCollection).Doc("head")
		benchWriters(b, fs, clinic, func(ctx context.Context) error {
			return fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				var seq int64
				if snap, err := tx.Get(head); err == nil {
					v, _ := snap.DataAt("seq")
					seq, _ = v.(int64)
				}
				if err := tx.Set(head, map[string]any{"seq": seq + 1}); err != nil {
					return err
				}
				return audit.New(ctx, clinic, "patient.read", "patient", "p").InTransaction(fs, tx)
			}, firestore.MaxAttempts(50))
		})
	})
}

// BenchmarkVerifyLargeChain measures GET /v1/audit/verify's work on a clinic with a long
// chain: MEDI_AUDIT_BENCH_RECORDS sealed records (default 1,000,000, written directly with
// a BulkWriter, already chained), anchored by the seal job 5,000 records before the head
// (a backlog far longer than five minutes of a busy clinic). Verify starts from the anchor,
// so its time depends on the tail, not on the chain's length. Against the emulator:
//
//	go test -run '^$' -bench VerifyLargeChain -benchtime 5x -timeout 2h ./shared/audit/
//
// Figures go to docs/performance.md, never into assertions.
func BenchmarkVerifyLargeChain(b *testing.B) {
	if testing.Short() {
		b.Skip("emulator benchmark")
	}
	total, tail := int64(1_000_000), int64(5_000)
	if s := os.Getenv("MEDI_AUDIT_BENCH_RECORDS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= tail {
			b.Fatalf("MEDI_AUDIT_BENCH_RECORDS=%q: want a number above %d", s, tail)
		}
		total = n
	}
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, "demo-audit-bench")
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	clinic := "bench-verify-" + audit.NewID(time.Now())
	records := fs.Collection("clinics").Doc(clinic).Collection(audit.Collection)
	started := time.Now()
	bw := fs.BulkWriter(ctx)
	prev := ""
	var anchor audit.Anchor
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for seq := int64(1); seq <= total; seq++ {
		r := audit.Record{ClinicID: clinic, ActorUID: "u1", ActorRole: "doctor", Action: "patient.read",
			ResourceType: "patient", ResourceID: "p1", PatientID: "p1", Outcome: audit.OutcomeSuccess,
			RequestID: "bench", Time: at.Add(time.Duration(seq) * time.Second),
			ID: fmt.Sprintf("r%012d", seq), Sealed: true, Seq: seq, PrevHash: prev}
		r.Hash = audit.ComputeHash(r)
		if _, err := bw.Set(records.Doc(r.ID), r); err != nil {
			b.Fatal(err)
		}
		prev = r.Hash
		if seq == total-tail {
			anchor = audit.Anchor{ClinicID: clinic, Seq: seq, Hash: r.Hash, At: at}
		}
		if seq%50_000 == 0 {
			bw.Flush()
		}
	}
	bw.End()
	if _, err := fs.Collection("clinics").Doc(clinic).Collection(audit.ChainCollection).Doc("head").
		Set(ctx, audit.Head{Seq: total, Hash: prev, UpdatedAt: at}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d chained records in %s", total, time.Since(started).Round(time.Second))
	store := anchorsB(b)
	if err := store.Put(ctx, anchor); err != nil {
		b.Fatal(err)
	}
	chain := audit.NewChain(fs).WithAnchors(store)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := chain.Verify(ctx, clinic)
		if err != nil || !v.Valid || !v.Complete || v.Checked != tail+1 {
			b.Fatalf("verify: %+v %v", v, err)
		}
	}
}
