package triage

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type esiCase struct {
	name    string
	in      Input
	level   Level
	point   DecisionPoint
	reasons []string // exact explanation, in order
}

// runESICases checks the rules alone (AssessWith without a model): the ESI tables, the
// physiology rules and the modifiers. The learned second opinion may only raise these levels,
// or choose among 3, 4 and 5 when no resources are given (TestModelCombination).
func runESICases(t *testing.T, tests []esiCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if errs := Validate(tc.in); len(errs) > 0 {
				t.Fatalf("test input is invalid: %v", errs)
			}
			a := AssessWith(tc.in, nil)
			if a.Level != tc.level || a.DecisionPoint != tc.point {
				t.Errorf("level %d at %s, want %d at %s; reasons %q", a.Level, a.DecisionPoint, tc.level, tc.point, a.Reasons.Strings())
			}
			if tc.reasons != nil {
				if diff := cmp.Diff(tc.reasons, a.Reasons.Strings()); diff != "" {
					t.Errorf("reasons (-want +got):\n%s", diff)
				}
			}
			if a.EngineVersion != EngineVersion {
				t.Errorf("engine version %q", a.EngineVersion)
			}
			if want := targetMinutes[tc.level]; a.TargetMinutes != want {
				t.Errorf("target %d min, want %d", a.TargetMinutes, want)
			}
		})
	}
}

func TestPointA(t *testing.T) {
	t.Parallel()
	runESICases(t, []esiCase{
		{"intubated", with(normalAdult(), func(in *Input) { in.Flags.Intubated = true }), 1, PointA, []string{"A: intubated"}},
		{"apnoeic", with(normalAdult(), func(in *Input) { in.Flags.Apnoeic = true }), 1, PointA, []string{"A: apnoeic"}},
		{"respiratory rate 0", with(normalAdult(), func(in *Input) { in.Vitals.RespiratoryRate = ip(0) }), 1, PointA,
			[]string{"A: apnoeic (respiratory rate 0)"}},
		// A rate of 1 is not apnoea; NEWS2 scores it 3 (a single red parameter): at least 3.
		{"respiratory rate 1 is not apnoea", with(normalAdult(), func(in *Input) { in.Vitals.RespiratoryRate = ip(1) }), 3, PointM, nil},
		{"pulseless", with(normalAdult(), func(in *Input) { in.Flags.Pulseless = true }), 1, PointA, []string{"A: pulseless"}},
		{"heart rate 0", with(normalAdult(), func(in *Input) { in.Vitals.HeartRate = ip(0) }), 1, PointA,
			[]string{"A: pulseless (heart rate 0)"}},
		{"severe respiratory distress", with(normalAdult(), func(in *Input) { in.Flags.SevereRespiratoryDistress = true }), 1, PointA,
			[]string{"A: severe respiratory distress"}},
		// SpO2 < 90: 89 fires A, 90 does not (it is in the danger zone, < 92).
		{"SpO2 89", with(adultToD(), func(in *Input) { in.Vitals.SpO2 = ip(89) }), 1, PointA, []string{"A: SpO2 89 % < 90"}},
		{"SpO2 90", with(adultToD(), func(in *Input) { in.Vitals.SpO2 = ip(90) }), 2, PointD, []string{
			"C: 2 resources expected (labs, ECG / X-ray) -> D",
			"D: SpO2 90 % < 92 (danger zone)",
		}},
		{"SpO2 89 on scale 2 still fires A", with(adultToD(), func(in *Input) { in.Vitals.SpO2, in.Vitals.SpO2Scale2 = ip(89), true }), 1, PointA, nil},
		{"AVPU P", with(normalAdult(), func(in *Input) { in.MentalStatus = MentalPain }), 1, PointA, []string{"A: AVPU = P (unresponsive)"}},
		{"AVPU U", with(normalAdult(), func(in *Input) { in.MentalStatus = MentalUnresponsive }), 1, PointA, []string{"A: AVPU = U (unresponsive)"}},
		{"every criterion is listed", with(normalAdult(), func(in *Input) {
			in.Flags = Flags{Intubated: true, Apnoeic: true, Pulseless: true, SevereRespiratoryDistress: true}
			in.Vitals.RespiratoryRate, in.Vitals.HeartRate, in.Vitals.SpO2 = ip(0), ip(0), ip(70)
			in.MentalStatus = MentalUnresponsive
		}), 1, PointA, []string{
			"A: intubated", "A: apnoeic", "A: apnoeic (respiratory rate 0)", "A: pulseless", "A: pulseless (heart rate 0)",
			"A: severe respiratory distress", "A: SpO2 70 % < 90", "A: AVPU = U (unresponsive)",
		}},
		{"point A needs no vital signs", Input{AgeYears: ip(70), ChiefComplaint: "found collapsed", MentalStatus: MentalUnresponsive},
			1, PointA, []string{"A: AVPU = U (unresponsive)"}},
	})
}

func TestPointB(t *testing.T) {
	t.Parallel()
	runESICases(t, []esiCase{
		// Pain >= 7: 6 does not fire, 7 does.
		{"pain 6", with(normalAdult(), func(in *Input) { in.PainScore = ip(6) }), 4, PointC, nil},
		{"pain 7", with(normalAdult(), func(in *Input) { in.PainScore = ip(7) }), 2, PointB, []string{"B: pain 7/10 >= 7"}},
		{"pain 8", with(normalAdult(), func(in *Input) { in.PainScore = ip(8) }), 2, PointB, []string{"B: pain 8/10 >= 7"}},
		{"pain 10", with(normalAdult(), func(in *Input) { in.PainScore = ip(10) }), 2, PointB, []string{"B: pain 10/10 >= 7"}},
		{"AVPU V", with(normalAdult(), func(in *Input) { in.MentalStatus = MentalVoice }), 2, PointB,
			[]string{"B: AVPU = V (new confusion, lethargy or disorientation)"}},
		{"new confusion", with(normalAdult(), func(in *Input) { in.MentalStatus = MentalNewConfusion }), 2, PointB,
			[]string{"B: new confusion, lethargy or disorientation"}},
		{"chest pain (ACS)", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory = "Central chest pain since 1 h, sweaty", ""
		}), 2, PointB, []string{"B: high-risk situation in the complaint: chest pain suggestive of acute coronary syndrome (Chest pain - cardiac features)"}},
		{"stroke signs", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint = "wife noticed facial droop and slurred speech"
		}), 2, PointB, []string{"B: high-risk situation in the complaint: stroke or spinal cord signs (Extremity weakness / symptoms of stroke)"}},
		{"suicidal", with(normalAdult(), func(in *Input) { in.ChiefComplaint = "low mood, suicidal thoughts" }), 2, PointB,
			[]string{"B: high-risk situation in the complaint: suicidal (ideation or attempt) (Suicidal ideation / self-harm)"}},
		{"overdose", with(normalAdult(), func(in *Input) { in.ChiefComplaint = "overdose of sleeping tablets" }), 2, PointB,
			[]string{"B: high-risk situation in the complaint: overdose or poisoning (Overdose / poisoning / drug intoxication)"}},
		{"vomiting is not MI", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources = "vomiting", CategoryVomitingDiarrhoea, nil
		}), 3, PointD, nil},
		{"negated: no chest pain", with(normalAdult(), func(in *Input) { in.ChiefComplaint = "cough, no chest pain" }), 4, PointC, nil},
		{"high-risk category", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory = "arm feels funny", CategoryStrokeSymptoms
		}), 2, PointB, []string{"B: complaint category stroke_symptoms is a high-risk situation (stroke signs)"}},
		// Immunocompromised with fever: T > 38.0.
		{"immunocompromised 38.0", with(normalAdult(), func(in *Input) {
			in.Flags.Immunocompromised, in.Vitals.TemperatureC = true, fp(38.0)
		}), 4, PointC, nil},
		{"immunocompromised 38.1", with(normalAdult(), func(in *Input) {
			in.Flags.Immunocompromised, in.Vitals.TemperatureC = true, fp(38.1)
		}), 2, PointB, []string{"B: immunocompromised with fever: temperature 38.1 C > 38.0"}},
		{"immunocompromised, fever reported", with(normalAdult(), func(in *Input) {
			in.Flags.Immunocompromised, in.ChiefComplaint = true, "fevers at home since chemo"
		}), 2, PointB, []string{"B: immunocompromised with fever reported in the complaint"}},
		{"immunocompromised, temperature missing", with(normalAdult(), func(in *Input) {
			in.Flags.Immunocompromised, in.Vitals.TemperatureC = true, nil
		}), 2, PointB, []string{"B: immunocompromised and temperature not recorded: fever cannot be ruled out"}},
		// Immunocompromise written in the complaint counts as the flag.
		{"immunocompromised in the complaint, fever reported", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory = "fever and neutropenia", ""
		}), 2, PointB, []string{"B: immunocompromised (Immunocompromised / oncology / transplant patient in the complaint) with fever reported in the complaint"}},
		{"immunocompromised in the complaint, fever measured", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.Vitals.TemperatureC = "on chemo, cough", "", fp(38.4)
		}), 2, PointB, []string{"B: immunocompromised (Immunocompromised / oncology / transplant patient in the complaint) with fever: temperature 38.4 C > 38.0"}},
		{"immunocompromised in the complaint, temperature missing", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.Vitals.TemperatureC = "post transplant, cough", "", nil
		}), 2, PointB, []string{"B: immunocompromised (Immunocompromised / oncology / transplant patient in the complaint) and temperature not recorded: fever cannot be ruled out"}},
		{"immunocompromised in the complaint, no fever", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources = "on chemo, cough", "", rs(ResourceLabs, ResourceECGXRay)
		}), 3, PointD, nil},
		{"immunocompromised flagged and written: the flag is the reason", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.Flags.Immunocompromised, in.Vitals.TemperatureC = "on chemo", true, fp(38.4)
		}), 2, PointB, []string{"B: immunocompromised with fever: temperature 38.4 C > 38.0"}},
		{"fever without immunocompromise is not B", with(normalAdult(), func(in *Input) { in.Vitals.TemperatureC = fp(39.5) }), 4, PointC, nil},
		// Missing inputs that B uses.
		{"mental status not recorded", with(normalAdult(), func(in *Input) { in.MentalStatus = "" }), 2, PointB,
			[]string{"B: mental status not recorded: new confusion cannot be ruled out"}},
		{"pain not recorded", with(normalAdult(), func(in *Input) { in.PainScore = nil }), 2, PointB,
			[]string{"B: pain score not recorded: pain >= 7/10 cannot be ruled out"}},
		{"every B input is listed", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory = "chest pain and fever", CategoryChestPain
			in.Flags.Immunocompromised = true
			in.Vitals.TemperatureC = fp(38.9)
			in.MentalStatus, in.PainScore = MentalNewConfusion, ip(9)
		}), 2, PointB, []string{
			"B: high-risk situation in the complaint: chest pain suggestive of acute coronary syndrome (Chest pain - cardiac features)",
			"B: complaint category chest_pain is a high-risk situation (chest pain suggestive of acute coronary syndrome)",
			"B: immunocompromised with fever: temperature 38.9 C > 38.0",
			"B: new confusion, lethargy or disorientation",
			"B: pain 9/10 >= 7",
		}},
	})
}

