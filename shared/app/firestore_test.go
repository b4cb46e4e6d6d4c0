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
	endOnce      sync.Once // a rollback retried ends more than once
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
	w.endOnce.Do(func() { close(w.endedChanged) })
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

// A rollback lost while Firestore hangs is retried once Firestore answers, so the
// transaction's locks do not outlive the outage. The transaction reads a document and
// hangs past its deadline; its rollback is held longer than one attempt's 5 s, then
// Firestore answers again; another client's transaction on that document must then
// commit within 20 s, well inside the minute the emulator keeps the locks of a
// transaction nobody rolled back. The control case runs the rollback once, in the
// background, as this interceptor did before: the lock stays and the write times out.
func TestLostRollbackIsRetriedOnceFirestoreAnswers(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	once := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method != firestoreRollback {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		go func() { defer cancel(); _ = invoker(bg, method, req, reply, cc, opts...) }()
		return nil
	}
	for _, tc := range []struct {
		name        string
		interceptor grpc.UnaryClientInterceptor
		wantWrite   bool
	}{
		{"retried", RollbackInBackground, true},
		{"control: one attempt", once, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			project := testenv.ProjectID(t)
			gate := testenv.NewGate(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
			conn, err := DialFirestoreEmulator(gate.Addr(), grpc.WithChainUnaryInterceptor(tc.interceptor))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			fs, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
			if err != nil {
				t.Fatal(err)
			}
			other, err := firestore.NewClient(context.Background(), project)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = other.Close() })
			doc := fs.Collection("rollback").Doc("locked")
			if _, err := doc.Set(context.Background(), map[string]any{"n": 1}); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
				if _, err := tx.Get(doc); err != nil { // the transaction locks doc
					return err
				}
				gate.Hold() // Firestore hangs inside the transaction
				_, err := tx.Get(fs.Collection("rollback").Doc("other"))
				return err
			})
			cancel()
			if err == nil {
				t.Fatal("the transaction succeeded through a held gate")
			}
			time.Sleep(rollbackTimeout + time.Second) // the rollback's first attempt times out
			gate.Release()

			wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer wcancel()
			err = other.RunTransaction(wctx, func(ctx context.Context, tx *firestore.Transaction) error {
				if _, err := tx.Get(other.Collection("rollback").Doc("locked")); err != nil {
					return err
				}
				return tx.Set(other.Collection("rollback").Doc("locked"), map[string]any{"n": 2})
			})
			switch {
			case tc.wantWrite && err != nil:
				t.Errorf("write after Firestore came back: %v; the hung transaction's lock was not released", err)
			case !tc.wantWrite && err == nil:
				t.Error("control: the write went through although the rollback ran once, while Firestore hung; the test shows nothing")
			}
		})
	}
}
