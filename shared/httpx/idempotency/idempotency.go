// Package idempotency makes mutations that clients may retry safe to retry: a
// request carrying an Idempotency-Key header runs its handler once, and a retry with
// the same key gets the first response again instead of a second effect.
//
// # Semantics
//
// The key is scoped to the caller (Options.Scope, e.g. uid and clinic), the method and
// the request path, so two callers, or two endpoints, never share a key. For a request
// with a key:
//
//   - No live record: the handler runs and its response is stored if the status is 2xx
//     or 4xx (except 408 and 429, which invite a retry) and the body is at most
//     Options.MaxStoredBody. A 5xx, a panic, another status or a bigger body releases
//     the record: it is kept, state "released" (request hash and request ids, no
//     answer), until it expires, and a retry runs the handler again, with any request
//     (the same key with another body is a new request). The handler finds the request's
//     commit marker in its context (MarkerFrom); a handler whose commit may precede such
//     an answer passes it to its store, which writes it with its write and recognises its
//     own commit on the retry (shared/commitmark).
//   - First attempts: a request that creates its key's record is the key's first
//     attempt within the TTL (the record of any earlier attempt is still there:
//     completed, released or in progress), so no commit marker of the key can exist and
//     its marker is read by nobody (commitmark.Marker.FirstAttempt): a fresh key costs
//     the claim's one write and no marker read. A request that replaces a released,
//     expired, abandoned or unreadable record reads the marker as before.
//   - Completed record, same request (body and query): the stored status, body and
//     Content-Type, Location and ETag headers are sent with Idempotent-Replayed: true.
//     The body is the first response's, including its requestId; X-Request-Id names the
//     retry. A replayed success discloses again what the first answer disclosed, so it is
//     audited first: Options.AuditReplay receives the server request ids of the requests
//     that ran the handler for the key (kept in the record) and writes the audit records
//     of this disclosure; when it fails the replay is not sent (503, Retry-After: 1).
//   - Record of a request still running: 409, code "conflict", Retry-After: 1, details
//     {"reason": "idempotency_key_in_progress"}, while the record's lease is live.
//   - Record of a request that is no longer running: taken over, and the handler runs
//     for the retry. The request holding a key renews a short lease (Options.Lease, 5 s)
//     on its record while its handler runs; an instance that crashed or was killed stops
//     renewing, so its key is free again within one lease. When that request's write had
//     committed (its commit marker exists, shared/commitmark), the retry is let through
//     at once, lease or not: its handler finds the marker and answers with what the first
//     attempt wrote, writing nothing. A record older than Options.LockTimeout is taken
//     over even when renewed (a handler that never returns).
//   - Locks a dead request leaves: the record itself is read and written without
//     transactions (writes conditional on the update time read), so a kill leaves no
//     lock on it. The handler's own transactions are tracked (shared/txtrack: the
//     request's context carries a Tracker, the Firestore connection the interceptor):
//     each read-write transaction is written into the record when BeginTransaction
//     answers, before the handler can read anything in it (a transaction that cannot be
//     recorded fails), the lease renewals keep the list current, and a retry that takes
//     the key over from an abandoned request rolls them back before its handler runs,
//     so their locks on the commit marker and on what the handler read do not hold it
//     up until Firestore expires them (about a minute).
//   - Record of a different request (other body or query): 409, code "conflict",
//     details {"reason": "idempotency_key_reused"}; the client must use a new key.
//   - An invalid key (not 1-255 printable ASCII characters, or the header repeated): 400
//     invalid_argument. A body over Options.MaxRequestBody: 413.
//
// Requests without the header, and safe methods (GET, HEAD, OPTIONS, TRACE), pass through.
// Records expire after Options.TTL (field expireAt, deleted by a Firestore TTL policy;
// an expired record not yet deleted counts as absent). A retry after the TTL is a new
// request: its key's record and commit marker (which expires with the record) are gone.
// Records are deleted only by that policy: a record removed by hand while the key is
// live makes its next request a first attempt, which does not look for an earlier
// commit (use Release instead).
//
// The response leaves once its record is written, so that a retry sent as soon as the
// answer arrives is replayed; a hung Firestore holds the answer back at most
// finishWait (3 s, and never past half of what is left of the request's deadline), and
// the write goes on in the background. The write that completes (or, after a 5xx,
// releases) the record is conditional on the update time of the request's own last
// write, so it needs no read unless another write came in between. It is retried until
// it lands, for up to finishWithin: a request that was answered does not leave its key
// in progress behind it when Firestore comes back within that time. If the instance
// dies first, the lease frees the key. A retry that arrives before the record is
// written (the answer left after the wait) is let through when the first attempt's
// commit marker exists, and its handler answers from what that attempt wrote, without
// Idempotent-Replayed; else it gets 409 in progress until the record is written.
//
// # Storage and patient data
//
// Records live in the top-level collection idempotencyKeys. The document id is a SHA-256
// over scope, method, path and key; neither the key nor the scope is stored. The
// request is kept only as a SHA-256. The stored response body may contain patient data:
// like the data itself it lives only in Firestore and is never logged.
//
// # Placement
//
// Apply it per route, after authentication (Scope reads the caller) and before the
// handler:
//
//	rt.Handle("POST", "/v1/encounters", httpx.Chain(h, env.Require(auth.RoleReceptionist),
//		idempotency.Middleware(fs, idempotency.Options{Scope: callerScope})))
package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/txtrack"
)

