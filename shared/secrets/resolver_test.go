package secrets_test

import (
	"context"
	"errors"
	"hash/crc32"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/google/go-cmp/cmp"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/secrets"
)

// fakeSecretManager implements the Secret Manager gRPC API's AccessSecretVersion over an
// in-memory table of versions, counting calls per resource name.
type fakeSecretManager struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer

	mu       sync.Mutex
	versions map[string]fakeVersion
	calls    map[string]int
}

type fakeVersion struct {
	data    string
	crc     *int64     // checksum sent with the payload; nil sends none
	errCode codes.Code // when not OK, the call fails with this code
}

func crc(data string) *int64 {
	v := int64(crc32.Checksum([]byte(data), crc32.MakeTable(crc32.Castagnoli)))
	return &v
}

func (f *fakeSecretManager) set(name string, v fakeVersion) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions[name] = v
}

func (f *fakeSecretManager) callsFor(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func (f *fakeSecretManager) totalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

func (f *fakeSecretManager) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[req.GetName()]++
	v, ok := f.versions[req.GetName()]
	switch {
	case !ok:
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", req.GetName())
	case v.errCode != codes.OK:
		return nil, status.Errorf(v.errCode, "access to [%s] refused", req.GetName())
	}
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    req.GetName(),
		Payload: &secretmanagerpb.SecretPayload{Data: []byte(v.data), DataCrc32C: v.crc},
	}, nil
}

