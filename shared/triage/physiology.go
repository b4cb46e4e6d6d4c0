package triage

import "math"

// Physiology beyond the ESI danger zone, and the first-order modifiers that keep a patient
// from a less urgent level. ESI v4 leaves these to "nurse judgement"; each rule below names
// its published source next to its threshold, and only measured values fire them (a missing
// vital sign is handled by the ESI points, which assume it conservatively).
//
// Level 2 (point P, "physiology"):
//   - hypotension, adult systolic BP < 90 mmHg: CTAS adult first-order modifier "hemodynamic
//     stability" (shock / hemodynamic compromise -> CTAS 1-2; Bullard MJ et al., CJEM
//     2008;10(2):136-142); NEWS2 scores systolic BP <= 90 at its maximum (RCP 2017);
//   - severe bradycardia, adult heart rate < 40/min: the CTAS modifier's "significant
//     bradycardia" (hemodynamic compromise); NEWS2 scores <= 40 at its maximum;
//   - hypothermia, temperature <= 35.0 C at any age: NEWS2's maximum temperature points;
//   - NEWS2 aggregate of the measured parameters >= 7, the RCP's emergency-response band;
//   - fever with all three vital-sign SIRS criteria (T > 38.0 C, heart rate > 90, respiratory
//     rate > 20; Bone RC et al., Chest 1992;101:1644-1655): the CTAS temperature modifier's
//     "looks septic" -> CTAS 2.
//
// At least level 3 (point M, "modifier"):
//   - shock index, heart rate / systolic BP >= 1.0 (Allgöwer M, Burri C. "Schockindex."
//     Dtsch Med Wochenschr 1967;92:1947-1950): a sign of hemodynamic compromise to weigh, not
//     a level by itself (hypotension and the danger zone decide level 2);
//   - bradycardia, adult heart rate < 50/min;
//   - NEWS2 measured aggregate 5-6 (urgent response) or a single measured parameter scoring 3;
//   - fever with one or two SIRS criteria: the CTAS temperature modifier's "looks unwell";
//   - moderate central pain (4-7/10 in a head, chest, abdominal or pelvic complaint): the
//     CTAS pain modifier, acute central pain 4-7 -> CTAS 3;
//   - a complaint the engine could not read: a nurse reads it, and until then the patient is
//     not sent to levels 4-5 on resources the engine could not estimate.
const (
	hypotensionSBP         = 90  // CTAS hemodynamic modifier; NEWS2 SBP <= 90 scores 3
	shockIndexLimit        = 1.0 // Allgöwer 1967
	severeBradycardiaHR    = 40  // CTAS "significant bradycardia"; NEWS2 pulse <= 40 scores 3
	bradycardiaHR          = 50  // adult bradycardia
	hypothermiaTenths      = 350 // NEWS2 temperature <= 35.0 C scores 3
	news2EmergencyBand     = 7   // RCP 2017 chart 4: >= 7 emergency response
	news2UrgentBand        = 5   // RCP 2017 chart 4: 5-6 urgent response
	sirsFeverTenths        = 380 // SIRS: T > 38.0 C
	sirsLowTempTenths      = 360 // SIRS: T < 36.0 C
	sirsHeartRate          = 90  // SIRS: HR > 90
	sirsRespiratoryRate    = 20  // SIRS: RR > 20
	centralPainModerateMin = 4   // CTAS pain modifier: moderate 4-7
	centralPainModerateMax = 7   // (8-10 is severe, ESI point B at >= 7 already)
	adultDays              = daysSixteenYears
)