// Header names.
const (
	// HeaderKey is the request header carrying the client's idempotency key.
	HeaderKey = "Idempotency-Key"
	// HeaderReplayed is set to "true" on a response replayed from a stored record.
	HeaderReplayed = "Idempotent-Replayed"
)

// Collection is the top-level Firestore collection of idempotency records; its expireAt
// field is the TTL field (see Terraform).
const Collection = "idempotencyKeys"

// Reasons carried in the details of the 409 responses, so that a client can tell "wait
// and retry" from "use a new key".
const (
	ReasonInProgress = "idempotency_key_in_progress"
	ReasonKeyReused  = "idempotency_key_reused"
)

// Defaults and limits.
const (
	DefaultTTL         = 24 * time.Hour
	DefaultLockTimeout = 10 * time.Minute
	// DefaultLease is how long a key stays locked after its holder last renewed it: the
	// longest a retry waits for the key of a request whose instance has died.
	DefaultLease         = 5 * time.Second
	DefaultMaxStoredBody = 256 << 10
	// MaxKeyLength is the longest accepted Idempotency-Key.
	MaxKeyLength = 255
	// maxStoredBodyLimit keeps a record under Firestore's 1 MiB document limit.
	maxStoredBodyLimit = 1<<20 - 64<<10
	// finishTimeout bounds one attempt of the write that completes or releases a record;
	// it runs even when the client has gone away.
	finishTimeout = 10 * time.Second
	// finishWithin bounds the retries of that write (Firestore unreachable after the
	// answer was sent); afterwards the record is left to its lease.
	finishWithin = 2 * time.Minute
	// finishWait is how long a request's handler waits for that write before leaving it
	// to the background (see await): long enough for a loaded Firestore, so that a retry
	// sent as soon as the answer arrives finds the record written, short against the
	// request deadline.
	finishWait = 3 * time.Second
	// beginAttempts bounds the attempts of the claim when a concurrent request changed
	// the record between its read and its write (or deleted it, the TTL policy).
	beginAttempts = 3
)

// Record states.
const (
	stateInProgress = "in_progress"
	stateCompleted  = "completed"
	// stateReleased: the request that held the key answered with nothing to replay (a
	// 5xx). The record stays until it expires so that the key's next request is known
	// not to be its first attempt (it may follow a commit whose answer was lost).
	stateReleased = "released"
)

// Options configure Middleware.
type Options struct {
	// TTL is how long a record is kept (and a retry replayed); DefaultTTL when <= 0.
	TTL time.Duration
	// Scope returns the caller's identity for r, e.g. uid and clinic id; keys of
	// different scopes never meet. Required. An empty result is a server error: the
	// middleware must run after authentication.
	Scope func(*http.Request) string
	// Now returns the current time; time.Now when nil. Tests inject it.
	Now func() time.Time
	// MaxStoredBody is the largest response body stored (DefaultMaxStoredBody when
	// <= 0, at most about 960 KiB); a bigger response is sent but not stored.
	MaxStoredBody int
	// MaxRequestBody is the largest request body accepted (httpx.DefaultMaxBody when
	// <= 0); set it to the endpoint's own limit when that is larger.
	MaxRequestBody int64
	// Lease is how long a key stays locked after the request holding it last renewed it
	// (DefaultLease when <= 0); the holder renews it every Lease/3 while its handler runs.
	// A retry of a request whose instance died takes the key over within one Lease.
	Lease time.Duration
	// LockTimeout is the longest a request may hold a key, renewals included, before a
	// retry may take it over (DefaultLockTimeout when <= 0). It must exceed the
	// function's request timeout.
	LockTimeout time.Duration
	// AuditReplay audits the disclosure of a replayed success before it is sent: it gets
	// the replay's context (its caller and request id) and the server request ids of the
	// requests that ran the handler for the key, whose audit records say what the answer
	// discloses (audit.ReplayAuditor). Required: the answers of keyed routes hold patient
	// data. An error answers 503 instead of the replay.
	AuditReplay func(ctx context.Context, requestIDs []string) error
}

// record is the stored document.
type record struct {
	State       string    `firestore:"state"`
	RequestHash string    `firestore:"requestHash"`
	Owner       string    `firestore:"owner"` // random id of the request holding the key
	CreatedAt   time.Time `firestore:"createdAt"`
	// LeaseUntil is when an in-progress record stops protecting its key unless its
	// holder renews it. Zero (records written before leases) means CreatedAt+LockTimeout.
	LeaseUntil time.Time `firestore:"leaseUntil,omitzero"`
	// OpenTransactions are the read-write Firestore transactions the holder's handler
	// has open (shared/txtrack: each written here before it is used, ended ones dropped
	// at the next renewal): a retry that takes the key over rolls them back, so that the
	// locks of a holder killed inside a transaction do not hold it up.
	OpenTransactions [][]byte          `firestore:"openTransactions,omitempty"`
	ExpireAt         time.Time         `firestore:"expireAt"`
	CompletedAt      time.Time         `firestore:"completedAt,omitzero"`
	Status           int               `firestore:"status,omitempty"`
	Header           map[string]string `firestore:"header,omitempty"`
	Body             []byte            `firestore:"body,omitempty"`
	// RequestIDs are the server request ids of the requests that ran the handler for
	// this key (the first, and any that took the key over), newest last, at most
	// maxRequestIDs: their audit records say what the stored answer discloses.
	RequestIDs []string `firestore:"requestIds,omitempty"`
}

