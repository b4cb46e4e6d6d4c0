package triage

import "strings"

func ip(v int) *int                       { return &v }
func fp(v float64) *float64               { return &v }
func bp(v bool) *bool                     { return &v }
func rs(t ...ResourceType) []ResourceType { return append([]ResourceType{}, t...) }

// normalAdult is a complete, unremarkable adult record: every vital normal, alert, mild pain,
// an ankle X-ray expected -> level 4 at point C.
func normalAdult() Input {
	return Input{
		AgeYears:          ip(40),
		Sex:               SexFemale,
		ChiefComplaint:    "twisted left ankle playing football",
		ComplaintCategory: CategoryMinorInjury,
		ArrivalMode:       ArrivalWalkIn,
		Injury:            true,
		MentalStatus:      MentalAlert,
		PainScore:         ip(4),
		Vitals: Vitals{
			HeartRate:            ip(80),
			RespiratoryRate:      ip(16),
			SystolicBP:           ip(125),
			DiastolicBP:          ip(80),
			SpO2:                 ip(98),
			TemperatureC:         fp(36.8),
			OnSupplementalOxygen: bp(false),
		},
		ExpectedResources: rs(ResourceECGXRay),
	}
}

// adultToD is normalAdult with two resources, so that point D decides (level 3).
func adultToD() Input {
	in := normalAdult()
	in.ExpectedResources = rs(ResourceLabs, ResourceECGXRay)
	return in
}

// childToD is a complete record of a well child of the given age in days with two resources,
// heart and respiratory rates below every danger-zone limit and no fever.
func childToD(days int) Input {
	return Input{
		AgeDays:           ip(days),
		ChiefComplaint:    "cough for two days",
		MentalStatus:      MentalAlert,
		PainScore:         ip(0),
		Vitals:            Vitals{HeartRate: ip(90), RespiratoryRate: ip(18), SystolicBP: ip(95), SpO2: ip(98), TemperatureC: fp(37.0)},
		ExpectedResources: rs(ResourceLabs, ResourceECGXRay),
	}
}

func with(in Input, mods ...func(*Input)) Input {
	for _, m := range mods {
		m(&in)
	}
	return in
}

// termExample writes vocabulary term ti as a nurse could: its words, each class replaced by
// the class's first member.
func termExample(v *vocabulary, ti int) string {
	var words []string
	for _, w := range v.terms[ti].words {
		if w.class == 0 {
			words = append(words, v.words[w.id])
			continue
		}
		for id := 1; id < len(v.words); id++ {
			if v.classOf[id]&(1<<(w.class-1)) != 0 {
				words = append(words, v.words[id])
				break
			}
		}
	}
	return strings.Join(words, " ")
}
