package patient

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a patient record.
const (
	MaxNameLength        = 100
	MaxPhoneLength       = 32
	MaxAddressLineLength = 200
	MaxCityLength        = 100
	MaxPostalCodeLength  = 16
	MaxMRNLength         = 32
	MaxListItems         = 100
	MaxShortTextLength   = 200 // substance, reaction, medication name
	MaxDosingTextLength  = 100 // dose, route, frequency
	MaxProblemLength     = 500
	MaxCodeLength        = 32
)

// EarliestBirthDate is the earliest birth date accepted.
const EarliestBirthDate = "1900-01-01"

var (
	mrnPattern        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	countryPattern    = regexp.MustCompile(`^[A-Z]{2}$`)
	postalCodePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 -]*$`)
	codePattern       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.:-]*$`)
	phonePattern      = regexp.MustCompile(`^\+?[0-9 ().-]+$`)
)

// latestToday returns today's date where it is latest (UTC+14), so that a baby born
// today anywhere on Earth can be registered.
func latestToday(now time.Time) string {
	return now.UTC().Add(14 * time.Hour).Format(time.DateOnly)
}

// text trims s and checks it: required or not, at most max characters, no control
// characters. It returns the trimmed value and a problem ("" when valid).
func text(s string, maxLen int, required bool) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return s, "is required"
	case utf8.RuneCountInString(s) > maxLen:
		return s, fmt.Sprintf("must be at most %d characters", maxLen)
	case strings.ContainsFunc(s, unicode.IsControl):
		return s, "must not contain control characters or line breaks"
	case strings.ContainsFunc(s, isBidiControl):
		return s, "must not contain text-direction control characters"
	}
	return s, ""
}

// isBidiControl reports whether r reorders the text around it when displayed (e.g.
// U+202E RIGHT-TO-LEFT OVERRIDE): in a record such a character can make one name or
// code display as another.
func isBidiControl(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }

func checkName(field, v string, f *fieldErrors) string {
	v, msg := text(v, MaxNameLength, true)
	if msg == "" && Fold(v) == "" {
		msg = "must contain a letter or digit"
	}
	if msg != "" {
		f.add(field, msg)
	}
	return v
}

func checkBirthDate(v string, now time.Time, f *fieldErrors) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		f.add("birthDate", "is required")
	case !isDate(v):
		f.add("birthDate", "must be a date YYYY-MM-DD")
	case v < EarliestBirthDate:
		f.add("birthDate", "must not be before "+EarliestBirthDate)
	case v > latestToday(now):
		f.add("birthDate", "must not be in the future")
	}
	return v
}

// isDate reports whether v is a valid calendar date in the form YYYY-MM-DD.
func isDate(v string) bool {
	if len(v) != len(time.DateOnly) {
		return false
	}
	_, err := time.Parse(time.DateOnly, v)
	return err == nil
}

func checkSex(v Sex, f *fieldErrors) Sex {
	v = Sex(strings.TrimSpace(string(v)))
	switch {
	case v == "":
		f.add("sex", "is required")
	case !v.Valid():
		f.add("sex", "must be one of female, male, other, unknown")
	}
	return v
}

func checkPhone(v string, f *fieldErrors) string {
	v, msg := text(v, MaxPhoneLength, false)
	if msg == "" && v != "" {
		digits := 0
		for _, r := range v {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if !phonePattern.MatchString(v) || digits < 5 || digits > 15 {
			msg = "must be a phone number: 5 to 15 digits, optionally a leading + and spaces, dots, dashes or parentheses"
		}
	}
	if msg != "" {
		f.add("phone", msg)
	}
	return v
}

// CheckMRN validates a client-supplied MRN and returns it trimmed; problem is "" when
// it is valid.
func CheckMRN(v string) (mrn, problem string) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return v, "must not be empty"
	case len(v) > MaxMRNLength:
		return v, fmt.Sprintf("must be at most %d characters", MaxMRNLength)
	case !mrnPattern.MatchString(v):
		return v, "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"
	}
	return v, ""
}

func checkAddress(a *Address, f *fieldErrors) *Address {
	if a == nil {
		return nil
	}
	out := *a
	var msg string
	if out.Line1, msg = text(a.Line1, MaxAddressLineLength, true); msg != "" {
		f.add("address.line1", msg)
	}
	if out.Line2, msg = text(a.Line2, MaxAddressLineLength, false); msg != "" {
		f.add("address.line2", msg)
	}
	if out.City, msg = text(a.City, MaxCityLength, true); msg != "" {
		f.add("address.city", msg)
	}
	out.PostalCode, msg = text(a.PostalCode, MaxPostalCodeLength, false)
	if msg == "" && out.PostalCode != "" && !postalCodePattern.MatchString(out.PostalCode) {
		msg = "must contain only letters, digits, spaces and '-'"
	}
	if msg != "" {
		f.add("address.postalCode", msg)
	}
	out.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	switch {
	case out.Country == "":
		f.add("address.country", "is required")
	case !countryPattern.MatchString(out.Country):
		f.add("address.country", "must be an ISO 3166-1 alpha-2 code such as GB or DE")
	}
	return &out
}