// maxRequestIDs bounds record.RequestIDs (a Firestore "in" query takes at most 30).
const maxRequestIDs = 10

// valid reports whether r is a record this package could have written.
func (r record) valid() bool {
	switch r.State {
	case stateInProgress, stateReleased:
		return true
	case stateCompleted:
		return r.Status >= 200 && r.Status <= 599
	}
	return false
}

// storedHeaders are the response headers kept and replayed.
var storedHeaders = []string{"Content-Type", "Location", "ETag"}

type middleware struct {
	fs             *firestore.Client
	ttl            time.Duration
	lease          time.Duration
	lockTimeout    time.Duration
	finishAttempt  time.Duration // finishTimeout; tests shorten it
	finishWithin   time.Duration
	finishWait     time.Duration // finishWait; how long the handler waits for the record's write
	scope          func(*http.Request) string
	now            func() time.Time
	maxStoredBody  int
	maxRequestBody int64
	auditReplay    func(context.Context, []string) error
}

// Middleware returns middleware honouring the Idempotency-Key header with records in
// fs (see the package documentation). It panics when fs, opts.Scope or opts.AuditReplay
// is nil: all are programming errors found at start-up.
func Middleware(fs *firestore.Client, opts Options) httpx.Middleware {
	m := newMiddleware(fs, opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.serve(w, r, next)
		})
	}
}

