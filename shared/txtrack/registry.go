package txtrack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	pb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/medi-os/medi/shared/logging"
)

// OpenCollection is the top-level Firestore collection where a Registry records the open
// transactions of its process, one document each: transaction (the id), leaseUntil (the
// process renews it while the transaction is open) and expireAt (the TTL field, a
// backstop for documents nobody deleted).
const OpenCollection = "openTransactions"

// DefaultLease is how long a Registry's record of an open transaction protects it
// without a renewal; a process renews its records every third of it.
const DefaultLease = 5 * time.Second

// recordTTL is how long a record is kept at most (the TTL policy deletes it after).
const recordTTL = time.Hour

// Registry covers the read-write transactions a Tracker does not: those of requests
// without an Idempotency-Key, of event functions and of work a handler left running. Its
// Interceptor records each such transaction in OpenCollection of the transaction's
// database before BeginTransaction returns (as a Tracker's Recorder does: a transaction
// that cannot be recorded is rolled back and fails), renews the record's lease while the
// transaction is open, and deletes the record when the transaction ends. A process killed
// inside a transaction stops renewing; any process with a Registry on the same database
// that uses Firestore then finds the lapsed record and rolls the transaction back, so its
// locks do not outlive the process by the minute Firestore takes to expire it. Each
// Firestore connection of a process has its own Registry.
type Registry struct {
	lease time.Duration
	now   func() time.Time
	base  context.Context // of the Registry's own calls, which it does not intercept

	mu       sync.Mutex
	open     map[string]openTx           // by transaction id
	dbs      map[string]*grpc.ClientConn // databases used, for the sweeps
	renewing bool
	sweeping bool
	active   time.Time // when Firestore was last used: sweeps go on for two leases after
}

type openTx struct {
	db, name string // the transaction's database, the record's name
}

type internalKey struct{}

// NewRegistry returns a Registry whose records protect a transaction for lease after
// each renewal (DefaultLease in production; shorter in tests).
func NewRegistry(lease time.Duration) *Registry {
	return &Registry{lease: lease, now: time.Now, base: context.WithValue(context.Background(), internalKey{}, true),
		open: map[string]openTx{}, dbs: map[string]*grpc.ClientConn{}}
}

// Interceptor is the Registry's gRPC client interceptor, to put on a Firestore connection
// before (outside) the package's Interceptor: it records a transaction only when no
// Tracker recorded it.
func (r *Registry) Interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if ctx.Value(internalKey{}) != nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	switch q := req.(type) {
	case *pb.BeginTransactionRequest:
		r.used(q.GetDatabase(), cc)
	case *pb.CommitRequest:
		r.used(q.GetDatabase(), cc)
		if len(q.GetTransaction()) > 0 {
			// Whatever the answer: a failed commit is rolled back by the library.
			defer r.ended(cc, q.GetTransaction())
		}
	case *pb.RollbackRequest:
		r.ended(cc, q.GetTransaction())
	}
	db, id, ok, err := invoke(ctx, method, req, reply, cc, invoker, opts)
	if !ok {
		return err
	}
	if t, _ := ctx.Value(trackerKey{}).(*Tracker); t != nil && t.has(id) {
		return nil // its Tracker recorded it
	}
	if err := r.record(ctx, cc, invoker, db, id, opts); err != nil {
		return unrecorded(ctx, db, id, err, cc, invoker, opts)
	}
	return nil
}

// recordName is the name of the record of transaction id in database db.
func recordName(db string, id []byte) string {
	sum := sha256.Sum256(id)
	return db + "/documents/" + OpenCollection + "/" + hex.EncodeToString(sum[:16])
}

