package triage

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mod    func(*Input)
		fields []string // fields with an error, in order; nil: valid
	}{
		{"complete record", func(*Input) {}, nil},
		{"only what is required", func(in *Input) { *in = Input{AgeYears: ip(30), ChiefComplaint: "x"} }, nil},

		{"age required", func(in *Input) { in.AgeYears = nil }, []string{"age"}},
		{"age 0 years", func(in *Input) { in.AgeYears = ip(0) }, nil},
		{"age 120 years", func(in *Input) { in.AgeYears = ip(120) }, nil},
		{"age 121 years", func(in *Input) { in.AgeYears = ip(121) }, []string{"ageYears"}},
		{"age -1 years", func(in *Input) { in.AgeYears = ip(-1) }, []string{"ageYears"}},
		{"120 years and 1 month", func(in *Input) { in.AgeYears, in.AgeMonths = ip(120), ip(1) }, []string{"age"}},
		{"months alone up to 1440", func(in *Input) { in.AgeYears, in.AgeMonths = nil, ip(1440) }, nil},
		{"months alone 1441", func(in *Input) { in.AgeYears, in.AgeMonths = nil, ip(1441) }, []string{"ageMonths"}},
		{"years and 11 months", func(in *Input) { in.AgeYears, in.AgeMonths = ip(1), ip(11) }, nil},
		{"years and 12 months", func(in *Input) { in.AgeYears, in.AgeMonths = ip(1), ip(12) }, []string{"ageMonths"}},
		{"months and 30 days", func(in *Input) { in.AgeYears, in.AgeMonths, in.AgeDays = nil, ip(2), ip(30) }, nil},
		{"months and 31 days", func(in *Input) { in.AgeYears, in.AgeMonths, in.AgeDays = nil, ip(2), ip(31) }, []string{"ageDays"}},
		{"days alone", func(in *Input) { in.AgeYears, in.AgeDays = nil, ip(43830) }, nil},
		{"days alone too many", func(in *Input) { in.AgeYears, in.AgeDays = nil, ip(43831) }, []string{"ageDays"}},
		{"negative days", func(in *Input) { in.AgeYears, in.AgeDays = nil, ip(-1) }, []string{"ageDays"}},

		{"sex", func(in *Input) { in.Sex = "f" }, []string{"sex"}},
		{"complaint required", func(in *Input) { in.ChiefComplaint = " \t" }, []string{"chiefComplaint"}},
		{"complaint not UTF-8", func(in *Input) { in.ChiefComplaint = "pain \xff" }, []string{"chiefComplaint"}},
		{"complaint 1000 characters", func(in *Input) { in.ChiefComplaint = strings.Repeat("é", 1000) }, nil},
		{"complaint 1001 characters", func(in *Input) { in.ChiefComplaint = strings.Repeat("é", 1001) }, []string{"chiefComplaint"}},
		{"category", func(in *Input) { in.ComplaintCategory = "chest" }, []string{"complaintCategory"}},
		{"arrival mode", func(in *Input) { in.ArrivalMode = "helicopter" }, []string{"arrivalMode"}},
		{"mental status", func(in *Input) { in.MentalStatus = "a" }, []string{"mentalStatus"}},
		{"mental status not assessed is allowed", func(in *Input) { in.MentalStatus = "" }, nil},

		{"pain 0", func(in *Input) { in.PainScore = ip(0) }, nil},
		{"pain 10", func(in *Input) { in.PainScore = ip(10) }, nil},
		{"pain 11", func(in *Input) { in.PainScore = ip(11) }, []string{"painScore"}},
		{"pain -1", func(in *Input) { in.PainScore = ip(-1) }, []string{"painScore"}},

		{"HR 0", func(in *Input) { in.Vitals.HeartRate = ip(0) }, nil},
		{"HR 300", func(in *Input) { in.Vitals.HeartRate = ip(300) }, nil},
		{"HR 301", func(in *Input) { in.Vitals.HeartRate = ip(301) }, []string{"vitals.heartRate"}},
		{"HR -1", func(in *Input) { in.Vitals.HeartRate = ip(-1) }, []string{"vitals.heartRate"}},
		{"RR 80", func(in *Input) { in.Vitals.RespiratoryRate = ip(80) }, nil},
		{"RR 81", func(in *Input) { in.Vitals.RespiratoryRate = ip(81) }, []string{"vitals.respiratoryRate"}},
		{"RR -1", func(in *Input) { in.Vitals.RespiratoryRate = ip(-1) }, []string{"vitals.respiratoryRate"}},
		{"SBP 300", func(in *Input) { in.Vitals.SystolicBP = ip(300) }, nil},
		{"SBP 301", func(in *Input) { in.Vitals.SystolicBP = ip(301) }, []string{"vitals.systolicBP"}},
		{"SBP -1", func(in *Input) { in.Vitals.SystolicBP = ip(-1) }, []string{"vitals.systolicBP"}},
		{"DBP 301", func(in *Input) { in.Vitals.SystolicBP, in.Vitals.DiastolicBP = nil, ip(301) }, []string{"vitals.diastolicBP"}},
		{"DBP -1", func(in *Input) { in.Vitals.DiastolicBP = ip(-1) }, []string{"vitals.diastolicBP"}},
		{"DBP equal to SBP", func(in *Input) { in.Vitals.SystolicBP, in.Vitals.DiastolicBP = ip(90), ip(90) }, nil},
		{"DBP above SBP", func(in *Input) { in.Vitals.SystolicBP, in.Vitals.DiastolicBP = ip(90), ip(91) }, []string{"vitals.diastolicBP"}},
		{"DBP above an invalid SBP: one error", func(in *Input) { in.Vitals.SystolicBP, in.Vitals.DiastolicBP = ip(-5), ip(10) }, []string{"vitals.systolicBP"}},
		{"SpO2 0", func(in *Input) { in.Vitals.SpO2 = ip(0) }, nil},
		{"SpO2 100", func(in *Input) { in.Vitals.SpO2 = ip(100) }, nil},
		{"SpO2 101", func(in *Input) { in.Vitals.SpO2 = ip(101) }, []string{"vitals.spo2"}},
		{"SpO2 -1", func(in *Input) { in.Vitals.SpO2 = ip(-1) }, []string{"vitals.spo2"}},
		{"temperature 25", func(in *Input) { in.Vitals.TemperatureC = fp(25) }, nil},
		{"temperature 45", func(in *Input) { in.Vitals.TemperatureC = fp(45) }, nil},
		{"temperature 24.9", func(in *Input) { in.Vitals.TemperatureC = fp(24.9) }, []string{"vitals.temperatureC"}},
		{"temperature 45.1", func(in *Input) { in.Vitals.TemperatureC = fp(45.1) }, []string{"vitals.temperatureC"}},
		{"temperature NaN", func(in *Input) { in.Vitals.TemperatureC = fp(math.NaN()) }, []string{"vitals.temperatureC"}},
		{"temperature +Inf", func(in *Input) { in.Vitals.TemperatureC = fp(math.Inf(1)) }, []string{"vitals.temperatureC"}},

		{"unknown resource", func(in *Input) { in.ExpectedResources = rs(ResourceLabs, "mri") }, []string{"expectedResources[1]"}},

		{"one error per field, in order", func(in *Input) {
			in.AgeYears = ip(200)
			in.PainScore = ip(12)
			in.Vitals.HeartRate, in.Vitals.SpO2, in.Vitals.TemperatureC = ip(400), ip(120), fp(50)
		}, []string{"ageYears", "painScore", "vitals.heartRate", "vitals.spo2", "vitals.temperatureC"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := with(normalAdult(), tc.mod)
			errs := Validate(in)
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
				if strings.Contains(e.Message, "é") || strings.Contains(e.Message, "pain \xff") {
					t.Errorf("message for %s echoes the submitted complaint", e.Field)
				}
			}
			if diff := cmp.Diff(tc.fields, fields); diff != "" {
				t.Errorf("fields with errors (-want +got):\n%s", diff)
			}
			if tc.fields == nil && errs != nil {
				t.Errorf("valid input returned non-nil %#v", errs)
			}
		})
	}
}

func TestFieldErrorsError(t *testing.T) {
	t.Parallel()
	errs := Validate(with(normalAdult(), func(in *Input) { in.PainScore, in.Vitals.SpO2 = ip(11), ip(101) }))
	want := "triage: invalid input: painScore: must be between 0 and 10; vitals.spo2: must be between 0 and 100"
	if got := errs.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if strings.Contains(errs.Error(), "101") || strings.Contains(errs.Error(), "11;") {
		t.Errorf("error echoes submitted values: %q", errs.Error())
	}
}