// physiologyLevel2 adds the point P reasons and reports whether any fired. A missing value
// cannot rule a rule out (triage-rules.md §5): it fires as not recorded, like the danger zone at
// D, and the assessment needs its vital signs before a level is recorded.
func (e *engine) physiologyLevel2() bool {
	v := &e.in.Vitals
	adult := !e.ageKnown || e.ageDays >= adultDays
	before := e.a.Reasons.Len()
	if adult {
		switch {
		case v.SystolicBP == nil:
			e.add(Reason{Point: PointP, Code: CodeHypotension, Evidence: EvidenceNotRecorded, Field: FieldSystolicBP,
				Limit: hypotensionSBP})
		case *v.SystolicBP < hypotensionSBP:
			e.add(Reason{Point: PointP, Code: CodeHypotension, Evidence: EvidenceObserved, Field: FieldSystolicBP,
				Value: float64(*v.SystolicBP), Limit: hypotensionSBP, HasValue: true})
		}
		switch {
		case v.HeartRate == nil:
			e.add(Reason{Point: PointP, Code: CodeSevereBradycardia, Evidence: EvidenceNotRecorded, Field: FieldHeartRate,
				Limit: severeBradycardiaHR})
		case *v.HeartRate > 0 && *v.HeartRate < severeBradycardiaHR:
			e.add(Reason{Point: PointP, Code: CodeSevereBradycardia, Evidence: EvidenceObserved, Field: FieldHeartRate,
				Value: float64(*v.HeartRate), Limit: severeBradycardiaHR, HasValue: true})
		}
	}
	switch {
	case !e.tempKnown:
		e.add(Reason{Point: PointP, Code: CodeHypothermia, Evidence: EvidenceNotRecorded, Field: FieldTemperature,
			Limit: float64(hypothermiaTenths) / 10})
	case e.tempTenths <= hypothermiaTenths:
		e.add(Reason{Point: PointP, Code: CodeHypothermia, Evidence: EvidenceObserved, Field: FieldTemperature,
			Value: float64(e.tempTenths) / 10, Limit: float64(hypothermiaTenths) / 10, HasValue: true})
	}
	if n := &e.a.NEWS2; n.Applicable && n.Aggregate >= news2EmergencyBand {
		r := Reason{Point: PointP, Code: CodeNEWS2High, Evidence: EvidenceObserved, Field: FieldNEWS2,
			Value: float64(n.Aggregate), Limit: news2EmergencyBand, HasValue: true}
		if n.MeasuredAggregate < news2EmergencyBand {
			r.Evidence = EvidenceNotRecorded // reached only with missing parameters at their maximum
		}
		e.add(r)
	}
	if adult {
		if c, measured := e.sirsCount(); c == 3 && (e.sirsFever() || !e.tempKnown) {
			r := Reason{Point: PointP, Code: CodeSIRSFever, Evidence: EvidenceObserved, Field: FieldTemperature,
				Limit: float64(sirsFeverTenths) / 10, Count: 3}
			if e.tempKnown {
				r.Value, r.HasValue = float64(e.tempTenths)/10, true
			}
			if !measured {
				r.Evidence = EvidenceNotRecorded
			}
			e.add(r)
		}
	}
	return e.a.Reasons.Len() > before
}

// shockIndex is heart rate / systolic BP when both are measured and positive.
func (e *engine) shockIndex() (float64, bool) {
	v := &e.in.Vitals
	if v.HeartRate == nil || v.SystolicBP == nil || *v.HeartRate <= 0 || *v.SystolicBP <= 0 {
		return 0, false
	}
	return float64(*v.HeartRate) / float64(*v.SystolicBP), true
}

func (e *engine) sirsFever() bool { return e.tempKnown && e.tempTenths > sirsFeverTenths }

// sirsCount counts the vital-sign SIRS criteria (temperature, heart rate, respiratory rate)
// that are met or cannot be ruled out (not recorded); measured is false when a missing value
// was counted.
func (e *engine) sirsCount() (n int, measured bool) {
	v := &e.in.Vitals
	measured = true
	switch {
	case !e.tempKnown:
		n, measured = n+1, false
	case e.tempTenths > sirsFeverTenths || e.tempTenths < sirsLowTempTenths:
		n++
	}
	switch {
	case v.HeartRate == nil:
		n, measured = n+1, false
	case *v.HeartRate > sirsHeartRate:
		n++
	}
	switch {
	case v.RespiratoryRate == nil:
		n, measured = n+1, false
	case *v.RespiratoryRate > sirsRespiratoryRate:
		n++
	}
	return n, measured
}

