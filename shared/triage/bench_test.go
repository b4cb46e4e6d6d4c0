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

// BenchmarkAssessMisspelt is the typical record written with misspellings, abbreviations
// and a listed variant, so that every correction path of the reader runs.
func BenchmarkAssessMisspelt(b *testing.B) {
	in := benchInput()
	in.ChiefComplaint = "abdominl pain since this mornng, vomitting x3, bellly pain, unconsious, no CP, afebrile"
	b.ReportAllocs()
	for b.Loop() {
		sink = Assess(in)
	}
}

// BenchmarkLoadVocabulary is what the first assessment of an instance pays once: reading the
// lexicon and the vocabulary and indexing their misspellings.
func BenchmarkLoadVocabulary(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadVocabulary(dataFiles); err != nil {
			b.Fatal(err)
		}
	}
}
