package auth

import (
	"context"
	"sync"
	"time"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// DefaultStateTTL bounds how long an instance trusts what it last read of an account
// (disabled, tokens valid after, role and clinic): a revocation, a disable or a role
// change made elsewhere is enforced by every instance at most this long after it was made.
// The instance that made the change enforces it at once (Forget).
const DefaultStateTTL = 30 * time.Second

// stateLookupTimeout bounds one read of an account's state from the identity service.
const stateLookupTimeout = 5 * time.Second

// maxStates is the number of accounts a cache holds before it drops the expired ones.
const maxStates = 4096

// UserLookup reads an account from the identity service (*firebase auth.Client).
type UserLookup interface {
	GetUser(ctx context.Context, uid string) (*fbauth.UserRecord, error)
}

// accountState is what a token is checked against: the account as the identity service
// last said it was.
type accountState struct {
	missing         bool
	disabled        bool
	validAfterMilli int64
	role, clinicID  string
}

type stateEntry struct {
	ready   chan struct{} // closed once state, err and read are set
	state   accountState
	err     error
	read    time.Time
	version uint64 // the cache's generation for this uid when the read started
}

// StateCache checks verified tokens against the current state of their account, read from
// the identity service at most once per account and TTL (concurrent requests of one
// account share the read) instead of once per request. A token is refused when its
// account is disabled or deleted, was signed in before the account's tokens were revoked,
// or carries another role or clinic than the account has now.
type StateCache struct {
	lookup UserLookup
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*stateEntry
	gen     map[string]uint64 // bumped by Forget, so that a read started before is not kept
}

// NewStateCache returns a cache over lookup. ttl is the bound (0: DefaultStateTTL; a
// negative ttl reads the account on every check); now is the clock (nil: time.Now). The
// cache is registered with Forget for the life of the process.
func NewStateCache(lookup UserLookup, ttl time.Duration, now func() time.Time) *StateCache {
	if ttl == 0 {
		ttl = DefaultStateTTL
	}
	if now == nil {
		now = time.Now
	}
	c := &StateCache{lookup: lookup, ttl: ttl, now: now, entries: map[string]*stateEntry{}, gen: map[string]uint64{}}
	registry.Lock()
	registry.caches = append(registry.caches, c)
	registry.Unlock()
	return c
}

// TTL is the bound of the cache.
func (c *StateCache) TTL() time.Duration { return c.ttl }

var registry struct {
	sync.Mutex
	caches []*StateCache
}

// Forget makes every cache of this process read uid's account again on its next check.
// Whoever revokes, disables or changes the role of an account calls it after the change,
// so that the instance that made the change enforces it immediately.
func Forget(uid string) {
	registry.Lock()
	caches := registry.caches
	registry.Unlock()
	for _, c := range caches {
		c.forget(uid)
	}
}

func (c *StateCache) forget(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, uid)
	c.gen[uid]++
}

// Check returns nil when tok may be used now, else the 401 (or 503 when the identity
// service cannot be read) to answer. cookie says whether tok is a session cookie.
func (c *StateCache) Check(ctx context.Context, tok *fbauth.Token, cookie bool) error {
	st, err := c.state(ctx, tok.UID)
	if err != nil {
		logging.FromContext(ctx).Warn("account state unavailable", "error", err.Error())
		return httpx.Unavailable(2, err)
	}
	revoked := func(why string) error {
		if cookie {
			return unauth(ReasonSessionRevoked, why+": sign in again")
		}
		return unauth(ReasonRevoked, why+": sign in again")
	}
	role, _ := tok.Claims["role"].(string)
	clinic, _ := tok.Claims["clinicId"].(string)
	switch {
	case st.missing:
		if cookie {
			return unauth(ReasonSessionInvalid, "invalid session")
		}
		return unauth(ReasonInvalid, "invalid token")
	case st.disabled:
		return unauth(ReasonDisabled, "account disabled")
	case tok.IssuedAt*1000 < st.validAfterMilli:
		// The identity service's own rule: a token issued before the account's tokens
		// were revoked (whole seconds) is revoked.
		return revoked("token revoked")
	case role != st.role || clinic != st.clinicID:
		return revoked("role or clinic changed")
	}
	return nil
}

// state returns uid's account state no older than the TTL.
func (c *StateCache) state(ctx context.Context, uid string) (accountState, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[uid]
	if ok {
		select {
		case <-e.ready:
			if now.Sub(e.read) >= c.ttl || e.err != nil {
				ok = false
			}
		default: // a read is under way: wait for it
		}
	}
	if !ok {
		if len(c.entries) >= maxStates {
			c.dropExpired(now)
		}
		e = &stateEntry{ready: make(chan struct{}), version: c.gen[uid]}
		c.entries[uid] = e
		c.mu.Unlock()
		c.read(ctx, uid, e)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-e.ready:
		return e.state, e.err
	case <-ctx.Done():
		return accountState{}, ctx.Err()
	}
}

// read fills e from the identity service. It is not bound to the first caller's
// cancellation, since other requests wait for it too.
func (c *StateCache) read(ctx context.Context, uid string, e *stateEntry) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateLookupTimeout)
	defer cancel()
	start := c.now()
	u, err := c.lookup.GetUser(rctx, uid)
	switch {
	case fbauth.IsUserNotFound(err):
		e.state = accountState{missing: true}
	case err != nil:
		e.err = err
	default:
		e.state = accountState{disabled: u.Disabled, validAfterMilli: u.TokensValidAfterMillis}
		e.state.role, _ = u.CustomClaims["role"].(string)
		e.state.clinicID, _ = u.CustomClaims["clinicId"].(string)
	}
	// The read counts from when it started: a change made during it is caught by the next.
	e.read = start
	c.mu.Lock()
	if e.err != nil || c.gen[uid] != e.version {
		// A failed read is not kept; one that a Forget overtook answers only its waiters.
		if c.entries[uid] == e {
			delete(c.entries, uid)
		}
	}
	c.mu.Unlock()
	close(e.ready)
}

// dropExpired removes the entries older than the TTL; c.mu is held.
func (c *StateCache) dropExpired(now time.Time) {
	for uid, e := range c.entries {
		select {
		case <-e.ready:
			if now.Sub(e.read) >= c.ttl {
				delete(c.entries, uid)
			}
		default:
		}
	}
	for uid := range c.gen {
		if _, ok := c.entries[uid]; !ok {
			delete(c.gen, uid)
		}
	}
}
