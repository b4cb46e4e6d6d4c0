package httpx

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/medi-os/medi/shared/apierr"
)

// Conditional writes. The suite's resources carry a version; a read answers it as a strong
// entity tag, ETag: "<version>", and a write based on that read names it in If-Match. One
// rule for every conditional write (RFC 9110, section 13.1.1, which makes If-Match use the
// strong comparison):
//
//   - If-Match: "<version>" (one strong entity tag, as sent in ETag): the write applies
//     only to that version; a stale one is 412 failed_precondition (the store's answer).
//   - A weak tag, W/"<version>": never matches under strong comparison: 412
//     failed_precondition, whatever the current version.
//   - No If-Match: where the route requires a precondition, 428 precondition_required;
//     elsewhere the write is unconditional.
//   - If-Match: * ("any current version"): unconditional where the route allows that, 400
//     where it requires a version.
//   - Anything else (a list, the header repeated, an unquoted or non-numeric tag): 400
//     invalid_argument on the field If-Match.

// ETag is the strong entity tag of version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// IfMatch reads the version a conditional write is based on. ok is false when the write
// is unconditional (no header, or * where required is false). required says whether the
// route requires a version.
func IfMatch(r *http.Request, required bool) (version int64, ok bool, err *Error) {
	field := func(msg string) *Error {
		return InvalidFields([]apierr.FieldError{{Field: "If-Match", Message: msg}})
	}
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		if required {
			return 0, false, NewError(http.StatusPreconditionRequired, CodePreconditionRequired,
				`If-Match is required: send the ETag of the version you read, e.g. If-Match: "3"`)
		}
		return 0, false, nil
	}
	v := strings.TrimSpace(values[0])
	if len(values) > 1 || strings.Contains(v, ",") {
		return 0, false, field("must name exactly one version")
	}
	if v == "*" {
		if required {
			return 0, false, field("must name exactly one version")
		}
		return 0, false, nil
	}
	weak := false
	if rest, ok := strings.CutPrefix(v, "W/"); ok {
		weak, v = true, rest
	}
	inner, quoted := strings.CutPrefix(v, `"`)
	if quoted {
		inner, quoted = strings.CutSuffix(inner, `"`)
	}
	n, perr := strconv.ParseInt(inner, 10, 64)
	if !quoted || perr != nil || n < 1 || strconv.FormatInt(n, 10) != inner {
		return 0, false, field(`must be a version's ETag, e.g. "3"`)
	}
	if weak {
		return 0, false, PreconditionFailed("If-Match compares strongly: a weak entity tag never matches; send the ETag as received")
	}
	return n, true, nil
}