// record creates the record of transaction id before its BeginTransaction returns.
func (r *Registry) record(ctx context.Context, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, db string, id []byte, opts []grpc.CallOption) error {
	now := r.now()
	name := recordName(db, id)
	doc := &pb.Document{Name: name, Fields: map[string]*pb.Value{
		"transaction": {ValueType: &pb.Value_BytesValue{BytesValue: id}},
		"leaseUntil":  timestampValue(now.Add(r.lease)),
		"expireAt":    timestampValue(now.Add(recordTTL)),
	}}
	write := &pb.Write{Operation: &pb.Write_Update{Update: doc},
		CurrentDocument: &pb.Precondition{ConditionType: &pb.Precondition_Exists{Exists: false}}}
	ctx, cancel := context.WithTimeout(ctx, r.lease)
	defer cancel()
	if err := invoker(ctx, methodCommit, &pb.CommitRequest{Database: db, Writes: []*pb.Write{write}}, &pb.CommitResponse{}, cc, opts...); err != nil {
		return err
	}
	r.mu.Lock()
	r.open[string(id)] = openTx{db: db, name: name}
	start := !r.renewing
	r.renewing = true
	r.mu.Unlock()
	if start {
		go r.renew(cc)
	}
	return nil
}

func timestampValue(t time.Time) *pb.Value {
	return &pb.Value{ValueType: &pb.Value_TimestampValue{TimestampValue: timestamppb.New(t)}}
}

// ended forgets transaction id and deletes its record, in the background: a record left
// behind only makes a later sweep roll back a transaction that has ended, which is
// harmless.
func (r *Registry) ended(cc *grpc.ClientConn, id []byte) {
	r.mu.Lock()
	tx, ok := r.open[string(id)]
	delete(r.open, string(id))
	r.mu.Unlock()
	if !ok {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(withDatabase(r.base, tx.db), r.lease)
		defer cancel()
		_ = deleteRecord(ctx, cc, tx.db, tx.name, nil)
	}()
}

func deleteRecord(ctx context.Context, cc *grpc.ClientConn, db, name string, updated *timestamppb.Timestamp) error {
	w := &pb.Write{Operation: &pb.Write_Delete{Delete: name}}
	if updated != nil {
		w.CurrentDocument = &pb.Precondition{ConditionType: &pb.Precondition_UpdateTime{UpdateTime: updated}}
	}
	return cc.Invoke(ctx, methodCommit, &pb.CommitRequest{Database: db, Writes: []*pb.Write{w}}, &pb.CommitResponse{})
}

// renew extends the lease of every open record every lease/3 while there are any. A
// record gone (a sweep found it lapsed and rolled its transaction back) is forgotten.
func (r *Registry) renew(cc *grpc.ClientConn) {
	for {
		time.Sleep(r.lease / 3)
		r.mu.Lock()
		if len(r.open) == 0 {
			r.renewing = false
			r.mu.Unlock()
			return
		}
		open := make(map[string]openTx, len(r.open))
		for id, tx := range r.open {
			open[id] = tx
		}
		r.mu.Unlock()
		until := timestampValue(r.now().Add(r.lease))
		for id, tx := range open {
			write := &pb.Write{
				Operation:       &pb.Write_Update{Update: &pb.Document{Name: tx.name, Fields: map[string]*pb.Value{"leaseUntil": until}}},
				UpdateMask:      &pb.DocumentMask{FieldPaths: []string{"leaseUntil"}},
				CurrentDocument: &pb.Precondition{ConditionType: &pb.Precondition_Exists{Exists: true}},
			}
			ctx, cancel := context.WithTimeout(withDatabase(r.base, tx.db), r.lease/3)
			err := cc.Invoke(ctx, methodCommit, &pb.CommitRequest{Database: tx.db, Writes: []*pb.Write{write}}, &pb.CommitResponse{})
			cancel()
			if status.Code(err) == codes.NotFound {
				r.mu.Lock()
				delete(r.open, id)
				r.mu.Unlock()
			}
		}
	}
}

