// Package txtrack keeps the Firestore transactions a request has open, so that a retry
// of that request can roll them back when the instance serving it died.
//
// Why: a read-write transaction locks every document it reads until it commits or is
// rolled back. A process killed between a transaction's first read and its commit can do
// neither; the transaction stays open on the server, its locks with it, until Firestore
// expires it (about a minute on the emulator). A retry of the same request reads the same
// documents (its idempotency record, its commit marker) and waited on those locks past its
// own deadline for that minute. The idempotency middleware therefore gives each keyed
// request a Tracker with a Recorder that writes the transactions the Tracker holds into
// the key's record, and a retry that takes over the key of a dead request rolls them back
// before its handler runs.
//
// The Recorder runs inside BeginTransaction, before the caller gets the transaction: a
// read-write transaction is used (and locks anything) only once it is recorded, so no
// kill, however early, leaves a lock nobody knows of. When it cannot be recorded the
// transaction is rolled back and BeginTransaction fails.
//
// The transactions no Tracker records (requests without an Idempotency-Key, event
// functions, work a handler left running) have no retry that knows them: a Registry on
// the connection records each in the collection OpenCollection the same way, before it
// is used, with a lease its process renews, and any process using the database rolls
// back the transactions whose lease lapsed (registry.go).
//
// A Registry's Interceptor and Interceptor must be on the process's Firestore connection,
// in that order (shared/app puts them there).
package txtrack

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	pb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The Firestore methods that begin and end a transaction.
const (
	methodBegin    = "/google.firestore.v1.Firestore/BeginTransaction"
	methodCommit   = "/google.firestore.v1.Firestore/Commit"
	methodRollback = "/google.firestore.v1.Firestore/Rollback"
)

// Tracker holds the read-write transactions begun under one context and not yet ended.
type Tracker struct {
	mu     sync.Mutex
	open   map[string][]byte
	record Recorder
}

// A Recorder stores open, the transactions a Tracker holds, where a retry of the
// tracker's request will find them (the key's idempotency record). It is called when a
// transaction begins, with that transaction in open, before the transaction is used;
// an error fails the transaction's BeginTransaction with the error's gRPC code, except
// ErrNotRecorded, which leaves the transaction to the connection's Registry. ctx is the
// BeginTransaction call's, without its outgoing metadata.
type Recorder func(ctx context.Context, open [][]byte) error

// ErrNotRecorded is returned by a Recorder that no longer records (its request has
// ended): the Tracker lets the transaction go, and the Registry records it.
var ErrNotRecorded = errors.New("txtrack: not recorded by the tracker")

type trackerKey struct{}

// NewContext returns ctx with a new Tracker: the read-write transactions begun under the
// returned context (and contexts derived from it) are tracked, and each is recorded with
// record (nil: tracked only) before it is used.
func NewContext(ctx context.Context, record Recorder) (context.Context, *Tracker) {
	t := &Tracker{open: map[string][]byte{}, record: record}
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

func (t *Tracker) add(id []byte) {
	t.mu.Lock()
	t.open[string(id)] = id
	t.mu.Unlock()
}

// has reports whether the Tracker holds transaction id.
func (t *Tracker) has(id []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.open[string(id)]
	return ok
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
// read-write transaction begun under a context with a Tracker to that Tracker and
// records it (the Tracker's Recorder) before BeginTransaction returns, removes it when
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
	db, id, ok, err := invoke(ctx, method, req, reply, cc, invoker, opts)
	if !ok {
		return err
	}
	if err := t.begun(ctx, id); err != nil {
		return unrecorded(ctx, db, id, err, cc, invoker, opts)
	}
	return nil
}

// invoke makes the call; when it is a BeginTransaction that began a read-write
// transaction (a read-only one locks nothing), it returns the transaction's database and
// id, and ok.
func invoke(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts []grpc.CallOption) (db string, id []byte, ok bool, err error) {
	if err := invoker(ctx, method, req, reply, cc, opts...); err != nil || method != methodBegin {
		return "", nil, false, err
	}
	q, _ := req.(*pb.BeginTransactionRequest)
	res, _ := reply.(*pb.BeginTransactionResponse)
	if q == nil || res == nil || len(res.GetTransaction()) == 0 || q.GetOptions().GetReadOnly() != nil {
		return "", nil, false, nil
	}
	return q.GetDatabase(), res.GetTransaction(), true, nil
}

// begun tracks transaction id and records it.
func (t *Tracker) begun(ctx context.Context, id []byte) error {
	t.add(id)
	if t.record == nil {
		return nil
	}
	err := t.record(metadata.NewOutgoingContext(ctx, metadata.MD{}), t.Open())
	if err == nil {
		return nil
	}
	t.remove(id)
	if errors.Is(err, ErrNotRecorded) {
		return nil
	}
	return err
}

// unrecorded rolls back transaction id of database db, which could not be recorded (it
// has read nothing yet, so it holds no lock: the rollback only ends it early), and
// returns the error that fails its BeginTransaction in place of the recording's err.
func unrecorded(ctx context.Context, db string, id []byte, err error, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts []grpc.CallOption) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = invoker(rctx, methodRollback, &pb.RollbackRequest{Database: db, Transaction: id}, &emptypb.Empty{}, cc, opts...)
	return status.Errorf(status.Code(err), "txtrack: the transaction could not be recorded, so it was not used: %v", err)
}

// rollbackTimeout bounds the rollback of a transaction that could not be recorded (on a
// connection with app.RollbackInBackground it returns at once).
const rollbackTimeout = 5 * time.Second

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
	ctx = withDatabase(ctx, db)
	var errs []error
	for _, id := range ids {
		errs = append(errs, cc.Invoke(ctx, methodRollback, &pb.RollbackRequest{Database: db, Transaction: id}, &emptypb.Empty{}))
	}
	return errors.Join(errs...)
}

// withDatabase returns ctx with the request headers that name database db (replacing any
// outgoing metadata), as the client library sends them.
func withDatabase(ctx context.Context, db string) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs(
		"google-cloud-resource-prefix", db, "x-goog-request-params", "database="+url.QueryEscape(db)))
}
