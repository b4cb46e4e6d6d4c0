// Package sessions implements web sessions: a Firebase session cookie minted from a fresh
// ID token, with a server-side record (sessions/{id}) that enforces the clinic's idle
// timeout (automatic logoff, HIPAA 45 CFR 164.312(a)(2)(iii)) and lets logout end the
// session at once.
//
// The record's id is the SHA-256 of the cookie, so the cookie itself is never stored.
// Records carry expireAt for a Firestore TTL policy (terraform/) that removes them once the
// cookie has expired anyway.
package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/auth"
)

// Collection holds one document per live session.
const Collection = "sessions"

// Defaults when a clinic has no setting.
const (
	DefaultIdleTimeout = 15 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
	// Firebase accepts session cookies of 5 minutes to 2 weeks.
	minMaxAge = 5 * time.Minute
	maxMaxAge = 14 * 24 * time.Hour
	// MaxSignInAge is how recent the sign-in behind the ID token must be to mint a
	// cookie (Firebase's recommendation: only from a recent sign-in).
	MaxSignInAge = 5 * time.Minute
	// touchEvery limits lastSeen writes to one per interval per session.
	touchEvery = 30 * time.Second
)

// Firebase is the part of the Firebase Auth client sessions need.
type Firebase interface {
	VerifyIDTokenAndCheckRevoked(ctx context.Context, idToken string) (*fbauth.Token, error)
	SessionCookie(ctx context.Context, idToken string, expiresIn time.Duration) (string, error)
	VerifySessionCookie(ctx context.Context, cookie string) (*fbauth.Token, error)
	RevokeRefreshTokens(ctx context.Context, uid string) error
}

// Store creates, checks and ends sessions.
type Store struct {
	fb  Firebase
	fs  *firestore.Client
	now func() time.Time
}

var _ auth.SessionVerifier = (*Store)(nil)

// New returns a Store. now is the clock (nil: time.Now); tests inject one.
func New(fb Firebase, fs *firestore.Client, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{fb: fb, fs: fs, now: now}
}

// Settings are a clinic's session limits.
type Settings struct {
	IdleTimeout time.Duration
	MaxAge      time.Duration
}

// ClinicSettings reads sessionIdleMinutes and sessionMaxAgeHours of clinics/{clinicID};
// missing or out-of-range values take the defaults.
func ClinicSettings(ctx context.Context, fs *firestore.Client, clinicID string) (Settings, error) {
	s := Settings{IdleTimeout: DefaultIdleTimeout, MaxAge: DefaultMaxAge}
	snap, err := fs.Collection("clinics").Doc(clinicID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading clinic settings: %w", err)
	}
	var c struct {
		IdleMinutes int64 `firestore:"sessionIdleMinutes"`
		MaxAgeHours int64 `firestore:"sessionMaxAgeHours"`
	}
	if err := snap.DataTo(&c); err != nil {
		return s, fmt.Errorf("decoding clinic settings: %w", err)
	}
	if c.IdleMinutes > 0 {
		s.IdleTimeout = time.Duration(c.IdleMinutes) * time.Minute
	}
	if c.MaxAgeHours > 0 {
		s.MaxAge = min(max(time.Duration(c.MaxAgeHours)*time.Hour, minMaxAge), maxMaxAge)
	}
	return s, nil
}

// Record is the server-side state of one session.
type Record struct {
	UID         string    `firestore:"uid"`
	ClinicID    string    `firestore:"clinicId"`
	CreatedAt   time.Time `firestore:"createdAt"`
	LastSeen    time.Time `firestore:"lastSeen"`
	IdleMinutes int64     `firestore:"idleMinutes"`
	ExpireAt    time.Time `firestore:"expireAt"` // TTL field
}

// Session is a newly created session.
type Session struct {
	ID          string
	Cookie      string
	UID         string
	ClinicID    string
	ExpiresAt   time.Time
	MaxAge      time.Duration
	IdleTimeout time.Duration
}

