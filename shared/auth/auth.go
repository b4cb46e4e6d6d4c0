// Package auth authenticates staff with Firebase ID tokens and authorizes by role and
// clinic from custom claims.
//
// A token's signature and expiry are verified locally with the Admin SDK's cached public
// keys; revocation, disabling and role changes are checked against the account's state,
// which each instance reads from the identity service at most once per account and
// DefaultStateTTL (30 s), and at once after it made such a change itself (Forget). No
// request waits on a call to the identity service beyond that.
//
// 401 means "who are you?" (no, invalid, expired, revoked token), 403 "you may not do
// this" (wrong role), and an object of another clinic is answered 404 like a missing one,
// so that ids cannot be probed across tenants (OWASP API1, BOLA).
package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/logging"
)

// Role of a staff member, from the `role` custom claim.
type Role string

// Roles.
const (
	RoleReceptionist Role = "receptionist"
	RoleNurse        Role = "nurse"
	RoleDoctor       Role = "doctor"
	RoleAdmin        Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleReceptionist, RoleNurse, RoleDoctor, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is the authenticated caller.
type Principal struct {
	UID           string    `json:"uid"`
	Email         string    `json:"email"`
	EmailVerified bool      `json:"emailVerified"`
	Role          Role      `json:"role"`
	ClinicID      string    `json:"clinicId"`
	AuthTime      time.Time `json:"authTime"`
	IssuedAt      time.Time `json:"-"`
}

// HasRole reports whether p has one of roles.
func (p Principal) HasRole(roles ...Role) bool { return slices.Contains(roles, p.Role) }

// InClinic returns nil when clinicID is the caller's clinic and a 404 otherwise: another
// clinic's object is answered exactly like a missing one.
func (p Principal) InClinic(clinicID, what string) error {
	if clinicID == "" || clinicID != p.ClinicID {
		return apierr.NotFound("%s not found", what)
	}
	return nil
}

// TokenVerifier is the part of the Firebase Auth client this package needs: local
// verification of ID tokens and the account lookup behind the state check.
type TokenVerifier interface {
	VerifyIDToken(ctx context.Context, idToken string) (*fbauth.Token, error)
	UserLookup
}

// Authenticator verifies bearer tokens.
type Authenticator struct {
	tokens   TokenVerifier
	sessions SessionVerifier
	states   *StateCache
}

// New returns an Authenticator over v (a *firebase auth.Client in production) whose
// account states are trusted for DefaultStateTTL.
func New(v TokenVerifier) *Authenticator {
	return &Authenticator{tokens: v, states: NewStateCache(v, DefaultStateTTL, nil)}
}

// WithStateCache makes a check tokens against c (another TTL or clock). It returns a.
func (a *Authenticator) WithStateCache(c *StateCache) *Authenticator {
	a.states = c
	return a
}

// Reasons carried in error details, so an app can tell "sign in again" from "ask an admin".
const (
	ReasonMissing  = "token_missing"
	ReasonInvalid  = "token_invalid"
	ReasonExpired  = "token_expired"
	ReasonRevoked  = "token_revoked"
	ReasonDisabled = "user_disabled"
	ReasonNoRole   = "no_role"
	// ReasonScheme is an Authorization header of another scheme than Bearer (Basic, ...).
	ReasonScheme = "auth_scheme_unsupported"
	// ReasonRole is a caller whose role may not take the action.
	ReasonRole = "role_not_allowed"
)

// RoleRefused is the 403 of a caller whose role may not take the request's action: the
// message and details name the action (method and route pattern) and the roles allowed.
func RoleRefused(r *http.Request, role Role, allowed []Role) *httpx.Error {
	action := r.Method + " " + r.URL.Path
	if r.Pattern != "" {
		action = r.Method + " " + r.Pattern
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return httpx.PermissionDenied("role %s may not %s (allowed: %s)", role, action, strings.Join(names, ", ")).
		WithDetails(map[string]any{"reason": ReasonRole, "action": action, "allowedRoles": names})
}

func unauth(reason, msg string) *httpx.Error {
	return httpx.Unauthenticated("%s", msg).WithDetails(map[string]string{"reason": reason}).
		WithHeader("WWW-Authenticate", `Bearer realm="medi-os"`)
}

// Authenticate verifies the request's bearer token (or, when there is no Authorization
// header and sessions are enabled, its session cookie) and returns the principal.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" && a.sessions != nil {
		if c, err := r.Cookie(SessionCookieName); err == nil && c.Value != "" {
			return a.authenticateSession(r, c.Value)
		}
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	switch {
	case h == "" || strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) == "":
		return Principal{}, unauth(ReasonMissing, "missing bearer token: send Authorization: Bearer <Firebase ID token>")
	case !strings.EqualFold(scheme, "Bearer"):
		// Basic, Digest, a bare token: the credentials are not read, whatever they are.
		return Principal{}, unauth(ReasonScheme, "unsupported authorization scheme: send Authorization: Bearer <Firebase ID token>")
	}
	tok, err := a.tokens.VerifyIDToken(r.Context(), strings.TrimSpace(token))
	if err != nil {
		return Principal{}, classify(r.Context(), err)
	}
	if err := a.states.Check(r.Context(), tok, false); err != nil {
		return Principal{}, err
	}
	return principalFrom(tok)
}

