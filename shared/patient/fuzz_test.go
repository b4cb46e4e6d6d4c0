package patient

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/httpx"
)

// fuzzNow is the clock of the fuzz targets, fixed so that a crasher replays.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// bindFuzz decodes body into dst as the patients function does (httpx.Bind). It reports
// false when the binder refused the body (its answers are FuzzBind's business, but
// they must be 4xx).
func bindFuzz(t *testing.T, body []byte, dst any) bool {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if err := httpx.Bind(httptest.NewRecorder(), r, dst, 0); err != nil {
		if s := httpx.AsError(err).Status; s < 400 || s > 499 {
			t.Fatalf("binder answered %d", s)
		}
		return false
	}
	return true
}

// requireValidationError fails t unless err lists invalid fields, each named, and the
// message of each field in names does not quote that field's value. (Names are refused
// only when blank, too long or carrying control characters, so an invalid name cannot
// be a word of a fixed message by chance; a short invalid date or phone number can.)
func requireValidationError(t *testing.T, err error, names map[string]string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		t.Fatalf("error %v is not a ValidationError with fields", err)
	}
	for _, f := range ve.Fields {
		if f.Field == "" || f.Message == "" {
			t.Fatalf("field error %+v lacks a field or message", f)
		}
		if v := strings.TrimSpace(names[f.Field]); len(v) >= 4 && strings.Contains(f.Message, v) {
			t.Fatalf("message of %s quotes the value: %q", f.Field, f.Message)
		}
	}
}

// requireCleanText fails t unless an accepted free-text value is trimmed, UTF-8, free of
// control and text-direction control characters and at most maxRunes long.
func requireCleanText(t *testing.T, field, v string, maxRunes int) {
	t.Helper()
	switch {
	case v != strings.TrimSpace(v):
		t.Fatalf("%s accepted untrimmed", field)
	case !utf8.ValidString(v):
		t.Fatalf("%s accepted invalid UTF-8", field)
	case utf8.RuneCountInString(v) > maxRunes:
		t.Fatalf("%s accepted with %d characters", field, utf8.RuneCountInString(v))
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }):
		t.Fatalf("%s accepted with a control character: %q", field, v)
	}
}

// requireCleanPatient checks the fields of an accepted patient.
func requireCleanPatient(t *testing.T, p Patient) {
	t.Helper()
	requireCleanText(t, "givenName", p.GivenName, MaxNameLength)
	requireCleanText(t, "familyName", p.FamilyName, MaxNameLength)
	requireCleanText(t, "phone", p.Phone, MaxPhoneLength)
	if p.GivenName == "" || p.FamilyName == "" {
		t.Fatal("accepted without a name")
	}
	if !isDate(p.BirthDate) || p.BirthDate < EarliestBirthDate || p.BirthDate > latestToday(fuzzNow) {
		t.Fatalf("accepted birth date %q", p.BirthDate)
	}
	if !p.Sex.Valid() {
		t.Fatalf("accepted sex %q", p.Sex)
	}
	if len(p.Allergies) > MaxListItems || len(p.Medications) > MaxListItems || len(p.Problems) > MaxListItems {
		t.Fatal("accepted a list over the limit")
	}
	for _, a := range p.Allergies {
		requireCleanText(t, "allergies.substance", a.Substance, MaxShortTextLength)
	}
	for _, m := range p.Medications {
		requireCleanText(t, "medications.name", m.Name, MaxShortTextLength)
	}
	for _, pr := range p.Problems {
		requireCleanText(t, "problems.description", pr.Description, MaxProblemLength)
	}
}

