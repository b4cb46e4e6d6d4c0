package triage

import "testing"

var sink Assessment

// benchInput is a typical record: an adult with abdominal pain, complete vital signs, and
// resources estimated from the category (so point D decides).
func benchInput() Input {
	return Input{
		AgeYears:          ip(54),
		Sex:               SexMale,
		ChiefComplaint:    "Abdominal pain since this morning, vomiting x3, no chest pain, no fever",
		ComplaintCategory: CategoryAbdominalPain,
		ArrivalMode:       ArrivalPrivateVehicle,
		MentalStatus:      MentalAlert,
		PainScore:         ip(6),
		Vitals: Vitals{
			HeartRate:            ip(96),
			RespiratoryRate:      ip(18),
			SystolicBP:           ip(132),
			DiastolicBP:          ip(84),
			SpO2:                 ip(97),
			TemperatureC:         fp(37.6),
			OnSupplementalOxygen: bp(false),
		},
	}
}

func BenchmarkAssess(b *testing.B) {
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		sink = Assess(in)
	}
}

func BenchmarkValidate(b *testing.B) {
	in := benchInput()
	b.ReportAllocs()
	for b.Loop() {
		if errs := Validate(in); errs != nil {
			b.Fatal(errs)
		}
	}
}
