package idempotency

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/shared/txtrack"
)

// phi stands for patient data in responses: it may be stored, never logged.
const phi = "Jane Roe, born 1970-01-01"

func TestValidKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want bool
	}{
		{"a", true},
		{"3f1c1a9e-7a51-4c1e-9a0b-5a7d9c7e2b11", true},
		{"with space and !~", true},
		{strings.Repeat("k", MaxKeyLength), true},
		{"", false},
		{strings.Repeat("k", MaxKeyLength+1), false},
		{"tab\there", false},
		{"nl\n", false},
		{"del\x7f", false},
		{"ключ", false},
	}
	for _, tc := range tests {
		if got := ValidKey(tc.key); got != tc.want {
			t.Errorf("ValidKey(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestDocumentID(t *testing.T) {
	t.Parallel()
	base := DocumentID("uid-1|clinic-1", "POST", "/v1/encounters", "k1")
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("DocumentID = %q, want 64 hex digits", base)
	}
	if again := DocumentID("uid-1|clinic-1", "POST", "/v1/encounters", "k1"); again != base {
		t.Errorf("DocumentID not deterministic: %q then %q", base, again)
	}
	others := map[string]string{
		"scope":            DocumentID("uid-2|clinic-1", "POST", "/v1/encounters", "k1"),
		"method":           DocumentID("uid-1|clinic-1", "PUT", "/v1/encounters", "k1"),
		"path":             DocumentID("uid-1|clinic-1", "POST", "/v1/patients", "k1"),
		"key":              DocumentID("uid-1|clinic-1", "POST", "/v1/encounters", "k2"),
		"shifted boundary": DocumentID("uid-1|clinic-1P", "OST", "/v1/encounters", "k1"),
	}
	seen := map[string]string{base: "base"}
	for name, id := range others {
		if prev, ok := seen[id]; ok {
			t.Errorf("DocumentID for %s equals the one for %s", name, prev)
		}
		seen[id] = name
	}
	if strings.Contains(base, "k1") || strings.Contains(base, "uid") {
		t.Errorf("DocumentID %q contains its input", base)
	}
}

func TestStorable(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]bool{
		200: true, 201: true, 204: true, 400: true, 404: true, 409: true, 412: true, 422: true,
		408: false, 429: false, 500: false, 503: false, 301: false, 304: false,
	} {
		if got := storable(code); got != want {
			t.Errorf("storable(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestMiddleware_PanicsOnMisuse(t *testing.T) {
	t.Parallel()
	tests := map[string]func(){
		"nil client": func() {
			Middleware(nil, Options{Scope: func(*http.Request) string { return "s" }, AuditReplay: noAudit})
		},
		"nil scope":        func() { Middleware(&firestore.Client{}, Options{AuditReplay: noAudit}) },
		"nil audit replay": func() { Middleware(&firestore.Client{}, Options{Scope: func(*http.Request) string { return "s" }}) },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// --- integration tests against the Firestore emulator ---

// newFirestore returns a client of the emulator in a project of this test's own.
func newFirestore(t *testing.T) *firestore.Client {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatalf("firestore.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	return fs
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// noAudit is the AuditReplay of the tests that do not look at it.
func noAudit(context.Context, []string) error { return nil }

// testScope reads the caller from a test header, as an auth-backed scope would read the
// principal.
func testScope(r *http.Request) string { return r.Header.Get("X-Test-User") }

type createBody struct {
	Complaint string `json:"complaint"`
}

// endpoint is a mutation handler that counts its runs. respond decides the response of
// run n (1-based); by default it binds the body and answers 201 with Location and ETag.
type endpoint struct {
	calls   atomic.Int32
	respond func(n int32, w http.ResponseWriter, r *http.Request)
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := e.calls.Add(1)
	if e.respond != nil {
		e.respond(n, w, r)
		return
	}
	created(n, w, r)
}

func created(n int32, w http.ResponseWriter, r *http.Request) {
	var in createBody
	if err := httpx.Bind(w, r, &in, 0); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/v1/encounters/e%d", n))
	w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, n))
	w.Header().Set("X-Not-Stored", "x")
	httpx.WriteJSON(w, r, http.StatusCreated, map[string]any{"run": n, "complaint": in.Complaint, "patient": phi})
}

// server wraps h as a function would: trace and logger, recovery, then idempotency.
func server(fs *firestore.Client, opts Options, h http.Handler) (http.Handler, *syncBuffer) {
	logs := &syncBuffer{}
	if opts.Scope == nil {
		opts.Scope = testScope
	}
	if opts.AuditReplay == nil {
		opts.AuditReplay = noAudit
	}
	return httpx.Chain(h,
		httpx.Trace(logging.New(logs, slog.LevelDebug), "test"),
		httpx.Recover(),
		Middleware(fs, opts)), logs
}

type call struct {
	method, path, key, user, body string
	noKey                         bool
}

func (c call) do(t testing.TB, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, c.request())
	return rec
}

// request is the request c describes.
func (c call) request() *http.Request {
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	path := c.path
	if path == "" {
		path = "/v1/encounters"
	}
	body := c.body
	if body == "" {
		body = `{"complaint":"chest pain"}`
	}
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	user := c.user
	if user == "" {
		user = "uid-1|clinic-1"
	}
	r.Header.Set("X-Test-User", user)
	if !c.noKey {
		key := c.key
		if key == "" {
			key = "key-1"
		}
		r.Header.Set(HeaderKey, key)
	}
	return r
}

// runOf returns the "run" number in a success envelope.
func runOf(t *testing.T, rec *httptest.ResponseRecorder) int {
	t.Helper()
	var env struct {
		Success bool `json:"success"`
		Data    struct {
			Run int `json:"run"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || !env.Success {
		t.Fatalf("not a success envelope (%v): %d %s", err, rec.Code, rec.Body)
	}
	return env.Data.Run
}

// errorOf returns the code and details.reason of an error envelope.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) (code, reason string) {
	t.Helper()
	var env struct {
		Success bool `json:"success"`
		Error   *struct {
			Code    string `json:"code"`
			Details struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Success || env.Error == nil {
		t.Fatalf("not an error envelope (%v): %d %s", err, rec.Code, rec.Body)
	}
	return env.Error.Code, env.Error.Details.Reason
}

func wantCalls(t *testing.T, e *endpoint, want int32) {
	t.Helper()
	if got := e.calls.Load(); got != want {
		t.Errorf("handler ran %d times, want %d", got, want)
	}
}

func wantReplayed(t *testing.T, rec *httptest.ResponseRecorder, want bool) {
	t.Helper()
	if got := rec.Header().Get(HeaderReplayed) == "true"; got != want {
		t.Errorf("%s = %q, want replayed %v", HeaderReplayed, rec.Header().Get(HeaderReplayed), want)
	}
}

// loadRecord reads the stored record of a call with the default test path and scope.
func loadRecord(t *testing.T, fs *firestore.Client, c call) (record, map[string]any, bool) {
	t.Helper()
	if c.user == "" {
		c.user = "uid-1|clinic-1"
	}
	if c.path == "" {
		c.path = "/v1/encounters"
	}
	if c.key == "" {
		c.key = "key-1"
	}
	snap, err := fs.Collection(Collection).Doc(DocumentID(c.user, http.MethodPost, c.path, c.key)).Get(context.Background())
	if status.Code(err) == codes.NotFound {
		return record{}, nil, false
	}
	if err != nil {
		t.Fatalf("read record: %v", err)
	}
	var rec record
	if err := snap.DataTo(&rec); err != nil {
		t.Fatalf("decode record: %v", err)
	}
	return rec, snap.Data(), true
}

func TestReplay(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	e := &endpoint{}
	h, logs := server(fs, Options{TTL: time.Hour, Now: func() time.Time { return now }}, e)
	c := call{key: "retry-me-7"}

	first := c.do(t, h)
	if first.Code != http.StatusCreated {
		t.Fatalf("first: status %d, want 201; body %s", first.Code, first.Body)
	}
	wantReplayed(t, first, false)
	if got := runOf(t, first); got != 1 {
		t.Errorf("first run = %d, want 1", got)
	}

	second := c.do(t, h)
	wantCalls(t, e, 1)
	if second.Code != http.StatusCreated {
		t.Fatalf("replay: status %d, want 201; body %s", second.Code, second.Body)
	}
	wantReplayed(t, second, true)
	if diff := cmp.Diff(first.Body.String(), second.Body.String()); diff != "" {
		t.Errorf("replayed body (-first +replay):\n%s", diff)
	}
	for _, k := range []string{"Content-Type", "Location", "ETag"} {
		if got, want := second.Header().Get(k), first.Header().Get(k); got != want || want == "" {
			t.Errorf("replayed %s = %q, want %q", k, got, want)
		}
	}
	if got := second.Header().Get("X-Not-Stored"); got != "" {
		t.Errorf("replayed X-Not-Stored = %q; only Content-Type, Location and ETag are stored", got)
	}
	if got, want := second.Header().Get("Content-Length"), fmt.Sprint(second.Body.Len()); got != want {
		t.Errorf("replayed Content-Length = %q, want %q", got, want)
	}
	if second.Header().Get("X-Request-Id") == "" {
		t.Error("replay has no X-Request-Id of its own")
	}

	rec, raw, ok := loadRecord(t, fs, c)
	if !ok {
		t.Fatal("no record stored")
	}
	if rec.State != stateCompleted || rec.Status != http.StatusCreated {
		t.Errorf("record state %q status %d, want completed 201", rec.State, rec.Status)
	}
	if !rec.ExpireAt.Equal(now.Add(time.Hour)) {
		t.Errorf("expireAt = %v, want %v", rec.ExpireAt, now.Add(time.Hour))
	}
	if !rec.CreatedAt.Equal(now) {
		t.Errorf("createdAt = %v, want %v", rec.CreatedAt, now)
	}
	if got, want := rec.RequestHash, requestHash("", []byte(`{"complaint":"chest pain"}`)); got != want {
		t.Errorf("requestHash = %q, want %q", got, want)
	}
	for k, v := range raw {
		if s, ok := v.(string); ok && (strings.Contains(s, "retry-me-7") || strings.Contains(s, "uid-1")) {
			t.Errorf("record field %s = %q stores the raw key or scope", k, s)
		}
	}
	if strings.Contains(logs.String(), "Jane Roe") {
		t.Errorf("logs contain the response body:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "idempotent request replayed") {
		t.Errorf("replay not logged:\n%s", logs)
	}
}

func TestDifferentRequestSameKey(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	e := &endpoint{}
	h, _ := server(fs, Options{}, e)

	if rec := (call{}).do(t, h); rec.Code != http.StatusCreated {
		t.Fatalf("first: status %d; body %s", rec.Code, rec.Body)
	}
	tests := []struct {
		name string
		c    call
	}{
		{name: "different body", c: call{body: `{"complaint":"headache"}`}},
		{name: "different query", c: call{path: "/v1/encounters?dryRun=true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.c.do(t, h)
			if rec.Code != http.StatusConflict {
				t.Fatalf("status %d, want 409; body %s", rec.Code, rec.Body)
			}
			code, reason := errorOf(t, rec)
			if code != httpx.CodeConflict || reason != ReasonKeyReused {
				t.Errorf("error %q reason %q, want %q %q", code, reason, httpx.CodeConflict, ReasonKeyReused)
			}
			wantReplayed(t, rec, false)
		})
	}
	wantCalls(t, e, 1)
}

func TestPassThrough(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, r, http.StatusOK, map[string]any{"run": n})
	}}
	h, _ := server(fs, Options{}, e)
	for i := range 3 {
		if rec := (call{noKey: true}).do(t, h); rec.Code != http.StatusOK || runOf(t, rec) != i+1 {
			t.Fatalf("call %d without key: status %d body %s, want a fresh run", i+1, rec.Code, rec.Body)
		}
	}
	for i := range 2 {
		rec := call{method: http.MethodGet}.do(t, h)
		if rec.Code != http.StatusOK || runOf(t, rec) != 4+i {
			t.Fatalf("GET %d with key: status %d body %s, want a fresh run", i+1, rec.Code, rec.Body)
		}
		wantReplayed(t, rec, false)
	}
	wantCalls(t, e, 5)
	docs, err := fs.Collection(Collection).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 0 {
		t.Errorf("%d records stored for requests that pass through", len(docs))
	}
}

func TestNotStored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		respond func(w http.ResponseWriter, r *http.Request) // first run only
		status  int
	}{
		{name: "server error", status: 503, respond: func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteError(w, r, httpx.Unavailable(1, fmt.Errorf("backend down")))
		}},
		{name: "internal error", status: 500, respond: func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteError(w, r, fmt.Errorf("bug"))
		}},
		{name: "panic", status: 500, respond: func(http.ResponseWriter, *http.Request) { panic("handler bug") }},
		{name: "rate limited", status: 429, respond: func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteError(w, r, httpx.NewError(http.StatusTooManyRequests, httpx.CodeRateLimited, "slow down"))
		}},
		{name: "body over the stored limit", status: 200, opts: Options{MaxStoredBody: 1000}, respond: func(w http.ResponseWriter, r *http.Request) {
			httpx.WriteJSON(w, r, http.StatusOK, strings.Repeat("x", 2000))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := newFirestore(t)
			var first []bool // per run: the marker is the key's first attempt's
			var mu sync.Mutex
			e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				first = append(first, MarkerFrom(r.Context()).First())
				mu.Unlock()
				if n == 1 {
					tc.respond(w, r)
					return
				}
				created(n, w, r)
			}}
			h, _ := server(fs, tc.opts, e)

			answer := (call{}).do(t, h)
			if answer.Code != tc.status {
				t.Fatalf("first: status %d, want %d; body %s", answer.Code, tc.status, answer.Body)
			}
			// Released, not deleted: the key's next request is not its first attempt.
			rec, _, ok := loadRecord(t, fs, call{})
			if !ok || rec.State != stateReleased || rec.Status != 0 || len(rec.Body) != 0 || !rec.LeaseUntil.IsZero() {
				t.Errorf("record after a response that must not be stored: %+v (found %v), want released without an answer", rec, ok)
			}
			if want := requestHash("", []byte(`{"complaint":"chest pain"}`)); rec.RequestHash != want || len(rec.RequestIDs) != 1 || rec.ExpireAt.IsZero() {
				t.Errorf("released record keeps hash %q, request ids %v, expireAt %v; want the request's", rec.RequestHash, rec.RequestIDs, rec.ExpireAt)
			}
			retry := (call{}).do(t, h)
			if retry.Code != http.StatusCreated || runOf(t, retry) != 2 {
				t.Fatalf("retry: status %d body %s, want the handler to run again", retry.Code, retry.Body)
			}
			wantReplayed(t, retry, false)
			if diff := cmp.Diff([]bool{true, false}, first); diff != "" {
				t.Errorf("marker First() per run (-want +got): %s", diff)
			}
			again := (call{}).do(t, h)
			wantReplayed(t, again, true)
			if runOf(t, again) != 2 {
				t.Errorf("third call replayed run %d, want 2", runOf(t, again))
			}
			wantCalls(t, e, 2)
		})
	}
}

func TestClientErrorStored(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	e := &endpoint{} // created() answers 400 for a body with an unknown field
	h, _ := server(fs, Options{}, e)
	c := call{body: `{"complaint":"x","extra":1}`}
	first := c.do(t, h)
	if first.Code != http.StatusBadRequest {
		t.Fatalf("first: status %d, want 400; body %s", first.Code, first.Body)
	}
	second := c.do(t, h)
	if second.Code != http.StatusBadRequest {
		t.Fatalf("replay: status %d, want 400", second.Code)
	}
	wantReplayed(t, second, true)
	if diff := cmp.Diff(first.Body.String(), second.Body.String()); diff != "" {
		t.Errorf("replayed body (-first +replay):\n%s", diff)
	}
	wantCalls(t, e, 1)
}

func TestConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	const n = 5
	release := make(chan struct{})
	e := &endpoint{respond: func(run int32, w http.ResponseWriter, r *http.Request) {
		// Hold the key until every duplicate has been answered, so that all of them
		// meet the in-progress record. The timeout only guards against a deadlock when
		// the middleware lets a second run through.
		select {
		case <-release:
		case <-time.After(30 * time.Second):
		}
		created(run, w, r)
	}}
	h, _ := server(fs, Options{}, e)

	results := make(chan *httptest.ResponseRecorder, n)
	for range n {
		go func() { results <- (call{}).do(t, h) }()
	}
	var conflicts []*httptest.ResponseRecorder
	var winner *httptest.ResponseRecorder
	timeout := time.After(60 * time.Second)
	for range n {
		select {
		case rec := <-results:
			if rec.Code == http.StatusCreated {
				winner = rec
				continue
			}
			conflicts = append(conflicts, rec)
			if len(conflicts) == n-1 {
				close(release)
			}
		case <-timeout:
			t.Fatalf("duplicates not answered: got %d conflicts, winner %v", len(conflicts), winner != nil)
		}
	}
	wantCalls(t, e, 1)
	if winner == nil {
		t.Fatal("no request ran the handler")
	}
	wantReplayed(t, winner, false)
	for _, rec := range conflicts {
		if rec.Code != http.StatusConflict {
			t.Errorf("duplicate: status %d, want 409; body %s", rec.Code, rec.Body)
			continue
		}
		code, reason := errorOf(t, rec)
		if code != httpx.CodeConflict || reason != ReasonInProgress {
			t.Errorf("duplicate: error %q reason %q, want %q %q", code, reason, httpx.CodeConflict, ReasonInProgress)
		}
		if got := rec.Header().Get("Retry-After"); got != "1" {
			t.Errorf("duplicate: Retry-After = %q, want 1", got)
		}
	}
	after := (call{}).do(t, h)
	wantReplayed(t, after, true)
	if diff := cmp.Diff(winner.Body.String(), after.Body.String()); diff != "" {
		t.Errorf("replay after the race (-winner +replay):\n%s", diff)
	}
	wantCalls(t, e, 1)
}

func TestKeysAreScoped(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	e := &endpoint{}
	h, _ := server(fs, Options{}, e)
	calls := []struct {
		c       call
		wantRun int
		replay  bool
	}{
		{c: call{user: "uid-1|clinic-1"}, wantRun: 1},
		{c: call{user: "uid-2|clinic-1"}, wantRun: 2},                                   // other user, same key
		{c: call{user: "uid-1|clinic-2"}, wantRun: 3},                                   // same user, other clinic
		{c: call{user: "uid-1|clinic-1", path: "/v1/encounters/e9/triage"}, wantRun: 4}, // other endpoint
		{c: call{user: "uid-2|clinic-1"}, wantRun: 2, replay: true},
		{c: call{user: "uid-1|clinic-1"}, wantRun: 1, replay: true},
	}
	for i, tc := range calls {
		rec := tc.c.do(t, h)
		if rec.Code != http.StatusCreated {
			t.Fatalf("call %d: status %d; body %s", i, rec.Code, rec.Body)
		}
		if got := runOf(t, rec); got != tc.wantRun {
			t.Errorf("call %d (%s %s): run %d, want %d", i, tc.c.user, tc.c.path, got, tc.wantRun)
		}
		wantReplayed(t, rec, tc.replay)
	}
	wantCalls(t, e, 4)
}

func TestExpiredRecordRunsAgain(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var now atomic.Pointer[time.Time]
	now.Store(&t0)
	e := &endpoint{}
	h, _ := server(fs, Options{TTL: time.Hour, Now: func() time.Time { return *now.Load() }}, e)

	steps := []struct {
		at      time.Duration
		wantRun int
		replay  bool
	}{
		{at: 0, wantRun: 1},
		{at: 59 * time.Minute, wantRun: 1, replay: true},
		{at: time.Hour, wantRun: 2}, // expireAt reached: treated as absent
		{at: time.Hour + time.Minute, wantRun: 2, replay: true},
	}
	for _, s := range steps {
		at := t0.Add(s.at)
		now.Store(&at)
		rec := (call{}).do(t, h)
		if rec.Code != http.StatusCreated {
			t.Fatalf("at +%v: status %d; body %s", s.at, rec.Code, rec.Body)
		}
		if got := runOf(t, rec); got != s.wantRun {
			t.Errorf("at +%v: run %d, want %d", s.at, got, s.wantRun)
		}
		wantReplayed(t, rec, s.replay)
	}
	rec, _, _ := loadRecord(t, fs, call{})
	if want := t0.Add(2 * time.Hour); !rec.ExpireAt.Equal(want) {
		t.Errorf("renewed expireAt = %v, want %v", rec.ExpireAt, want)
	}
}

func TestAbandonedInProgressTakenOver(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		age        time.Duration
		hash       string
		wantStatus int
		wantReason string
	}{
		{name: "fresh lock", age: time.Minute, wantStatus: http.StatusConflict, wantReason: ReasonInProgress},
		{name: "abandoned lock", age: DefaultLockTimeout, wantStatus: http.StatusCreated},
		{name: "abandoned lock of another request", age: DefaultLockTimeout, hash: "other", wantStatus: http.StatusConflict, wantReason: ReasonKeyReused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := newFirestore(t)
			hash := tc.hash
			if hash == "" {
				hash = requestHash("", []byte(`{"complaint":"chest pain"}`))
			}
			ref := fs.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1"))
			if _, err := ref.Create(context.Background(), record{
				State: stateInProgress, RequestHash: hash, Owner: "crashed",
				CreatedAt: now.Add(-tc.age), ExpireAt: now.Add(-tc.age + DefaultTTL),
			}); err != nil {
				t.Fatal(err)
			}
			e := &endpoint{}
			h, _ := server(fs, Options{Now: func() time.Time { return now }}, e)
			rec := (call{}).do(t, h)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantReason != "" {
				if _, reason := errorOf(t, rec); reason != tc.wantReason {
					t.Errorf("reason %q, want %q", reason, tc.wantReason)
				}
				wantCalls(t, e, 0)
				return
			}
			wantCalls(t, e, 1)
			if stored, _, _ := loadRecord(t, fs, call{}); stored.State != stateCompleted || stored.Owner == "crashed" {
				t.Errorf("record after takeover: state %q owner %q, want completed by the new request", stored.State, stored.Owner)
			}
		})
	}
}

func TestInvalidRecordReplaced(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	now := time.Now().UTC()
	ref := fs.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1"))
	if _, err := ref.Create(context.Background(), map[string]any{
		"state": stateCompleted, "requestHash": requestHash("", []byte(`{"complaint":"chest pain"}`)),
		"status": 0, "expireAt": now.Add(time.Hour),
	}); err != nil {
		t.Fatal(err)
	}
	e := &endpoint{}
	h, _ := server(fs, Options{}, e)
	rec := (call{}).do(t, h)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d, want 201 from a fresh run; body %s", rec.Code, rec.Body)
	}
	wantCalls(t, e, 1)
}

func TestStaleOwnerLeavesRecordAlone(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	mw := newMiddleware(fs, Options{Scope: testScope, AuditReplay: noAudit})
	ctx := context.Background()
	ref := fs.Collection(Collection).Doc("stale-owner")
	now := time.Now().UTC()
	// The old owner's last write, then the new owner's takeover.
	wr, err := ref.Create(ctx, record{State: stateInProgress, RequestHash: "h", Owner: "old-owner", CreatedAt: now, ExpireAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	mine := record{State: stateInProgress, RequestHash: "h", Owner: "new-owner", CreatedAt: now, ExpireAt: now.Add(time.Hour)}
	if _, err := ref.Set(ctx, mine); err != nil {
		t.Fatal(err)
	}
	// The request that lost the key finishes: neither its release nor its completion
	// may touch the new owner's record, whether it knows the update time of its last
	// write (the write without a read) or not.
	for _, last := range []time.Time{wr.UpdateTime, {}} {
		old := &hold{m: mw, ref: ref, owner: "old-owner", updated: last}
		old.finish(ctx, nil)
		cw := &captureWriter{ResponseWriter: httptest.NewRecorder(), max: 100}
		cw.WriteHeader(http.StatusCreated)
		old.finish(ctx, cw)
	}
	snap, err := ref.Get(ctx)
	if err != nil {
		t.Fatalf("record gone: %v", err)
	}
	var got record
	if err := snap.DataTo(&got); err != nil {
		t.Fatal(err)
	}
	if got.State != stateInProgress || got.Owner != "new-owner" {
		t.Errorf("record = %+v, want the new owner's in-progress record", got)
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	e := &endpoint{}
	h, _ := server(fs, Options{MaxRequestBody: 64}, e)
	emptyScope, _ := server(fs, Options{Scope: func(*http.Request) string { return "" }}, e)
	tests := []struct {
		name       string
		h          http.Handler
		header     []string // Idempotency-Key values
		body       string
		wantStatus int
		wantCode   string
	}{
		{name: "empty key", header: []string{""}, wantStatus: 400, wantCode: httpx.CodeInvalidArgument},
		{name: "key too long", header: []string{strings.Repeat("k", MaxKeyLength+1)}, wantStatus: 400, wantCode: httpx.CodeInvalidArgument},
		{name: "control character", header: []string{"a\x01b"}, wantStatus: 400, wantCode: httpx.CodeInvalidArgument},
		{name: "non-ASCII", header: []string{"schlüssel"}, wantStatus: 400, wantCode: httpx.CodeInvalidArgument},
		{name: "two keys", header: []string{"a", "b"}, wantStatus: 400, wantCode: httpx.CodeInvalidArgument},
		{name: "body too large", header: []string{"k"}, body: `{"complaint":"` + strings.Repeat("x", 100) + `"}`, wantStatus: 413, wantCode: httpx.CodePayloadTooLarge},
		{name: "empty scope", h: emptyScope, header: []string{"k"}, wantStatus: 500, wantCode: httpx.CodeInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := tc.body
			if body == "" {
				body = `{"complaint":"x"}`
			}
			r := httptest.NewRequest(http.MethodPost, "/v1/encounters", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Test-User", "uid-1|clinic-1")
			r.Header[HeaderKey] = tc.header
			rec := httptest.NewRecorder()
			handler := tc.h
			if handler == nil {
				handler = h
			}
			handler.ServeHTTP(rec, r)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if code, _ := errorOf(t, rec); code != tc.wantCode {
				t.Errorf("code %q, want %q", code, tc.wantCode)
			}
			for _, v := range tc.header {
				if len(v) > 3 && strings.Contains(rec.Body.String(), v) {
					t.Errorf("error echoes the key: %s", rec.Body)
				}
			}
		})
	}
	wantCalls(t, e, 0)
}

func TestCaptureWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		write      func(w http.ResponseWriter)
		max        int
		wantStatus int
		wantBody   string
		wantHeader map[string]string
		overflow   bool
		// recorderSees1xx: httptest.ResponseRecorder takes a 1xx for the final status,
		// unlike net/http's server, so the pass-through check does not apply.
		recorderSees1xx bool
	}{
		{
			name: "explicit status and headers",
			write: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Location", "/x")
				w.WriteHeader(201)
				w.Header().Set("ETag", `"late"`) // after WriteHeader: not sent, not stored
				_, _ = io.WriteString(w, `{"a":1}`)
			},
			max: 100, wantStatus: 201, wantBody: `{"a":1}`,
			wantHeader: map[string]string{"Content-Type": "application/json", "Location": "/x"},
		},
		{
			name:  "implicit 200 with sniffed type",
			write: func(w http.ResponseWriter) { _, _ = io.WriteString(w, "plain words") },
			max:   100, wantStatus: 200, wantBody: "plain words",
			wantHeader: map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		},
		{
			name: "informational status not recorded",
			write: func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(204)
			},
			max: 100, wantStatus: 204, wantHeader: map[string]string{}, recorderSees1xx: true,
		},
		{
			name: "overflow across writes",
			write: func(w http.ResponseWriter) {
				_, _ = io.WriteString(w, "12345")
				_, _ = io.WriteString(w, "67890")
				_, _ = io.WriteString(w, "x")
			},
			max: 10, wantStatus: 200, overflow: true,
			wantHeader: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			cw := &captureWriter{ResponseWriter: rec, max: tc.max}
			tc.write(cw)
			if cw.status != tc.wantStatus || cw.overflow != tc.overflow {
				t.Errorf("status %d overflow %v, want %d %v", cw.status, cw.overflow, tc.wantStatus, tc.overflow)
			}
			if got := cw.body.String(); got != tc.wantBody {
				t.Errorf("captured body %q, want %q", got, tc.wantBody)
			}
			if diff := cmp.Diff(tc.wantHeader, cw.storedHeader()); diff != "" {
				t.Errorf("stored headers (-want +got):\n%s", diff)
			}
			if got := rec.Result().StatusCode; got != tc.wantStatus && !tc.recorderSees1xx {
				t.Errorf("client got status %d, want %d (pass-through)", got, tc.wantStatus)
			}
		})
	}
}

// A crashed request stops renewing its lease: once the lease has run out a retry takes
// the key over and runs, without waiting for the lock timeout; while it runs, the retry
// is told the key is in progress.
func TestLapsedLeaseTakenOver(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		leaseLeft  time.Duration // leaseUntil - now
		hash       string
		wantStatus int
		wantReason string
	}{
		{name: "live lease", leaseLeft: time.Second, wantStatus: http.StatusConflict, wantReason: ReasonInProgress},
		{name: "lapsed lease", leaseLeft: 0, wantStatus: http.StatusCreated},
		{name: "lapsed lease of another request", leaseLeft: -time.Second, hash: "other", wantStatus: http.StatusConflict, wantReason: ReasonKeyReused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := newFirestore(t)
			hash := tc.hash
			if hash == "" {
				hash = requestHash("", []byte(`{"complaint":"chest pain"}`))
			}
			ref := fs.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1"))
			if _, err := ref.Create(context.Background(), record{
				State: stateInProgress, RequestHash: hash, Owner: "crashed",
				CreatedAt: now.Add(-10 * time.Second), LeaseUntil: now.Add(tc.leaseLeft), ExpireAt: now.Add(DefaultTTL),
			}); err != nil {
				t.Fatal(err)
			}
			e := &endpoint{}
			h, logs := server(fs, Options{Now: func() time.Time { return now }}, e)
			rec := (call{}).do(t, h)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantReason != "" {
				if _, reason := errorOf(t, rec); reason != tc.wantReason {
					t.Errorf("reason %q, want %q", reason, tc.wantReason)
				}
				wantCalls(t, e, 0)
				return
			}
			wantCalls(t, e, 1)
			if stored, _, _ := loadRecord(t, fs, call{}); stored.State != stateCompleted || stored.Owner == "crashed" || !stored.LeaseUntil.IsZero() {
				t.Errorf("record after takeover: state %q owner %q lease %v, want completed by the new request, no lease", stored.State, stored.Owner, stored.LeaseUntil)
			}
			if !strings.Contains(logs.String(), "taken over from an abandoned request") {
				t.Errorf("takeover not logged:\n%s", logs)
			}
		})
	}
}

// When the request holding a key has committed its write (its commit marker exists), a
// retry runs at once, lease or not: the handler answers from the marker. A marker of
// another request under the same key does not count.
func TestCommittedHolderLetsRetryThrough(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC() // markers expire by the wall clock
	body := `{"complaint":"chest pain"}`
	for _, tc := range []struct {
		name        string
		markerHash  string
		wantStatus  int
		wantHandler int32
	}{
		{name: "marker of this request", markerHash: requestHash("", []byte(body)), wantStatus: http.StatusCreated, wantHandler: 1},
		{name: "marker of another request", markerHash: requestHash("", []byte(`{"complaint":"other"}`)), wantStatus: http.StatusConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := newFirestore(t)
			id := DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1")
			if _, err := fs.Collection(Collection).Doc(id).Create(context.Background(), record{
				State: stateInProgress, RequestHash: requestHash("", []byte(body)), Owner: "alive-or-not",
				CreatedAt: now, LeaseUntil: now.Add(time.Minute), ExpireAt: now.Add(DefaultTTL),
			}); err != nil {
				t.Fatal(err)
			}
			// What a store writes with its write (shared/commitmark).
			err := fs.RunTransaction(context.Background(), func(ctx context.Context, tx *firestore.Transaction) error {
				return commitmark.Marker{Record: id, Request: tc.markerHash}.RecordTx(fs, tx, "enc-1", now)
			})
			if err != nil {
				t.Fatal(err)
			}
			var seen commitmark.Marker
			e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
				seen = MarkerFrom(r.Context())
				created(n, w, r)
			}}
			h, _ := server(fs, Options{Now: func() time.Time { return now }}, e)
			rec := (call{body: body}).do(t, h)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			wantCalls(t, e, tc.wantHandler)
			if tc.wantHandler > 0 && (seen.Record != id || seen.Request != tc.markerHash) {
				t.Errorf("handler's marker = %+v, want record %s and the request's hash", seen, id)
			}
		})
	}
}

// While its handler runs, the request holding a key renews the lease, so a duplicate
// arriving after the first lease would have lapsed is still told the key is in progress.
func TestLeaseRenewedWhileHandlerRuns(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	const lease = 6 * time.Second
	release := make(chan struct{})
	e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(2 * time.Minute):
		}
		created(n, w, r)
	}}
	h, _ := server(fs, Options{Lease: lease}, e)
	first := make(chan *httptest.ResponseRecorder, 1)
	go func() { first <- (call{}).do(t, h) }()

	// Wait until the first lease has passed and a renewal has extended it.
	var initial time.Time
	deadline := time.Now().Add(time.Minute)
	for {
		rec, _, ok := loadRecord(t, fs, call{})
		if ok && initial.IsZero() {
			initial = rec.LeaseUntil
		}
		if ok && time.Now().After(initial) && rec.LeaseUntil.After(initial) && time.Now().Before(rec.LeaseUntil) {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("the lease was never renewed past its first end (record %+v)", rec)
		}
		time.Sleep(200 * time.Millisecond)
	}
	dup := (call{}).do(t, h)
	close(release)
	if dup.Code != http.StatusConflict {
		t.Fatalf("duplicate during a renewed lease: status %d, want 409; body %s", dup.Code, dup.Body)
	}
	if _, reason := errorOf(t, dup); reason != ReasonInProgress {
		t.Errorf("duplicate reason %q, want %q", reason, ReasonInProgress)
	}
	if rec := <-first; rec.Code != http.StatusCreated {
		t.Fatalf("first: status %d; body %s", rec.Code, rec.Body)
	}
	wantCalls(t, e, 1)
	if stored, _, _ := loadRecord(t, fs, call{}); stored.State != stateCompleted {
		t.Errorf("record state %q after the answer, want completed", stored.State)
	}
}

// A request that was answered while Firestore hung does not leave its key in progress:
// the answer leaves at once, and the record is completed (2xx) or released (5xx) when
// Firestore answers again, after the first write attempts have timed out.
func TestAnsweredRequestLeavesNoLock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		wantStored bool
	}{
		{name: "committed", status: http.StatusCreated, wantStored: true},
		{name: "failed", status: http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
			gate := testenv.NewGate(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
			conn, err := app.DialFirestoreEmulator(gate.Addr(), grpc.WithChainUnaryInterceptor(app.RollbackInBackground))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			project := testenv.ProjectID(t)
			fs, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
			if err != nil {
				t.Fatal(err)
			}
			direct := newFirestoreIn(t, project)

			e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
				gate.Hold() // Firestore hangs once the handler has done its work
				if tc.status == http.StatusCreated {
					created(n, w, r)
					return
				}
				httpx.WriteError(w, r, httpx.Unavailable(2, errors.New("backend timed out")))
			}}
			m := newMiddleware(fs, Options{Scope: testScope, AuditReplay: noAudit})
			m.finishAttempt = 300 * time.Millisecond
			srv := httptest.NewServer(httpx.Chain(e, httpx.Trace(logging.New(io.Discard, slog.LevelDebug), "test"), func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
			}))
			t.Cleanup(srv.Close)

			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/encounters", strings.NewReader(`{"complaint":"chest pain"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Test-User", "uid-1|clinic-1")
			req.Header.Set(HeaderKey, "key-1")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != tc.status {
				t.Fatalf("answer while Firestore hangs: %d %v, want %d", resp.StatusCode, err, tc.status)
			}
			// Several write attempts time out before Firestore is back.
			time.Sleep(3 * m.finishAttempt)
			gate.Release()

			ref := direct.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1"))
			deadline := time.Now().Add(time.Minute)
			for {
				snap, err := ref.Get(context.Background())
				var rec record
				switch {
				case err == nil && snap.DataTo(&rec) == nil && rec.State == stateReleased && !tc.wantStored:
					return
				case err == nil && snap.DataTo(&rec) == nil && rec.State == stateCompleted && tc.wantStored:
					if rec.Status != tc.status {
						t.Errorf("stored status %d, want %d", rec.Status, tc.status)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("key still in progress a minute after Firestore came back (record %+v, %v)", rec, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

// The answer leaves once its record is written: a retry that the client sends as soon as
// the answer arrives, on a new connection (as a gateway may), is replayed. Firestore is
// held for a while after the handler has done its work, so that the record's write lands
// well after the handler returned; the answer waits for it.
func TestAnswerLeavesAfterItsRecord(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	gate := testenv.NewGate(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	project := testenv.ProjectID(t)
	fs := clientOn(t, gate.Addr(), project)
	direct := newFirestoreIn(t, project)

	var held atomic.Bool
	e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
		if held.CompareAndSwap(false, true) {
			gate.Hold()
			time.AfterFunc(400*time.Millisecond, gate.Release)
		}
		created(n, w, r)
	}}
	m := newMiddleware(fs, Options{Scope: testScope, AuditReplay: noAudit})
	m.finishWait = time.Minute // the bound is not what this test is about
	srv := httptest.NewServer(httpx.Chain(e, httpx.Trace(logging.New(io.Discard, slog.LevelDebug), "test"), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
	}))
	t.Cleanup(srv.Close)

	send := func() *http.Response {
		t.Helper()
		r := (call{}).request()
		req, _ := http.NewRequest(r.Method, srv.URL+r.URL.Path, r.Body)
		req.Header = r.Header
		req.Close = true // each request on its own connection
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := send(); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	var rec record
	snap, err := direct.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1")).Get(context.Background())
	if err != nil || snap.DataTo(&rec) != nil || rec.State != stateCompleted {
		t.Fatalf("record when the answer arrived: %+v (%v), want completed", rec, err)
	}
	if resp := send(); resp.StatusCode != http.StatusCreated || resp.Header.Get(HeaderReplayed) != "true" {
		t.Fatalf("retry at once: %d replayed=%q", resp.StatusCode, resp.Header.Get(HeaderReplayed))
	}
	if n := e.calls.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}

// The wait for the record's write ends with half of what is left of the request's
// deadline, however long finishWait is: a hung write never holds the answer past it.
func TestAwaitEndsWithTheDeadline(t *testing.T) {
	t.Parallel()
	m := &middleware{finishWait: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	hung := make(chan struct{})
	defer close(hung)
	returned := make(chan struct{})
	go func() {
		m.await(ctx, func() { <-hung })
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(time.Minute):
		t.Fatal("await still waiting for a hung write a minute after the request's deadline")
	}
}

// newFirestoreIn returns a direct client of the emulator for project.
func newFirestoreIn(t *testing.T, project string) *firestore.Client {
	t.Helper()
	fs, err := firestore.NewClient(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	return fs
}

// A retry that takes over the key of a request whose instance died inside a transaction
// rolls that transaction back, so the dead transaction's locks do not hold the retry up.
// The holder's handler reads a document in a transaction and hangs there; its Firestore
// connection is then held (a frozen or killed instance), so its lease lapses. The retry's
// handler writes that document in a transaction with 10 s to do it, while the emulator
// keeps an open transaction's locks about a minute. Control: the holder's client without
// txtrack.Interceptor records no transaction, and the retry's write waits on the lock.
func TestTakeoverRollsBackTheDeadHoldersTransactions(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	for _, tc := range []struct {
		name  string
		track bool
	}{{"tracked", true}, {"control: untracked", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var chain []grpc.UnaryClientInterceptor
			if tc.track {
				chain = append(chain, txtrack.Interceptor)
			}
			rec, logs := retryAfterDeadHolder(t, chain, func(ctx context.Context, ref *firestore.DocumentRef) {
				if !tc.track {
					time.Sleep(deadHolderLease)
					return
				}
				// The holder records its open transaction at once.
				for wait := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					var rec record
					if snap, err := ref.Get(ctx); err == nil && snap.DataTo(&rec) == nil && len(rec.OpenTransactions) == 1 {
						return
					}
					if time.Now().After(wait) {
						t.Fatal("the holder's open transaction was not recorded")
					}
				}
			})
			if tc.track {
				wantRolledBack(t, rec, logs)
				return
			}
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("control: retry %d, want 503 (the dead holder's lock); the test shows nothing", rec.Code)
			}
		})
	}
}

// A kill at the worst moment: the holder's instance dies as soon as BeginTransaction has
// answered, having sent only its transaction's first read (which locks the document).
// Nothing else leaves it: no renewal, no rollback. The transaction was recorded in the
// key's record before BeginTransaction returned, so the retry rolls it back and writes.
// (Before, the record was written by the renewal after BeginTransaction returned, which
// a kill at that moment prevented: the retry waited on the lock and answered 503.)
func TestKillRightAfterBeginTransactionLeavesNoLock(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	var dead atomic.Bool
	ended := make(chan struct{}) // the test is over
	kill := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if dead.Load() {
			select { // the process is gone: the call never leaves it
			case <-ctx.Done():
				return ctx.Err()
			case <-ended:
				return status.Error(codes.Unavailable, "the process is gone")
			}
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if method == "/google.firestore.v1.Firestore/BeginTransaction" && err == nil {
			dead.Store(true)
		}
		return err
	}
	// kill comes first: it sees BeginTransaction answered only once txtrack is done with it.
	rec, logs := retryAfterDeadHolder(t, []grpc.UnaryClientInterceptor{kill, txtrack.Interceptor}, func(context.Context, *firestore.DocumentRef) {
		if !dead.Load() {
			t.Fatal("the holder's instance did not die at its BeginTransaction")
		}
	})
	close(ended)
	wantRolledBack(t, rec, logs)
}

// deadHolderLease is the lease of retryAfterDeadHolder's keys.
const deadHolderLease = time.Second

// retryAfterDeadHolder runs a keyed request (the holder) on a client of the emulator with
// the interceptors holderChain (then app.RollbackInBackground), whose handler reads a
// document in a transaction and hangs there. Once the read returned, beforeDeath runs with
// the key's record, then the holder's Firestore connection is held (a frozen or killed
// instance: no renewal, no rollback), its lease lapses, and a retry of the key on another
// client runs a handler that writes that document in a transaction within 10 s. It
// returns the retry's answer and the retry's logs.
func retryAfterDeadHolder(t *testing.T, holderChain []grpc.UnaryClientInterceptor, beforeDeath func(context.Context, *firestore.DocumentRef)) (*httptest.ResponseRecorder, *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	gate := testenv.NewGate(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	holderFS := clientOn(t, gate.Addr(), project, append(slices.Clone(holderChain), app.RollbackInBackground)...)
	retryFS := clientOn(t, os.Getenv("FIRESTORE_EMULATOR_HOST"), project, txtrack.Interceptor, app.RollbackInBackground)
	const docPath = "encounters/locked"
	if _, err := retryFS.Doc(docPath).Set(ctx, map[string]any{"n": 0}); err != nil {
		t.Fatal(err)
	}

	inTx := make(chan struct{})
	holder := &endpoint{respond: func(_ int32, w http.ResponseWriter, r *http.Request) {
		err := holderFS.RunTransaction(r.Context(), func(ctx context.Context, tx *firestore.Transaction) error {
			if _, err := tx.Get(holderFS.Doc(docPath)); err != nil {
				return err
			}
			close(inTx)
			<-ctx.Done() // the instance dies here
			return ctx.Err()
		})
		httpx.WriteError(w, r, httpx.Unavailable(1, err))
	}}
	h1, _ := server(holderFS, Options{Lease: deadHolderLease}, holder)
	holderCtx, cancelHolder := context.WithCancel(ctx)
	holderDone := make(chan struct{})
	go func() {
		defer close(holderDone)
		h1.ServeHTTP(httptest.NewRecorder(), (call{}).request().WithContext(holderCtx))
	}()
	t.Cleanup(func() { cancelHolder(); <-holderDone })
	select {
	case <-inTx:
	case <-time.After(30 * time.Second):
		t.Fatal("the holder's transaction did not start")
	}
	ref := retryFS.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1"))
	beforeDeath(ctx, ref)
	gate.Hold() // the holder's instance is gone: no renewal, no rollback
	t.Cleanup(gate.Release)
	time.Sleep(deadHolderLease + 500*time.Millisecond)

	retry := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
		wctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		err := retryFS.RunTransaction(wctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if _, err := tx.Get(retryFS.Doc(docPath)); err != nil {
				return err
			}
			return tx.Set(retryFS.Doc(docPath), map[string]any{"n": 1})
		})
		if err != nil {
			httpx.WriteError(w, r, httpx.Unavailable(1, err))
			return
		}
		created(n, w, r)
	}}
	h2, logs := server(retryFS, Options{Lease: deadHolderLease}, retry)
	return (call{}).do(t, h2), logs
}

// wantRolledBack checks that the retry of retryAfterDeadHolder wrote the document,
// having rolled back the dead holder's transaction.
func wantRolledBack(t *testing.T, rec *httptest.ResponseRecorder, logs *syncBuffer) {
	t.Helper()
	if rec.Code != http.StatusCreated {
		t.Fatalf("retry: %d %s, want 201: the dead holder's transaction kept its lock", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "transactions rolled back") {
		t.Errorf("rollback not logged:\n%s", logs)
	}
}

// clientOn returns a Firestore client of project on the emulator at addr with the
// interceptors.
func clientOn(t testing.TB, addr, project string, interceptors ...grpc.UnaryClientInterceptor) *firestore.Client {
	t.Helper()
	conn, err := app.DialFirestoreEmulator(addr, grpc.WithChainUnaryInterceptor(interceptors...))
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

// The record's final write does not hold the handler when Firestore hangs: the next
// request on the same connection is answered meanwhile. (Before, the handler returned
// only once that write landed, and an HTTP/1.1 server reads a connection's next request
// only after the handler of the previous one returned: the next request waited for
// Firestore, past its deadline.)
func TestHungRecordWriteFreesTheConnection(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	gate := testenv.NewGate(t, os.Getenv("FIRESTORE_EMULATOR_HOST"))
	fs := clientOn(t, gate.Addr(), testenv.ProjectID(t), app.RollbackInBackground)
	e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderKey) != "" {
			gate.Hold() // Firestore hangs once the keyed write is done
		}
		created(n, w, r)
	}}
	h, _ := server(fs, Options{}, e)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(gate.Release)
	client := &http.Client{Timeout: 8 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1}}
	send := func(key string) (int, error) {
		r := (call{key: key, noKey: key == ""}).request()
		req, _ := http.NewRequest(r.Method, srv.URL+r.URL.Path, r.Body)
		req.Header = r.Header
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return resp.StatusCode, err
	}
	if code, err := send("key-1"); err != nil || code != http.StatusCreated {
		t.Fatalf("keyed request: %d %v", code, err)
	}
	// Same connection (one per host), no key: nothing of it needs Firestore.
	if code, err := send(""); err != nil || code != http.StatusCreated {
		t.Fatalf("next request on the connection while the record's write hangs: %d %v", code, err)
	}
}

// A handler that gives up at the deadline without writing leaves no stored answer: the
// deadline middleware answers 503 for it, and a retry runs the handler again (before, an
// empty 200 was stored and replayed). The request's context ends inside the handler, as
// the deadline would end it.
func TestHandlerGivingUpAtTheDeadlineIsNotStored(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	type cancelKey struct{}
	e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
		if cancel, ok := r.Context().Value(cancelKey{}).(context.CancelFunc); ok {
			cancel() // the deadline passes; the handler gives up without writing
			return
		}
		created(n, w, r)
	}}
	h, _ := server(fs, Options{}, e)
	ending := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		h.ServeHTTP(w, r.WithContext(context.WithValue(ctx, cancelKey{}, cancel)))
	})
	first := (call{}).do(t, ending)
	if first.Code != http.StatusOK || first.Body.Len() != 0 {
		t.Fatalf("first: %d %q, want nothing written", first.Code, first.Body)
	}
	wantCalls(t, e, 1)
	if rec := (call{}).do(t, h); rec.Code != http.StatusCreated || rec.Header().Get(HeaderReplayed) == "true" {
		t.Fatalf("retry: %d replayed=%q, want the handler run again", rec.Code, rec.Header().Get(HeaderReplayed))
	}
	wantCalls(t, e, 2)
}

// auditCalls records the request ids AuditReplay received, and answers err.
type auditCalls struct {
	mu    sync.Mutex
	calls [][]string
	err   error
}

func (a *auditCalls) hook(_ context.Context, ids []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, slices.Clone(ids))
	return a.err
}

// A replayed success is audited before it is sent, with the server request id of the
// request whose answer it repeats; when the audit cannot be written the replay is not
// sent (503). A replayed client error discloses nothing and is not audited. Before the
// fix a replay sent the stored answer, patient data included, with no audit at all.
func TestReplayIsAudited(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	a := &auditCalls{}
	e := &endpoint{}
	h, _ := server(fs, Options{AuditReplay: a.hook}, e)
	c := call{key: "audited-1"}
	first := c.do(t, h)
	if first.Code != http.StatusCreated || len(a.calls) != 0 {
		t.Fatalf("first: %d, %d audit calls; want 201 and none (the handler audits its own answer)", first.Code, len(a.calls))
	}
	firstID := first.Header().Get("X-Request-Id")

	second := c.do(t, h)
	wantReplayed(t, second, true)
	if diff := cmp.Diff([][]string{{firstID}}, a.calls); diff != "" {
		t.Errorf("AuditReplay calls (-want +got):\n%s", diff)
	}

	a.err = errors.New("audit store down")
	third := c.do(t, h)
	if code, _ := errorOf(t, third); third.Code != http.StatusServiceUnavailable || code != "unavailable" {
		t.Errorf("replay with the audit failing: %d %s, want 503 unavailable", third.Code, third.Body)
	}
	if strings.Contains(third.Body.String(), phi) || third.Header().Get(HeaderReplayed) != "" {
		t.Errorf("the unaudited replay was sent: %s", third.Body)
	}
	wantCalls(t, e, 1)

	// A stored 400 is replayed without an audit (nothing of a patient in it).
	refused := call{key: "audited-2", body: `{"complaint":"x","extra":1}`}
	refused.do(t, h)
	before := len(a.calls)
	if r := refused.do(t, h); r.Code != http.StatusBadRequest || len(a.calls) != before {
		t.Errorf("replayed 400: %d with %d audit calls, want 400 without any", r.Code, len(a.calls)-before)
	}
}

// A request that takes over an abandoned key keeps the request ids before its own: the
// abandoned request may have committed (and audited) what the stored answer shows.
func TestTakeoverKeepsEarlierRequestIDs(t *testing.T) {
	t.Parallel()
	fs := newFirestore(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ref := fs.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1"))
	if _, err := ref.Create(context.Background(), record{
		State: stateInProgress, RequestHash: requestHash("", []byte(`{"complaint":"chest pain"}`)), Owner: "crashed",
		CreatedAt: now.Add(-DefaultLockTimeout), ExpireAt: now.Add(DefaultTTL), RequestIDs: []string{"r-crashed"},
	}); err != nil {
		t.Fatal(err)
	}
	a := &auditCalls{}
	h, _ := server(fs, Options{Now: func() time.Time { return now }, AuditReplay: a.hook}, &endpoint{})
	second := (call{}).do(t, h)
	if second.Code != http.StatusCreated {
		t.Fatalf("takeover: %d %s", second.Code, second.Body)
	}
	(call{}).do(t, h)
	if diff := cmp.Diff([][]string{{"r-crashed", second.Header().Get("X-Request-Id")}}, a.calls); diff != "" {
		t.Errorf("AuditReplay calls (-want +got):\n%s", diff)
	}
}

// The cost of recording each read-write transaction: the same transaction (read a
// document, write it) run in a request without a key on a connection without a
// txtrack.Registry (nothing recorded), in one with a Registry (the transaction recorded
// in openTransactions before it is used, the record deleted when it ends), and in a keyed
// request (recorded in the key's record before it is used). Besides the time per
// transaction it reports the time spent in BeginTransaction (the recording's wait) and
// the Firestore calls the process made per transaction (renewals, deletes and sweeps
// included), which do not depend on the machine's load. Figures: docs/reliability.md.
func BenchmarkTransaction(b *testing.B) {
	testenv.Require(b, "FIRESTORE_EMULATOR_HOST")
	var calls, beginNanos atomic.Int64
	timeBegin := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		if method == "/google.firestore.v1.Firestore/BeginTransaction" {
			beginNanos.Add(int64(time.Since(start)))
		}
		return err
	}
	count := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		calls.Add(1)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	countStreams := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		calls.Add(1)
		return streamer(ctx, desc, cc, method, opts...)
	}
	project := testenv.ProjectID(b)
	client := func(interceptors ...grpc.UnaryClientInterceptor) *firestore.Client {
		conn, err := app.DialFirestoreEmulator(os.Getenv("FIRESTORE_EMULATOR_HOST"),
			grpc.WithChainUnaryInterceptor(slices.Concat([]grpc.UnaryClientInterceptor{timeBegin}, interceptors, []grpc.UnaryClientInterceptor{count})...),
			grpc.WithChainStreamInterceptor(countStreams))
		if err != nil {
			b.Fatal(err)
		}
		fs, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = fs.Close() })
		if err := fs.RunTransaction(context.Background(), func(context.Context, *firestore.Transaction) error { return nil }); err != nil {
			b.Fatal(err) // the connection is up before anything is timed
		}
		return fs
	}
	plain := client(txtrack.Interceptor, app.RollbackInBackground)
	registered := client(txtrack.NewRegistry(txtrack.DefaultLease).Interceptor, txtrack.Interceptor, app.RollbackInBackground)
	for _, tc := range []struct {
		name string
		fs   *firestore.Client
		c    call
	}{
		{"without key", plain, call{noKey: true}},
		{"without key, registry", registered, call{noKey: true}},
		{"keyed, recorded", registered, call{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			fs := tc.fs
			doc := fs.Collection("bench").Doc(strings.NewReplacer(" ", "-", ",", "").Replace(tc.name))
			ran := false
			var n int64
			h, _ := server(fs, Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				calls.Store(0)
				beginNanos.Store(0)
				for b.Loop() { // the handler runs on the benchmark's goroutine
					n++
					if err := fs.RunTransaction(r.Context(), func(ctx context.Context, tx *firestore.Transaction) error {
						if _, err := tx.Get(doc); err != nil && status.Code(err) != codes.NotFound {
							return err
						}
						return tx.Set(doc, map[string]any{"n": n})
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(beginNanos.Load())/float64(n)/1e3, "begin-µs/op")
				b.ReportMetric(float64(calls.Load())/float64(n), "calls/op")
				w.WriteHeader(http.StatusNoContent)
			}))
			c := tc.c
			c.key = newOwner() // -count runs each case again: a new key each time
			if rec := c.do(b, h); rec.Code != http.StatusNoContent || !ran {
				b.Fatalf("request: %d %s", rec.Code, rec.Body)
			}
		})
	}
}

