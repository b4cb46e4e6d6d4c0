package secrets

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"time"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
)

// DefaultTTL is how long a resolved value is reused when [NewResolver] is given no TTL.
const DefaultTTL = 5 * time.Minute

// fetchTimeout bounds one call to Secret Manager. The call runs detached from the
// caller's context (see [Resolver.Resolve]), so it needs a bound of its own.
const fetchTimeout = 30 * time.Second

// ErrChecksumMismatch is wrapped by the error returned when a payload does not match the
// CRC32C checksum Secret Manager sent with it.
var ErrChecksumMismatch = errors.New("payload checksum mismatch")

// castagnoli is the CRC32C table Secret Manager's data_crc32c uses.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Accessor reads secret versions. *secretmanager.Client satisfies it (the process's
// client is created by shared/app's platform).
type Accessor interface {
	AccessSecretVersion(ctx context.Context, req *secretmanagerpb.AccessSecretVersionRequest, opts ...gax.CallOption) (*secretmanagerpb.AccessSecretVersionResponse, error)
}

// Resolver turns secret references into secret values through an [Accessor], caching each
// value for a TTL. Callers asking for the same reference at the same time share one call
// to Secret Manager; failures are not cached. A Resolver is safe for concurrent use.
type Resolver struct {
	accessor Accessor
	ttl      time.Duration
	now      func() time.Time

	mu       sync.Mutex
	cache    map[string]cachedValue // by resource name
	inflight map[string]*fetch      // by resource name
}

type cachedValue struct {
	value   string
	expires time.Time
}

// fetch is one call to Secret Manager that several callers may wait for.
type fetch struct {
	done  chan struct{} // closed when value and err are set
	value string
	err   error
}

// Option configures a [Resolver].
type Option func(*Resolver)

// WithClock makes the resolver read the time from now instead of [time.Now], so that
// tests can move past the TTL without sleeping.
func WithClock(now func() time.Time) Option {
	return func(r *Resolver) { r.now = now }
}

// NewResolver returns a resolver reading secrets through a and reusing each value for
// ttl ([DefaultTTL] when ttl <= 0).
func NewResolver(a Accessor, ttl time.Duration, opts ...Option) *Resolver {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	r := &Resolver{
		accessor: a,
		ttl:      ttl,
		now:      time.Now,
		cache:    make(map[string]cachedValue),
		inflight: make(map[string]*fetch),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Resolve returns value unchanged unless it is a secret reference (starts with
// secret://), in which case it returns the payload of the referenced secret version.
//
// A malformed reference gives an error wrapping [ErrMalformedReference]. Errors from
// Secret Manager are wrapped (status.Code reports their gRPC code) and name the
// reference; no error contains a secret value.
//
// The call to Secret Manager is not cancelled when ctx is: other callers may be waiting
// for it, and its result is cached for them. Resolve itself returns as soon as ctx is done.
func (r *Resolver) Resolve(ctx context.Context, value string) (string, error) {
	if !IsReference(value) {
		return value, nil
	}
	ref, err := ParseReference(value)
	if err != nil {
		return "", err
	}
	key := ref.Name()

	r.mu.Lock()
	if c, ok := r.cache[key]; ok && r.now().Before(c.expires) {
		r.mu.Unlock()
		return c.value, nil
	}
	f, ok := r.inflight[key]
	if !ok {
		f = &fetch{done: make(chan struct{})}
		r.inflight[key] = f
		go r.run(context.WithoutCancel(ctx), ref, f)
	}
	r.mu.Unlock()

	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		return "", fmt.Errorf("secrets: resolve %s: %w", ref, context.Cause(ctx))
	}
}

// run performs fetch f for ref, caches a success and wakes the waiters.
func (r *Resolver) run(ctx context.Context, ref Reference, f *fetch) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	f.value, f.err = r.access(ctx, ref)

	key := ref.Name()
	r.mu.Lock()
	if f.err == nil {
		r.cache[key] = cachedValue{value: f.value, expires: r.now().Add(r.ttl)}
	}
	delete(r.inflight, key)
	r.mu.Unlock()
	close(f.done)
}

// access reads one secret version and verifies its checksum.
func (r *Resolver) access(ctx context.Context, ref Reference) (string, error) {
	resp, err := r.accessor.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: ref.Name()})
	if err != nil {
		// Secret Manager's errors describe the resource and the caller's permissions,
		// never the payload.
		return "", fmt.Errorf("secrets: access %s: %w", ref, err)
	}
	payload := resp.GetPayload()
	data := payload.GetData()
	if payload.DataCrc32C != nil {
		want := uint32(payload.GetDataCrc32C())
		if got := crc32.Checksum(data, castagnoli); got != want {
			return "", fmt.Errorf("secrets: access %s: %w", ref, ErrChecksumMismatch)
		}
	}
	return string(data), nil
}