// used notes that the process uses database db on cc, and starts the sweeps of lapsed
// records unless they are running: they go on every lease/2 while the process uses
// Firestore, and for two leases after.
func (r *Registry) used(db string, cc *grpc.ClientConn) {
	if db == "" {
		return
	}
	r.mu.Lock()
	r.dbs[db] = cc
	r.active = r.now()
	start := !r.sweeping
	r.sweeping = true
	r.mu.Unlock()
	if start {
		go r.sweepWhileActive()
	}
}

func (r *Registry) sweepWhileActive() {
	for {
		r.mu.Lock()
		if r.now().Sub(r.active) > 2*r.lease {
			r.sweeping = false
			r.mu.Unlock()
			return
		}
		dbs := make(map[string]*grpc.ClientConn, len(r.dbs))
		for db, cc := range r.dbs {
			dbs[db] = cc
		}
		r.mu.Unlock()
		for db, cc := range dbs {
			ctx, cancel := context.WithTimeout(withDatabase(r.base, db), r.lease)
			n, err := r.sweep(ctx, cc, db)
			cancel()
			log := logging.Default()
			if err != nil {
				log.LogAttrs(ctx, slog.LevelWarn, "txtrack: could not sweep the open transactions of dead processes", slog.String("error", err.Error()))
			} else if n > 0 {
				log.LogAttrs(ctx, slog.LevelWarn, "txtrack: rolled back the open transactions of dead processes", slog.Int("transactions", n))
			}
		}
		time.Sleep(r.lease / 2)
	}
}

// sweep rolls back the transactions of database db whose records have lapsed (not this
// process's own) and deletes the records; it returns how many.
func (r *Registry) sweep(ctx context.Context, cc *grpc.ClientConn, db string) (int, error) {
	stream, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, methodRunQuery)
	if err != nil {
		return 0, err
	}
	q := &pb.StructuredQuery{
		From: []*pb.StructuredQuery_CollectionSelector{{CollectionId: OpenCollection}},
		Where: &pb.StructuredQuery_Filter{FilterType: &pb.StructuredQuery_Filter_FieldFilter{FieldFilter: &pb.StructuredQuery_FieldFilter{
			Field: &pb.StructuredQuery_FieldReference{FieldPath: "leaseUntil"},
			Op:    pb.StructuredQuery_FieldFilter_LESS_THAN,
			Value: timestampValue(r.now()),
		}}},
		Limit: wrapperspb.Int32(sweepBatch),
	}
	if err := stream.SendMsg(&pb.RunQueryRequest{Parent: db + "/documents", QueryType: &pb.RunQueryRequest_StructuredQuery{StructuredQuery: q}}); err != nil {
		return 0, err
	}
	if err := stream.CloseSend(); err != nil {
		return 0, err
	}
	var lapsed []*pb.Document
	for {
		var res pb.RunQueryResponse
		err := stream.RecvMsg(&res)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		if d := res.GetDocument(); d != nil {
			lapsed = append(lapsed, d)
		}
	}
	n := 0
	var errs []error
	for _, d := range lapsed {
		id := d.GetFields()["transaction"].GetBytesValue()
		r.mu.Lock()
		_, ours := r.open[string(id)]
		r.mu.Unlock()
		if ours || len(id) == 0 {
			continue // this process is alive: its renewal is late, not lost
		}
		// Rolling back an ended transaction is harmless (OK, or InvalidArgument once
		// Firestore has expired it).
		if err := cc.Invoke(ctx, methodRollback, &pb.RollbackRequest{Database: db, Transaction: id}, &emptypb.Empty{}); err != nil && status.Code(err) != codes.InvalidArgument {
			errs = append(errs, err)
			continue
		}
		if err := deleteRecord(ctx, cc, db, d.GetName(), d.GetUpdateTime()); err != nil && status.Code(err) != codes.FailedPrecondition && status.Code(err) != codes.NotFound {
			errs = append(errs, err)
		}
		n++
	}
	return n, errors.Join(errs...)
}

// sweepBatch bounds the records one sweep reads.
const sweepBatch = 100

const methodRunQuery = "/google.firestore.v1.Firestore/RunQuery"
