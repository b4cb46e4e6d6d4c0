package txtrack

import (
	"context"
	"os"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc"

	"github.com/medi-os/medi/shared/testenv"
)

// testLease is the Registry's lease in these tests.
const testLease = time.Second

// records returns the documents of OpenCollection.
func records(t *testing.T, fs *firestore.Client) []*firestore.DocumentSnapshot {
	t.Helper()
	docs, err := fs.Collection(OpenCollection).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// waitNoRecords waits until OpenCollection is empty.
func waitNoRecords(t *testing.T, fs *firestore.Client, why string) {
	t.Helper()
	for give := time.Now().Add(20 * time.Second); len(records(t, fs)) > 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(give) {
			t.Fatalf("%d records left: %s", len(records(t, fs)), why)
		}
	}
}

// A process dies inside a transaction begun outside any keyed request (as an event
// function's or an unkeyed request's): it read a document, then its connection is held
// (killed or frozen: no renewal, no rollback). Another process with a Registry that uses
// the database finds the lapsed record, rolls the transaction back and writes the
// document within 10 s, while the emulator keeps an abandoned transaction's locks about
// a minute. The records of both are gone afterwards. Control: the dead process without a
// Registry recorded nothing, and the write waits on the lock past its 10 s.
func TestRegistryRollsBackADeadProcessesTransactions(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	for _, tc := range []struct {
		name     string
		registry bool
	}{{"registered", true}, {"control: no registry", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			project := testenv.ProjectID(t)
			emulator := os.Getenv("FIRESTORE_EMULATOR_HOST")
			gate := testenv.NewGate(t, emulator)
			chain := []grpc.UnaryClientInterceptor{Interceptor}
			if tc.registry {
				chain = append([]grpc.UnaryClientInterceptor{NewRegistry(testLease).Interceptor}, chain...)
			}
			dead := newClient(t, gate.Addr(), project, grpc.WithChainUnaryInterceptor(chain...))
			live := newClient(t, emulator, project, grpc.WithChainUnaryInterceptor(NewRegistry(testLease).Interceptor, Interceptor))
			doc := live.Collection("events").Doc("locked")
			if _, err := doc.Set(context.Background(), map[string]any{"n": 0}); err != nil {
				t.Fatal(err)
			}

			read, stop := make(chan struct{}), make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = dead.RunTransaction(context.Background(), func(ctx context.Context, tx *firestore.Transaction) error {
					if _, err := tx.Get(dead.Collection("events").Doc("locked")); err != nil {
						return err
					}
					close(read)
					<-stop // the process dies here
					return context.Canceled
				})
			}()
			t.Cleanup(func() { <-done })
			t.Cleanup(gate.Release)
			t.Cleanup(func() { close(stop) })
			select {
			case <-read:
			case <-time.After(30 * time.Second):
				t.Fatal("the dead process's transaction did not start")
			}
			if n := len(records(t, live)); tc.registry && n != 1 {
				t.Fatalf("records of the dead process's open transaction: %d, want 1", n)
			}
			gate.Hold() // the process is gone

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := live.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				if _, err := tx.Get(doc); err != nil {
					return err
				}
				return tx.Set(doc, map[string]any{"n": 1})
			})
			if !tc.registry {
				if err == nil {
					t.Error("control: the write went through; the test shows nothing")
				}
				return
			}
			if err != nil {
				t.Fatalf("write after the dead process's transaction: %v (its lock was kept)", err)
			}
			waitNoRecords(t, live, "the live process's record is deleted at its commit, the dead one's by the sweep")
		})
	}
}

// A transaction its Tracker recorded is not recorded again; one its Tracker's Recorder
// lets go (ErrNotRecorded: the keyed request has ended) is, while it is open.
func TestRegistryRecordsWhatNoTrackerRecorded(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	fs := newClient(t, os.Getenv("FIRESTORE_EMULATOR_HOST"), testenv.ProjectID(t),
		grpc.WithChainUnaryInterceptor(NewRegistry(testLease).Interceptor, Interceptor))
	doc := fs.Collection("events").Doc("d")
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{{"recorded by its tracker", nil, 0}, {"let go by its tracker", ErrNotRecorded, 1}} {
		ctx, tr := NewContext(context.Background(), func(context.Context, [][]byte) error { return tc.err })
		if err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if n := len(records(t, fs)); n != tc.want {
				t.Errorf("%s: %d records while open, want %d", tc.name, n, tc.want)
			}
			if n := len(tr.Open()); n != 1-tc.want {
				t.Errorf("%s: tracker holds %d, want %d", tc.name, n, 1-tc.want)
			}
			return tx.Set(doc, map[string]any{"n": 1})
		}); err != nil {
			t.Fatal(err)
		}
		waitNoRecords(t, fs, tc.name+": the record is deleted at the commit")
	}
}