func TestPointC(t *testing.T) {
	t.Parallel()
	res := func(r []ResourceType) func(*Input) { return func(in *Input) { in.ExpectedResources = r } }
	runESICases(t, []esiCase{
		{"no resources", with(normalAdult(), res(rs())), 5, PointC, []string{"C: no resources expected -> level 5"}},
		{"only non-resources", with(normalAdult(), res(rs(NotResourceOralMedication, NotResourceTetanus, NotResourceCrutchesSplint,
			NotResourceSimpleWoundCare, NotResourcePointOfCareTest, NotResourceSalineLock, NotResourceHistoryExam, NotResourcePrescriptionRefill))),
			5, PointC, []string{"C: no resources expected -> level 5"}},
		{"one resource", with(normalAdult(), res(rs(ResourceSimpleProcedure, NotResourceTetanus))), 4, PointC,
			[]string{"C: 1 resource expected (simple procedure) -> level 4"}},
		{"same type twice counts once", with(normalAdult(), res(rs(ResourceLabs, ResourceLabs))), 4, PointC,
			[]string{"C: 1 resource expected (labs) -> level 4"}},
		{"two types", with(normalAdult(), res(rs(ResourceLabs, ResourceAdvancedImaging))), 3, PointD, []string{
			"C: 2 resources expected (labs, CT / MRI / ultrasound / angiography) -> D",
			"D: heart rate 80 <= 100 (age > 8 years)",
			"D: respiratory rate 16 <= 20 (age > 8 years)",
			"D: SpO2 98 % >= 92",
		}},
		{"complex procedure counts 2", with(normalAdult(), res(rs(ResourceComplexProcedure))), 3, PointD, []string{
			"C: 2 resources expected (complex procedure counts 2) -> D",
			"D: heart rate 80 <= 100 (age > 8 years)",
			"D: respiratory rate 16 <= 20 (age > 8 years)",
			"D: SpO2 98 % >= 92",
		}},
		{"every type", with(normalAdult(), res(rs(ResourceLabs, ResourceECGXRay, ResourceAdvancedImaging, ResourceIVFluids,
			ResourceParenteralMedication, ResourceSpecialtyConsult, ResourceSimpleProcedure, ResourceComplexProcedure))), 3, PointD, nil},
		// Estimated from the category when the nurse gives none.
		{"estimated: laceration", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources = "cut hand on glass", CategoryLaceration, nil
		}), 4, PointC, []string{"C: 1 resource expected (simple procedure), estimated from complaint category laceration -> level 4"}},
		{"estimated: rash", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources = "itchy rash on arms", CategoryRash, nil
		}), 5, PointC, []string{"C: no resources expected, estimated from complaint category rash -> level 5"}},
		{"estimated: abdominal pain", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources = "abdominal pain", CategoryAbdominalPain, nil
		}), 3, PointD, []string{
			"C: 4 resources expected (labs, CT / MRI / ultrasound / angiography, IV fluids, IV, IM or nebulised medication), estimated from complaint category abdominal_pain -> D",
			"D: heart rate 80 <= 100 (age > 8 years)",
			"D: respiratory rate 16 <= 20 (age > 8 years)",
			"D: SpO2 98 % >= 92",
		}},
		{"estimated from the complaint", with(normalAdult(), func(in *Input) { in.ComplaintCategory, in.ExpectedResources = "", nil }), 4, PointC,
			[]string{"C: 1 resource expected (ECG / X-ray), estimated from the complaint: Lower extremity injury -> level 4"}},
		{"no basis: no category, complaint not recognised", with(normalAdult(), func(in *Input) {
			in.ChiefComplaint, in.ComplaintCategory, in.ExpectedResources = "zzz qqq", "", nil
		}), 3, PointD, []string{
			"C: resources not given and no recognised complaint to estimate them from: >= 2 assumed -> D",
			"D: heart rate 80 <= 100 (age > 8 years)",
			"D: respiratory rate 16 <= 20 (age > 8 years)",
			"D: SpO2 98 % >= 92",
		}},
		{"category other: the complaint estimates", with(normalAdult(), func(in *Input) { in.ComplaintCategory, in.ExpectedResources = CategoryOther, nil }), 4, PointC, nil},
		{"an empty list is not 'not given'", with(normalAdult(), func(in *Input) { in.ComplaintCategory, in.ExpectedResources = "", rs() }), 5, PointC, nil},
	})
}