func newMiddleware(fs *firestore.Client, opts Options) *middleware {
	if fs == nil {
		panic("idempotency: nil Firestore client")
	}
	if opts.Scope == nil {
		panic("idempotency: Options.Scope is required")
	}
	if opts.AuditReplay == nil {
		panic("idempotency: Options.AuditReplay is required (a replay discloses the stored answer again)")
	}
	m := &middleware{
		fs:             fs,
		ttl:            opts.TTL,
		lease:          opts.Lease,
		lockTimeout:    opts.LockTimeout,
		finishAttempt:  finishTimeout,
		finishWithin:   finishWithin,
		finishWait:     finishWait,
		scope:          opts.Scope,
		now:            opts.Now,
		maxStoredBody:  opts.MaxStoredBody,
		maxRequestBody: opts.MaxRequestBody,
		auditReplay:    opts.AuditReplay,
	}
	if m.ttl <= 0 {
		m.ttl = DefaultTTL
	}
	if m.lease <= 0 {
		m.lease = DefaultLease
	}
	if m.lockTimeout <= 0 {
		m.lockTimeout = DefaultLockTimeout
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.maxStoredBody <= 0 {
		m.maxStoredBody = DefaultMaxStoredBody
	}
	m.maxStoredBody = min(m.maxStoredBody, maxStoredBodyLimit)
	if m.maxRequestBody <= 0 {
		m.maxRequestBody = httpx.DefaultMaxBody
	}
	return m
}

func (m *middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	keys := r.Header.Values(HeaderKey)
	if len(keys) == 0 || isSafe(r.Method) {
		next.ServeHTTP(w, r)
		return
	}
	if len(keys) > 1 || !ValidKey(keys[0]) {
		httpx.WriteError(w, r, httpx.BadRequest(
			"%s must be one value of 1 to %d printable ASCII characters", HeaderKey, MaxKeyLength).
			WithDetails(map[string]any{"fields": []apierr.FieldError{{Field: HeaderKey, Message: "invalid"}}}))
		return
	}
	scope := m.scope(r)
	if scope == "" {
		httpx.WriteError(w, r, httpx.Internal(errors.New("idempotency: empty scope; the middleware must run after authentication")))
		return
	}
	body, herr := readBody(r, m.maxRequestBody)
	if herr != nil {
		httpx.WriteError(w, r, herr)
		return
	}

	ctx := r.Context()
	ref := m.fs.Collection(Collection).Doc(DocumentID(scope, r.Method, r.URL.EscapedPath(), keys[0]))
	owner := newOwner()
	reqHash := requestHash(r.URL.RawQuery, body)
	d, err := m.begin(ctx, ref, reqHash, owner)
	if err != nil {
		if ctx.Err() != nil {
			return // the client has gone; nobody reads an answer
		}
		httpx.WriteError(w, r, httpx.Unavailable(1, fmt.Errorf("idempotency: claim key: %w", err)))
		return
	}
	if !m.answerClaim(w, r, d) {
		return
	}
	if len(d.abandonedTx) > 0 {
		m.rollbackAbandoned(ctx, ref, d.conn, d.abandonedTx)
	}

	cw := &captureWriter{ResponseWriter: w, max: m.maxStoredBody}
	h := &hold{m: m, ref: ref, owner: owner, createdAt: d.createdAt, updated: d.updated}
	hctx, tracker := txtrack.NewContext(ctx, h.record)
	stopRenewing := h.renew(ctx, tracker)
	returned := false
	defer func() {
		// No recover: a panic travels on to httpx.Recover with its stack. The record
		// is released first so that a retry can run.
		if !returned {
			stopRenewing()
			m.await(ctx, func() { h.finish(ctx, nil) })
		}
	}()
	// The marker expires with the record (not later: a key whose record is gone would
	// have its next request taken for a first attempt while the marker still counted).
	marker := commitmark.Marker{Record: ref.ID, Request: reqHash, Expires: d.expireAt}
	if d.first {
		marker = marker.FirstAttempt()
	}
	next.ServeHTTP(cw, r.WithContext(context.WithValue(hctx, markerKey{}, marker)))
	returned = true
	stopRenewing()
	// The answer leaves when this handler returns: once the record is written, so that
	// a retry sent as soon as the answer arrives (on another connection, as a gateway
	// sends it) is replayed, or after the bounded wait of await when Firestore hangs.
	m.await(ctx, func() { h.store(ctx, cw) })
}

// await runs write (the record's final write, retried for up to finishWithin) and waits
// for it at most m.finishWait, and never past half of what is left of the request's
// deadline (ctx). Normally the record is written before the handler returns, and so
// before the answer leaves, so that a retry sent as soon as the answer arrives is
// replayed. When Firestore hangs, the write goes on in the background: the handler
// returns, and with it the answer and the connection. An HTTP/1.1 server reads a
// connection's next request only once the handler of the previous one has returned, so
// a handler held by the write held up the next request the gateway sent on that
// connection until Firestore came back (a request arriving during a Firestore hang got
// no answer for 40 s, past its 10 s deadline).
func (m *middleware) await(ctx context.Context, write func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		write()
	}()
	wait := m.finishWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)/2)
	}
	t := time.NewTimer(wait) // fires at once when the deadline has passed
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// answerClaim answers a request whose key another request holds or held, from what
// claiming the key decided: the stored response replayed, 409 for a request still running
// or a key reused with another request. It returns true when this request is to run its
// handler (a fresh key, or one taken over from an abandoned or committed request).
func (m *middleware) answerClaim(w http.ResponseWriter, r *http.Request, d decision) bool {
	ctx := r.Context()
	log := logging.FromContext(ctx)
	switch d.outcome {
	case outcomeReplay:
		if d.rec.Status < 300 {
			// The answer is disclosed again: audited like the first time, or not sent.
			if err := m.auditReplay(ctx, d.rec.RequestIDs); err != nil {
				httpx.WriteError(w, r, httpx.Unavailable(1, fmt.Errorf("idempotency: audit the replay: %w", err)))
				return false
			}
		}
		log.LogAttrs(ctx, slog.LevelInfo, "idempotent request replayed", slog.Int("status", d.rec.Status))
		replay(w, d.rec)
		return false
	case outcomeInProgress:
		httpx.WriteError(w, r, httpx.Conflict("a request with this %s is still in progress; retry later", HeaderKey).
			WithDetails(map[string]string{"reason": ReasonInProgress}).
			WithHeader("Retry-After", "1"))
		return false
	case outcomeReused:
		httpx.WriteError(w, r, httpx.Conflict("this %s was already used with a different request body or query; use a new key for a new request", HeaderKey).
			WithDetails(map[string]string{"reason": ReasonKeyReused}))
		return false
	case outcomeTakeover:
		log.LogAttrs(ctx, slog.LevelWarn, "idempotency key taken over from an abandoned request")
	case outcomeCommitted:
		log.LogAttrs(ctx, slog.LevelInfo, "idempotency key of a committed request taken over; the handler answers from its commit marker")
	}
	return true
}

// store finishes the key's record with the handler's response when it may be replayed
// (a storable status, a body within the limit), else releases the record so that a
// retry runs the handler again.
func (h *hold) store(ctx context.Context, cw *captureWriter) {
	if !cw.wroteHeader {
		if ctx.Err() != nil {
			// The handler gave up at the deadline without an answer; the deadline
			// middleware answers 503 for it. Nothing to replay: release the key.
			h.finish(ctx, nil)
			return
		}
		cw.status = http.StatusOK // the server sends 200 for a handler that wrote nothing
	}
	if !storable(cw.status) || cw.overflow {
		if cw.overflow {
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "idempotent response not stored: body too large",
				slog.Int("status", cw.status), slog.Int("limit", h.m.maxStoredBody))
		}
		h.finish(ctx, nil)
		return
	}
	h.finish(ctx, cw)
}

type markerKey struct{}

// MarkerFrom returns the commit marker of the keyed request ctx belongs to, for the
// handler to pass to its store; the zero Marker (which the store ignores) for a request
// without an Idempotency-Key.
func MarkerFrom(ctx context.Context) commitmark.Marker {
	m, _ := ctx.Value(markerKey{}).(commitmark.Marker)
	return m
}

// ValidKey reports whether key is an acceptable Idempotency-Key: 1 to MaxKeyLength
// printable ASCII characters (0x20-0x7E).
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

func isSafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// storable reports whether a response with status is kept for replay: success and
// client errors are deterministic for the same request; 408 and 429 ask for a retry.
func storable(status int) bool {
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return false
	case status >= 200 && status < 300, status >= 400 && status < 500:
		return true
	}
	return false
}

// readBody reads r's body fully (at most limit bytes) and puts it back for the handler.
func readBody(r *http.Request, limit int64) ([]byte, *httpx.Error) {
	tooLarge := httpx.NewError(http.StatusRequestEntityTooLarge, httpx.CodePayloadTooLarge,
		"request body must not be larger than %d bytes", limit)
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, httpx.BadRequest("could not read the request body").WithCause(err)
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// DocumentID returns the id of the record for key in scope on method and path: the
// SHA-256 (hex) of the length-prefixed parts, so that neither key nor scope is stored
// and no two distinct tuples share an id.
func DocumentID(scope, method, path, key string) string {
	return hashParts([]byte("idempotency/v1"), []byte(scope), []byte(method), []byte(path), []byte(key))
}

// requestHash fingerprints the request: its query and body.
func requestHash(query string, body []byte) string {
	return hashParts([]byte(query), body)
}

func hashParts(parts ...[]byte) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type outcome int

const (
	outcomeRun        outcome = iota // the key is ours: run the handler (a new record, or a released or expired one)
	outcomeTakeover                  // as outcomeRun, after an abandoned request
	outcomeCommitted                 // as outcomeRun: the holder's write committed (its marker exists)
	outcomeReplay                    // send the stored response
	outcomeInProgress                // another request holds the key
	outcomeReused                    // the key belongs to a different request
)

type decision struct {
	outcome   outcome
	rec       record
	createdAt time.Time // of the record this request now holds
	expireAt  time.Time // of that record
	updated   time.Time // the update time of that record, as this request wrote it
	// first: this request created the record, so it is the key's first attempt within
	// the TTL (see the package documentation).
	first bool
	// abandonedTx are the transactions the abandoned holder had open (outcomeTakeover),
	// to roll back on conn, the connection the claim went through.
	abandonedTx [][]byte
	conn        *txtrack.Conn
}

// begin claims the key for this request, or reports who has it.
//
// The record is read and written without a transaction: the write is conditional on
// the record being what was read (Create when there is none, else an update on the
// update time read). A transaction would lock the record from its read to its commit, and an
// instance killed in between would leave it locked, holding up every retry of the key,
// until Firestore expired the transaction (about a minute).
func (m *middleware) begin(ctx context.Context, ref *firestore.DocumentRef, hash, owner string) (decision, error) {
	ctx, conn := txtrack.WithConn(ctx)
	var err error
	for range beginAttempts {
		var d decision
		d, err = m.claim(ctx, ref, hash, owner)
		d.conn = conn
		// A concurrent request wrote the record between our read and our write, or it
		// was deleted (expired) after our Create found it: look again.
		if code := status.Code(err); code != codes.AlreadyExists && code != codes.FailedPrecondition && code != codes.NotFound {
			return d, err
		}
	}
	return decision{}, err
}

// claim is one attempt of begin.
func (m *middleware) claim(ctx context.Context, ref *firestore.DocumentRef, hash, owner string) (decision, error) {
	now := m.now().UTC()
	fresh := record{
		State:       stateInProgress,
		RequestHash: hash,
		Owner:       owner,
		CreatedAt:   now,
		LeaseUntil:  now.Add(m.lease),
		ExpireAt:    now.Add(m.ttl),
		RequestIDs:  []string{logging.RequestID(ctx)},
	}
	d := decision{outcome: outcomeRun, createdAt: now, expireAt: fresh.ExpireAt}
	// Most keys are new: create the record straight away (one round trip), and read it
	// only when it exists. Created, it is the key's first attempt.
	wr, err := ref.Create(ctx, fresh)
	if err == nil {
		d.first, d.updated = true, wr.UpdateTime
		return d, nil
	}
	if status.Code(err) != codes.AlreadyExists {
		return d, err
	}
	snap, err := ref.Get(ctx)
	if err != nil {
		return d, err // NotFound (deleted since): begin tries again
	}
	replace := func() error {
		wr, err := ref.Update(ctx, fresh.updates(), firestore.LastUpdateTime(snap.UpdateTime))
		if err == nil {
			d.updated = wr.UpdateTime
		}
		return err
	}
	var rec record
	if err := snap.DataTo(&rec); err != nil || !rec.valid() {
		return d, replace() // an unreadable record protects nothing
	}
	switch {
	case !now.Before(rec.ExpireAt):
		return d, replace() // expired; the TTL policy has not deleted it yet
	case rec.State == stateReleased:
		// The key's last request answered with nothing to replay; this one runs, and
		// its handler looks for that request's commit (its answer may have been lost).
		// A request of another body is a new request under the key.
		if rec.RequestHash == hash {
			fresh.RequestIDs = takenOver(rec.RequestIDs, fresh.RequestIDs[0])
		}
		return d, replace()
	case rec.RequestHash != hash:
		d.outcome = outcomeReused
	case rec.State == stateCompleted:
		d.outcome, d.rec = outcomeReplay, rec
	case m.abandoned(rec, now):
		d.outcome, d.abandonedTx = outcomeTakeover, rec.OpenTransactions
		fresh.RequestIDs = takenOver(rec.RequestIDs, fresh.RequestIDs[0])
		return d, replace()
	default:
		// The holder is alive, or was until a moment ago. If its write has committed,
		// this retry may run now: its handler reads the marker and answers with the
		// committed resource without writing.
		marker := commitmark.Marker{Record: ref.ID, Request: hash}
		if _, committed, err := marker.Committed(ctx, m.fs); err != nil {
			return d, err
		} else if committed {
			d.outcome = outcomeCommitted
			fresh.RequestIDs = takenOver(rec.RequestIDs, fresh.RequestIDs[0])
			return d, replace()
		}
		d.outcome = outcomeInProgress
	}
	return d, nil
}

// updates lists every field of r as an update, the empty ones deleted, so that an
// update replaces the whole record (Update takes a precondition; Set does not).
func (r record) updates() []firestore.Update {
	orDelete := func(empty bool, v any) any {
		if empty {
			return firestore.Delete
		}
		return v
	}
	return []firestore.Update{
		{Path: "state", Value: r.State},
		{Path: "requestHash", Value: r.RequestHash},
		{Path: "owner", Value: r.Owner},
		{Path: "createdAt", Value: r.CreatedAt},
		{Path: "leaseUntil", Value: orDelete(r.LeaseUntil.IsZero(), r.LeaseUntil)},
		{Path: "openTransactions", Value: orDelete(len(r.OpenTransactions) == 0, r.OpenTransactions)},
		{Path: "expireAt", Value: r.ExpireAt},
		{Path: "completedAt", Value: orDelete(r.CompletedAt.IsZero(), r.CompletedAt)},
		{Path: "status", Value: orDelete(r.Status == 0, r.Status)},
		{Path: "header", Value: orDelete(len(r.Header) == 0, r.Header)},
		{Path: "body", Value: orDelete(len(r.Body) == 0, r.Body)},
		{Path: "requestIds", Value: orDelete(len(r.RequestIDs) == 0, r.RequestIDs)},
	}
}

// takenOver returns the request ids of a record taken over by requestID: the earlier
// ones (whose writes may have committed, so their audit records tell what the answer
// discloses) and requestID, at most maxRequestIDs, newest last.
func takenOver(earlier []string, requestID string) []string {
	ids := append(slices.Clone(earlier), requestID)
	if len(ids) > maxRequestIDs {
		ids = ids[len(ids)-maxRequestIDs:]
	}
	return ids
}

// abandoned reports whether the in-progress record rec no longer protects its key at
// now: its holder stopped renewing the lease (the instance died), or has held it longer
// than the lock timeout.
func (m *middleware) abandoned(rec record, now time.Time) bool {
	if now.Sub(rec.CreatedAt) >= m.lockTimeout {
		return true
	}
	return !rec.LeaseUntil.IsZero() && !now.Before(rec.LeaseUntil)
}

// hold is a running request's hold on its key's record. The lease renewals and the
// recording of each transaction its handler begins write the record one at a time, each
// on the update time of the previous write (one round trip); the record is read first
// only when another write came in between.
type hold struct {
	m         *middleware
	ref       *firestore.DocumentRef
	owner     string
	createdAt time.Time

	mu       sync.Mutex
	updated  time.Time // the record's update time after this request's last write
	released bool      // the handler has returned
}

// write extends the lease and records open as the holder's open transactions, provided
// this request still holds the record (errLost when another request took it over or it
// is gone, errReleased once the handler has returned).
func (h *hold) write(ctx context.Context, open [][]byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return errReleased
	}
	updates := func() []firestore.Update {
		until := h.m.now().UTC().Add(h.m.lease)
		if limit := h.createdAt.Add(h.m.lockTimeout); until.After(limit) {
			until = limit
		}
		var openTx any = open
		if len(open) == 0 {
			openTx = firestore.Delete
		}
		return []firestore.Update{{Path: "leaseUntil", Value: until}, {Path: "openTransactions", Value: openTx}}
	}
	if !h.updated.IsZero() {
		wr, err := h.ref.Update(ctx, updates(), firestore.LastUpdateTime(h.updated))
		if err == nil {
			h.updated = wr.UpdateTime
			return nil
		}
		if status.Code(err) != codes.FailedPrecondition {
			return err
		}
	}
	// Written by someone else since (or our last write's answer was lost): read, then
	// write on the read's update time. No transaction, whose lock on the record a kill
	// would leave behind (see begin).
	snap, err := h.ref.Get(ctx)
	if status.Code(err) == codes.NotFound {
		return errLost
	}
	if err != nil {
		return err
	}
	var rec record
	if err := snap.DataTo(&rec); err != nil || rec.Owner != h.owner || rec.State != stateInProgress {
		return errLost
	}
	wr, err := h.ref.Update(ctx, updates(), firestore.LastUpdateTime(snap.UpdateTime))
	if err == nil {
		h.updated = wr.UpdateTime
	}
	return err
}

