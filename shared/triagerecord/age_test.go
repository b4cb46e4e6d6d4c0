package triagerecord

import (
	"errors"
	"testing"
	"time"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/triage"
)

func TestStatedAgeErrors(t *testing.T) {
	t.Parallel()
	// 7 years, 8 months and 22 days; 92 months; 2824 days.
	age := patient.Age{Years: 7, Months: 8, Days: 22, TotalMonths: 92, TotalDays: 2824}
	for _, tc := range []struct {
		name    string
		y, m, d *int
		fields  []string
	}{
		{"none stated", nil, nil, nil, nil},
		{"completed years", ip(7), nil, nil, nil},
		{"an adult's age for a child", ip(30), nil, nil, []string{"ageYears"}},
		{"rounded up", ip(8), nil, nil, []string{"ageYears"}},
		{"completed months", nil, ip(92), nil, nil},
		{"years and months", ip(7), ip(8), nil, nil},
		{"years and wrong months", ip(7), ip(9), nil, []string{"ageYears", "ageMonths"}},
		{"exact", ip(7), ip(8), ip(22), nil},
		{"days only", nil, nil, ip(2824), nil},
		{"days only, wrong", nil, nil, ip(2800), []string{"ageDays"}},
		{"months and days", nil, ip(92), ip(22), nil},
	} {
		in := triage.Input{AgeYears: tc.y, AgeMonths: tc.m, AgeDays: tc.d}
		var got []string
		for _, e := range statedAgeErrors(in, age) {
			got = append(got, e.Field)
			if e.Message != msgAgeDisagrees {
				t.Errorf("%s: message %q", tc.name, e.Message)
			}
		}
		if len(got) != len(tc.fields) {
			t.Errorf("%s: fields %v, want %v", tc.name, got, tc.fields)
			continue
		}
		for i := range got {
			if got[i] != tc.fields[i] {
				t.Errorf("%s: fields %v, want %v", tc.name, got, tc.fields)
			}
		}
	}
}

// TestRecordTakesTheAgeFromThePatientRecord: a 7-year-old triaged with no age in the body is
// assessed as a child (no adult NEWS2, the child's danger zone), and the stored input holds the
// record's age; a body stating an adult's age is refused.
func TestRecordTakesTheAgeFromThePatientRecord(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.birthDate = birthDateForAge(7)
	in := adultInput()
	in.AgeYears = nil

	id := f.seedEncounter(t, "waiting", 5*time.Minute, nil)
	rec, err := f.svc.Record(as(f.nurse), f.clinic, id, in, commitmark.Marker{})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Assessment.Result.NEWS2.Applicable || rec.Assessment.Result.Model.Applicable {
		t.Errorf("a 7-year-old scored as an adult: NEWS2 %+v, model %+v", rec.Assessment.Result.NEWS2, rec.Assessment.Result.Model)
	}
	if y, _ := rec.Assessment.Input["ageYears"].(float64); y != 7 {
		t.Errorf("stored input age %v, want 7 from the birth date", rec.Assessment.Input["ageYears"])
	}

	other := f.seedEncounter(t, "waiting", 5*time.Minute, nil)
	_, err = f.svc.Record(as(f.nurse), f.clinic, other, adultInput(), commitmark.Marker{}) // states ageYears 40
	var he *apierr.Error
	if !errors.As(err, &he) || he.Kind != apierr.KindInvalidArgument || he.Code != apierr.CodeInvalidArgument {
		t.Fatalf("adult age for a child: %v, want 400 invalid_argument", err)
	}
	if got := f.encounter(t, other); got.Triage != nil {
		t.Errorf("refused assessment changed the encounter: %+v", got.Triage)
	}
	in.AgeYears = ip(7)
	if _, err := f.svc.Record(as(f.nurse), f.clinic, other, in, commitmark.Marker{}); err != nil {
		t.Errorf("the right age stated: %v", err)
	}
}

// TestRecordVeryOldBirthDate: a birth date the patient record allows but the engine's age
// limit does not (125 years) is assessed at 120, not refused.
func TestRecordVeryOldBirthDate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.birthDate = birthDateForAge(125)
	in := adultInput()
	in.AgeYears = nil
	id := f.seedEncounter(t, "waiting", 5*time.Minute, nil)
	rec, err := f.svc.Record(as(f.nurse), f.clinic, id, in, commitmark.Marker{})
	if err != nil {
		t.Fatalf("125-year-old: %v", err)
	}
	if y, _ := rec.Assessment.Input["ageYears"].(float64); y != 120 {
		t.Errorf("stored age %v, want 120", rec.Assessment.Input["ageYears"])
	}
}
