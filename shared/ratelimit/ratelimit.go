// Package ratelimit limits requests with fixed-window counters kept in Firestore
// (rateLimits/{key}), so that every instance of a function shares them. Each counter
// document carries expireAt for a Firestore TTL policy that removes it after its window.
//
// Limits here protect credential endpoints per IP and per account; the coarse per-IP
// edge limits are Cloud Armor's (docs/deployment.md).
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
)

// Collection holds the counters.
const Collection = "rateLimits"

// Limit allows N requests per Window.
type Limit struct {
	N      int
	Window time.Duration
}

// Decision is the outcome of one Allow.
type Decision struct {
	Allowed    bool
	Remaining  int
	RetryAfter time.Duration // when not allowed: until the window ends
}

// Limiter counts in Firestore.
type Limiter struct {
	fs  *firestore.Client
	now func() time.Time
}

// New returns a Limiter. now is the clock (nil: time.Now).
func New(fs *firestore.Client, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{fs: fs, now: now}
}

type counter struct {
	Count    int64     `firestore:"count"`
	ExpireAt time.Time `firestore:"expireAt"`
}

// Allow counts one request for key (e.g. "reset:ip:203.0.113.7") against l. The key is
// hashed into the document id, so that addresses never appear in document names.
func (rl *Limiter) Allow(ctx context.Context, key string, l Limit) (Decision, error) {
	now := rl.now()
	start := now.Truncate(l.Window)
	end := start.Add(l.Window)
	h := sha256.Sum256([]byte(key))
	ref := rl.fs.Collection(Collection).Doc(hex.EncodeToString(h[:16]) + "-" + strconv.FormatInt(start.Unix(), 10))
	var d Decision
	err := rl.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		var c counter
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			if err := snap.DataTo(&c); err != nil {
				return err
			}
		}
		if c.Count >= int64(l.N) {
			d = Decision{Allowed: false, RetryAfter: end.Sub(now)}
			return nil
		}
		d = Decision{Allowed: true, Remaining: l.N - int(c.Count) - 1}
		return tx.Set(ref, counter{Count: c.Count + 1, ExpireAt: end.Add(time.Minute)})
	})
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: %w", err)
	}
	return d, nil
}

// Rule is one limit keyed by something of the request.
type Rule struct {
	Name  string // e.g. "session:ip"
	Limit Limit
	Key   string // the counted identity (an IP, an account key); empty: rule skipped
}

// Check applies rules in order and returns 429 rate_limited with Retry-After for the
// first one exceeded. A counter store failure is 503 (fail closed: these are credential
// endpoints).
func (rl *Limiter) Check(ctx context.Context, rules ...Rule) error {
	for _, r := range rules {
		if r.Key == "" || r.Limit.N <= 0 {
			continue
		}
		d, err := rl.Allow(ctx, r.Name+":"+r.Key, r.Limit)
		if err != nil {
			return apierr.Unavailable(2, err)
		}
		if !d.Allowed {
			return Exceeded(d.RetryAfter)
		}
	}
	return nil
}

// Exceeded is the 429 answer.
func Exceeded(retryAfter time.Duration) *apierr.Error {
	secs := int(math.Ceil(retryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return apierr.RateLimited(secs, "too many requests; retry later").
		WithDetails(map[string]any{"retryAfterSeconds": secs})
}

// ClientIP is the caller's address as the load balancer saw it. The Google external
// load balancer appends "<client>, <load balancer>" to whatever X-Forwarded-For the client
// sent, so the second-to-last entry (over every X-Forwarded-For line) is the one hop the
// client cannot choose; the local gateway appends the same two entries. Every entry before
// it is the client's own and is never trusted. A header with fewer than two entries was not
// written by the load balancer (the function was reached without it): then the
// connection's peer is the caller.
func ClientIP(r *http.Request) string {
	var entries []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		entries = append(entries, strings.Split(line, ",")...)
	}
	if len(entries) >= 2 {
		if ip := net.ParseIP(strings.TrimSpace(entries[len(entries)-2])); ip != nil {
			return ip.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
