package app

import (
	"context"
	"math"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/txtrack"
)

// firestoreRollback is the gRPC method a failed transaction calls last.
const firestoreRollback = "/google.firestore.v1.Firestore/Rollback"

// rollbackTimeout bounds one attempt of a rollback running in the background (the
// client library gives its own rollback 5 s).
const rollbackTimeout = 5 * time.Second

// rollbackWithin bounds the retries of a background rollback that cannot reach
// Firestore. A transaction nobody rolls back keeps the locks of what it read until the
// server expires it (about 60 s on the emulator; a read-write transaction lives at most
// 270 s in production), and every request touching those documents waits on them until
// then; past this bound the server has long expired it.
const rollbackWithin = 5 * time.Minute

// rollbackRetryWait is the longest pause between two attempts of a background rollback:
// once Firestore answers again, the transaction's locks are released within about this.
const rollbackRetryWait = time.Second

// RollbackInBackground is a gRPC client interceptor for Firestore connections: it starts
// a transaction's Rollback and returns at once, the rollback running on in the
// background, retried until Firestore has it.
//
// Why in the background: when a transaction fails, RunTransaction rolls it back before
// returning, on a context of its own (not the caller's) with a 5 s timeout, and ignores
// the result. When Firestore hangs and the request's deadline ends the transaction, that
// rollback hangs too, so the handler got its error, and the client its 503, up to 5 s
// after the request's deadline. With the rollback in the background the answer leaves by
// the deadline.
//
// Why retried: a rollback lost while Firestore hangs leaves the transaction open on the
// server, with a lock on every document it read, until the server expires it (about a
// minute). Each retry of the same request reads the same documents (its idempotency
// record, its commit marker) and waited on those locks past its own deadline: a client
// retrying after a Firestore hang of 15 s got 503s for a minute after Firestore came
// back. Retried (each attempt bounded by rollbackTimeout, at most rollbackRetryWait
// apart), the rollback reaches Firestore about as soon as it answers again and the locks
// go with it. Nothing waits for the result; a rollback the server refuses (the
// transaction already ended or expired) is not retried.
func RollbackInBackground(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if method != firestoreRollback {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	// The caller cancels ctx when this returns; the rollback keeps ctx's values
	// (request headers naming the database) with deadlines of its own.
	bg := context.WithoutCancel(ctx)
	go retryRollback(bg, func(ctx context.Context) error { return invoker(ctx, method, req, reply, cc, opts...) })
	return nil
}

// retryRollback calls rollback until it succeeds, fails for a reason a retry cannot
// change, or rollbackWithin has passed.
func retryRollback(ctx context.Context, rollback func(context.Context) error) {
	give := time.Now().Add(rollbackWithin)
	wait := 100 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, rollbackTimeout)
		err := rollback(actx)
		cancel()
		if !rollbackRetryable(err) || time.Now().Add(wait).After(give) {
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, rollbackRetryWait)
	}
}

// rollbackRetryable reports whether a rollback that failed with err may succeed later:
// Firestore did not answer (deadline, unavailable) or failed transiently.
func rollbackRetryable(err error) bool {
	switch status.Code(err) {
	case codes.DeadlineExceeded, codes.Unavailable, codes.Internal, codes.Unknown, codes.ResourceExhausted:
		return true
	}
	return false
}

// newFirestore creates the process's Firestore client with a txtrack.Registry (every
// other read-write transaction, for the process that finds it abandoned),
// txtrack.Interceptor (the transactions of a keyed request, for the retry that takes
// over its key) and RollbackInBackground. With
// FIRESTORE_EMULATOR_HOST (dev tier only) it dials the emulator itself, as the client
// library would (plain text, the emulator's owner credential), so that the emulator's
// connection has the interceptor too.
func newFirestore(ctx context.Context, projectID string) (*firestore.Client, error) {
	interceptors := grpc.WithChainUnaryInterceptor(txtrack.NewRegistry(txtrack.DefaultLease).Interceptor, txtrack.Interceptor, RollbackInBackground)
	addr := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if addr == "" {
		return firestore.NewClient(ctx, projectID, option.WithGRPCDialOption(interceptors))
	}
	conn, err := DialFirestoreEmulator(addr, interceptors)
	if err != nil {
		return nil, err
	}
	return firestore.NewClient(ctx, projectID, option.WithGRPCConn(conn))
}

// DialFirestoreEmulator connects to the Firestore emulator at addr (host:port) as the
// client library does for FIRESTORE_EMULATOR_HOST, with opts added.
func DialFirestoreEmulator(addr string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	return grpc.NewClient("passthrough:///"+addr, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(emulatorOwner{}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	}, opts...)...)
}

// emulatorOwner is the credential the Firestore emulator grants every right to (the
// client library sends the same).
type emulatorOwner struct{}

func (emulatorOwner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}

func (emulatorOwner) RequireTransportSecurity() bool { return false }
