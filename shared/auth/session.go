package auth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
)

// SessionCookieName is the web session cookie set by POST /v1/sessions. The __Host-
// prefix makes browsers accept it only when Secure, for the exact host, on path "/".
const SessionCookieName = "__Host-medi_session"

// Reasons of session and freshness failures (error details "reason").
const (
	ReasonSessionExpired  = "session_expired"
	ReasonSessionIdle     = "session_idle"
	ReasonReauthRequired  = "reauthentication_required"
	ReasonSessionRevoked  = "session_revoked"
	ReasonSessionInvalid  = "session_invalid"
	DefaultFreshTokenTime = 5 * time.Minute
)

// ErrSessionIdle and ErrSessionUnknown are returned by a SessionVerifier when the server
// side session record says the cookie may no longer be used.
var (
	ErrSessionIdle    = errors.New("auth: session idle for too long")
	ErrSessionUnknown = errors.New("auth: session ended or unknown")
)

// SessionVerifier verifies a Firebase session cookie (signature and expiry, locally) and
// enforces the server-side idle timeout; package sessions implements it. The
// Authenticator then checks the cookie against its account's state like an ID token.
type SessionVerifier interface {
	VerifySession(ctx context.Context, cookie string) (*fbauth.Token, error)
}

// WithSessions makes a accept the session cookie when a request has no Authorization
// header. It returns a for chaining.
func (a *Authenticator) WithSessions(v SessionVerifier) *Authenticator {
	a.sessions = v
	return a
}

func (a *Authenticator) authenticateSession(r *http.Request, cookie string) (Principal, error) {
	tok, err := a.sessions.VerifySession(r.Context(), cookie)
	if err != nil {
		return Principal{}, classifySession(r.Context(), err)
	}
	if err := a.states.Check(r.Context(), tok, true); err != nil {
		return Principal{}, err
	}
	return principalFrom(tok)
}

func classifySession(ctx context.Context, err error) error {
	var he *httpx.Error
	var de *apierr.Error
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &de):
		return httpx.FromAPI(de)
	case errors.Is(err, ErrSessionIdle):
		return unauth(ReasonSessionIdle, "session ended after inactivity: sign in again")
	case errors.Is(err, ErrSessionUnknown):
		return unauth(ReasonSessionRevoked, "session ended: sign in again")
	case fbauth.IsSessionCookieExpired(err), errors.Is(err, errEmulatorExpired):
		return unauth(ReasonSessionExpired, "session expired: sign in again")
	case fbauth.IsSessionCookieRevoked(err):
		return unauth(ReasonSessionRevoked, "session revoked: sign in again")
	case fbauth.IsUserDisabled(err):
		return unauth(ReasonDisabled, "account disabled")
	case fbauth.IsSessionCookieInvalid(err), fbauth.IsUserNotFound(err), errors.Is(err, errEmulatorInvalid):
		return unauth(ReasonSessionInvalid, "invalid session")
	default:
		return classify(ctx, err)
	}
}

// RequireFresh refuses callers whose last sign-in (auth_time) is older than window with
// 401 and details.reason "reauthentication_required": the app asks for the password again
// and retries with the new token. Use it after Require, for sensitive actions (staff
// changes, note approval). now is the clock (nil: time.Now).
func RequireFresh(window time.Duration, now func() time.Time) httpx.Middleware {
	if now == nil {
		now = time.Now
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				httpx.WriteError(w, r, unauth(ReasonMissing, "not signed in"))
				return
			}
			if err := CheckFresh(p, window, now()); err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CheckFresh returns the 401 of RequireFresh when p signed in more than window before now.
func CheckFresh(p Principal, window time.Duration, now time.Time) error {
	if p.AuthTime.IsZero() || now.Sub(p.AuthTime) > window {
		return httpx.Unauthenticated("recent sign-in required: sign in again and retry").
			WithDetails(map[string]any{"reason": ReasonReauthRequired, "maxAgeSeconds": int(window.Seconds())}).
			WithHeader("WWW-Authenticate", `Bearer realm="medi-os", error="insufficient_user_authentication", max_age=`+strconv.Itoa(int(window.Seconds())))
	}
	return nil
}

// TokenError converts an error of VerifyIDTokenAndCheckRevoked into the API error
// Authenticate would answer (401 with a reason, or 503 when verification is unavailable).
func TokenError(ctx context.Context, err error) error { return classify(ctx, err) }

// PrincipalFromToken returns the principal of a verified token; an account without a
// role in a clinic is 403 (reason no_role).
func PrincipalFromToken(tok *fbauth.Token) (Principal, error) { return principalFrom(tok) }
