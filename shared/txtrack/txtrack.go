// Package txtrack keeps the Firestore transactions a request has open, so that a retry
// of that request can roll them back when the instance serving it died.
//
// Why: a read-write transaction locks every document it reads until it commits or is
// rolled back. A process killed between a transaction's first read and its commit can do
// neither; the transaction stays open on the server, its locks with it, until Firestore
// expires it (about a minute on the emulator). A retry of the same request reads the same
// documents (its idempotency record, its commit marker) and waited on those locks past its
// own deadline for that minute. The idempotency middleware therefore gives each keyed
// request a Tracker, writes the transactions the Tracker holds into the key's record as it
// renews its lease, and a retry that takes over the key of a dead request rolls them back
// before its handler runs.
//
// Interceptor must be on the process's Firestore connection (shared/app puts it there).
package txtrack

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"

	pb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The Firestore methods that begin and end a transaction.
const (
	methodBegin    = "/google.firestore.v1.Firestore/BeginTransaction"
	methodCommit   = "/google.firestore.v1.Firestore/Commit"
	methodRollback = "/google.firestore.v1.Firestore/Rollback"
)

// Tracker holds the transactions begun under one context and not yet ended.
type Tracker struct {
	mu      sync.Mutex
	open    map[string][]byte
	changed chan struct{}
}

type trackerKey struct{}

// NewContext returns ctx with a new Tracker: the transactions begun under the returned
// context (and contexts derived from it) are tracked.
func NewContext(ctx context.Context) (context.Context, *Tracker) {
	t := &Tracker{open: map[string][]byte{}, changed: make(chan struct{}, 1)}
	return context.WithValue(ctx, trackerKey{}, t), t
}

// Open returns the transactions begun and not yet committed or rolled back, in a stable
// order.
func (t *Tracker) Open() [][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([][]byte, 0, len(t.open))
	for _, id := range t.open {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i]) < string(out[j]) })
	return out
}

// Begun is signalled (without blocking, at most one pending signal) when a transaction
// begins, so that its holder can record it at once.
func (t *Tracker) Begun() <-chan struct{} { return t.changed }

func (t *Tracker) add(id []byte) {
	if len(id) == 0 {
		return
	}
	t.mu.Lock()
	t.open[string(id)] = id
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

func (t *Tracker) remove(id []byte) {
	t.mu.Lock()
	delete(t.open, string(id))
	t.mu.Unlock()
}

// Conn catches the Firestore connection of the calls made under a context, for
// Rollback.
type Conn struct {
	cc atomic.Pointer[grpc.ClientConn]
}

type connKey struct{}

// WithConn returns ctx with a new Conn, which catches the connection of the Firestore
// calls made under the returned context.
func WithConn(ctx context.Context) (context.Context, *Conn) {
	c := &Conn{}
	return context.WithValue(ctx, connKey{}, c), c
}

// Interceptor is a gRPC client interceptor for Firestore connections: it adds each
// transaction begun under a context with a Tracker to that Tracker and removes it when
// its commit returns or its rollback starts, and gives a context's Conn the connection.
func Interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if c, ok := ctx.Value(connKey{}).(*Conn); ok {
		c.cc.Store(cc)
	}
	t, _ := ctx.Value(trackerKey{}).(*Tracker)
	if t == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	switch method {
	case methodRollback:
		if r, ok := req.(*pb.RollbackRequest); ok {
			t.remove(r.GetTransaction())
		}
	case methodCommit:
		if r, ok := req.(*pb.CommitRequest); ok && len(r.GetTransaction()) > 0 {
			// Whatever the answer: a failed commit is rolled back by the library.
			defer t.remove(r.GetTransaction())
		}
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	if method == methodBegin && err == nil {
		if r, ok := reply.(*pb.BeginTransactionResponse); ok {
			t.add(r.GetTransaction())
		}
	}
	return err
}

// ErrNoConnection is returned by Rollback when no Firestore call went through
// Interceptor under the Conn's context (the client has no Interceptor).
var ErrNoConnection = errors.New("txtrack: no Firestore connection with the interceptor")

// Rollback rolls back the transactions ids of database db ("projects/<p>/databases/<d>")
// on the connection c caught. Rolling back a transaction that has ended is harmless
// (Firestore answers OK, or InvalidArgument once it has expired). On a connection with app.RollbackInBackground each rollback
// returns at once and is retried in the background until Firestore has it.
func (c *Conn) Rollback(ctx context.Context, db string, ids [][]byte) error {
	cc := c.cc.Load()
	if cc == nil {
		return ErrNoConnection
	}
	ctx = metadata.AppendToOutgoingContext(ctx,
		"google-cloud-resource-prefix", db, "x-goog-request-params", "database="+url.QueryEscape(db))
	var errs []error
	for _, id := range ids {
		errs = append(errs, cc.Invoke(ctx, methodRollback, &pb.RollbackRequest{Database: db, Transaction: id}, &emptypb.Empty{}))
	}
	return errors.Join(errs...)
}
