package patient

import (
	"errors"
	"fmt"

	"github.com/medi-os/medi/shared/apierr"
)

// ErrNotFound is returned for a patient that does not exist in the clinic (including a
// patient of another clinic, and ids that cannot be document ids).
var ErrNotFound = errors.New("patient not found")

// ErrAudit wraps a failure to store the audit record of a read: the data was not
// returned (fail closed). The caller should answer "unavailable, retry".
var ErrAudit = errors.New("patient: audit record could not be written")

// ValidationError lists every invalid field of a request. Messages name the rule
// broken, never the value given.
type ValidationError struct {
	Fields []apierr.FieldError
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("patient: %d invalid field(s)", len(e.Fields))
}

// DuplicateMRNError is returned when the MRN is already another patient's in the clinic.
type DuplicateMRNError struct {
	// PatientID is the patient that has the MRN.
	PatientID string
}

func (e *DuplicateMRNError) Error() string {
	return "patient: MRN already in use by patient " + e.PatientID
}

// VersionConflictError is returned when an update was based on a version that is no
// longer current.
type VersionConflictError struct {
	Expected, Current int64
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("patient: version %d is stale; current version is %d", e.Expected, e.Current)
}

// fieldErrors collects field errors in order.
type fieldErrors []apierr.FieldError

func (f *fieldErrors) add(field, message string) {
	*f = append(*f, apierr.FieldError{Field: field, Message: message})
}

// err returns a *ValidationError, or nil when nothing was added.
func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

func invalidField(field, message string) error {
	return &ValidationError{Fields: []apierr.FieldError{{Field: field, Message: message}}}
}