// startFake serves a fake Secret Manager on a loopback port and returns it with the
// client options that make the real client talk to it.
func startFake(t *testing.T) (*fakeSecretManager, []option.ClientOption) {
	t.Helper()
	fake := &fakeSecretManager{versions: make(map[string]fakeVersion), calls: make(map[string]int)}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(srv, fake)
	go srv.Serve(lis) //nolint:errcheck // returns when the server stops
	t.Cleanup(srv.Stop)
	return fake, []option.ClientOption{
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// newClient returns a real Secret Manager client connected to a fresh fake.
func newClient(t *testing.T) (*fakeSecretManager, *secretmanager.Client) {
	t.Helper()
	fake, opts := startFake(t)
	c, err := secretmanager.NewClient(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return fake, c
}

// clock is a manually advanced clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const (
	dbName = "projects/medi-prod/secrets/db-password/versions/3"
	dbRef  = "secret://" + dbName
	dbPass = "s3cr3t-db-pass"
)

func TestResolvePlainValuesPassThrough(t *testing.T) {
	t.Parallel()
	fake, client := newClient(t)
	r := secrets.NewResolver(client, 0)

	for _, v := range []string{
		"",
		"plain",
		"projects/p/secrets/s/versions/1",
		"secret:/projects/p/secrets/s/versions/1",
		"SECRET://projects/p/secrets/s/versions/1",
		" secret://projects/p/secrets/s/versions/1",
		"https://example.com/?q=secret://x",
	} {
		got, err := r.Resolve(t.Context(), v)
		if err != nil {
			t.Errorf("Resolve(%q) error: %v", v, err)
			continue
		}
		if got != v {
			t.Errorf("Resolve(%q) = %q, want it unchanged", v, got)
		}
	}
	if n := fake.totalCalls(); n != 0 {
		t.Errorf("Secret Manager called %d times for plain values, want 0", n)
	}
}

func TestResolveReadsSecretManager(t *testing.T) {
	t.Parallel()
	fake, opts := startFake(t)
	fake.set(dbName, fakeVersion{data: dbPass, crc: crc(dbPass)})
	fake.set("projects/123456789/secrets/smtp_password/versions/latest", fakeVersion{data: "smtp-pass"}) // no checksum sent
	fake.set("projects/medi-prod/secrets/empty/versions/1", fakeVersion{data: "", crc: crc("")})
	fake.set("projects/medi-prod/secrets/multiline/versions/12", fakeVersion{data: "line1\nline2, with comma", crc: crc("line1\nline2, with comma")})

	c, err := secretmanager.NewClient(t.Context(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	r := secrets.NewResolver(c, time.Minute)

	tests := []struct {
		ref  string
		want string
	}{
		{dbRef, dbPass},
		{"secret://projects/123456789/secrets/smtp_password/versions/latest", "smtp-pass"},
		{"secret://projects/medi-prod/secrets/empty/versions/1", ""},
		{"secret://projects/medi-prod/secrets/multiline/versions/12", "line1\nline2, with comma"},
	}
	for _, tc := range tests {
		got, err := r.Resolve(t.Context(), tc.ref)
		if err != nil {
			t.Errorf("Resolve(%q) error: %v", tc.ref, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Resolve(%q) = %q, want %q", tc.ref, got, tc.want)
		}
	}
}

func TestResolveCachesUntilTTL(t *testing.T) {
	t.Parallel()
	const name = "projects/medi-prod/secrets/api-key/versions/latest"
	fake, client := newClient(t)
	fake.set(name, fakeVersion{data: "key-v1", crc: crc("key-v1")})
	clk := newClock()
	const ttl = 10 * time.Minute
	r := secrets.NewResolver(client, ttl, secrets.WithClock(clk.Now))

	resolve := func(want string) {
		t.Helper()
		got, err := r.Resolve(t.Context(), "secret://"+name)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("Resolve = %q, want %q", got, want)
		}
	}

	resolve("key-v1")
	// The secret is rotated; within the TTL the cached value is still served.
	fake.set(name, fakeVersion{data: "key-v2", crc: crc("key-v2")})
	clk.Advance(ttl - time.Nanosecond)
	resolve("key-v1")
	if got, want := fake.callsFor(name), 1; got != want {
		t.Fatalf("Secret Manager calls within TTL = %d, want %d", got, want)
	}

	// Once the TTL has passed, the value is read again.
	clk.Advance(time.Nanosecond)
	resolve("key-v2")
	if got, want := fake.callsFor(name), 2; got != want {
		t.Fatalf("Secret Manager calls after TTL = %d, want %d", got, want)
	}
	resolve("key-v2")
	if got, want := fake.callsFor(name), 2; got != want {
		t.Fatalf("Secret Manager calls after refresh = %d, want %d", got, want)
	}
}

func TestResolveDefaultTTL(t *testing.T) {
	t.Parallel()
	fake, client := newClient(t)
	fake.set(dbName, fakeVersion{data: dbPass, crc: crc(dbPass)})
	clk := newClock()
	r := secrets.NewResolver(client, 0, secrets.WithClock(clk.Now))

	for _, step := range []struct {
		advance time.Duration
		calls   int
	}{
		{0, 1},
		{secrets.DefaultTTL - time.Second, 1},
		{time.Second, 2},
	} {
		clk.Advance(step.advance)
		if _, err := r.Resolve(t.Context(), dbRef); err != nil {
			t.Fatal(err)
		}
		if got := fake.callsFor(dbName); got != step.calls {
			t.Fatalf("after advancing %v: calls = %d, want %d", step.advance, got, step.calls)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	fake, client := newClient(t)
	const (
		deniedName  = "projects/medi-prod/secrets/other-team/versions/1"
		deniedValue = "value-of-a-secret-we-may-not-read"
		badCRCName  = "projects/medi-prod/secrets/corrupted/versions/2"
		badCRCValue = "corrupted-payload-value"
	)
	fake.set(deniedName, fakeVersion{data: deniedValue, errCode: codes.PermissionDenied})
	fake.set(badCRCName, fakeVersion{data: badCRCValue, crc: crc(badCRCValue + "x")})
	r := secrets.NewResolver(client, time.Hour, secrets.WithClock(newClock().Now))

	tests := []struct {
		name     string
		ref      string
		wantCode codes.Code // gRPC code of the error, codes.Unknown when none
		wantIs   error
		secret   string // must not appear in the error
	}{
		{
			name:     "not found",
			ref:      "secret://projects/medi-prod/secrets/missing/versions/1",
			wantCode: codes.NotFound,
		},
		{
			name:     "permission denied",
			ref:      "secret://" + deniedName,
			wantCode: codes.PermissionDenied,
			secret:   deniedValue,
		},
		{
			name:     "checksum mismatch",
			ref:      "secret://" + badCRCName,
			wantCode: codes.Unknown,
			wantIs:   secrets.ErrChecksumMismatch,
			secret:   badCRCValue,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.TrimPrefix(tc.ref, "secret://")
			for attempt := 1; attempt <= 2; attempt++ {
				got, err := r.Resolve(t.Context(), tc.ref)
				if err == nil {
					t.Fatalf("Resolve(%q) = %q, want an error", tc.ref, got)
				}
				if got != "" {
					t.Errorf("Resolve(%q) returned %q with its error, want \"\"", tc.ref, got)
				}
				if !strings.Contains(err.Error(), tc.ref) {
					t.Errorf("error %q does not name the reference %q", err, tc.ref)
				}
				if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
					t.Errorf("error %q contains the secret value", err)
				}
				if got := status.Code(err); got != tc.wantCode {
					t.Errorf("status.Code(%v) = %v, want %v", err, got, tc.wantCode)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("error %v does not wrap %v", err, tc.wantIs)
				}
				// Failures are not cached: every attempt asks Secret Manager again.
				if got := fake.callsFor(name); got != attempt {
					t.Errorf("after attempt %d: calls = %d, want %d", attempt, got, attempt)
				}
			}
		})
	}
}

func TestResolveRecoversAfterFailure(t *testing.T) {
	t.Parallel()
	fake, client := newClient(t)
	r := secrets.NewResolver(client, time.Hour, secrets.WithClock(newClock().Now))

	// The version does not exist yet (for example Terraform has not created it).
	if _, err := r.Resolve(t.Context(), dbRef); status.Code(err) != codes.NotFound {
		t.Fatalf("Resolve before the version exists: err = %v, want NotFound", err)
	}
	fake.set(dbName, fakeVersion{data: dbPass, crc: crc(dbPass)})
	got, err := r.Resolve(t.Context(), dbRef)
	if err != nil {
		t.Fatal(err)
	}
	if got != dbPass {
		t.Errorf("Resolve = %q, want %q", got, dbPass)
	}
}

func TestResolveMalformedReferences(t *testing.T) {
	t.Parallel()
	fake, client := newClient(t)
	r := secrets.NewResolver(client, 0)

	for _, ref := range []string{
		"secret://",
		"secret://db-password",
		"secret://projects/medi-prod/secrets/db-password",
		"secret://projects/medi-prod/secrets/db-password/versions",
		"secret://projects/medi-prod/secrets/db-password/versions/",
		"secret://projects/medi-prod/secrets/db-password/versions/0",
		"secret://projects/medi-prod/secrets/db-password/versions/01",
		"secret://projects/medi-prod/secrets/db-password/versions/-1",
		"secret://projects/medi-prod/secrets/db-password/versions/newest",
		"secret://projects/medi-prod/secrets/db-password/versions/1/",
		"secret://projects/medi-prod/secrets/db-password/versions/1/extra",
		"secret://projects//secrets/db-password/versions/1",
		"secret://projects/Medi_Prod/secrets/db-password/versions/1",
		"secret://projects/medi-prod/secrets/db.password/versions/1",
		"secret://projects/medi-prod/secrets/db password/versions/1",
		"secret://project/medi-prod/secrets/db-password/versions/1",
		"secret://projects/medi-prod/secret/db-password/versions/1",
		"secret://projects/medi-prod/secrets/db-password/version/1",
		"secret://projects/medi-prod/locations/europe-west1/secrets/db-password/versions/1",
		"secret:///projects/medi-prod/secrets/db-password/versions/1",
	} {
		got, err := r.Resolve(t.Context(), ref)
		if err == nil {
			t.Errorf("Resolve(%q) = %q, want an error", ref, got)
			continue
		}
		if !errors.Is(err, secrets.ErrMalformedReference) {
			t.Errorf("Resolve(%q) error %v does not wrap ErrMalformedReference", ref, err)
		}
		if !strings.Contains(err.Error(), ref) {
			t.Errorf("Resolve(%q) error %q does not name the reference", ref, err)
		}
	}
	if n := fake.totalCalls(); n != 0 {
		t.Errorf("Secret Manager called %d times for malformed references, want 0", n)
	}
}

func TestParseReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want secrets.Reference
	}{
		{dbRef, secrets.Reference{Project: "medi-prod", Secret: "db-password", Version: "3"}},
		{"secret://projects/123456789012/secrets/SMTP_password-2/versions/latest", secrets.Reference{Project: "123456789012", Secret: "SMTP_password-2", Version: "latest"}},
		{"secret://projects/example.com:medi/secrets/k/versions/10", secrets.Reference{Project: "example.com:medi", Secret: "k", Version: "10"}},
	}
	for _, tc := range tests {
		got, err := secrets.ParseReference(tc.in)
		if err != nil {
			t.Errorf("ParseReference(%q) error: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseReference(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
		if got.String() != tc.in {
			t.Errorf("ParseReference(%q).String() = %q, want the input back", tc.in, got.String())
		}
		if want := strings.TrimPrefix(tc.in, secrets.Scheme); got.Name() != want {
			t.Errorf("Name() = %q, want %q", got.Name(), want)
		}
	}
}

// blockingAccessor answers every call with value after release is closed.
type blockingAccessor struct {
	release chan struct{}
	value   string

	mu    sync.Mutex
	calls int
}

func (a *blockingAccessor) AccessSecretVersion(ctx context.Context, req *secretmanagerpb.AccessSecretVersionRequest, _ ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	a.mu.Lock()
	a.calls++
	a.mu.Unlock()
	select {
	case <-a.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &secretmanagerpb.AccessSecretVersionResponse{Name: req.GetName(), Payload: &secretmanagerpb.SecretPayload{Data: []byte(a.value)}}, nil
}

func (a *blockingAccessor) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// TestResolveSharesConcurrentFetches runs in a synctest bubble (an in-memory accessor, no
// network) so that it can wait until every caller is blocked on the one fetch.
func TestResolveSharesConcurrentFetches(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := &blockingAccessor{release: make(chan struct{}), value: dbPass}
		r := secrets.NewResolver(a, time.Minute)

		const callers = 8
		var wg sync.WaitGroup
		results := make([]string, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() { results[i], errs[i] = r.Resolve(t.Context(), dbRef) })
		}
		synctest.Wait() // every caller is now waiting
		if got := a.Calls(); got != 1 {
			t.Fatalf("concurrent callers made %d calls, want 1", got)
		}
		close(a.release)
		wg.Wait()
		for i := range callers {
			if errs[i] != nil || results[i] != dbPass {
				t.Errorf("caller %d: Resolve = %q, %v; want %q, nil", i, results[i], errs[i], dbPass)
			}
		}
	})
}

// TestResolveCallerCancelled checks that a caller that gives up does not cancel the fetch
// others wait for, and that its result is still cached.
func TestResolveCallerCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := &blockingAccessor{release: make(chan struct{}), value: dbPass}
		r := secrets.NewResolver(a, time.Minute)

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			_, err := r.Resolve(ctx, dbRef)
			done <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), dbRef) {
			t.Fatalf("cancelled Resolve error = %v, want context.Canceled naming %s", err, dbRef)
		}

		close(a.release)
		got, err := r.Resolve(t.Context(), dbRef)
		if err != nil || got != dbPass {
			t.Fatalf("Resolve = %q, %v; want %q, nil", got, err, dbPass)
		}
		if got := a.Calls(); got != 1 {
			t.Errorf("calls = %d, want 1 (the abandoned fetch completes and is cached)", got)
		}
	})
}