// rpcLog records the Firestore calls of a client: the method and the collections of the
// documents it reads (BatchGetDocuments) or writes (Commit), in order.
type rpcLog struct {
	mu    sync.Mutex
	calls []string // "Method collection,collection"
}

func (l *rpcLog) add(method string, docs []string) {
	method = strings.TrimPrefix(method, "/google.firestore.v1.Firestore/")
	var cols []string
	for _, d := range docs {
		_, path, _ := strings.Cut(d, "/documents/")
		col, _, _ := strings.Cut(path, "/")
		cols = append(cols, col)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, strings.TrimSpace(method+" "+strings.Join(cols, ",")))
}

// mark returns the number of calls so far, for since.
func (l *rpcLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}

func (l *rpcLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls[n:])
}

func (l *rpcLog) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	var docs []string
	if c, ok := req.(*firestorepb.CommitRequest); ok {
		for _, w := range c.GetWrites() {
			docs = append(docs, w.GetUpdate().GetName()+w.GetDelete())
		}
	}
	l.add(method, docs)
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (l *rpcLog) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	return &loggedStream{ClientStream: cs, log: l, method: method}, nil
}

type loggedStream struct {
	grpc.ClientStream
	log    *rpcLog
	method string
}

func (s *loggedStream) SendMsg(m any) error {
	var docs []string
	if r, ok := m.(*firestorepb.BatchGetDocumentsRequest); ok {
		docs = r.GetDocuments()
	}
	s.log.add(s.method, docs)
	return s.ClientStream.SendMsg(m)
}

