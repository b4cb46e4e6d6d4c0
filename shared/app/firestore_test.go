package app

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"

	"github.com/medi-os/medi/shared/testenv"
)

// rollbackWatch is an interceptor placed after RollbackInBackground: it sees the real
// Rollback call start and end.
type rollbackWatch struct {
	mu           sync.Mutex
	started      bool
	ended        bool
	endedChanged chan struct{}
}

func (w *rollbackWatch) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if method != firestoreRollback {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	w.mu.Lock()
	w.started = true
	w.mu.Unlock()
	err := invoker(ctx, method, req, reply, cc, opts...)
	w.mu.Lock()
	w.ended = true
	w.mu.Unlock()
	close(w.endedChanged)
	return err
}

func (w *rollbackWatch) state() (started, ended bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.started, w.ended
}

// A transaction whose Firestore hangs ends with the caller's deadline, not after the
// library's rollback: RunTransaction returns while the rollback is still waiting on the
// hung backend, and the rollback completes once the backend answers. Without
// RollbackInBackground (withInterceptor false), RunTransaction returns only after the
// rollback ended (its 5 s timeout), which the test shows as the control case.
func TestHungTransactionReturnsBeforeItsRollback(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	for _, withInterceptor := range []bool{true, false} {
		name := "in background"
		if !withInterceptor {
			name = "library default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			gate := testenv.NewGate(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
			watch := &rollbackWatch{endedChanged: make(chan struct{})}
			chain := []grpc.UnaryClientInterceptor{watch.intercept}
			if withInterceptor {
				chain = append([]grpc.UnaryClientInterceptor{RollbackInBackground}, chain...)
			}
			conn, err := DialFirestoreEmulator(gate.Addr(), grpc.WithChainUnaryInterceptor(chain...))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t), option.WithGRPCConn(conn))
			if err != nil {
				t.Fatal(err)
			}
			doc := fs.Collection("rollback").Doc("d1")
			if _, err := doc.Set(context.Background(), map[string]any{"n": 1}); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err = fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				if _, err := tx.Get(doc); err != nil {
					return err
				}
				gate.Hold() // Firestore hangs inside the transaction
				_, err := tx.Get(fs.Collection("rollback").Doc("d2"))
				return err
			})
			// The background rollback starts on a goroutine of its own; the gate is
			// still held, so it cannot end before the gate is released (or its 5 s).
			started, ended := watch.state()
			for wait := time.Now().Add(5 * time.Second); !started && time.Now().Before(wait); started, ended = watch.state() {
				time.Sleep(10 * time.Millisecond)
			}
			gate.Release()
			if err == nil || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				t.Fatalf("transaction: %v (context %v), want it ended by the deadline", err, ctx.Err())
			}
			if !started {
				t.Fatal("no rollback was started")
			}
			if withInterceptor && ended {
				t.Error("RunTransaction returned after its rollback ended: the rollback held the answer back")
			}
			if !withInterceptor && !ended {
				t.Error("control: without the interceptor RunTransaction should wait for its rollback")
			}
			select {
			case <-watch.endedChanged:
			case <-time.After(30 * time.Second):
				t.Error("the background rollback never ended")
			}
		})
	}
}