func TestResourceEstimateReported(t *testing.T) {
	t.Parallel()
	a := Assess(with(normalAdult(), func(in *Input) { in.ComplaintCategory, in.ExpectedResources = CategoryLaceration, nil }))
	want := ResourceEstimate{Types: resourceSetOf(ResourceSimpleProcedure), Count: 1, Evidence: EvidenceEstimated, Category: CategoryLaceration}
	if a.Resources != want {
		t.Errorf("resources = %+v, want %+v", a.Resources, want)
	}
	if !a.Missing.Has(FieldExpectedResources) || !a.Provisional {
		t.Errorf("estimated resources not reported as missing/provisional: %+v", a.Missing.Slice())
	}
	b := Assess(normalAdult())
	if b.Resources.Evidence != EvidenceObserved || b.Missing.Has(FieldExpectedResources) || b.Provisional {
		t.Errorf("nurse-given resources reported as estimated: %+v, %+v", b.Resources, b.Missing.Slice())
	}
}

func TestCategoryTable(t *testing.T) {
	t.Parallel()
	seen := map[ComplaintCategory]bool{}
	for _, c := range categories {
		if seen[c.category] {
			t.Errorf("category %q listed twice", c.category)
		}
		seen[c.category] = true
		// Level-5 estimates only where no ESI resource is plausible; every high-risk
		// category goes to D or beyond anyway.
		if c.highRisk != "" && c.estimate.Count() < 2 {
			t.Errorf("high-risk category %q estimated at %d resources", c.category, c.estimate.Count())
		}
		for i := range resourceTable {
			if c.estimate&(1<<i) != 0 && resourceTable[i].weight == 0 {
				t.Errorf("category %q estimates a non-resource %q", c.category, resourceTable[i].typ)
			}
		}
	}
	if c := lookupCategory(CategoryOther); c == nil || c.estimated {
		t.Errorf("category other must exist and give no estimate")
	}
}

