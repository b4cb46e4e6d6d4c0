package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// redacted replaces a non-empty secret wherever it would be printed.
const redacted = "[redacted]"

// Secret is a string that must not be printed: a password, API key or signing key. It
// formats (fmt, every verb), logs (slog) and marshals (JSON, text) as "[redacted]", or as
// "" when empty, so that an unset secret can still be told from a set one. Use
// [Secret.Reveal] where the value is really needed. (Only as a map key, which encoding/json
// writes without asking the type, would it show; do not key maps by secrets.)
//
// Load resolves secret:// references into Secret fields like any string field.
type Secret string

// Reveal returns the secret value. Pass it only to the client that needs it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) shown() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String returns "[redacted]" (or "" when empty).
func (s Secret) String() string { return s.shown() }

// GoString returns the redacted form quoted, for %#v.
func (s Secret) GoString() string { return `config.Secret("` + s.shown() + `")` }

// Format implements fmt.Formatter so that no verb (%d, %x, ...) prints the value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(s.shown()))
	default:
		_, _ = io.WriteString(f, s.shown())
	}
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.shown()) }

// MarshalText encodes the redacted form (used by encoding/json map keys, YAML and others).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }
