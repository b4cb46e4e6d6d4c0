package triage

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type news2Case struct {
	name   string
	mod    func(*Input)
	item   int // index in NEWS2.Items
	points int
}

// TestNEWS2Parameters checks every band of every parameter of triage-rules.md §2 on both sides of
// each boundary, through Assess (an otherwise all-normal adult), so the wiring is tested too.
func TestNEWS2Parameters(t *testing.T) {
	t.Parallel()
	var tests []news2Case
	addInt := func(param string, item int, set func(*Input, int), cases ...[2]int) {
		for _, c := range cases {
			v, p := c[0], c[1]
			tests = append(tests, news2Case{param + "=" + strconv.Itoa(v), func(in *Input) { set(in, v) }, item, p})
		}
	}
	// Respiratory rate: <= 8 -> 3; 9-11 -> 1; 12-20 -> 0; 21-24 -> 2; >= 25 -> 3.
	addInt("rr", 0, func(in *Input, v int) { in.Vitals.RespiratoryRate = ip(v) },
		[2]int{1, 3}, [2]int{8, 3}, [2]int{9, 1}, [2]int{11, 1}, [2]int{12, 0}, [2]int{20, 0},
		[2]int{21, 2}, [2]int{24, 2}, [2]int{25, 3}, [2]int{60, 3})
	// SpO2 scale 1: <= 91 -> 3; 92-93 -> 2; 94-95 -> 1; >= 96 -> 0.
	addInt("spo2", 1, func(in *Input, v int) { in.Vitals.SpO2 = ip(v) },
		[2]int{91, 3}, [2]int{92, 2}, [2]int{93, 2}, [2]int{94, 1}, [2]int{95, 1}, [2]int{96, 0}, [2]int{100, 0})
	// SpO2 scale 1 ignores oxygen for the SpO2 row (oxygen scores on its own row).
	addInt("spo2.o2", 1, func(in *Input, v int) { in.Vitals.SpO2 = ip(v); in.Vitals.OnSupplementalOxygen = bp(true) },
		[2]int{97, 0}, [2]int{93, 2})
	// SpO2 scale 2 on air: <= 83 -> 3; 84-85 -> 2; 86-87 -> 1; 88-92 -> 0; >= 93 on air -> 0.
	addInt("spo2.s2.air", 1, func(in *Input, v int) { in.Vitals.SpO2 = ip(v); in.Vitals.SpO2Scale2 = true },
		[2]int{83, 3}, [2]int{84, 2}, [2]int{85, 2}, [2]int{86, 1}, [2]int{87, 1}, [2]int{88, 0},
		[2]int{92, 0}, [2]int{93, 0}, [2]int{97, 0}, [2]int{100, 0})
	// SpO2 scale 2 on oxygen: as on air up to 92; 93-94 -> 1; 95-96 -> 2; >= 97 -> 3.
	addInt("spo2.s2.o2", 1, func(in *Input, v int) {
		in.Vitals.SpO2 = ip(v)
		in.Vitals.SpO2Scale2 = true
		in.Vitals.OnSupplementalOxygen = bp(true)
	}, [2]int{83, 3}, [2]int{84, 2}, [2]int{85, 2}, [2]int{86, 1}, [2]int{87, 1}, [2]int{88, 0},
		[2]int{92, 0}, [2]int{93, 1}, [2]int{94, 1}, [2]int{95, 2}, [2]int{96, 2}, [2]int{97, 3}, [2]int{100, 3})
	// Air or oxygen: oxygen -> 2; air -> 0.
	tests = append(tests,
		news2Case{"oxygen", func(in *Input) { in.Vitals.OnSupplementalOxygen = bp(true) }, 2, 2},
		news2Case{"air", func(in *Input) { in.Vitals.OnSupplementalOxygen = bp(false) }, 2, 0})
	// Systolic BP: <= 90 -> 3; 91-100 -> 2; 101-110 -> 1; 111-219 -> 0; >= 220 -> 3.
	addInt("sbp", 3, func(in *Input, v int) { in.Vitals.SystolicBP = ip(v); in.Vitals.DiastolicBP = nil },
		[2]int{60, 3}, [2]int{90, 3}, [2]int{91, 2}, [2]int{100, 2}, [2]int{101, 1}, [2]int{110, 1},
		[2]int{111, 0}, [2]int{219, 0}, [2]int{220, 3}, [2]int{260, 3})
	// Pulse: <= 40 -> 3; 41-50 -> 1; 51-90 -> 0; 91-110 -> 1; 111-130 -> 2; >= 131 -> 3.
	addInt("pulse", 4, func(in *Input, v int) { in.Vitals.HeartRate = ip(v) },
		[2]int{30, 3}, [2]int{40, 3}, [2]int{41, 1}, [2]int{50, 1}, [2]int{51, 0}, [2]int{90, 0},
		[2]int{91, 1}, [2]int{110, 1}, [2]int{111, 2}, [2]int{130, 2}, [2]int{131, 3}, [2]int{180, 3})
	// Consciousness: alert -> 0; new confusion, V, P or U -> 3.
	for _, c := range []struct {
		m MentalStatus
		p int
	}{{MentalAlert, 0}, {MentalNewConfusion, 3}, {MentalVoice, 3}, {MentalPain, 3}, {MentalUnresponsive, 3}} {
		tests = append(tests, news2Case{"avpu=" + string(c.m), func(in *Input) { in.MentalStatus = c.m }, 5, c.p})
	}
	// Temperature: <= 35.0 -> 3; 35.1-36.0 -> 1; 36.1-38.0 -> 0; 38.1-39.0 -> 1; >= 39.1 -> 2.
	for _, c := range []struct {
		t float64
		p int
	}{
		{30.0, 3}, {35.0, 3}, {35.1, 1}, {36.0, 1}, {36.1, 0}, {38.0, 0}, {38.1, 1}, {39.0, 1}, {39.1, 2}, {42.0, 2},
		// Read at 0.1 C.
		{35.04, 3}, {36.04, 1}, {38.04, 0}, {38.06, 1}, {39.04, 1}, {39.06, 2},
	} {
		tests = append(tests, news2Case{"temp=" + strconv.FormatFloat(c.t, 'f', -1, 64), func(in *Input) { in.Vitals.TemperatureC = fp(c.t) }, 6, c.p})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := Assess(with(normalAdult(), tc.mod))
			n := a.NEWS2
			if !n.Applicable || !n.Complete {
				t.Fatalf("NEWS2 applicable=%v complete=%v, want both true", n.Applicable, n.Complete)
			}
			if got := n.Items[tc.item].Points; got != tc.points {
				t.Errorf("%s points = %d, want %d", n.Items[tc.item].Parameter, got, tc.points)
			}
			// Every other parameter is normal, so the aggregate is this parameter's points
			// (plus 2 for oxygen when the case puts the patient on oxygen).
			want := tc.points
			if tc.item != 2 && n.Items[2].Points == 2 {
				want += 2
			}
			if n.Aggregate != want || n.MeasuredAggregate != want {
				t.Errorf("aggregate = %d, measured %d, want %d", n.Aggregate, n.MeasuredAggregate, want)
			}
		})
	}
}

func TestNEWS2Response(t *testing.T) {
	t.Parallel()
	tests := []struct {
		aggregate  int
		single3    bool
		risk       NEWS2Risk
		response   string
		minutes    int
		continuous bool
	}{
		{0, false, RiskLow, "observe every 12 h", 720, false},
		{1, false, RiskLow, "observe every 4-6 h", 240, false},
		{4, false, RiskLow, "observe every 4-6 h", 240, false},
		{3, true, RiskLowMedium, "observe hourly and inform the medical team", 60, false},
		{4, true, RiskLowMedium, "observe hourly and inform the medical team", 60, false},
		{5, false, RiskMedium, "observe hourly; urgent clinical review", 60, false},
		{5, true, RiskMedium, "observe hourly; urgent clinical review", 60, false},
		{6, true, RiskMedium, "observe hourly; urgent clinical review", 60, false},
		{7, false, RiskHigh, "continuous monitoring; emergency response", 0, true},
		{7, true, RiskHigh, "continuous monitoring; emergency response", 0, true},
		{20, true, RiskHigh, "continuous monitoring; emergency response", 0, true},
	}
	for _, tc := range tests {
		risk, response, minutes, continuous := news2Response(tc.aggregate, tc.single3)
		if risk != tc.risk || response != tc.response || minutes != tc.minutes || continuous != tc.continuous {
			t.Errorf("news2Response(%d, %v) = %q, %q, %d, %v; want %q, %q, %d, %v", tc.aggregate, tc.single3,
				risk, response, minutes, continuous, tc.risk, tc.response, tc.minutes, tc.continuous)
		}
	}
}

func TestNEWS2InAssessment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         Input
		aggregate  int
		measured   int
		complete   bool
		risk       NEWS2Risk
		reassess   Reassessment
		applicable bool
	}{
		{
			name: "all normal", in: normalAdult(), aggregate: 0, measured: 0, complete: true, risk: RiskLow,
			reassess: Reassessment{Applicable: true, IntervalMinutes: 720, Response: responseScore0}, applicable: true,
		},
		{
			name: "single 3 (pulse 131)", in: with(normalAdult(), func(in *Input) { in.Vitals.HeartRate = ip(131) }),
			aggregate: 3, measured: 3, complete: true, risk: RiskLowMedium,
			reassess: Reassessment{Applicable: true, IntervalMinutes: 60, Response: responseSingle3}, applicable: true,
		},
		{
			name: "medium (RR 22, pulse 112, temp 38.5)", in: with(normalAdult(), func(in *Input) {
				in.Vitals.RespiratoryRate, in.Vitals.HeartRate, in.Vitals.TemperatureC = ip(22), ip(112), fp(38.5)
			}),
			aggregate: 5, measured: 5, complete: true, risk: RiskMedium,
			reassess: Reassessment{Applicable: true, IntervalMinutes: 60, Response: responseScore5}, applicable: true,
		},
		{
			name: "high (oxygen, SpO2 93, SBP 95, confused)", in: with(normalAdult(), func(in *Input) {
				in.Vitals.OnSupplementalOxygen, in.Vitals.SpO2, in.Vitals.SystolicBP = bp(true), ip(93), ip(95)
				in.Vitals.DiastolicBP = ip(60)
				in.MentalStatus = MentalNewConfusion
			}),
			aggregate: 9, measured: 9, complete: true, risk: RiskHigh,
			reassess: Reassessment{Applicable: true, Continuous: true, Response: responseScore7}, applicable: true,
		},
		{
			name: "every parameter missing scores its maximum", in: Input{AgeYears: ip(50), ChiefComplaint: "unwell"},
			aggregate: 20, measured: 0, complete: false, risk: RiskHigh,
			reassess: Reassessment{Applicable: true, Continuous: true, Response: responseScore7}, applicable: true,
		},
		{
			name: "missing oxygen status is scored as oxygen", in: with(normalAdult(), func(in *Input) { in.Vitals.OnSupplementalOxygen = nil }),
			aggregate: 2, measured: 0, complete: false, risk: RiskLow,
			reassess: Reassessment{Applicable: true, IntervalMinutes: 240, Response: responseScore1to4}, applicable: true,
		},
		{
			name: "age 16 exactly: applies", in: with(normalAdult(), func(in *Input) { in.AgeYears = ip(16) }),
			aggregate: 0, complete: true, risk: RiskLow,
			reassess: Reassessment{Applicable: true, IntervalMinutes: 720, Response: responseScore0}, applicable: true,
		},
		{
			name: "age 15 years 11 months: does not apply", in: with(normalAdult(), func(in *Input) { in.AgeYears, in.AgeMonths = ip(15), ip(11) }),
			applicable: false,
		},
		{
			name: "child: does not apply", in: childToD(400), applicable: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := Assess(tc.in)
			n := a.NEWS2
			if n.Applicable != tc.applicable {
				t.Fatalf("applicable = %v, want %v", n.Applicable, tc.applicable)
			}
			if !tc.applicable {
				if n.NotApplicable != notApplicableUnder16 || n.Aggregate != 0 || a.Reassessment != (Reassessment{}) {
					t.Errorf("NEWS2 for a child = %+v, reassessment %+v; want only the not-applicable note", n, a.Reassessment)
				}
				return
			}
			if n.Aggregate != tc.aggregate || n.MeasuredAggregate != tc.measured || n.Complete != tc.complete || n.Risk != tc.risk {
				t.Errorf("aggregate %d measured %d complete %v risk %q; want %d %d %v %q",
					n.Aggregate, n.MeasuredAggregate, n.Complete, n.Risk, tc.aggregate, tc.measured, tc.complete, tc.risk)
			}
			if diff := cmp.Diff(tc.reassess, a.Reassessment); diff != "" {
				t.Errorf("reassessment (-want +got):\n%s", diff)
			}
			sum := 0
			for _, it := range n.Items {
				sum += it.Points
			}
			if sum != n.Aggregate {
				t.Errorf("items sum to %d, aggregate %d", sum, n.Aggregate)
			}
		})
	}
}

func TestNEWS2PregnancyCaveat(t *testing.T) {
	t.Parallel()
	a := Assess(with(normalAdult(), func(in *Input) { in.Flags.Pregnant = true }))
	if a.NEWS2.Caveat != caveatPregnancy {
		t.Errorf("caveat = %q, want %q", a.NEWS2.Caveat, caveatPregnancy)
	}
	if b := Assess(normalAdult()); b.NEWS2.Caveat != "" {
		t.Errorf("caveat without pregnancy = %q, want none", b.NEWS2.Caveat)
	}
}