func TestDangerZoneByAge(t *testing.T) {
	t.Parallel()
	type row struct {
		name   string
		in     Input
		hr, rr int // limits
		band   string
	}
	rows := []row{
		{"day 0", childToD(0), 180, 50, "< 3 months"},
		{"90 days", childToD(90), 180, 50, "< 3 months"},
		{"3 months (91 days)", childToD(91), 160, 40, "3 months - 3 years"},
		{"ageMonths 3", with(childToD(0), func(in *Input) { in.AgeDays, in.AgeMonths = nil, ip(3) }), 160, 40, "3 months - 3 years"},
		{"1094 days", childToD(1094), 160, 40, "3 months - 3 years"},
		{"3 years (1095 days)", childToD(1095), 140, 30, "3 - 8 years"},
		{"ageYears 3", with(childToD(0), func(in *Input) { in.AgeDays, in.AgeYears = nil, ip(3) }), 140, 30, "3 - 8 years"},
		{"ageMonths 36", with(childToD(0), func(in *Input) { in.AgeDays, in.AgeMonths = nil, ip(36) }), 140, 30, "3 - 8 years"},
		{"ageYears 8", with(childToD(0), func(in *Input) { in.AgeDays, in.AgeYears = nil, ip(8) }), 140, 30, "3 - 8 years"},
		{"8 years 1 day", with(childToD(0), func(in *Input) { in.AgeDays, in.AgeYears = ip(1), ip(8) }), 100, 20, "> 8 years"},
		{"ageYears 9", with(childToD(0), func(in *Input) { in.AgeDays, in.AgeYears = nil, ip(9) }), 100, 20, "> 8 years"},
		{"adult", with(adultToD()), 100, 20, "> 8 years"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			check := func(name string, mod func(*Input), level Level, wantReason string) {
				t.Helper()
				a := Assess(with(r.in, mod))
				if a.Level != level || a.DecisionPoint != PointD {
					t.Errorf("%s: level %d at %s, want %d at D; reasons %q", name, a.Level, a.DecisionPoint, level, a.Reasons.Strings())
				}
				found := false
				for _, s := range a.Reasons.Strings() {
					found = found || s == wantReason
				}
				if !found {
					t.Errorf("%s: reasons %q lack %q", name, a.Reasons.Strings(), wantReason)
				}
			}
			hr, rr := itoa(r.hr), itoa(r.rr)
			check("HR at limit", func(in *Input) { in.Vitals.HeartRate = ip(r.hr) }, 3, "D: heart rate "+hr+" <= "+hr+" (age "+r.band+")")
			check("HR above", func(in *Input) { in.Vitals.HeartRate = ip(r.hr + 1) }, 2, "D: heart rate "+itoa(r.hr+1)+" > "+hr+" (danger zone, age "+r.band+")")
			check("RR at limit", func(in *Input) { in.Vitals.RespiratoryRate = ip(r.rr) }, 3, "D: respiratory rate "+rr+" <= "+rr+" (age "+r.band+")")
			check("RR above", func(in *Input) { in.Vitals.RespiratoryRate = ip(r.rr + 1) }, 2, "D: respiratory rate "+itoa(r.rr+1)+" > "+rr+" (danger zone, age "+r.band+")")
			check("SpO2 92", func(in *Input) { in.Vitals.SpO2 = ip(92) }, 3, "D: SpO2 92 % >= 92")
			check("SpO2 91", func(in *Input) { in.Vitals.SpO2 = ip(91) }, 2, "D: SpO2 91 % < 92 (danger zone)")
		})
	}
}

func itoa(v int) string { return formatInt(float64(v)) }

func TestDangerZoneUnknownAgeUsesLowestLimits(t *testing.T) {
	t.Parallel()
	r := dangerRowFor(0, false)
	for _, d := range dangerZone {
		if r.hr > d.hr || r.rr > d.rr {
			t.Errorf("unknown age limits HR %d RR %d, but row %s has HR %d RR %d", r.hr, r.rr, d.band, d.hr, d.rr)
		}
	}
}

