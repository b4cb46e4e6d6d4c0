package triage

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldError is one invalid input field. Messages never contain the submitted value
// (patient data).
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors lists the invalid fields of an Input, one error per field; the HTTP layer turns
// it into a 400 with details. Validate returns nil (not an empty list) when the input is
// valid; do not assign a nil FieldErrors to an error variable, check len instead.
type FieldErrors []FieldError

// Error joins the field errors: "field: message; field: message".
func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "triage: invalid input: " + strings.Join(parts, "; ")
}

// Physiological limits for validation: values outside them are impossible and rejected.
const (
	maxAgeYears        = 120
	maxHeartRate       = 300
	maxRespiratoryRate = 80
	maxBloodPressure   = 300
	maxSpO2            = 100
	minTemperatureC    = 25.0
	maxTemperatureC    = 45.0
	maxPain            = 10
	maxComplaintRunes  = 1000
)

// Validate checks that every field is present where required, of a defined value and
// physiologically possible. It returns one error per invalid field, in field order.
// Missing optional measurements are not errors: Assess treats them conservatively and
// reports them (and VitalsRequired).
func Validate(in Input) FieldErrors {
	var errs FieldErrors
	add := func(field, msg string) { errs = append(errs, FieldError{Field: field, Message: msg}) }
	rangeInt := func(field string, v *int, lo, hi int) {
		if v != nil && (*v < lo || *v > hi) {
			add(field, "must be between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
		}
	}

	// Age: at least one component, each in range, smaller units below one larger unit when
	// combined (so that "2 months and 61 days" is not silently 4 months), total <= 120 years.
	ageOK := true
	switch {
	case in.AgeYears == nil && in.AgeMonths == nil && in.AgeDays == nil:
		add(FieldAge, "required: give ageYears, ageMonths or ageDays")
		ageOK = false
	default:
		if y := in.AgeYears; y != nil && (*y < 0 || *y > maxAgeYears) {
			add("ageYears", "must be between 0 and "+strconv.Itoa(maxAgeYears))
			ageOK = false
		}
		if m := in.AgeMonths; m != nil {
			hi := maxAgeYears * 12
			if in.AgeYears != nil {
				hi = 11
			}
			if *m < 0 || *m > hi {
				msg := "must be between 0 and " + strconv.Itoa(hi)
				if in.AgeYears != nil {
					msg += " when ageYears is given"
				}
				add("ageMonths", msg)
				ageOK = false
			}
		}
		if d := in.AgeDays; d != nil {
			hi := daysMaxAge
			if in.AgeYears != nil || in.AgeMonths != nil {
				hi = 30
			}
			if *d < 0 || *d > hi {
				msg := "must be between 0 and " + strconv.Itoa(hi)
				if hi == 30 {
					msg += " when ageYears or ageMonths is given"
				}
				add("ageDays", msg)
				ageOK = false
			}
		}
		if ageOK {
			if days, _ := in.ageInDays(); days > daysMaxAge {
				add(FieldAge, "must be at most "+strconv.Itoa(maxAgeYears)+" years")
			}
		}
	}

	if in.Sex != "" && !oneOf(in.Sex, sexes) {
		add("sex", "must be one of "+listOf(sexes))
	}
	switch {
	case !utf8.ValidString(in.ChiefComplaint):
		add(FieldChiefComplaint, "must be valid UTF-8")
	case strings.TrimSpace(in.ChiefComplaint) == "":
		add(FieldChiefComplaint, "required")
	case utf8.RuneCountInString(in.ChiefComplaint) > maxComplaintRunes:
		add(FieldChiefComplaint, "must be at most "+strconv.Itoa(maxComplaintRunes)+" characters")
	}
	if in.ComplaintCategory != "" && lookupCategory(in.ComplaintCategory) == nil {
		names := make([]ComplaintCategory, len(categories))
		for i, c := range categories {
			names[i] = c.category
		}
		add(FieldComplaintCategory, "must be one of "+listOf(names))
	}
	if in.ArrivalMode != "" && !oneOf(in.ArrivalMode, arrivalModes) {
		add("arrivalMode", "must be one of "+listOf(arrivalModes))
	}
	if in.MentalStatus != "" && !in.MentalStatus.recorded() {
		add(FieldMentalStatus, "must be one of "+listOf(mentalStatuses))
	}
	rangeInt(FieldPainScore, in.PainScore, 0, maxPain)

	v := &in.Vitals
	rangeInt(FieldHeartRate, v.HeartRate, 0, maxHeartRate)
	rangeInt(FieldRespiratoryRate, v.RespiratoryRate, 0, maxRespiratoryRate)
	rangeInt(FieldSystolicBP, v.SystolicBP, 0, maxBloodPressure)
	switch {
	case v.DiastolicBP != nil && (*v.DiastolicBP < 0 || *v.DiastolicBP > maxBloodPressure):
		add(FieldDiastolicBP, "must be between 0 and "+strconv.Itoa(maxBloodPressure))
	case v.DiastolicBP != nil && v.SystolicBP != nil && *v.DiastolicBP > *v.SystolicBP &&
		*v.SystolicBP >= 0 && *v.SystolicBP <= maxBloodPressure:
		add(FieldDiastolicBP, "must not be above systolicBP")
	}
	rangeInt(FieldSpO2, v.SpO2, 0, maxSpO2)
	if t := v.TemperatureC; t != nil && !(*t >= minTemperatureC && *t <= maxTemperatureC) { // also rejects NaN
		add(FieldTemperature, "must be between 25 and 45 (degrees Celsius)")
	}

	for i, r := range in.ExpectedResources {
		if resourceIndex(r) < 0 {
			names := make([]ResourceType, len(resourceTable))
			for j, t := range resourceTable {
				names[j] = t.typ
			}
			add(FieldExpectedResources+"["+strconv.Itoa(i)+"]", "must be one of "+listOf(names))
		}
	}
	return errs
}

func oneOf[T comparable](v T, set []T) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func listOf[T ~string](set []T) string {
	parts := make([]string, len(set))
	for i, s := range set {
		parts[i] = strconv.Quote(string(s))
	}
	return strings.Join(parts, ", ")
}
