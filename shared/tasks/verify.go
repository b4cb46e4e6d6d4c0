package tasks

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"
)

// Verifier checks that an incoming worker request is a task delivery. Workers answer a
// request that fails with 401 (errors wrap [ErrUnauthenticated]).
type Verifier interface {
	Verify(r *http.Request) error
}

// ErrUnauthenticated is wrapped by every verification failure.
var ErrUnauthenticated = errors.New("tasks: request is not an authenticated task delivery")

// Issuers of Google-signed ID tokens.
var googleIssuers = map[string]bool{"https://accounts.google.com": true, "accounts.google.com": true}

// signatureRemoved is what Cloud Run puts in place of the signature of an ID token it has
// already checked itself (invoker IAM check enabled on the service).
const signatureRemoved = "SIGNATURE_REMOVED_BY_GOOGLE"

// OIDCConfig configures [OIDCVerifier].
type OIDCConfig struct {
	// Audience the token must be issued for: the value the enqueuer's [AudienceFunc] gives
	// for this worker's URL (by default its Cloud Run service URL).
	Audience string
	// ServiceAccountEmail is the invoker account Cloud Tasks signs tokens as; tokens of
	// any other principal are refused.
	ServiceAccountEmail string
	// PlatformVerified accepts tokens whose signature Cloud Run has already checked and
	// replaced with "SIGNATURE_REMOVED_BY_GOOGLE" (the service's invoker IAM check is on,
	// as Terraform deploys the workers: internal ingress, run.invoker granted only to the
	// invoker account). The claims are still checked here (issuer, audience, expiry,
	// email). Only safe while that IAM check is on: never set it for a service that
	// allows unauthenticated invocations.
	PlatformVerified bool
}

// OIDCVerifier checks the Google-signed OIDC token that Cloud Tasks sends in the
// Authorization header: signature (Google's published keys), expiry, audience, issuer,
// and that the verified email is the configured invoker service account.
//
// It needs the token with its signature. Cloud Run replaces the signature with
// "SIGNATURE_REMOVED_BY_GOOGLE" when its own invoker IAM check is enabled; such tokens are
// refused here with an error that says so.
type OIDCVerifier struct {
	cfg       OIDCConfig
	validator *idtoken.Validator
}

var _ Verifier = (*OIDCVerifier)(nil)

// NewOIDCVerifier returns a verifier; opts configure the HTTP client that fetches
// Google's certificates (tests pass option.WithHTTPClient). It makes no network call.
func NewOIDCVerifier(ctx context.Context, cfg OIDCConfig, opts ...option.ClientOption) (*OIDCVerifier, error) {
	var errs []error
	if cfg.Audience == "" {
		// idtoken skips the audience check for an empty audience: never allow that.
		errs = append(errs, errors.New("audience is required"))
	}
	if !strings.Contains(cfg.ServiceAccountEmail, "@") {
		errs = append(errs, errors.New("invoker service account email is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("tasks: oidc verifier: %w", err)
	}
	v, err := idtoken.NewValidator(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tasks: oidc verifier: %w", err)
	}
	return &OIDCVerifier{cfg: cfg, validator: v}, nil
}

// Verify checks r's bearer token. Errors describe the failed check, never the token.
func (v *OIDCVerifier) Verify(r *http.Request) error {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	var p *idtoken.Payload
	if strings.HasSuffix(token, "."+signatureRemoved) {
		if !v.cfg.PlatformVerified {
			return fmt.Errorf("%w: token signature was removed by Cloud Run (invoker IAM check enabled); "+
				"deploy the worker so that the signed token reaches it, or set PlatformVerified", ErrUnauthenticated)
		}
		var err error
		if p, err = platformVerifiedClaims(token, v.cfg.Audience, time.Now()); err != nil {
			return err
		}
	} else {
		var err error
		if p, err = v.validator.Validate(r.Context(), token, v.cfg.Audience); err != nil {
			// idtoken's messages name the failed check (audience, expiry, signature, key id).
			return fmt.Errorf("%w: %v", ErrUnauthenticated, err)
		}
	}
	if !googleIssuers[p.Issuer] {
		return fmt.Errorf("%w: token not issued by Google", ErrUnauthenticated)
	}
	email, _ := p.Claims["email"].(string)
	if email == "" || !strings.EqualFold(email, v.cfg.ServiceAccountEmail) {
		return fmt.Errorf("%w: token not issued to the invoker service account", ErrUnauthenticated)
	}
	if verified, _ := p.Claims["email_verified"].(bool); !verified {
		return fmt.Errorf("%w: token email not verified", ErrUnauthenticated)
	}
	return nil
}

func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// SecretVerifier checks the shared secret that [Local] sends in [SecretHeader]. It is
// for the local stack only: production workers use [OIDCVerifier].
type SecretVerifier struct {
	sum [sha256.Size]byte
}

var _ Verifier = (*SecretVerifier)(nil)

// NewSecretVerifier returns a verifier expecting secret (the [LocalConfig.Secret]).
func NewSecretVerifier(secret string) (*SecretVerifier, error) {
	if secret == "" {
		return nil, errors.New("tasks: secret verifier needs a shared secret")
	}
	return &SecretVerifier{sum: sha256.Sum256([]byte(secret))}, nil
}

// Verify compares r's [SecretHeader] with the secret in constant time (hashes of equal
// length are compared, so not even the secret's length leaks).
func (v *SecretVerifier) Verify(r *http.Request) error {
	got := r.Header.Get(SecretHeader)
	if got == "" {
		return fmt.Errorf("%w: no %s header", ErrUnauthenticated, SecretHeader)
	}
	sum := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(sum[:], v.sum[:]) != 1 {
		return fmt.Errorf("%w: wrong task secret", ErrUnauthenticated)
	}
	return nil
}

// platformVerifiedClaims decodes the claims of a token whose signature Cloud Run checked
// and removed, and checks what the validator would have: audience and expiry (issuer and
// email are checked by the caller).
func platformVerifiedClaims(token, audience string, now time.Time) (*idtoken.Payload, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: malformed token payload", ErrUnauthenticated)
	}
	var p idtoken.Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: malformed token payload", ErrUnauthenticated)
	}
	if err := json.Unmarshal(raw, &p.Claims); err != nil {
		return nil, fmt.Errorf("%w: malformed token payload", ErrUnauthenticated)
	}
	if p.Audience != audience {
		return nil, fmt.Errorf("%w: audience provided does not match aud claim in the JWT", ErrUnauthenticated)
	}
	if now.Unix() > p.Expires {
		return nil, fmt.Errorf("%w: token expired", ErrUnauthenticated)
	}
	return &p, nil
}