func TestMissingVitalsAtPointD(t *testing.T) {
	t.Parallel()
	runESICases(t, []esiCase{
		// In an adult a missing heart rate cannot rule out severe bradycardia (point P, before
		// C); in a child (no adult physiology rule) the danger zone decides at D.
		{"heart rate missing (adult)", with(adultToD(), func(in *Input) { in.Vitals.HeartRate = nil }), 2, PointP, []string{
			"P: heart rate not recorded: severe bradycardia (< 40) cannot be ruled out",
		}},
		{"heart rate missing (child)", with(childToD(2000), func(in *Input) { in.Vitals.HeartRate = nil }), 2, PointD, nil},
		{"respiratory rate missing", with(adultToD(), func(in *Input) { in.Vitals.RespiratoryRate = nil }), 2, PointD, []string{
			"C: 2 resources expected (labs, ECG / X-ray) -> D",
			"D: respiratory rate not recorded: danger zone cannot be ruled out",
		}},
		{"SpO2 missing", with(adultToD(), func(in *Input) { in.Vitals.SpO2 = nil }), 2, PointD, []string{
			"C: 2 resources expected (labs, ECG / X-ray) -> D",
			"D: SpO2 not recorded: danger zone cannot be ruled out",
		}},
		{"danger zone and missing together", with(adultToD(), func(in *Input) { in.Vitals.SpO2, in.Vitals.HeartRate = nil, ip(130) }), 2, PointD, []string{
			"C: 2 resources expected (labs, ECG / X-ray) -> D",
			"D: heart rate 130 > 100 (danger zone, age > 8 years)",
			"D: SpO2 not recorded: danger zone cannot be ruled out",
		}},
	})
}

func TestPaediatricFever(t *testing.T) {
	t.Parallel()
	temp := func(c float64) func(*Input) { return func(in *Input) { in.Vitals.TemperatureC = fp(c) } }
	none := func(in *Input) { in.ExpectedResources = rs() } // 0 resources: C alone would say 5
	runESICases(t, []esiCase{
		// 1-28 days and T > 38.0 -> at least 2.
		{"10 days 38.0", with(childToD(10), temp(38.0)), 3, PointD, nil},
		{"10 days 38.1", with(childToD(10), temp(38.1)), 2, PointB, []string{"B: age 1-28 days with temperature 38.1 C > 38.0: at least level 2"}},
		{"day 0 38.1", with(childToD(0), temp(38.1)), 2, PointB, nil},
		{"28 days 38.1", with(childToD(28), temp(38.1)), 2, PointB, []string{"B: age 1-28 days with temperature 38.1 C > 38.0: at least level 2"}},
		{"neonate with no resources", with(childToD(10), temp(38.5), none), 2, PointB, nil},
		{"neonate, fever reported", with(childToD(10), func(in *Input) { in.ChiefComplaint = "felt hot, fever at home" }), 2, PointB,
			[]string{"B: age 1-28 days with fever reported in the complaint: at least level 2"}},
		{"neonate, temperature missing", with(childToD(10), func(in *Input) { in.Vitals.TemperatureC = nil }), 2, PointB,
			[]string{"B: age 1-28 days and temperature not recorded: fever cannot be ruled out: at least level 2"}},
		// 1-3 months and T > 38.0 -> consider 2 (proposed 2).
		{"29 days 38.1", with(childToD(29), temp(38.1)), 2, PointB, []string{"B: age 1-3 months with temperature 38.1 C > 38.0: consider level 2"}},
		{"60 days 38.0", with(childToD(60), temp(38.0)), 3, PointD, nil},
		{"3 months (91 days) 38.1", with(childToD(91), temp(38.1)), 2, PointB, []string{"B: age 1-3 months with temperature 38.1 C > 38.0: consider level 2"}},
		{"young infant with no resources", with(childToD(60), temp(38.1), none), 2, PointB, nil},
		// 3 months - 3 years and T > 39.0 -> consider 2 or 3: go to D.
		{"92 days 38.1", with(childToD(92), temp(38.1), none), 5, PointC, nil},
		{"14 months 39.0", with(childToD(426), temp(39.0), none), 5, PointC, []string{"C: no resources expected -> level 5"}},
		{"14 months 39.1", with(childToD(426), temp(39.1), none), 3, PointD, []string{
			"C: age 3 months - 3 years with temperature 39.1 C > 39.0: consider level 2 or 3 -> D",
			"D: heart rate 90 <= 160 (age 3 months - 3 years)",
			"D: respiratory rate 18 <= 40 (age 3 months - 3 years)",
			"D: SpO2 98 % >= 92",
		}},
		{"14 months 39.1 with danger zone", with(childToD(426), temp(39.1), none, func(in *Input) { in.Vitals.HeartRate = ip(170) }), 2, PointD, []string{
			"C: age 3 months - 3 years with temperature 39.1 C > 39.0: consider level 2 or 3 -> D",
			"D: heart rate 170 > 160 (danger zone, age 3 months - 3 years)",
		}},
		{"14 months 39.1 with 2 resources", with(childToD(426), temp(39.1)), 3, PointD, []string{
			"C: 2 resources expected (labs, ECG / X-ray) -> D",
			"C: age 3 months - 3 years with temperature 39.1 C > 39.0: consider level 2 or 3 -> D",
			"D: heart rate 90 <= 160 (age 3 months - 3 years)",
			"D: respiratory rate 18 <= 40 (age 3 months - 3 years)",
			"D: SpO2 98 % >= 92",
		}},
		{"3 years (1095 days) 39.1", with(childToD(1095), temp(39.1), none), 3, PointD, nil},
		{"1096 days 39.1", with(childToD(1096), temp(39.1), none), 5, PointC, nil},
		// A missing temperature cannot rule out hypothermia either (point P, before C).
		{"14 months, temperature missing", with(childToD(426), none, func(in *Input) { in.Vitals.TemperatureC = nil }), 2, PointP, []string{
			"P: temperature not recorded: hypothermia (<= 35.0 C) cannot be ruled out",
		}},
		// A reported fever does not meet the 3 months - 3 years rule (it needs T > 39.0).
		{"14 months, fever reported, 37.5", with(childToD(426), none, temp(37.5), func(in *Input) { in.ChiefComplaint = "fever" }), 5, PointC, nil},
	})
}