// TestNEWS2PointsAreShapleyValues checks the property that makes the per-parameter points
// exact Shapley attributions (triage-rules.md §5): the marginal contribution of a parameter to the
// aggregate, added to any coalition of the other parameters (the rest held at the all-normal
// baseline), equals its points. Scale 1; on scale 2 the SpO2 row depends on the oxygen row,
// and the attribution is exact per chart row (SpO2 with its oxygen status).
func TestNEWS2PointsAreShapleyValues(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	baseline := normalAdult()
	setters := []func(dst *Input, src Input){
		func(d *Input, s Input) { d.Vitals.RespiratoryRate = s.Vitals.RespiratoryRate },
		func(d *Input, s Input) { d.Vitals.SpO2 = s.Vitals.SpO2 },
		func(d *Input, s Input) { d.Vitals.OnSupplementalOxygen = s.Vitals.OnSupplementalOxygen },
		func(d *Input, s Input) { d.Vitals.SystolicBP = s.Vitals.SystolicBP },
		func(d *Input, s Input) { d.Vitals.HeartRate = s.Vitals.HeartRate },
		func(d *Input, s Input) { d.MentalStatus = s.MentalStatus },
		func(d *Input, s Input) { d.Vitals.TemperatureC = s.Vitals.TemperatureC },
	}
	for range 300 {
		p := normalAdult()
		p.Vitals = Vitals{
			RespiratoryRate:      ip(r.IntN(40)),
			SpO2:                 ip(80 + r.IntN(21)),
			OnSupplementalOxygen: bp(r.IntN(2) == 0),
			SystolicBP:           ip(60 + r.IntN(200)),
			HeartRate:            ip(20 + r.IntN(170)),
			TemperatureC:         fp(33 + float64(r.IntN(80))/10),
		}
		p.MentalStatus = mentalStatuses[r.IntN(len(mentalStatuses))]
		points := Assess(p).NEWS2.Items
		for i := range setters {
			coalition := baseline
			for j := range setters {
				if j != i && r.IntN(2) == 0 {
					setters[j](&coalition, p)
				}
			}
			with := coalition
			setters[i](&with, p)
			marginal := Assess(with).NEWS2.Aggregate - Assess(coalition).NEWS2.Aggregate
			if marginal != points[i].Points {
				t.Fatalf("parameter %s: marginal contribution %d, points %d", points[i].Parameter, marginal, points[i].Points)
			}
		}
	}
}

func TestQSOFA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mod      func(*Input)
		score    int
		items    [3]int
		highRisk bool
		complete bool
	}{
		{"all normal", func(*Input) {}, 0, [3]int{0, 0, 0}, false, true},
		// Respiratory rate >= 22 (not > 22).
		{"rr 21", func(in *Input) { in.Vitals.RespiratoryRate = ip(21) }, 0, [3]int{0, 0, 0}, false, true},
		{"rr 22", func(in *Input) { in.Vitals.RespiratoryRate = ip(22) }, 1, [3]int{1, 0, 0}, false, true},
		// Systolic BP <= 100 (not < 100).
		{"sbp 101", func(in *Input) { in.Vitals.SystolicBP, in.Vitals.DiastolicBP = ip(101), nil }, 0, [3]int{0, 0, 0}, false, true},
		{"sbp 100", func(in *Input) { in.Vitals.SystolicBP, in.Vitals.DiastolicBP = ip(100), nil }, 1, [3]int{0, 1, 0}, false, true},
		// Altered mentation: anything but alert.
		{"new confusion", func(in *Input) { in.MentalStatus = MentalNewConfusion }, 1, [3]int{0, 0, 1}, false, true},
		{"V", func(in *Input) { in.MentalStatus = MentalVoice }, 1, [3]int{0, 0, 1}, false, true},
		{"U", func(in *Input) { in.MentalStatus = MentalUnresponsive }, 1, [3]int{0, 0, 1}, false, true},
		// Score >= 2 flags high risk.
		{"rr 22 and sbp 100", func(in *Input) {
			in.Vitals.RespiratoryRate, in.Vitals.SystolicBP, in.Vitals.DiastolicBP = ip(22), ip(100), nil
		}, 2, [3]int{1, 1, 0}, true, true},
		{"all three", func(in *Input) {
			in.Vitals.RespiratoryRate, in.Vitals.SystolicBP, in.Vitals.DiastolicBP = ip(30), ip(80), nil
			in.MentalStatus = MentalVoice
		}, 3, [3]int{1, 1, 1}, true, true},
		// Missing inputs count their point.
		{"rr missing", func(in *Input) { in.Vitals.RespiratoryRate = nil }, 1, [3]int{1, 0, 0}, false, false},
		{"sbp and mental status missing", func(in *Input) {
			in.Vitals.SystolicBP, in.Vitals.DiastolicBP, in.MentalStatus = nil, nil, ""
		}, 2, [3]int{0, 1, 1}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := Assess(with(normalAdult(), tc.mod)).QSOFA
			got := [3]int{q.Items[0].Points, q.Items[1].Points, q.Items[2].Points}
			if q.Score != tc.score || got != tc.items || q.HighRisk != tc.highRisk || q.Complete != tc.complete {
				t.Errorf("qSOFA score %d items %v highRisk %v complete %v; want %d %v %v %v",
					q.Score, got, q.HighRisk, q.Complete, tc.score, tc.items, tc.highRisk, tc.complete)
			}
		})
	}
}
