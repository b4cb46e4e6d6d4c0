package txtrack

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/medi-os/medi/shared/testenv"
)

type owner struct{}

func (owner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (owner) RequireTransportSecurity() bool { return false }

// A transaction begun under a tracked context is open from its BeginTransaction until
// its commit, or until its rollback when it fails; a context without a Tracker is not
// tracked; a Conn catches the connection, and rolling back an ended transaction is
// harmless.
func TestTrackerFollowsTransactions(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	conn, err := grpc.NewClient("passthrough:///"+os.Getenv("FIRESTORE_EMULATOR_HOST"),
		grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(owner{}),
		grpc.WithChainUnaryInterceptor(Interceptor))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	doc := fs.Collection("tracked").Doc("d")

	ctx, tr := NewContext(context.Background())
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
	select {
	case <-tr.Begun():
	default:
		t.Error("a transaction's start was not signalled")
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

	_, other := NewContext(context.Background())
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
