package triage

import (
	"strings"
	"testing"
)

// TestPhysiologyBoundaries checks every threshold of point P (level 2) and of the
// physiological modifiers (point M, at least 3) on both sides (triage-rules.md §7.2-7.3).
func TestPhysiologyBoundaries(t *testing.T) {
	t.Parallel()
	// normalAdult: level 4 at C (one resource), every vital sign normal.
	v := func(f func(*Vitals)) Input { return with(normalAdult(), func(in *Input) { f(&in.Vitals) }) }
	for _, tc := range []struct {
		name  string
		in    Input
		level Level
		point DecisionPoint
		code  ReasonCode
	}{
		{"SBP 89: hypotension", v(func(x *Vitals) { x.SystolicBP = ip(89) }), 2, PointP, CodeHypotension},
		{"SBP 90: not hypotension", v(func(x *Vitals) { x.SystolicBP = ip(90) }), 3, PointM, CodeNEWS2SingleRed},
		{"SBP 91: nothing", v(func(x *Vitals) { x.SystolicBP = ip(91) }), 4, PointC, ""},
		{"HR 39: severe bradycardia", v(func(x *Vitals) { x.HeartRate = ip(39) }), 2, PointP, CodeSevereBradycardia},
		{"HR 40: bradycardia", v(func(x *Vitals) { x.HeartRate = ip(40) }), 3, PointM, CodeBradycardia},
		{"HR 49: bradycardia", v(func(x *Vitals) { x.HeartRate = ip(49) }), 3, PointM, CodeBradycardia},
		{"HR 50: nothing", v(func(x *Vitals) { x.HeartRate = ip(50) }), 4, PointC, ""},
		{"T 35.0: hypothermia", v(func(x *Vitals) { x.TemperatureC = fp(35.0) }), 2, PointP, CodeHypothermia},
		{"T 35.1: nothing", v(func(x *Vitals) { x.TemperatureC = fp(35.1) }), 4, PointC, ""},
		{"SIRS 3/3 at T 38.1", v(func(x *Vitals) { x.TemperatureC, x.HeartRate, x.RespiratoryRate = fp(38.1), ip(91), ip(21) }), 2, PointP, CodeSIRSFever},
		{"T 38.0 is not a SIRS fever", v(func(x *Vitals) { x.TemperatureC, x.HeartRate, x.RespiratoryRate = fp(38.0), ip(91), ip(21) }), 4, PointC, ""},
		{"fever with one other criterion", v(func(x *Vitals) { x.TemperatureC, x.HeartRate = fp(38.5), ip(91) }), 3, PointM, CodeFeverUnwell},
		{"fever alone", v(func(x *Vitals) { x.TemperatureC = fp(38.5) }), 4, PointC, ""},
		{"shock index 1.0", v(func(x *Vitals) { x.HeartRate, x.SystolicBP = ip(100), ip(100) }), 3, PointM, CodeShockIndex},
		{"shock index 0.99", v(func(x *Vitals) { x.HeartRate, x.SystolicBP = ip(99), ip(100) }), 4, PointC, ""},
		{"NEWS2 7: emergency band", v(func(x *Vitals) { x.RespiratoryRate, x.HeartRate, x.SystolicBP = ip(25), ip(131), ip(105) }), 2, PointP, CodeNEWS2High},
		{"NEWS2 6: not the emergency band", v(func(x *Vitals) { x.RespiratoryRate, x.HeartRate = ip(25), ip(131) }), 2, PointD, CodeNEWS2Medium},
		{"NEWS2 5: urgent band", v(func(x *Vitals) { x.RespiratoryRate, x.HeartRate, x.SystolicBP = ip(21), ip(111), ip(105) }), 2, PointD, CodeNEWS2Medium},
		{"NEWS2 4: nothing", v(func(x *Vitals) { x.RespiratoryRate, x.HeartRate = ip(21), ip(111) }), 4, PointC, ""},
	} {
		a := AssessWith(tc.in, nil)
		if a.Level != tc.level || a.DecisionPoint != tc.point {
			t.Errorf("%s: level %d at %s, want %d at %s (%q)", tc.name, a.Level, a.DecisionPoint, tc.level, tc.point, a.Reasons.Strings())
			continue
		}
		if tc.code == "" {
			continue
		}
		found := false
		for i := range a.Reasons.Len() {
			found = found || a.Reasons.At(i).Code == tc.code
		}
		if !found {
			t.Errorf("%s: no %s reason in %q", tc.name, tc.code, a.Reasons.Strings())
		}
	}
}

// TestPhysiologyNotForChildren: the adult physiology rules do not apply under 16, and
// hypothermia applies at every age.
func TestPhysiologyNotForChildren(t *testing.T) {
	t.Parallel()
	child := with(childToD(2000), func(in *Input) { in.Vitals.SystolicBP, in.Vitals.HeartRate = ip(85), ip(80) })
	if a := AssessWith(child, nil); a.DecisionPoint == PointP {
		t.Errorf("a 5-year-old's SBP 85 fired P: %q", a.Reasons.Strings())
	}
	cold := with(childToD(2000), func(in *Input) { in.Vitals.TemperatureC = fp(34.8) })
	if a := AssessWith(cold, nil); a.DecisionPoint != PointP || !strings.Contains(a.Reasons.At(0).String(), "hypothermia") {
		t.Errorf("a hypothermic child: %s %q", a.DecisionPoint, a.Reasons.Strings())
	}
}