// modifiers adds the point M reasons (at least level 3) to out and reports whether any fired.
// They are collected apart from the decision's reasons and added when they set the level.
func (e *engine) modifiers(out *Reasons) bool {
	v := &e.in.Vitals
	adult := e.ageKnown && e.ageDays >= adultDays || !e.ageKnown
	before := out.Len()
	if si, ok := e.shockIndex(); ok && adult && si >= shockIndexLimit { // missing HR or SBP fired at P
		out.add(Reason{Point: PointM, Code: CodeShockIndex, Evidence: EvidenceObserved, Field: FieldHeartRate,
			Value: math.Round(si*100) / 100, Limit: shockIndexLimit, HasValue: true})
	}
	if adult && v.HeartRate != nil && *v.HeartRate >= severeBradycardiaHR && *v.HeartRate < bradycardiaHR {
		out.add(Reason{Point: PointM, Code: CodeBradycardia, Evidence: EvidenceObserved, Field: FieldHeartRate,
			Value: float64(*v.HeartRate), Limit: bradycardiaHR, HasValue: true})
	}
	if n := &e.a.NEWS2; n.Applicable {
		switch {
		case n.Aggregate >= news2UrgentBand && n.Aggregate < news2EmergencyBand:
			r := Reason{Point: PointM, Code: CodeNEWS2Medium, Evidence: EvidenceObserved, Field: FieldNEWS2,
				Value: float64(n.Aggregate), Limit: news2UrgentBand, HasValue: true}
			if n.MeasuredAggregate < news2UrgentBand {
				r.Evidence = EvidenceNotRecorded
			}
			out.add(r)
		case n.Aggregate < news2UrgentBand:
			for _, it := range n.Items {
				if it.Points == 3 {
					r := Reason{Point: PointM, Code: CodeNEWS2SingleRed, Evidence: EvidenceObserved, Field: FieldNEWS2,
						Observation: it.Parameter, Value: 3, Limit: 3, HasValue: true}
					if it.Missing {
						r.Evidence = EvidenceNotRecorded
					}
					out.add(r)
					break
				}
			}
		}
	}
	if adult && e.sirsFever() {
		if c, _ := e.sirsCount(); c >= 2 && c < 3 {
			out.add(Reason{Point: PointM, Code: CodeFeverUnwell, Evidence: EvidenceObserved, Field: FieldTemperature,
				Value: float64(e.tempTenths) / 10, Limit: float64(sirsFeverTenths) / 10, HasValue: true, Count: c})
		}
	}
	if p := e.in.PainScore; p != nil && *p >= centralPainModerateMin && *p <= centralPainModerateMax && e.centralPain() {
		out.add(Reason{Point: PointM, Code: CodeCentralPain, Evidence: EvidenceObserved, Field: FieldPainScore,
			Value: float64(*p), Limit: centralPainModerateMin, HasValue: true, Complaints: e.centralComplaints()})
	}
	for _, f := range e.cr.findings[:e.cr.nFindings] {
		if r, ok := e.complaintRaise(f.complaint, Level3); ok {
			r.Point = PointM
			out.add(r)
		}
	}
	if e.cr.words > 0 && !e.cr.recognised() && !e.categoryScreens() {
		out.add(Reason{Point: PointM, Code: CodeUnrecognisedComplaint, Evidence: EvidenceComplaint, Field: FieldChiefComplaint,
			Count: e.cr.unknown})
	}
	return out.Len() > before
}

// centralComplaints are the recognised complaints whose pain site is central.
func (e *engine) centralComplaints() ComplaintSet {
	var s ComplaintSet
	cs := vocab().complaints
	for _, f := range e.cr.findings[:e.cr.nFindings] {
		if cs[f.complaint].Site == PainSiteCentral {
			s.add(f.complaint)
		}
	}
	return s
}

func (e *engine) centralPain() bool { return !e.centralComplaints().Empty() }
