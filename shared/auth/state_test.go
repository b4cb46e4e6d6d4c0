package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/testenv"
)

// testClock is an injectable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingLookup counts the account reads that reach the Auth emulator.
type countingLookup struct {
	c     *fbauth.Client
	reads atomic.Int64
}

func (l *countingLookup) GetUser(ctx context.Context, uid string) (*fbauth.UserRecord, error) {
	l.reads.Add(1)
	return l.c.GetUser(ctx, uid)
}

// TestStateCacheBound checks, against the Auth emulator, that a revocation, a disable or a
// role change made by someone else is enforced once the bound has passed (and not later),
// that the instance that made the change enforces it at once, and that the checks in
// between do not call the identity service.
func TestStateCacheBound(t *testing.T) {
	t.Parallel()
	c := testenv.AuthClient(t)
	ctx := context.Background()
	const ttl = 30 * time.Second

	// verified signs s in and verifies the token as an instance would (locally).
	verified := func(t *testing.T, s testenv.Staff) *fbauth.Token {
		t.Helper()
		tok, err := c.VerifyIDToken(ctx, testenv.SignIn(t, s))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, uid string)
		reason string
	}{
		{"revoked", func(t *testing.T, uid string) {
			if err := c.RevokeRefreshTokens(ctx, uid); err != nil {
				t.Fatal(err)
			}
		}, auth.ReasonRevoked},
		{"disabled", func(t *testing.T, uid string) {
			if _, err := c.UpdateUser(ctx, uid, (&fbauth.UserToUpdate{}).Disabled(true)); err != nil {
				t.Fatal(err)
			}
		}, auth.ReasonDisabled},
		{"role changed", func(t *testing.T, uid string) {
			if err := c.SetCustomUserClaims(ctx, uid, map[string]any{"role": "receptionist", "clinicId": "clinic-s"}); err != nil {
				t.Fatal(err)
			}
		}, auth.ReasonRevoked},
		{"moved to another clinic", func(t *testing.T, uid string) {
			if err := c.SetCustomUserClaims(ctx, uid, map[string]any{"role": "doctor", "clinicId": "clinic-t"}); err != nil {
				t.Fatal(err)
			}
		}, auth.ReasonRevoked},
		{"deleted", func(t *testing.T, uid string) {
			if err := c.DeleteUser(ctx, uid); err != nil {
				t.Fatal(err)
			}
		}, auth.ReasonInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "clinic-s"})
			tok := verified(t, s)
			// Revocation has one-second granularity: the token must be issued in an earlier second.
			time.Sleep(1100 * time.Millisecond)

			t.Run("elsewhere: within the bound", func(t *testing.T) {
				clk := &testClock{t: time.Now()}
				look := &countingLookup{c: c}
				cache := auth.NewStateCache(look, ttl, clk.Now)
				for range 20 {
					if err := cache.Check(ctx, tok, false); err != nil {
						t.Fatalf("before the change: %v", err)
					}
				}
				if n := look.reads.Load(); n != 1 {
					t.Errorf("20 checks read the account %d times, want 1", n)
				}
				tc.change(t, s.UID)
				clk.Advance(ttl)
				wantAuthError(t, cache.Check(ctx, tok, false), 401, tc.reason)
			})
		})
	}
}

// The instance that makes a change forgets what it knew of the account: the next check
// refuses the old token without waiting for the bound.
func TestStateCacheForget(t *testing.T) {
	t.Parallel()
	c := testenv.AuthClient(t)
	ctx := context.Background()
	s := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-f"})
	tok, err := c.VerifyIDToken(ctx, testenv.SignIn(t, s))
	if err != nil {
		t.Fatal(err)
	}
	other := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-f"})
	otherTok, err := c.VerifyIDToken(ctx, testenv.SignIn(t, other))
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Now()} // never advanced
	look := &countingLookup{c: c}
	cache := auth.NewStateCache(look, time.Hour, clk.Now)
	for _, tk := range []*fbauth.Token{tok, otherTok} {
		if err := cache.Check(ctx, tk, false); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	if err := c.RevokeRefreshTokens(ctx, s.UID); err != nil {
		t.Fatal(err)
	}
	auth.Forget(s.UID)
	wantAuthError(t, cache.Check(ctx, tok, false), 401, auth.ReasonRevoked)
	wantAuthError(t, cache.Check(ctx, tok, true), 401, auth.ReasonSessionRevoked)
	// Another account's state stays cached.
	before := look.reads.Load()
	if err := cache.Check(ctx, otherTok, false); err != nil {
		t.Fatal(err)
	}
	if look.reads.Load() != before {
		t.Error("forgetting one account read another again")
	}
}

// A new token after a revocation is accepted at once: the cache holds the account's state,
// not verdicts on tokens.
func TestStateCacheAcceptsNewSignIn(t *testing.T) {
	t.Parallel()
	c := testenv.AuthClient(t)
	ctx := context.Background()
	s := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "clinic-n"})
	time.Sleep(1100 * time.Millisecond)
	if err := c.RevokeRefreshTokens(ctx, s.UID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	cache := auth.NewStateCache(c, 0, nil)
	if cache.TTL() != auth.DefaultStateTTL {
		t.Errorf("default TTL %v", cache.TTL())
	}
	tok, err := c.VerifyIDToken(ctx, testenv.SignIn(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.Check(ctx, tok, false); err != nil {
		t.Errorf("token issued after the revocation: %v", err)
	}
}