// record is the handler's txtrack.Recorder: it writes the open transactions into the
// record when one begins, before the transaction is used, so that a retry taking the key
// over finds every transaction whose locks a kill left behind. A transaction begun after
// the handler returned (by work it left running) is left to the connection's
// txtrack.Registry; one begun by a request whose key was taken over fails (Aborted): the
// key is the retry's now.
func (h *hold) record(ctx context.Context, open [][]byte) error {
	ctx, cancel := context.WithTimeout(ctx, h.m.lease)
	defer cancel()
	switch err := h.write(ctx, open); {
	case errors.Is(err, errReleased):
		return txtrack.ErrNotRecorded
	case errors.Is(err, errLost):
		return status.Error(codes.Aborted, err.Error())
	default:
		return err
	}
}

// renew extends the lease of the record this request holds every lease/3, with the
// transactions tracker has open, until the returned stop is called (which waits for a
// renewal in flight and ends the recording of transactions). A renewal that fails
// (Firestore unreachable) is not retried: the lease then runs out, and a retry may take
// the key over, which is safe because writes recognise their own commit
// (shared/commitmark). Renewals stop extending at createdAt+LockTimeout.
func (h *hold) renew(ctx context.Context, tracker *txtrack.Tracker) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(h.m.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, h.m.lease/3)
			err := h.write(rctx, tracker.Open())
			rcancel()
			if errors.Is(err, errLost) {
				return
			}
			if err != nil && ctx.Err() == nil {
				logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "idempotency: could not renew the key's lease",
					slog.String("error", err.Error()))
			}
		}
	}()
	return func() {
		cancel()
		<-done
		h.mu.Lock()
		h.released = true
		h.mu.Unlock()
	}
}

// errLost ends renewals of a record another request has taken over.
var errLost = errors.New("idempotency: key taken over")

// errReleased: the handler has returned, the hold no longer writes the record.
var errReleased = errors.New("idempotency: handler returned")

// rollbackAbandoned rolls back the transactions the abandoned holder of ref had open,
// so that its locks (on the commit marker and whatever its handler read) do not hold up
// this request's handler until Firestore expires them. The rollbacks go on in the
// background (app.RollbackInBackground); a failure is logged and left to Firestore's
// expiry of the transactions.
func (m *middleware) rollbackAbandoned(ctx context.Context, ref *firestore.DocumentRef, conn *txtrack.Conn, ids [][]byte) {
	db, _, _ := strings.Cut(ref.Path, "/documents/")
	err := conn.Rollback(context.WithoutCancel(ctx), db, ids)
	log := logging.FromContext(ctx)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "idempotency: could not roll back the abandoned request's transactions",
			slog.Int("transactions", len(ids)), slog.String("error", err.Error()))
		return
	}
	log.LogAttrs(ctx, slog.LevelInfo, "idempotency: abandoned request's transactions rolled back", slog.Int("transactions", len(ids)))
}

// finish completes the record with the captured response, or releases it when cw is
// nil, provided this request still owns it. The response has been sent; the write is
// retried (each attempt bounded by finishAttempt) until it lands or finishWithin has
// passed, so that Firestore coming back finds no key left in progress. It runs once the
// renewals have stopped (the hold writes nothing more).
func (h *hold) finish(ctx context.Context, cw *captureWriter) {
	m := h.m
	h.mu.Lock()
	last := h.updated
	h.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	give := time.Now().Add(m.finishWithin)
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := m.finishOnce(ctx, h.ref, h.owner, cw, last)
		if err == nil {
			if attempt > 1 {
				logging.FromContext(ctx).LogAttrs(ctx, slog.LevelInfo, "idempotency: key record written after retries",
					slog.Int("attempts", attempt))
			}
			return
		}
		if time.Now().Add(wait).After(give) {
			// The record stays in progress until its lease runs out.
			what := "store the response"
			if cw == nil {
				what = "release the key"
			}
			logging.FromContext(ctx).LogAttrs(ctx, slog.LevelError, "idempotency: could not "+what,
				slog.Int("attempts", attempt), slog.String("error", err.Error()))
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// finishOnce is one attempt of finish. last is the update time of this request's last
// write of the record (zero when unknown): while the record still has it, the record is
// this request's own in-progress record, and the final write goes without a read.
func (m *middleware) finishOnce(ctx context.Context, ref *firestore.DocumentRef, owner string, cw *captureWriter, last time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, m.finishAttempt)
	defer cancel()
	now := m.now().UTC()
	if !last.IsZero() {
		_, err := ref.Update(ctx, finalUpdates(cw, now), firestore.LastUpdateTime(last))
		if code := status.Code(err); code != codes.FailedPrecondition && code != codes.NotFound {
			return err
		}
		// Written since: taken over, or our own earlier attempt landed though its
		// answer was lost. Read and see.
	}
	// Read, then write on the read's update time (see begin); a record changed in
	// between fails the write, and finish tries again.
	snap, rec, err := readRecord(ctx, ref)
	if snap == nil || err != nil || rec.Owner != owner || rec.State != stateInProgress {
		// Gone, or taken over by another request (or already written): leave it alone.
		// An unreadable record is not this request's either.
		if errors.Is(err, errUndecodable) {
			return nil
		}
		return err
	}
	_, err = ref.Update(ctx, finalUpdates(cw, now), firestore.LastUpdateTime(snap.UpdateTime))
	return err
}

// errUndecodable wraps the error of a record that exists but does not decode.
var errUndecodable = errors.New("idempotency: decode the record")

// readRecord reads the key's record: a nil snapshot and no error when there is none,
// errUndecodable (wrapped) when it does not decode.
func readRecord(ctx context.Context, ref *firestore.DocumentRef) (*firestore.DocumentSnapshot, record, error) {
	snap, err := ref.Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, record{}, nil
	}
	if err != nil {
		return nil, record{}, err
	}
	var rec record
	if err := snap.DataTo(&rec); err != nil {
		return snap, record{}, fmt.Errorf("%w: %w", errUndecodable, err)
	}
	return snap, rec, nil
}