func classify(ctx context.Context, err error) error {
	switch {
	case fbauth.IsIDTokenExpired(err), errors.Is(err, errEmulatorExpired):
		return unauth(ReasonExpired, "token expired: refresh the ID token")
	case fbauth.IsIDTokenRevoked(err):
		return unauth(ReasonRevoked, "token revoked: sign in again")
	case fbauth.IsUserDisabled(err):
		return unauth(ReasonDisabled, "account disabled")
	case fbauth.IsUserNotFound(err):
		return unauth(ReasonInvalid, "invalid token")
	case fbauth.IsIDTokenInvalid(err), errors.Is(err, errEmulatorInvalid):
		return unauth(ReasonInvalid, "invalid token")
	case fbauth.IsCertificateFetchFailed(err), isTransient(err):
		logging.FromContext(ctx).Warn("token verification unavailable", "error", err.Error())
		return httpx.Unavailable(2, err)
	default:
		// Anything else the verifier refuses is an invalid token (malformed, wrong
		// audience or issuer, bad signature).
		return unauth(ReasonInvalid, "invalid token")
	}
}

func isTransient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || fbauth.IsUnknown(err)
}

func principalFrom(tok *fbauth.Token) (Principal, error) {
	p := Principal{
		UID:      tok.UID,
		AuthTime: time.Unix(tok.AuthTime, 0).UTC(),
		IssuedAt: time.Unix(tok.IssuedAt, 0).UTC(),
	}
	p.Email, _ = tok.Claims["email"].(string)
	p.EmailVerified, _ = tok.Claims["email_verified"].(bool)
	role, _ := tok.Claims["role"].(string)
	p.Role = Role(role)
	p.ClinicID, _ = tok.Claims["clinicId"].(string)
	if !p.Role.Valid() || p.ClinicID == "" {
		return p, httpx.PermissionDenied("account has no role in a clinic; ask an administrator").
			WithDetails(map[string]string{"reason": ReasonNoRole})
	}
	return p, nil
}

type ctxKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the authenticated caller.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Require authenticates the request and checks that the caller has one of roles (none
// listed: any staff role). The principal is then available through FromContext, and
// the request's log lines carry the caller's uid and role (never their name).
func (a *Authenticator) Require(roles ...Role) httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := a.Authenticate(r)
			if err != nil {
				httpx.WriteError(w, r, err)
				return
			}
			if len(roles) > 0 && !p.HasRole(roles...) {
				httpx.WriteError(w, r, RoleRefused(r, p.Role, roles))
				return
			}
			ctx := WithPrincipal(r.Context(), p)
			ctx = logging.WithLogger(ctx, logging.FromContext(ctx).With("uid", p.UID, "role", string(p.Role)))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
