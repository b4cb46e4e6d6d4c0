package summary

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/testenv"
)

// Save writes a summary field by field (a conditional update); every field of Stored must
// be among them, or a rebuild would keep the previous summary's value of the missing one.
func TestStoredUpdatesCoverEveryField(t *testing.T) {
	t.Parallel()
	var paths []string
	for _, u := range (Stored{}).updates() {
		paths = append(paths, u.Path)
	}
	st := reflect.TypeFor[Stored]()
	for i := range st.NumField() {
		name, _, _ := strings.Cut(st.Field(i).Tag.Get("firestore"), ",")
		if !slices.Contains(paths, name) {
			t.Errorf("Stored.%s (%q) is not written by updates()", st.Field(i).Name, name)
		}
	}
	if len(paths) != st.NumField() {
		t.Errorf("updates() writes %d fields, Stored has %d", len(paths), st.NumField())
	}
}

// A rebuild replaces the stored summary as a whole: a field the new one leaves out is
// gone, the stale mark is cleared; the same sources only clear the mark.
func TestSaveReplacesTheStoredSummary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := &Builder{Now: func() time.Time { return now }}
	first := b.Build(ctx, f.clinic, testSources())
	first.Model, first.FallbackReason, first.Usage = "model-x", "budget_exceeded", &Usage{InputTokens: 10}
	if _, wrote, err := f.svc.Store.Save(ctx, f.clinic, first, false); err != nil || !wrote {
		t.Fatalf("first save: wrote %v, %v", wrote, err)
	}
	if err := f.svc.Store.MarkStale(ctx, f.clinic, "p1"); err != nil {
		t.Fatal(err)
	}
	same, wrote, err := f.svc.Store.Save(ctx, f.clinic, first, false)
	if err != nil || wrote || same.Stale || same.Model != "model-x" {
		t.Fatalf("same sources: wrote %v, stale %v, model %q, %v", wrote, same.Stale, same.Model, err)
	}
	if got, _, _ := f.svc.Store.Get(ctx, f.clinic, "p1"); got.Stale {
		t.Error("the stale mark was not cleared")
	}
	next := b.Build(ctx, f.clinic, testSources())
	next.SourceHash = "another-hash"
	if _, wrote, err := f.svc.Store.Save(ctx, f.clinic, next, false); err != nil || !wrote {
		t.Fatalf("rebuild: wrote %v, %v", wrote, err)
	}
	got, _, err := f.svc.Store.Get(ctx, f.clinic, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got.SourceHash != "another-hash" || got.Model != "" || got.FallbackReason != "" || got.Usage != nil || got.Stale {
		t.Errorf("after the rebuild: hash %q, model %q, fallback %q, usage %v, stale %v", got.SourceHash, got.Model,
			got.FallbackReason, got.Usage, got.Stale)
	}
	if !reflect.DeepEqual(got.Summary, next.Summary) || !got.BuiltAt.Equal(next.BuiltAt) {
		t.Error("the stored summary is not the rebuilt one")
	}
}

// Concurrent regenerations of one patient all succeed, each within the deadline a worker
// has, and one of them is what is stored.
func TestConcurrentSavesOfOnePatient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	built := (&Builder{Now: func() time.Time { return now }}).Build(ctx, f.clinic, testSources())
	hashes := map[string]bool{}
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for g := range 6 {
			next := built
			next.SourceHash = fmt.Sprintf("h-%d-%d", round, g)
			hashes[next.SourceHash] = true
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if _, _, err := f.svc.Store.Save(cctx, f.clinic, next, false); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
	}
	got, ok, err := f.svc.Store.Get(ctx, f.clinic, "p1")
	if err != nil || !ok || !hashes[got.SourceHash] || !strings.HasPrefix(got.SourceHash, "h-4-") {
		t.Errorf("stored %q (%v, %v), want one of the last round's", got.SourceHash, ok, err)
	}
}

// BenchmarkSaveSixAtOnce: six regenerations of one patient saving at once (what readers
// and invalidators of changed records can start), one op per round of six.
func BenchmarkSaveSixAtOnce(b *testing.B) {
	testenv.Require(b, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(b))
	if err != nil {
		b.Fatal(err)
	}
	defer fs.Close()
	st := NewStore(fs)
	clinic := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	built := (&Builder{Now: func() time.Time { return now }}).Build(ctx, clinic, testSources())
	var worst time.Duration
	for round := 0; b.Loop(); round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for g := range 6 {
			next := built
			next.SourceHash = fmt.Sprintf("h-%d-%d", round, g)
			wg.Go(func() {
				start := time.Now()
				if _, _, err := st.Save(ctx, clinic, next, false); err != nil {
					b.Error(err)
				}
				mu.Lock()
				worst = max(worst, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(worst.Milliseconds()), "worst-save-ms")
}