func checkListSize(field string, n int, f *fieldErrors) bool {
	if n > MaxListItems {
		f.add(field, fmt.Sprintf("must have at most %d entries", MaxListItems))
		return false
	}
	return true
}

func checkAllergies(list []Allergy, f *fieldErrors) []Allergy {
	out := make([]Allergy, 0, len(list))
	if !checkListSize("allergies", len(list), f) {
		return out
	}
	for i, a := range list {
		p := fmt.Sprintf("allergies[%d].", i)
		var msg string
		if a.Substance, msg = text(a.Substance, MaxShortTextLength, true); msg != "" {
			f.add(p+"substance", msg)
		}
		if a.Reaction, msg = text(a.Reaction, MaxShortTextLength, false); msg != "" {
			f.add(p+"reaction", msg)
		}
		a.Severity = Severity(strings.TrimSpace(string(a.Severity)))
		if !a.Severity.Valid() {
			f.add(p+"severity", "must be one of mild, moderate, severe (or absent when not known)")
		}
		out = append(out, a)
	}
	return out
}

func checkMedications(list []Medication, f *fieldErrors) []Medication {
	out := make([]Medication, 0, len(list))
	if !checkListSize("medications", len(list), f) {
		return out
	}
	for i, m := range list {
		p := fmt.Sprintf("medications[%d].", i)
		var msg string
		if m.Name, msg = text(m.Name, MaxShortTextLength, true); msg != "" {
			f.add(p+"name", msg)
		}
		if m.Dose, msg = text(m.Dose, MaxDosingTextLength, false); msg != "" {
			f.add(p+"dose", msg)
		}
		if m.Route, msg = text(m.Route, MaxDosingTextLength, false); msg != "" {
			f.add(p+"route", msg)
		}
		if m.Frequency, msg = text(m.Frequency, MaxDosingTextLength, false); msg != "" {
			f.add(p+"frequency", msg)
		}
		out = append(out, m)
	}
	return out
}

func checkProblems(list []Problem, now time.Time, f *fieldErrors) []Problem {
	out := make([]Problem, 0, len(list))
	if !checkListSize("problems", len(list), f) {
		return out
	}
	for i, pr := range list {
		p := fmt.Sprintf("problems[%d].", i)
		var msg string
		if pr.Description, msg = text(pr.Description, MaxProblemLength, true); msg != "" {
			f.add(p+"description", msg)
		}
		pr.Code, msg = text(pr.Code, MaxCodeLength, false)
		if msg == "" && pr.Code != "" && !codePattern.MatchString(pr.Code) {
			msg = "must contain only letters, digits, '.', ':' and '-'"
		}
		if msg != "" {
			f.add(p+"code", msg)
		}
		pr.Onset = strings.TrimSpace(pr.Onset)
		if pr.Onset != "" {
			switch {
			case !isPartialDate(pr.Onset):
				f.add(p+"onset", "must be a date YYYY, YYYY-MM or YYYY-MM-DD")
			case pr.Onset < EarliestBirthDate[:len(pr.Onset)]:
				f.add(p+"onset", "must not be before 1900")
			case pr.Onset > latestToday(now)[:len(pr.Onset)]:
				f.add(p+"onset", "must not be in the future")
			}
		}
		out = append(out, pr)
	}
	return out
}

// isPartialDate reports whether v is YYYY, YYYY-MM or YYYY-MM-DD and a valid date.
func isPartialDate(v string) bool {
	switch len(v) {
	case 4:
		_, err := time.Parse("2006", v)
		return err == nil
	case 7:
		_, err := time.Parse("2006-01", v)
		return err == nil
	case 10:
		return isDate(v)
	}
	return false
}

// validate checks every field of r, reporting all problems at once, and returns the
// cleaned (trimmed, normalized) patient fields.
func (r Registration) validate(now time.Time) (Patient, error) {
	var f fieldErrors
	p := Patient{
		GivenName:  checkName("givenName", r.GivenName, &f),
		FamilyName: checkName("familyName", r.FamilyName, &f),
		BirthDate:  checkBirthDate(r.BirthDate, now, &f),
		Sex:        checkSex(r.Sex, &f),
		Phone:      checkPhone(r.Phone, &f),
		Address:    checkAddress(r.Address, &f),
	}
	if r.MRN != "" {
		var msg string
		if p.MRN, msg = CheckMRN(r.MRN); msg != "" {
			f.add("mrn", msg)
		}
	}
	p.Allergies = checkAllergies(r.Allergies, &f)
	p.Medications = checkMedications(r.Medications, &f)
	p.Problems = checkProblems(r.Problems, now, &f)
	return p, f.err()
}
