package txtrack

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/testenv"
)

type owner struct{}

func (owner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (owner) RequireTransportSecurity() bool { return false }

// newClient returns a Firestore client of project on the emulator at addr, with opts.
func newClient(t *testing.T, addr, project string, opts ...grpc.DialOption) *firestore.Client {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(owner{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	return fs
}

// A transaction begun under a tracked context is open from its BeginTransaction until
// its commit, or until its rollback when it fails; a context without a Tracker is not
// tracked; a Conn catches the connection, and rolling back an ended transaction is
// harmless.
func TestTrackerFollowsTransactions(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	fs := newClient(t, os.Getenv("FIRESTORE_EMULATOR_HOST"), testenv.ProjectID(t), grpc.WithChainUnaryInterceptor(Interceptor))
	doc := fs.Collection("tracked").Doc("d")

	ctx, tr := NewContext(context.Background(), nil)
	var seen [][]byte
	if err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		seen = tr.Open()
		return tx.Set(doc, map[string]any{"n": 1})
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 {
		t.Fatalf("open inside the transaction: %d, want 1", len(seen))
	}
	if n := len(tr.Open()); n != 0 {
		t.Errorf("open after the commit: %d, want 0", n)
	}

	failed := errors.New("handler failed")
	if err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if n := len(tr.Open()); n != 1 {
			t.Errorf("open in the second transaction: %d, want 1", n)
		}
		return failed
	}); !errors.Is(err, failed) {
		t.Fatalf("second transaction: %v", err)
	}
	if n := len(tr.Open()); n != 0 {
		t.Errorf("open after the rollback: %d, want 0", n)
	}

	_, other := NewContext(context.Background(), nil)
	if err := fs.RunTransaction(context.Background(), func(ctx context.Context, tx *firestore.Transaction) error {
		return tx.Set(doc, map[string]any{"n": 2})
	}); err != nil {
		t.Fatal(err)
	}
	if len(other.Open()) != 0 || len(tr.Open()) != 0 {
		t.Error("an untracked transaction was tracked")
	}

	cctx, c := WithConn(context.Background())
	if err := (&Conn{}).Rollback(cctx, "projects/p/databases/(default)", seen); !errors.Is(err, ErrNoConnection) {
		t.Errorf("rollback without a connection: %v, want ErrNoConnection", err)
	}
	if _, err := doc.Set(cctx, map[string]any{"n": 3}); err != nil {
		t.Fatal(err)
	}
	db, _, _ := strings.Cut(doc.Path, "/documents/")
	if err := c.Rollback(context.Background(), db, seen); err != nil {
		t.Errorf("rolling back a committed transaction: %v, want nil", err)
	}
}

// calls logs the Firestore calls a connection makes, and what a Recorder does, in order.
type calls struct {
	mu  sync.Mutex
	log []string
}

func (c *calls) add(s string) {
	c.mu.Lock()
	c.log = append(c.log, s)
	c.mu.Unlock()
}

func (c *calls) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.log, " ")
}

func (c *calls) reset() {
	c.mu.Lock()
	c.log = nil
	c.mu.Unlock()
}

func short(method string) string { return method[strings.LastIndex(method, "/")+1:] }

// A read-write transaction is recorded after its BeginTransaction answered and before
// anything is read in it, also under a context derived from the tracked one; a transaction that cannot be recorded is never used, fails with
// the Recorder's code and is rolled back; a read-only one (which locks nothing) is
// neither tracked nor recorded.
func TestRecorderRunsBeforeTheTransactionIsUsed(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	log := &calls{}
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		log.add(short(method))
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		log.add(short(method))
		return streamer(ctx, desc, cc, method, opts...)
	}
	fs := newClient(t, os.Getenv("FIRESTORE_EMULATOR_HOST"), testenv.ProjectID(t),
		grpc.WithChainUnaryInterceptor(Interceptor, unary), grpc.WithChainStreamInterceptor(stream))
	doc := fs.Collection("recorded").Doc("d")

	var recorded [][]byte
	var refuse error
	ctx, tr := NewContext(context.Background(), func(ctx context.Context, open [][]byte) error {
		if md, _ := metadata.FromOutgoingContext(ctx); len(md) > 0 {
			t.Error("the Recorder got the BeginTransaction call's outgoing metadata")
		}
		log.add("record")
		recorded = open
		return refuse
	})
	if err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if _, err := tx.Get(doc); status.Code(err) != codes.NotFound && err != nil {
			return err
		}
		return tx.Set(doc, map[string]any{"n": 1})
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := log.String(), "BeginTransaction record BatchGetDocuments Commit"; got != want {
		t.Errorf("calls: %q, want %q", got, want)
	}
	if len(recorded) != 1 {
		t.Errorf("recorded %d transactions, want 1", len(recorded))
	}

	// A context derived from the tracked one, outliving it in a goroutine, is tracked too.
	log.reset()
	recorded = nil
	done := make(chan error)
	go func() {
		done <- fs.RunTransaction(context.WithoutCancel(ctx), func(ctx context.Context, tx *firestore.Transaction) error {
			return tx.Set(doc, map[string]any{"n": 2})
		})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 1 || !strings.Contains(log.String(), "BeginTransaction record") {
		t.Errorf("derived context: recorded %d, calls %q", len(recorded), log.String())
	}

	log.reset()
	refuse = status.Error(codes.Aborted, "key taken over")
	ran := false
	err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		ran = true
		return nil
	})
	if status.Code(err) != codes.Aborted || ran {
		t.Errorf("unrecorded transaction: err %v (want Aborted), function ran: %v", err, ran)
	}
	if got, want := log.String(), "BeginTransaction record Rollback"; got != want {
		t.Errorf("calls: %q, want %q", got, want)
	}
	if n := len(tr.Open()); n != 0 {
		t.Errorf("open after a refused record: %d, want 0", n)
	}

	log.reset()
	refuse = nil
	if err := fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		if n := len(tr.Open()); n != 0 {
			t.Errorf("read-only transaction tracked: %d open", n)
		}
		_, err := tx.Get(doc)
		return err
	}, firestore.ReadOnly); err != nil {
		t.Fatal(err)
	}
	if got := log.String(); strings.Contains(got, "record") {
		t.Errorf("read-only transaction recorded: %q", got)
	}
}
