package patient

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medi-os/medi/shared/apierr"
)

func TestParsePatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want Patch
	}{
		{"names", `{"givenName":"Ann","familyName":"Lee"}`, Patch{GivenName: To("Ann"), FamilyName: To("Lee")}},
		{"null clears optional fields and lists", `{"phone":null,"address":null,"allergies":null}`,
			Patch{Phone: Change[string]{Set: true}, Address: Change[*Address]{Set: true}, Allergies: Change[[]Allergy]{Set: true}}},
		{"address replaced whole", `{"address":{"line1":"2 Low Rd","city":"Leeds","country":"GB"}}`,
			Patch{Address: To(&Address{Line1: "2 Low Rd", City: "Leeds", Country: "GB"})}},
		{"lists", `{"medications":[{"name":"Aspirin","dose":"75 mg"}],"problems":[]}`,
			Patch{Medications: To([]Medication{{Name: "Aspirin", Dose: "75 mg"}}), Problems: To([]Problem{})}},
		{"mrn and sex and birth date", `{"mrn":"X-1","sex":"female","birthDate":"1990-01-02"}`,
			Patch{MRN: To("X-1"), Sex: To(SexFemale), BirthDate: To("1990-01-02")}},
		{"empty object", `{}`, Patch{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePatch([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("patch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePatchReportsEveryField(t *testing.T) {
	t.Parallel()
	body := `{"givenName":null,"sex":7,"address":{"line1":"x","planet":"Mars"},"allergies":[{"substance":1}],"shoeSize":42,"phone":["1"]}`
	_, err := ParsePatch([]byte(body))
	want := []apierr.FieldError{
		{Field: "address", Message: `unknown member "planet"`},
		{Field: "allergies", Message: `member "substance" has the wrong type`},
		{Field: "givenName", Message: "must not be null: this field is required"},
		{Field: "phone", Message: "must be a string or null"},
		{Field: "sex", Message: "must be a string"},
		{Field: "shoeSize", Message: "unknown field"},
	}
	if diff := cmp.Diff(want, fieldsOf(t, err)); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
	for _, b := range []string{`[]`, `"x"`, `null`, `3`} {
		_, err := ParsePatch([]byte(b))
		if diff := cmp.Diff([]apierr.FieldError{{Field: "body", Message: "must be a JSON object"}}, fieldsOf(t, err)); diff != "" {
			t.Errorf("ParsePatch(%s) (-want +got):\n%s", b, diff)
		}
	}
}

func TestPatchValidateAndApply(t *testing.T) {
	t.Parallel()
	cur := Patient{ID: "p1", GivenName: "José", FamilyName: "Núñez", BirthDate: "1972-03-04", Sex: SexMale, MRN: "MRN-000001",
		Phone: "0123 45678", Address: &Address{Line1: "1 High St", City: "London", Country: "GB"},
		Allergies: []Allergy{{Substance: "Latex"}}, Version: 3}

	p := Patch{GivenName: To(" Jo "), Phone: Change[string]{Set: true}, Allergies: Change[[]Allergy]{Set: true},
		Address: To(&Address{Line1: "2 Low Rd", City: "Leeds", Country: "ie"})}
	clean, err := p.validate(fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	got := clean.apply(cur)
	want := cur
	want.GivenName, want.Phone = "Jo", ""
	want.Address = &Address{Line1: "2 Low Rd", City: "Leeds", Country: "IE"}
	want.Allergies, want.Medications, want.Problems = []Allergy{}, []Medication{}, []Problem{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}

	bad := Patch{BirthDate: To("2999-01-01"), MRN: To(""), Address: To(&Address{City: "x", Country: "GB"})}
	_, err = bad.validate(fixedNow)
	wantErrs := []apierr.FieldError{
		{Field: "birthDate", Message: "must not be in the future"},
		{Field: "mrn", Message: "must not be empty"},
		{Field: "address.line1", Message: "is required"},
	}
	if diff := cmp.Diff(wantErrs, fieldsOf(t, err)); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}
