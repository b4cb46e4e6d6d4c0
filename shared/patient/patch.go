package patient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change is one field of a Patch. Set reports whether the patch names the field; a
// Set change with the zero Value clears an optional field (phone, address) or empties
// a list.
type Change[T any] struct {
	Set   bool
	Value T
}

// To returns a Change that sets v.
func To[T any](v T) Change[T] { return Change[T]{Set: true, Value: v} }

// Patch is a partial update of a patient, with JSON merge patch semantics
// (RFC 7396) on the top-level fields: a field absent from the patch is unchanged, a
// field given is replaced, and null clears an optional field (phone, address) or
// empties a list. The address and the lists are replaced as a whole, never merged
// member by member: a half-updated address would be wrong in a way nobody notices.
// Required fields (names, birth date, sex, MRN) cannot be null.
type Patch struct {
	GivenName   Change[string]
	FamilyName  Change[string]
	BirthDate   Change[string]
	Sex         Change[Sex]
	MRN         Change[string]
	Phone       Change[string]
	Address     Change[*Address]
	Allergies   Change[[]Allergy]
	Medications Change[[]Medication]
	Problems    Change[[]Problem]
}

// Empty reports whether p changes nothing.
func (p Patch) Empty() bool {
	return !p.GivenName.Set && !p.FamilyName.Set && !p.BirthDate.Set && !p.Sex.Set && !p.MRN.Set &&
		!p.Phone.Set && !p.Address.Set && !p.Allergies.Set && !p.Medications.Set && !p.Problems.Set
}

// ParsePatch decodes a JSON merge patch body (one JSON object) into a Patch. Every
// problem (unknown field, wrong type, null for a required field, invalid value) is
// reported, one field error per field.
func ParsePatch(body []byte) (Patch, error) {
	var p Patch
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return p, invalidField("body", "must be a JSON object")
	}
	names := make([]string, 0, len(members))
	for k := range members {
		names = append(names, k)
	}
	slices.Sort(names)
	var f fieldErrors
	for _, name := range names {
		raw := members[name]
		isNull := bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
		var msg string
		switch name {
		case "givenName":
			msg = required(raw, isNull, &p.GivenName, "a string")
		case "familyName":
			msg = required(raw, isNull, &p.FamilyName, "a string")
		case "birthDate":
			msg = required(raw, isNull, &p.BirthDate, "a date string YYYY-MM-DD")
		case "sex":
			msg = required(raw, isNull, &p.Sex, "a string")
		case "mrn":
			msg = required(raw, isNull, &p.MRN, "a string")
		case "phone":
			msg = optional(raw, isNull, &p.Phone, "a string or null")
		case "address":
			msg = optional(raw, isNull, &p.Address, "an object or null")
		case "allergies":
			msg = optional(raw, isNull, &p.Allergies, "an array or null")
		case "medications":
			msg = optional(raw, isNull, &p.Medications, "an array or null")
		case "problems":
			msg = optional(raw, isNull, &p.Problems, "an array or null")
		default:
			msg = "unknown field"
		}
		switch {
		case msg != "" && name == "":
			// Every field error names a field: a member with an empty name is the body's.
			f.add("body", "unknown field with an empty name")
		case msg != "":
			f.add(name, msg)
		}
	}
	// The values of the fields that decoded are checked too, so that one response
	// lists every problem; Store.Update checks them again against its own clock.
	if _, err := p.validate(time.Now()); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			f = append(f, ve.Fields...)
		}
	}
	if err := f.err(); err != nil {
		return Patch{}, err
	}
	return p, nil
}

func required[T any](raw json.RawMessage, isNull bool, c *Change[T], kind string) string {
	if isNull {
		return "must not be null: this field is required"
	}
	return decodeInto(raw, c, kind)
}

func optional[T any](raw json.RawMessage, isNull bool, c *Change[T], kind string) string {
	if isNull {
		*c = Change[T]{Set: true}
		return ""
	}
	return decodeInto(raw, c, kind)
}

// decodeInto strictly decodes raw (unknown nested fields rejected) into c.
func decodeInto[T any](raw json.RawMessage, c *Change[T], kind string) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return describe(err, kind)
	}
	*c = To(v)
	return ""
}

// describe turns a decoding error into a message that names the problem and no value.
func describe(err error, kind string) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("member %q has the wrong type", te.Field)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown member " + name
	}
	return "must be " + kind
}

// validate checks the values of the fields p sets and returns them cleaned.
func (p Patch) validate(now time.Time) (Patch, error) {
	var f fieldErrors
	if p.GivenName.Set {
		p.GivenName.Value = checkName("givenName", p.GivenName.Value, &f)
	}
	if p.FamilyName.Set {
		p.FamilyName.Value = checkName("familyName", p.FamilyName.Value, &f)
	}
	if p.BirthDate.Set {
		p.BirthDate.Value = checkBirthDate(p.BirthDate.Value, now, &f)
	}
	if p.Sex.Set {
		p.Sex.Value = checkSex(p.Sex.Value, &f)
	}
	if p.MRN.Set {
		var msg string
		if p.MRN.Value, msg = CheckMRN(p.MRN.Value); msg != "" {
			f.add("mrn", msg)
		}
	}
	if p.Phone.Set {
		p.Phone.Value = checkPhone(p.Phone.Value, &f)
	}
	if p.Address.Set {
		p.Address.Value = checkAddress(p.Address.Value, &f)
	}
	if p.Allergies.Set {
		p.Allergies.Value = checkAllergies(p.Allergies.Value, &f)
	}
	if p.Medications.Set {
		p.Medications.Value = checkMedications(p.Medications.Value, &f)
	}
	if p.Problems.Set {
		p.Problems.Value = checkProblems(p.Problems.Value, now, &f)
	}
	return p, f.err()
}

// apply returns cur with p's changes (p already validated).
func (p Patch) apply(cur Patient) Patient {
	set := func(c Change[string], dst *string) {
		if c.Set {
			*dst = c.Value
		}
	}
	set(p.GivenName, &cur.GivenName)
	set(p.FamilyName, &cur.FamilyName)
	set(p.BirthDate, &cur.BirthDate)
	set(p.MRN, &cur.MRN)
	set(p.Phone, &cur.Phone)
	if p.Sex.Set {
		cur.Sex = p.Sex.Value
	}
	if p.Address.Set {
		cur.Address = p.Address.Value
	}
	if p.Allergies.Set {
		cur.Allergies = p.Allergies.Value
	}
	if p.Medications.Set {
		cur.Medications = p.Medications.Value
	}
	if p.Problems.Set {
		cur.Problems = p.Problems.Value
	}
	cur.normalizeLists()
	return cur
}