// A fresh key costs its claim one round trip (the record created, nothing read) and its
// handler's transaction no read of the commit marker: the request is the key's first
// attempt. Once the key is released (the answer lost to a 5xx after the commit), the
// retry is not a first attempt: its handler reads the marker and answers with what the
// first attempt committed, writing nothing. The handler is a store in miniature: marker
// read first in its transaction, then its write with the marker. Calls are counted on the
// test's own gRPC connection (the process's interceptors on it, as in production).
func TestFirstAttemptRoundTrips(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	calls := &rpcLog{}
	conn, err := app.DialFirestoreEmulator(os.Getenv("FIRESTORE_EMULATOR_HOST"),
		grpc.WithChainUnaryInterceptor(calls.unary, txtrack.Interceptor, app.RollbackInBackground),
		grpc.WithChainStreamInterceptor(calls.stream))
	if err != nil {
		t.Fatal(err)
	}
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })

	var start int        // calls.mark() when the request is sent
	var claim []string   // the calls before the handler ran
	var firstSeen []bool // MarkerFrom(...).First() per run
	e := &endpoint{respond: func(n int32, w http.ResponseWriter, r *http.Request) {
		claim = calls.since(start)
		marker := MarkerFrom(r.Context())
		firstSeen = append(firstSeen, marker.First())
		var id string
		err := fs.RunTransaction(r.Context(), func(ctx context.Context, tx *firestore.Transaction) error {
			prev, ok, err := marker.CommittedTx(fs, tx)
			if err != nil || ok {
				id = prev
				return err
			}
			ref := fs.Collection("resources").NewDoc()
			id = ref.ID
			if err := tx.Create(ref, map[string]any{"run": n}); err != nil {
				return err
			}
			return marker.RecordTx(fs, tx, id, time.Now())
		})
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, r, http.StatusCreated, map[string]any{"run": n, "id": id})
	}}
	// A lease long enough that no renewal falls into what is counted.
	h, _ := server(fs, Options{Lease: 3 * time.Minute}, e)
	idOf := func(rec *httptest.ResponseRecorder) string {
		t.Helper()
		var env struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Data.ID == "" {
			t.Fatalf("no resource id in %d %s", rec.Code, rec.Body)
		}
		return env.Data.ID
	}
	count := func(cs []string, call string) int {
		n := 0
		for _, c := range cs {
			if c == call {
				n++
			}
		}
		return n
	}
	markerReads := func(cs []string) int {
		n := 0
		for _, c := range cs {
			if strings.HasPrefix(c, "BatchGetDocuments") && strings.Contains(c, commitmark.Collection) {
				n++
			}
		}
		return n
	}

	start = calls.mark()
	first := (call{}).do(t, h)
	if first.Code != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	// The record's final write follows the answer: wait for it (on another client).
	direct := newFirestoreIn(t, project)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if rec, _, _ := loadRecord(t, direct, call{}); rec.State == stateCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the record was not completed within a minute")
		}
	}
	all := calls.since(start)
	if diff := cmp.Diff([]string{"Commit " + Collection}, claim); diff != "" {
		t.Errorf("a fresh key's claim (-want +got):\n%s", diff)
	}
	if n := markerReads(all); n != 0 {
		t.Errorf("the key's first attempt read its commit marker %d times; calls: %q", n, all)
	}
	// The record: created by the claim, its transaction written into it when it began,
	// completed with the answer; never read.
	if got := count(all, "Commit "+Collection); got != 3 {
		t.Errorf("%d writes of the key's record, want 3; calls: %q", got, all)
	}
	if got := count(all, "BatchGetDocuments "+Collection); got != 0 {
		t.Errorf("%d reads of the key's record, want none; calls: %q", got, all)
	}
	firstID := idOf(first)

	// The answer is lost to a 5xx after the commit: the key is released.
	if err := Release(context.Background(), fs.Collection(Collection).Doc(DocumentID("uid-1|clinic-1", http.MethodPost, "/v1/encounters", "key-1"))); err != nil {
		t.Fatal(err)
	}
	start = calls.mark()
	retry := (call{}).do(t, h)
	if retry.Code != http.StatusCreated || idOf(retry) != firstID {
		t.Fatalf("retry after the release: %d %s, want 201 with the first attempt's %s", retry.Code, retry.Body, firstID)
	}
	wantReplayed(t, retry, false)
	if all := calls.since(start); markerReads(all) != 1 {
		t.Errorf("the retry read its commit marker %d times, want once; calls: %q", markerReads(all), all)
	}
	docs, err := fs.Collection("resources").Documents(context.Background()).GetAll()
	if err != nil || len(docs) != 1 {
		t.Errorf("%d resources written (%v), want the first attempt's only", len(docs), err)
	}

	// The retry's answer is stored and replayed.
	again := (call{}).do(t, h)
	wantReplayed(t, again, true)
	if idOf(again) != firstID {
		t.Errorf("replay names %s, want %s", idOf(again), firstID)
	}
	wantCalls(t, e, 2)
	if diff := cmp.Diff([]bool{true, false}, firstSeen); diff != "" {
		t.Errorf("marker First() per run (-want +got): %s", diff)
	}
}
