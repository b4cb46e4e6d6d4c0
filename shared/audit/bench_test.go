package audit_test

import (
	"context"
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
