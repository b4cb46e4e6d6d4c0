package events

import "errors"

// ErrPermanent marks a failure that retrying cannot fix (malformed event, unknown schema
// version, a referenced document that will never exist). Handle logs such errors at ERROR
// and acknowledges the event instead of asking for a retry. Test with errors.Is.
var ErrPermanent = errors.New("permanent failure")

// permanentError keeps the message of the wrapped error and matches both it and
// ErrPermanent in errors.Is / errors.As.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// Permanent marks err as permanent (see ErrPermanent) without changing its message.
// Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, is marked permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }
