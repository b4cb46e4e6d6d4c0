package config

import (
	"errors"
	"fmt"
	"strings"
)

// Errors wrapped by the problems [Load] reports; test for them with errors.Is.
var (
	// ErrRequired: a required variable is not set.
	ErrRequired = errors.New("required")
	// ErrInvalidTier: MEDI_ENV is not dev, staging or prod.
	ErrInvalidTier = errors.New("must be one of dev, staging, prod")
	// ErrEmulatorHost: a *_EMULATOR_HOST variable is set in staging or prod.
	ErrEmulatorHost = errors.New("emulator host must not be set")
	// ErrNoSecretResolver: a variable holds a secret reference that cannot be resolved
	// because no resolver is configured (in dev, unless WithResolver is given).
	ErrNoSecretResolver = errors.New("secret reference but no secret resolver configured")
)

// Error is every problem [Load] found, in the order of the struct's fields followed by
// environment checks and Validate's problems. Problems about one variable are
// *[VarError]s.
type Error struct {
	Problems []error
}

// Error lists the problems on one line: "config: A: required; B: must be ...".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *Error) Unwrap() []error { return e.Problems }

// VarError is a problem with one environment variable. Var is the variable's name, or
// the Go field path when the field has no variable name.
type VarError struct {
	Var string
	Err error
}

// Error returns "VAR: problem".
func (e *VarError) Error() string { return e.Var + ": " + e.Err.Error() }

// Unwrap returns the problem.
func (e *VarError) Unwrap() error { return e.Err }

// Invalid returns a *[VarError] for variable name, its message formatted as by
// fmt.Errorf. Validate methods use it so that their problems name the variable:
//
//	if c.MaxUploadBytes <= 0 {
//		errs = append(errs, config.Invalid("SCRIBE_MAX_UPLOAD_BYTES", "must be positive"))
//	}
//	return errors.Join(errs...)
//
// Never put a secret value into the message.
func Invalid(name, format string, args ...any) error {
	return &VarError{Var: name, Err: fmt.Errorf(format, args...)}
}
