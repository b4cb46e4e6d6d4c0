package breakglass_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/httpx"
)

// reservedID matches the document ids Firestore reserves.
var reservedID = regexp.MustCompile(`^__.*__$`)

// usableDocID reports whether id can name a Firestore document: UTF-8, 1 to 1500 bytes,
// no '/', not "." or "..", not __reserved__.
func usableDocID(id string) bool {
	return id != "" && len(id) <= 1500 && utf8.ValidString(id) && !strings.Contains(id, "/") &&
		id != "." && id != ".." && !reservedID.MatchString(id)
}

// FuzzBreakGlassRequest decodes POST /v1/access/break-glass bodies and validates them:
// errors name known fields; an accepted request names a patient (and optionally a
// clinic) by an id that can be a Firestore document id, so that the store never meets
// an id Firestore refuses (which would be a 500), and a reason of 10 to 500 characters.
func FuzzBreakGlassRequest(f *testing.F) {
	f.Add([]byte(`{"patientId":"p-1","reason":"unconscious patient transferred from clinic B"}`))
	f.Add([]byte(`{"patientId":"..","reason":"emergency consult","clinicId":"__x__"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/access/break-glass", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var in breakglass.Request
		if err := httpx.Bind(httptest.NewRecorder(), r, &in, 64<<10); err != nil {
			if s := httpx.AsError(err).Status; s < 400 || s > 499 {
				t.Fatalf("binder answered %d", s)
			}
			return
		}
		errs := in.Validate()
		for _, e := range errs {
			if e.Field != "patientId" && e.Field != "reason" && e.Field != "clinicId" {
				t.Fatalf("field error names %q", e.Field)
			}
			// A reason of 10 characters or more is refused only when too long, so it
			// cannot be a word of the fixed message by chance.
			if e.Field == "reason" && len(in.Reason) >= 10 && strings.Contains(e.Message, in.Reason) {
				t.Fatal("message quotes the reason")
			}
		}
		if len(errs) > 0 {
			return
		}
		if !usableDocID(in.PatientID) {
			t.Fatalf("accepted patient id %q", in.PatientID)
		}
		if in.ClinicID != "" && !usableDocID(in.ClinicID) {
			t.Fatalf("accepted clinic id %q", in.ClinicID)
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(in.Reason)); n < 10 || n > 500 {
			t.Fatalf("accepted a reason of %d characters", n)
		}
	})
}