func TestUnknownAge(t *testing.T) {
	t.Parallel()
	in := with(adultToD(), func(in *Input) { in.AgeYears = nil; in.Vitals.TemperatureC = fp(38.5) })
	a := Assess(in)
	if a.Level != 2 || a.DecisionPoint != PointB {
		t.Fatalf("unknown age with fever: level %d at %s, want 2 at B", a.Level, a.DecisionPoint)
	}
	if diff := cmp.Diff([]string{"B: age not recorded (fever rule of 1-28 days applied) with temperature 38.5 C > 38.0: at least level 2"}, a.Reasons.Strings()); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	b := Assess(with(in, func(in *Input) { in.Vitals.TemperatureC, in.Vitals.HeartRate = fp(37), ip(101) }))
	if diff := cmp.Diff([]string{
		"C: 2 resources expected (labs, ECG / X-ray) -> D",
		"D: heart rate 101 > 100 (danger zone, age not recorded, lowest limits)",
	}, b.Reasons.Strings()); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
	if !a.Missing.Has(FieldAge) || !a.NEWS2.Applicable {
		t.Errorf("missing age: missing=%v NEWS2 applicable=%v", a.Missing.Slice(), a.NEWS2.Applicable)
	}
}

func TestMissingInputsAndVitalsRequired(t *testing.T) {
	t.Parallel()
	t.Run("complete record", func(t *testing.T) {
		t.Parallel()
		a := Assess(normalAdult())
		if a.Missing.Len() != 0 || a.Provisional || a.VitalsRequired {
			t.Errorf("complete record: missing %v provisional %v vitalsRequired %v", a.Missing.Slice(), a.Provisional, a.VitalsRequired)
		}
	})
	t.Run("nothing but a complaint", func(t *testing.T) {
		t.Parallel()
		a := AssessWith(Input{ChiefComplaint: "unwell"}, nil)
		want := []MissingInput{
			{FieldAge, assumeAge, true},
			{FieldMentalStatus, assumeMentalAdult, true},
			{FieldPainScore, assumePain, true},
			{FieldHeartRate, assumeHeartRateAdult, true},
			{FieldRespiratoryRate, assumeRespRateAdult, true},
			{FieldSpO2, assumeSpO2Adult, true},
			{FieldTemperature, assumeTempFeverAdult, true},
			{FieldSystolicBP, assumeSBPAdult, true},
			{FieldOnSupplementalOxygen, assumeOxygen, false},
			{FieldExpectedResources, assumeResourcesByText, true},
		}
		if diff := cmp.Diff(want, a.Missing.Slice()); diff != "" {
			t.Errorf("missing (-want +got):\n%s", diff)
		}
		if a.Level != 2 || !a.Provisional || !a.VitalsRequired {
			t.Errorf("level %d provisional %v vitalsRequired %v; want 2, true, true", a.Level, a.Provisional, a.VitalsRequired)
		}
	})
	t.Run("empty input fills every slot", func(t *testing.T) {
		t.Parallel()
		a := Assess(Input{})
		if a.Missing.Len() != 11 || a.Level != 2 || a.DecisionPoint != PointB {
			t.Errorf("empty input: %d missing, level %d at %s", a.Missing.Len(), a.Level, a.DecisionPoint)
		}
		if a.Reasons.At(0).String() != "B: chief complaint not recorded: a high-risk situation cannot be ruled out" {
			t.Errorf("first reason %q", a.Reasons.At(0))
		}
	})
	t.Run("child: no NEWS2 assumptions", func(t *testing.T) {
		t.Parallel()
		a := Assess(with(childToD(2000), func(in *Input) {
			in.Vitals = Vitals{}
		}))
		want := []MissingInput{
			{FieldHeartRate, assumeHeartRateChild, true},
			{FieldRespiratoryRate, assumeRespRateChild, true},
			{FieldSpO2, assumeSpO2Child, true},
			{FieldTemperature, assumeTempChild, true},
			{FieldSystolicBP, assumeSBPChild, false},
		}
		if diff := cmp.Diff(want, a.Missing.Slice()); diff != "" {
			t.Errorf("missing (-want +got):\n%s", diff)
		}
	})
	tests := []struct {
		name           string
		in             Input
		vitalsRequired bool
		provisional    bool
		level          Level
	}{
		// A missing vital sign cannot rule out the physiology rules (point P): level 2,
		// provisional, and no level is recorded until it is measured.
		{"temperature missing in an adult: hypothermia cannot be ruled out",
			with(normalAdult(), func(in *Input) { in.Vitals.TemperatureC = nil }), true, true, 2},
		{"systolic BP missing in an adult", with(normalAdult(), func(in *Input) { in.Vitals.SystolicBP, in.Vitals.DiastolicBP = nil, nil }), true, true, 2},
		{"systolic BP missing in a child is not required", with(childToD(2000), func(in *Input) { in.Vitals.SystolicBP = nil }), false, false, 3},
		{"oxygen status missing is not a vital sign", with(normalAdult(), func(in *Input) { in.Vitals.OnSupplementalOxygen = nil }), false, false, 4},
		{"no resources and no vital signs: physiology cannot be ruled out", with(normalAdult(), func(in *Input) { in.Vitals = Vitals{}; in.ExpectedResources = rs() }), true, true, 2},
		{"point A needs none", Input{AgeYears: ip(30), ChiefComplaint: "arrest", Flags: Flags{Pulseless: true}}, false, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := AssessWith(tc.in, nil)
			if a.VitalsRequired != tc.vitalsRequired || a.Provisional != tc.provisional || a.Level != tc.level {
				t.Errorf("vitalsRequired %v provisional %v level %d; want %v %v %d (missing %v)",
					a.VitalsRequired, a.Provisional, a.Level, tc.vitalsRequired, tc.provisional, tc.level, a.Missing.Slice())
			}
		})
	}
}

func TestTargetTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level Level
		want  time.Duration
	}{
		{1, 0}, {2, 15 * time.Minute}, {3, 30 * time.Minute}, {4, 60 * time.Minute}, {5, 120 * time.Minute},
		{0, 0}, {6, 0}, // invalid levels: immediate, never a longer wait
	}
	for _, tc := range tests {
		if got := TargetTime(tc.level); got != tc.want {
			t.Errorf("TargetTime(%d) = %v, want %v", tc.level, got, tc.want)
		}
	}
	// Through the rules: one patient per level.
	for _, c := range []struct {
		in   Input
		want time.Duration
	}{
		{with(normalAdult(), func(in *Input) { in.Flags.Intubated = true }), 0},
		{with(normalAdult(), func(in *Input) { in.PainScore = ip(9) }), 15 * time.Minute},
		{adultToD(), 30 * time.Minute},
		{normalAdult(), 60 * time.Minute},
		{with(normalAdult(), func(in *Input) { in.ExpectedResources = rs() }), 120 * time.Minute},
	} {
		a := AssessWith(c.in, nil)
		if a.TargetTime() != c.want || time.Duration(a.TargetMinutes)*time.Minute != c.want {
			t.Errorf("level %d: target %v (%d min), want %v", a.Level, a.TargetTime(), a.TargetMinutes, c.want)
		}
	}
}

func TestNegatedComplaintsReported(t *testing.T) {
	t.Parallel()
	a := Assess(with(normalAdult(), func(in *Input) { in.ChiefComplaint = "cough; denies chest pain, no fever" }))
	if diff := cmp.Diff([]string{"chest_pain_cardiac", "fever"}, a.Complaint.Negated.Codes()); diff != "" {
		t.Errorf("negated complaints (-want +got):\n%s", diff)
	}
	if got := a.Complaint.Recognised(); len(got) != 1 || got[0].Code != "cough" {
		t.Errorf("recognised %+v, want cough", got)
	}
}

func TestAssessDoesNotAllocate(t *testing.T) {
	in := benchInput()
	if n := testing.AllocsPerRun(100, func() { sink = Assess(in) }); n != 0 {
		t.Errorf("Assess allocates %v times per run, want 0", n)
	}
}
