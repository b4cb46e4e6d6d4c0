package encounter_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
)

// FuzzCheckIn decodes POST /v1/encounters bodies with the binder, then normalizes and
// validates them as Store.CheckIn does. Field errors name known fields and never quote
// the complaint; an accepted check-in has a valid patient id, a chief complaint of 1 to
// MaxChiefComplaintLength characters without control characters other than line
// breaks and tabs, and a defined arrival mode; normalizing again changes nothing.
func FuzzCheckIn(f *testing.F) {
	f.Add([]byte(`{"patientId":"p-123","chiefComplaint":"chest pain for 2 hours","arrivalMode":"ambulance"}`))
	f.Add([]byte(`{"patientId":" p_1 ","chiefComplaint":"  fever\n\tcough  ","arrivalMode":"walk_in"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/encounters", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var in encounter.CheckIn
		if err := httpx.Bind(httptest.NewRecorder(), r, &in, 0); err != nil {
			if s := httpx.AsError(err).Status; s < 400 || s > 499 {
				t.Fatalf("binder answered %d", s)
			}
			return
		}
		c := in.Normalize()
		errs := c.Validate()
		for _, e := range errs {
			switch e.Field {
			case "patientId", "chiefComplaint", "arrivalMode":
			default:
				t.Fatalf("field error names %q", e.Field)
			}
			// The complaint is the free text that could be patient data. (Ids and the
			// arrival mode are not checked: a short invalid one can be a word of the
			// fixed message, e.g. "ance" of "ambulance".)
			if e.Field == "chiefComplaint" && len(c.ChiefComplaint) >= 4 && strings.Contains(e.Message, c.ChiefComplaint) {
				t.Fatalf("message of %s quotes the value", e.Field)
			}
		}
		if len(errs) > 0 {
			return
		}
		if !docid.Valid(c.PatientID) {
			t.Fatalf("accepted patient id %q", c.PatientID)
		}
		if n := utf8.RuneCountInString(c.ChiefComplaint); n == 0 || n > encounter.MaxChiefComplaintLength || !utf8.ValidString(c.ChiefComplaint) {
			t.Fatalf("accepted a complaint of %d characters", n)
		}
		if strings.ContainsFunc(c.ChiefComplaint, func(r rune) bool { return unicode.IsControl(r) && !strings.ContainsRune("\n\r\t", r) }) {
			t.Fatalf("accepted a complaint with control characters: %q", c.ChiefComplaint)
		}
		if !c.ArrivalMode.Valid() {
			t.Fatalf("accepted arrival mode %q", c.ArrivalMode)
		}
		if c.Normalize() != c {
			t.Fatal("Normalize is not idempotent")
		}
	})
}
