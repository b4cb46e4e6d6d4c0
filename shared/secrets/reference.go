// Package secrets resolves secret references in configuration values.
//
// A value of the form
//
//	secret://projects/PROJECT/secrets/SECRET/versions/VERSION
//
// (VERSION a version number or "latest") is replaced by the payload of that Secret Manager
// secret version; any other value is returned unchanged. Resolved values are cached for a
// while so that a function reading its configuration on every cold start does not call
// Secret Manager more than it must. Terraform pins the versions it deploys; "latest" is
// accepted and re-read when its cache entry expires.
//
// Errors name the reference, never a secret value.
package secrets

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Scheme is the prefix that marks a configuration value as a secret reference.
const Scheme = "secret://"

// ErrMalformedReference is wrapped by the error returned for a value that starts with
// [Scheme] but does not name a secret version.
var ErrMalformedReference = errors.New("malformed secret reference")

var (
	// Project ids (lowercase letters, digits, hyphens; optionally domain-scoped as in
	// "example.com:project") or project numbers.
	projectRE = regexp.MustCompile(`^(?:[a-z][a-z0-9.:-]*[a-z0-9]|[0-9]+)$`)
	// Secret ids as Secret Manager allows them.
	secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	// A version number or the "latest" alias.
	versionRE = regexp.MustCompile(`^(?:latest|[1-9][0-9]*)$`)
)

// Reference names one secret version in Secret Manager.
type Reference struct {
	Project string // project id or number
	Secret  string // secret id
	Version string // version number or "latest"
}

// IsReference reports whether value is meant as a secret reference (starts with [Scheme]).
// It does not check that the reference is well formed; [ParseReference] does.
func IsReference(value string) bool {
	return strings.HasPrefix(value, Scheme)
}

// ParseReference parses a secret reference of the form
// secret://projects/PROJECT/secrets/SECRET/versions/VERSION. The error for a malformed
// reference wraps [ErrMalformedReference] and quotes the reference.
func ParseReference(value string) (Reference, error) {
	malformed := func(why string) (Reference, error) {
		return Reference{}, fmt.Errorf("secrets: %w %q: %s; want %sprojects/PROJECT/secrets/SECRET/versions/VERSION with VERSION a number or \"latest\"",
			ErrMalformedReference, value, why, Scheme)
	}
	name, ok := strings.CutPrefix(value, Scheme)
	if !ok {
		return malformed("missing " + Scheme + " prefix")
	}
	parts := strings.Split(name, "/")
	if len(parts) != 6 || parts[0] != "projects" || parts[2] != "secrets" || parts[4] != "versions" {
		return malformed("wrong shape")
	}
	ref := Reference{Project: parts[1], Secret: parts[3], Version: parts[5]}
	switch {
	case !projectRE.MatchString(ref.Project):
		return malformed("invalid project")
	case !secretRE.MatchString(ref.Secret):
		return malformed("invalid secret id")
	case !versionRE.MatchString(ref.Version):
		return malformed("invalid version")
	}
	return ref, nil
}

// Name returns the Secret Manager resource name of the version,
// projects/PROJECT/secrets/SECRET/versions/VERSION.
func (r Reference) Name() string {
	return "projects/" + r.Project + "/secrets/" + r.Secret + "/versions/" + r.Version
}

// String returns the reference in its configuration form, secret://projects/....
func (r Reference) String() string {
	return Scheme + r.Name()
}
