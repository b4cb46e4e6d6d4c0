package patient

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medi-os/medi/shared/apierr"
)

var fixedNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func validRegistration() Registration {
	return Registration{
		GivenName: "José", FamilyName: "Núñez", BirthDate: "1972-03-04", Sex: SexMale,
		Phone:       "+44 20 7946 0958",
		Address:     &Address{Line1: "1 High Street", City: "London", PostalCode: "SW1A 1AA", Country: "GB"},
		Allergies:   []Allergy{{Substance: "Penicillin", Reaction: "Hives", Severity: SeverityModerate}},
		Medications: []Medication{{Name: "Metformin", Dose: "500 mg", Route: "oral", Frequency: "twice daily"}},
		Problems:    []Problem{{Description: "Type 2 diabetes", Code: "E11.9", Onset: "2015-06"}},
	}
}

func fieldsOf(t *testing.T, err error) []apierr.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	return ve.Fields
}

func TestRegistrationValidate(t *testing.T) {
	t.Parallel()
	fe := func(field, msg string) apierr.FieldError { return apierr.FieldError{Field: field, Message: msg} }
	for _, tc := range []struct {
		name   string
		change func(*Registration)
		want   []apierr.FieldError
	}{
		{"valid", func(*Registration) {}, nil},
		{"minimal", func(r *Registration) {
			r.Phone, r.Address, r.Allergies, r.Medications, r.Problems = "", nil, nil, nil, nil
		}, nil},
		{"born today in the earliest time zone", func(r *Registration) { r.BirthDate = "2026-03-11" }, nil},
		{"born 1900-01-01", func(r *Registration) { r.BirthDate = "1900-01-01" }, nil},
		{"every required field missing", func(r *Registration) { *r = Registration{} }, []apierr.FieldError{
			fe("givenName", "is required"), fe("familyName", "is required"),
			fe("birthDate", "is required"), fe("sex", "is required"),
		}},
		{"blank names", func(r *Registration) { r.GivenName, r.FamilyName = "   ", "--" }, []apierr.FieldError{
			fe("givenName", "is required"), fe("familyName", "must contain a letter or digit"),
		}},
		{"name too long", func(r *Registration) { r.GivenName = strings.Repeat("é", MaxNameLength+1) }, []apierr.FieldError{
			fe("givenName", "must be at most 100 characters"),
		}},
		{"name with line break", func(r *Registration) { r.FamilyName = "Nu\nnez" }, []apierr.FieldError{
			fe("familyName", "must not contain control characters or line breaks"),
		}},
		{"birth date in the future", func(r *Registration) { r.BirthDate = "2026-03-12" }, []apierr.FieldError{
			fe("birthDate", "must not be in the future"),
		}},
		{"birth date before 1900", func(r *Registration) { r.BirthDate = "1899-12-31" }, []apierr.FieldError{
			fe("birthDate", "must not be before 1900-01-01"),
		}},
		{"birth date malformed", func(r *Registration) { r.BirthDate = "1972-3-4" }, []apierr.FieldError{
			fe("birthDate", "must be a date YYYY-MM-DD"),
		}},
		{"birth date impossible", func(r *Registration) { r.BirthDate = "1972-02-30" }, []apierr.FieldError{
			fe("birthDate", "must be a date YYYY-MM-DD"),
		}},
		{"sex unknown value", func(r *Registration) { r.Sex = "f" }, []apierr.FieldError{
			fe("sex", "must be one of female, male, other, unknown"),
		}},
		{"phone letters", func(r *Registration) { r.Phone = "call me" }, []apierr.FieldError{
			fe("phone", "must be a phone number: 5 to 15 digits, optionally a leading + and spaces, dots, dashes or parentheses"),
		}},
		{"phone too few digits", func(r *Registration) { r.Phone = "+12 3" }, []apierr.FieldError{
			fe("phone", "must be a phone number: 5 to 15 digits, optionally a leading + and spaces, dots, dashes or parentheses"),
		}},
		{"address incomplete", func(r *Registration) { r.Address = &Address{PostalCode: "#1", Country: "Britain"} }, []apierr.FieldError{
			fe("address.line1", "is required"), fe("address.city", "is required"),
			fe("address.postalCode", "must contain only letters, digits, spaces and '-'"),
			fe("address.country", "must be an ISO 3166-1 alpha-2 code such as GB or DE"),
		}},
		{"mrn malformed", func(r *Registration) { r.MRN = "-x/1" }, []apierr.FieldError{
			fe("mrn", "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"),
		}},
		{"mrn blank", func(r *Registration) { r.MRN = "  " }, []apierr.FieldError{fe("mrn", "must not be empty")}},
		{"mrn too long", func(r *Registration) { r.MRN = strings.Repeat("A", MaxMRNLength+1) }, []apierr.FieldError{
			fe("mrn", "must be at most 32 characters"),
		}},
		{"list entries", func(r *Registration) {
			r.Allergies = []Allergy{{Substance: "Latex"}, {Severity: "fatal"}}
			r.Medications = []Medication{{Dose: "5 mg"}}
			r.Problems = []Problem{{Description: "Asthma", Onset: "2030"}, {Description: "x", Code: "E 11", Onset: "1850-01"}}
		}, []apierr.FieldError{
			fe("allergies[1].substance", "is required"),
			fe("allergies[1].severity", "must be one of mild, moderate, severe (or absent when not known)"),
			fe("medications[0].name", "is required"),
			fe("problems[0].onset", "must not be in the future"),
			fe("problems[1].code", "must contain only letters, digits, '.', ':' and '-'"),
			fe("problems[1].onset", "must not be before 1900"),
		}},
		{"onset malformed", func(r *Registration) { r.Problems = []Problem{{Description: "x", Onset: "2015-13"}} }, []apierr.FieldError{
			fe("problems[0].onset", "must be a date YYYY, YYYY-MM or YYYY-MM-DD"),
		}},
		{"too many allergies", func(r *Registration) { r.Allergies = make([]Allergy, MaxListItems+1) }, []apierr.FieldError{
			fe("allergies", "must have at most 100 entries"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := validRegistration()
			tc.change(&r)
			_, err := r.validate(fixedNow)
			if diff := cmp.Diff(tc.want, fieldsOf(t, err)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegistrationValidateCleans(t *testing.T) {
	t.Parallel()
	r := validRegistration()
	r.GivenName, r.MRN, r.Phone = "  José ", " abc-1 ", " 0123 456 "
	r.Address = &Address{Line1: " 1 High St ", City: " London", Country: "gb"}
	r.Allergies = []Allergy{{Substance: " Latex ", Severity: " severe "}}
	p, err := r.validate(fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if p.GivenName != "José" || p.MRN != "abc-1" || p.Phone != "0123 456" {
		t.Errorf("not trimmed: %q %q %q", p.GivenName, p.MRN, p.Phone)
	}
	if diff := cmp.Diff(&Address{Line1: "1 High St", City: "London", Country: "GB"}, p.Address); diff != "" {
		t.Errorf("address (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Allergy{{Substance: "Latex", Severity: SeveritySevere}}, p.Allergies); diff != "" {
		t.Errorf("allergies (-want +got):\n%s", diff)
	}
}

func TestValidationMessagesCarryNoValues(t *testing.T) {
	t.Parallel()
	secret := "Zyxwvut"
	r := Registration{GivenName: secret + "\n", FamilyName: secret + strings.Repeat("x", 200), BirthDate: secret, Sex: Sex(secret),
		Phone: secret, MRN: secret + "/", Address: &Address{Line1: secret + "\t", Country: secret}}
	_, err := r.validate(fixedNow)
	for _, f := range fieldsOf(t, err) {
		if strings.Contains(f.Message, secret) {
			t.Errorf("%s: message %q repeats the value", f.Field, f.Message)
		}
	}
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %v repeats a value (or is nil)", err)
	}
}