// ID returns the record id of cookie.
func ID(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

func (s *Store) doc(id string) *firestore.DocumentRef { return s.fs.Collection(Collection).Doc(id) }

// Create verifies idToken (valid, not revoked, staff of a clinic, signed in within
// MaxSignInAge) and mints a session cookie with the clinic's maximum age. check, when not
// nil, runs on the verified caller before the cookie is minted (per-account rate limit).
func (s *Store) Create(ctx context.Context, idToken string, check func(auth.Principal) error) (Session, error) {
	tok, err := s.fb.VerifyIDTokenAndCheckRevoked(ctx, idToken)
	if err != nil {
		return Session{}, auth.TokenError(ctx, err)
	}
	p, err := auth.PrincipalFromToken(tok)
	if err != nil {
		return Session{}, err
	}
	if check != nil {
		if err := check(p); err != nil {
			return Session{}, err
		}
	}
	now := s.now()
	if err := auth.CheckFresh(p, MaxSignInAge, now); err != nil {
		return Session{}, err
	}
	set, err := ClinicSettings(ctx, s.fs, p.ClinicID)
	if err != nil {
		return Session{}, apierr.Unavailable(2, err)
	}
	cookie, err := s.fb.SessionCookie(ctx, idToken, set.MaxAge)
	if err != nil {
		return Session{}, fmt.Errorf("creating session cookie: %w", err)
	}
	sess := Session{
		ID: ID(cookie), Cookie: cookie, UID: p.UID, ClinicID: p.ClinicID,
		ExpiresAt: now.Add(set.MaxAge), MaxAge: set.MaxAge, IdleTimeout: set.IdleTimeout,
	}
	rec := Record{
		UID: p.UID, ClinicID: p.ClinicID, CreatedAt: now, LastSeen: now,
		IdleMinutes: int64(set.IdleTimeout / time.Minute), ExpireAt: sess.ExpiresAt,
	}
	if _, err := s.doc(sess.ID).Set(ctx, rec); err != nil {
		return Session{}, apierr.Unavailable(2, fmt.Errorf("storing session: %w", err))
	}
	return sess, nil
}

// VerifySession implements auth.SessionVerifier: the cookie must verify (signature and
// expiry, locally; the Authenticator checks revocation and the account's state) and its
// record must exist and have been used within the idle timeout. A session idle for too
// long is deleted. Use refreshes lastSeen (at most every 30 s).
func (s *Store) VerifySession(ctx context.Context, cookie string) (*fbauth.Token, error) {
	tok, err := s.fb.VerifySessionCookie(ctx, cookie)
	if err != nil {
		return nil, err
	}
	ref := s.doc(ID(cookie))
	snap, err := ref.Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, auth.ErrSessionUnknown
	}
	if err != nil {
		return nil, apierr.Unavailable(2, fmt.Errorf("reading session: %w", err))
	}
	var rec Record
	if err := snap.DataTo(&rec); err != nil {
		return nil, fmt.Errorf("decoding session: %w", err)
	}
	if rec.UID != tok.UID {
		return nil, auth.ErrSessionUnknown
	}
	now := s.now()
	idle := time.Duration(rec.IdleMinutes) * time.Minute
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if now.Sub(rec.LastSeen) > idle {
		_, _ = ref.Delete(ctx)
		return nil, auth.ErrSessionIdle
	}
	if now.Sub(rec.LastSeen) >= touchEvery {
		// Only move lastSeen forward; a failed touch costs at most one interval.
		if _, err := ref.Update(ctx, []firestore.Update{{Path: "lastSeen", Value: now}},
			firestore.LastUpdateTime(snap.UpdateTime)); err != nil && status.Code(err) != codes.FailedPrecondition {
			return nil, apierr.Unavailable(2, fmt.Errorf("touching session: %w", err))
		}
	}
	return tok, nil
}

// End logs the session's user out: the record is deleted, so that the cookie stops
// working at once, and the user's refresh tokens revoked, so that every other session and
// ID token of the user stops working within the account-state bound (auth.DefaultStateTTL;
// at once on this instance). An unknown or already invalid cookie is not an error (logout
// is idempotent).
func (s *Store) End(ctx context.Context, cookie string) error {
	tok, err := s.fb.VerifySessionCookie(ctx, cookie)
	if _, derr := s.doc(ID(cookie)).Delete(ctx); derr != nil {
		return apierr.Unavailable(2, fmt.Errorf("deleting session: %w", derr))
	}
	if err != nil {
		return nil
	}
	if err := s.fb.RevokeRefreshTokens(ctx, tok.UID); err != nil {
		return fmt.Errorf("revoking tokens: %w", err)
	}
	auth.Forget(tok.UID)
	return nil
}

// EndForUser ends the session of p (a caller authenticated with a bearer token): its
// refresh tokens are revoked.
func (s *Store) EndForUser(ctx context.Context, uid string) error {
	if uid == "" {
		return errors.New("sessions: uid required")
	}
	if err := s.fb.RevokeRefreshTokens(ctx, uid); err != nil {
		return err
	}
	auth.Forget(uid)
	return nil
}