// finalUpdates turns this request's in-progress record into its final state at now:
// completed with the captured response, or released when cw is nil (see
// record.released); the lease and the open transactions go. The other fields (hash,
// owner, request ids, expiry) are the in-progress record's and stay.
func finalUpdates(cw *captureWriter, now time.Time) []firestore.Update {
	ups := []firestore.Update{
		{Path: "completedAt", Value: now},
		{Path: "leaseUntil", Value: firestore.Delete},
		{Path: "openTransactions", Value: firestore.Delete},
	}
	if cw == nil {
		return append(ups, firestore.Update{Path: "state", Value: stateReleased})
	}
	ups = append(ups, firestore.Update{Path: "state", Value: stateCompleted}, firestore.Update{Path: "status", Value: cw.status})
	if h := cw.storedHeader(); len(h) > 0 {
		ups = append(ups, firestore.Update{Path: "header", Value: h})
	}
	if cw.body.Len() > 0 {
		ups = append(ups, firestore.Update{Path: "body", Value: cw.body.Bytes()})
	}
	return ups
}

// released is the record rec becomes when its key is released at now: the request
// hash, the request ids and the expiry kept (the key's commit marker expires with it),
// no answer, no lease.
func (r record) released(now time.Time) record {
	return record{
		State:       stateReleased,
		RequestHash: r.RequestHash,
		Owner:       r.Owner,
		CreatedAt:   r.CreatedAt,
		ExpireAt:    r.ExpireAt,
		CompletedAt: now,
		RequestIDs:  r.RequestIDs,
	}
}

// Release releases the key whose record is ref, as an answer with nothing to replay (a
// 5xx) releases it: the record is kept, released, until it expires, and the key's next
// request runs its handler, which looks for the commit of an earlier attempt
// (shared/commitmark). It is for tests and tools that stand for such an answer, and is
// the only way to free a live key by hand: a deleted record would make the next request
// a first attempt, which does not look. An absent or already released record is left as
// it is; a record in progress is released whoever holds it (its holder then finds the
// key lost).
func Release(ctx context.Context, ref *firestore.DocumentRef) error {
	for range beginAttempts {
		snap, rec, err := readRecord(ctx, ref)
		if snap == nil || err != nil || rec.State == stateReleased {
			return err
		}
		_, err = ref.Update(ctx, rec.released(time.Now().UTC()).updates(), firestore.LastUpdateTime(snap.UpdateTime))
		if status.Code(err) != codes.FailedPrecondition {
			return err
		}
	}
	return fmt.Errorf("idempotency: release: the record kept changing")
}

// replay writes a stored response.
func replay(w http.ResponseWriter, rec record) {
	h := w.Header()
	for _, k := range storedHeaders {
		if v, ok := rec.Header[k]; ok {
			h.Set(k, v)
		}
	}
	h.Set(HeaderReplayed, "true")
	h.Set("Content-Length", strconv.Itoa(len(rec.Body)))
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
}

// captureWriter passes the response through to the client while keeping a copy of its
// status, the stored headers and up to max bytes of body.
type captureWriter struct {
	http.ResponseWriter
	max         int
	status      int
	wroteHeader bool
	header      http.Header
	body        bytes.Buffer
	overflow    bool
}

func (c *captureWriter) WriteHeader(code int) {
	if !c.wroteHeader && code >= 200 {
		c.status, c.wroteHeader = code, true
		c.header = c.ResponseWriter.Header().Clone()
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if !c.wroteHeader {
		c.WriteHeader(http.StatusOK)
	}
	n, err := c.ResponseWriter.Write(b)
	if !c.overflow {
		if c.body.Len()+n > c.max {
			c.overflow = true
			c.body = bytes.Buffer{}
		} else {
			c.body.Write(b[:n])
		}
	}
	return n, err
}

// Flush lets streaming handlers flush through the wrapper.
func (c *captureWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// storedHeader returns the headers to replay, with Content-Type sniffed as net/http
// does when the handler set none.
func (c *captureWriter) storedHeader() map[string]string {
	out := map[string]string{}
	for _, k := range storedHeaders {
		if v := c.header.Get(k); v != "" {
			out[k] = v
		}
	}
	if _, ok := out["Content-Type"]; !ok && c.body.Len() > 0 {
		out["Content-Type"] = http.DetectContentType(c.body.Bytes())
	}
	return out
}
