package patients

import (
	"errors"
	"net/http"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/patient"
)

// Reasons in error details, so that a client can act without parsing messages.
const (
	reasonDuplicateMRN = "duplicate_mrn"
)

// writeError answers err, mapping the patient package's errors to API errors. No
// message carries patient data.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, apiError(err))
}

func apiError(err error) *httpx.Error {
	var (
		invalid   *patient.ValidationError
		duplicate *patient.DuplicateMRNError
		stale     *patient.VersionConflictError
		httpErr   *httpx.Error
		domainErr *apierr.Error
	)
	switch {
	case errors.As(err, &httpErr):
		return httpErr
	case errors.As(err, &domainErr):
		return httpx.FromAPI(domainErr)
	case errors.As(err, &invalid):
		return httpx.InvalidFields(invalid.Fields)
	case errors.Is(err, patient.ErrNotFound):
		return httpx.NotFound("patient not found")
	case errors.As(err, &duplicate):
		return httpx.Conflict("another patient of this clinic has this MRN").
			WithDetails(map[string]string{"reason": reasonDuplicateMRN, "patientId": duplicate.PatientID})
	case errors.As(err, &stale):
		return httpx.FromAPI(apierr.Stale(stale.Current, "the patient has changed since version %d; read it again and reapply the change", stale.Expected)).
			WithHeader("ETag", etag(stale.Current))
	case errors.Is(err, patient.ErrAudit), httpx.Transient(err):
		return httpx.Unavailable(2, err)
	}
	return httpx.Internal(err)
}

// etag is the entity tag of a patient version: the version number, quoted.
func etag(version int64) string { return httpx.ETag(version) }
