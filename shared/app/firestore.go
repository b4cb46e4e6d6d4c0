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
	"google.golang.org/grpc/credentials/insecure"
)

// firestoreRollback is the gRPC method a failed transaction calls last.
const firestoreRollback = "/google.firestore.v1.Firestore/Rollback"

// rollbackTimeout bounds a rollback running in the background (the client library gives
// its own rollback the same 5 s).
const rollbackTimeout = 5 * time.Second

// RollbackInBackground is a gRPC client interceptor for Firestore connections: it starts
// a transaction's Rollback and returns at once, the rollback running on in the
// background for up to 5 s.
//
// Why: when a transaction fails, RunTransaction rolls it back before returning, on a
// context of its own (not the caller's) with a 5 s timeout, and ignores the result. When
// Firestore hangs and the request's deadline ends the transaction, that rollback hangs
// too, so the handler got its error, and the client its 503, up to 5 s after the
// request's deadline. With the rollback in the background the answer leaves by the
// deadline. Nothing waits for the rollback's result: the library ignores it, and a
// transaction that is not rolled back expires on the server.
func RollbackInBackground(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if method != firestoreRollback {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	// The caller cancels ctx when this returns; the rollback keeps ctx's values
	// (request headers naming the database) with a deadline of its own.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	go func() {
		defer cancel()
		_ = invoker(bg, method, req, reply, cc, opts...)
	}()
	return nil
}

// newFirestore creates the process's Firestore client with RollbackInBackground. With
// FIRESTORE_EMULATOR_HOST (dev tier only) it dials the emulator itself, as the client
// library would (plain text, the emulator's owner credential), so that the emulator's
// connection has the interceptor too.
func newFirestore(ctx context.Context, projectID string) (*firestore.Client, error) {
	addr := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if addr == "" {
		return firestore.NewClient(ctx, projectID,
			option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(RollbackInBackground)))
	}
	conn, err := DialFirestoreEmulator(addr, grpc.WithChainUnaryInterceptor(RollbackInBackground))
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