// FuzzRegistration decodes POST /v1/patients bodies and validates them: a refusal lists
// the invalid fields without quoting the names; an accepted registration is clean
// (trimmed, bounded, no control or direction-override characters) and validating the
// cleaned registration again gives the same patient.
func FuzzRegistration(f *testing.F) {
	f.Add([]byte(`{"givenName":"José","familyName":"Núñez","birthDate":"1980-02-29","sex":"male","mrn":"A-1"}`))
	f.Add([]byte(`{"givenName":" Ana ","familyName":"Lee","birthDate":"2026-03-02","sex":"female","phone":"+44 20 7946 0000",` +
		`"address":{"line1":"1 High St","city":"London","country":"GB"},"allergies":[{"substance":"penicillin","severity":"severe"}],` +
		`"medications":[{"name":"aspirin","dose":"75 mg"}],"problems":[{"description":"asthma","onset":"2001"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var reg Registration
		if !bindFuzz(t, body, &reg) {
			return
		}
		p, err := reg.validate(fuzzNow)
		if err != nil {
			requireValidationError(t, err, map[string]string{"givenName": reg.GivenName, "familyName": reg.FamilyName})
			return
		}
		requireCleanPatient(t, p)
		again, err := Registration{
			GivenName: p.GivenName, FamilyName: p.FamilyName, BirthDate: p.BirthDate, Sex: p.Sex, Phone: p.Phone,
			Address: p.Address, MRN: p.MRN, Allergies: p.Allergies, Medications: p.Medications, Problems: p.Problems,
		}.validate(fuzzNow)
		if err != nil {
			t.Fatalf("the cleaned registration is invalid: %v", err)
		}
		if diff := cmp.Diff(p, again); diff != "" {
			t.Fatalf("validation is not idempotent (-first +second):\n%s", diff)
		}
	})
}

// FuzzCriteria decodes POST /v1/patients/search bodies and validates them: a refusal
// lists named fields; accepted criteria have at least one criterion,
// a page size 1..MaxPageSize and a name prefix of at most MaxNameQueryLength characters.
func FuzzCriteria(f *testing.F) {
	f.Add([]byte(`{"name":"nunez jo","birthDate":"1980-02-29","pageSize":10}`))
	f.Add([]byte(`{"mrn":"a-1"}`))
	f.Add([]byte(`{"name":"x","pageToken":"AAAA"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var c Criteria
		if !bindFuzz(t, body, &c) {
			return
		}
		q, err := c.validate()
		if err != nil {
			requireValidationError(t, err, nil)
			return
		}
		if q.mrnKey == "" && q.prefix == "" && q.birthDate == "" {
			t.Fatal("accepted criteria with no criterion")
		}
		if q.limit < 1 || q.limit > MaxPageSize {
			t.Fatalf("page size %d", q.limit)
		}
		if utf8.RuneCountInString(c.Name) > MaxNameQueryLength || !utf8.ValidString(q.prefix) {
			t.Fatalf("accepted name of %d characters", utf8.RuneCountInString(c.Name))
		}
		if q.birthDate != "" && !isDate(q.birthDate) {
			t.Fatalf("accepted birth date %q", q.birthDate)
		}
		if c.PageToken == "" && q.after != nil {
			t.Fatal("a cursor without a page token")
		}
	})
}

// FuzzPatch decodes PATCH /v1/patients/{id} bodies (JSON merge patch) as the patients
// function does: the binder, then ParsePatch. A refusal lists named fields; an accepted patch names only known members and its cleaned values are clean.
func FuzzPatch(f *testing.F) {
	f.Add([]byte(`{"givenName":"Ana","phone":null,"address":{"line1":"1 High St","city":"London","country":"GB"}}`))
	f.Add([]byte(`{"allergies":[],"mrn":"B-2","birthDate":"1970-01-01"}`))
	f.Add([]byte(`{"givenName":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var raw json.RawMessage
		if !bindFuzz(t, body, &raw) {
			return
		}
		p, err := ParsePatch(raw)
		if err != nil {
			requireValidationError(t, err, nil)
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			t.Fatalf("accepted a patch that is not an object: %v", err)
		}
		known := map[string]bool{"givenName": true, "familyName": true, "birthDate": true, "sex": true, "mrn": true,
			"phone": true, "address": true, "allergies": true, "medications": true, "problems": true}
		for k := range members {
			if !known[k] {
				t.Fatalf("accepted unknown member %q", k)
			}
		}
		// ParsePatch validates against the wall clock; so does this check.
		clean, err := p.validate(time.Now())
		if err != nil {
			t.Fatalf("ParsePatch accepted a patch that validate refuses: %v", err)
		}
		if clean.GivenName.Set {
			requireCleanText(t, "givenName", clean.GivenName.Value, MaxNameLength)
		}
		if clean.FamilyName.Set {
			requireCleanText(t, "familyName", clean.FamilyName.Value, MaxNameLength)
		}
		if clean.Phone.Set {
			requireCleanText(t, "phone", clean.Phone.Value, MaxPhoneLength)
		}
	})
}
