package triage

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Bits of FuzzAssess's present argument: which optional inputs are set.
const (
	fzAgeYears = 1 << iota
	fzAgeMonths
	fzAgeDays
	fzHR
	fzRR
	fzSBP
	fzDBP
	fzSpO2
	fzTemp
	fzPain
	fzOxygen
	fzResources
	fzScale2
)

func fuzzInput(complaint string, ageYears, ageMonths, ageDays int, present uint16, hr, rr, sbp, dbp, spo2 int,
	temp float64, pain int, mental, category, flags uint8, resources uint16) Input {
	in := Input{ChiefComplaint: complaint}
	opt := func(bit uint16, v int) *int {
		if present&bit == 0 {
			return nil
		}
		return ip(v)
	}
	in.AgeYears, in.AgeMonths, in.AgeDays = opt(fzAgeYears, ageYears), opt(fzAgeMonths, ageMonths), opt(fzAgeDays, ageDays)
	in.Vitals.HeartRate, in.Vitals.RespiratoryRate = opt(fzHR, hr), opt(fzRR, rr)
	in.Vitals.SystolicBP, in.Vitals.DiastolicBP, in.Vitals.SpO2 = opt(fzSBP, sbp), opt(fzDBP, dbp), opt(fzSpO2, spo2)
	in.PainScore = opt(fzPain, pain)
	if present&fzTemp != 0 {
		in.Vitals.TemperatureC = fp(temp)
	}
	if present&fzOxygen != 0 {
		in.Vitals.OnSupplementalOxygen = bp(flags&(1<<6) != 0)
	}
	in.Vitals.SpO2Scale2 = present&fzScale2 != 0
	// One past the defined values: "" (not assessed); two past: an undefined value.
	switch i := int(mental) % (len(mentalStatuses) + 2); {
	case i < len(mentalStatuses):
		in.MentalStatus = mentalStatuses[i]
	case i == len(mentalStatuses)+1:
		in.MentalStatus = "X"
	}
	switch i := int(category) % (len(categories) + 2); {
	case i < len(categories):
		in.ComplaintCategory = categories[i].category
	case i == len(categories)+1:
		in.ComplaintCategory = "bogus"
	}
	if present&fzResources != 0 {
		in.ExpectedResources = rs()
		for i := range resourceTable {
			if resources&(1<<i) != 0 {
				in.ExpectedResources = append(in.ExpectedResources, resourceTable[i].typ)
			}
		}
	}
	in.Flags = Flags{
		Pregnant: flags&1 != 0, Immunocompromised: flags&2 != 0, Intubated: flags&4 != 0,
		Apnoeic: flags&8 != 0, Pulseless: flags&16 != 0, SevereRespiratoryDistress: flags&32 != 0,
	}
	return in
}

// FuzzAssess: Validate and Assess never panic; Assess always gives a level 1..5 with reasons;
// for validated input the assessment survives a JSON round trip and validation messages never
// echo the complaint.
func FuzzAssess(f *testing.F) {
	f.Add("chest pain", 54, 0, 0, uint16(fzAgeYears|fzHR|fzRR|fzSBP|fzSpO2|fzTemp|fzPain|fzOxygen), 96, 18, 132, 84, 97, 37.6, 6, uint8(0), uint8(3), uint8(0), uint16(0))
	f.Add("vomiting", 0, 1, 10, uint16(fzAgeMonths|fzAgeDays|fzHR|fzRR|fzSpO2|fzTemp|fzResources), 150, 40, 0, 0, 95, 38.4, 0, uint8(0), uint8(0), uint8(0), uint16(3))
	f.Add("no chest pain, denies SI", 200, -3, 99999, uint16(0xffff), -1, 500, 999, 1000, 150, 1e300, 99, uint8(7), uint8(200), uint8(255), uint16(0xffff))
	f.Add("", 0, 0, 0, uint16(0), 0, 0, 0, 0, 0, 0.0, 0, uint8(5), uint8(25), uint8(0), uint16(0))
	f.Add("LOC (-), 34+2wks PV bleeding (\u2212", 31, 0, 0, uint16(fzAgeYears|fzHR|fzSBP), 110, 0, 98, 0, 0, 0.0, 0, uint8(0), uint8(0), uint8(0), uint16(0))
	f.Fuzz(func(t *testing.T, complaint string, ageYears, ageMonths, ageDays int, present uint16, hr, rr, sbp, dbp, spo2 int,
		temp float64, pain int, mental, category, flags uint8, resources uint16) {
		in := fuzzInput(complaint, ageYears, ageMonths, ageDays, present, hr, rr, sbp, dbp, spo2, temp, pain, mental, category, flags, resources)
		errs := Validate(in)
		a := Assess(in)
		if !a.Level.Valid() {
			t.Fatalf("level %d", a.Level)
		}
		if a.Reasons.Len() == 0 || len(a.DecisionPoint) != 1 || !strings.Contains("ABPCDML", string(a.DecisionPoint)) {
			t.Fatalf("decision point %q with %d reasons", a.DecisionPoint, a.Reasons.Len())
		}
		for _, s := range a.Reasons.Strings() {
			if len(s) < 3 || !strings.Contains("ABPCDML", s[:1]) || s[1:3] != ": " {
				t.Fatalf("reason %q", s)
			}
		}
		for _, e := range errs {
			if len(complaint) >= 4 && strings.Contains(e.Message, complaint) {
				t.Fatalf("message for %s echoes the complaint", e.Field)
			}
		}
		if len(errs) > 0 {
			return
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Assessment
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, back, cmpAssessment); diff != "" {
			t.Fatalf("JSON round trip (-want +got):\n%s", diff)
		}
	})
}
