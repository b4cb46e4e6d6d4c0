package triage

import "time"

// Assessment is the engine's proposal with its explanation (triage-rules.md §5).
type Assessment struct {
	// EngineVersion identifies the rules, so that an audited assessment can be replayed.
	EngineVersion string `json:"engineVersion"`
	// Level is the proposed ESI level, 1..5. A nurse confirms or overrides it.
	Level Level `json:"level"`
	// DecisionPoint is the ESI decision point that decided the level.
	DecisionPoint DecisionPoint `json:"decisionPoint"`
	// Reasons are the inputs that made the decision point fire (when D decides, the
	// point C reasons that sent the patient to D come first).
	Reasons Reasons `json:"reasons"`
	// Provisional is true when a missing input could change the level once it is recorded
	// (the Missing entries with AffectsLevel): the engine assumed it conservatively.
	Provisional bool `json:"provisional"`
	// VitalsRequired is true when the level was not decided at point A and a required vital
	// sign is missing: ESI allows no level without an assessment with vital signs unless the
	// patient is in extremis (triage-rules.md §1). The service must not record the level until the
	// vital signs are recorded.
	VitalsRequired bool `json:"vitalsRequired"`
	// Missing lists every missing input and what was assumed for it.
	Missing MissingInputs `json:"missing"`
	// Resources are the resources counted at point C, as given or as estimated.
	Resources ResourceEstimate `json:"resources"`
	// Complaint is how the engine read the chief complaint: the vocabulary's complaints it
	// recognised (with their side), those written as absent, and the words it did not know.
	Complaint ComplaintSummary `json:"complaint"`
	// RulesLevel is the level the rules alone propose (ESI with the physiology rules and the
	// first-order modifiers, resources as given or estimated); Level differs from it only where
	// the learned second opinion raised it or chose among 3, 4 and 5 without resources.
	RulesLevel Level `json:"rulesLevel"`
	// Model is the learned second opinion: its level, probabilities and exact attributions.
	Model ModelOpinion `json:"model"`
	// NEWS2 (adults >= 16) and qSOFA with the points of every parameter.
	NEWS2 NEWS2 `json:"news2"`
	QSOFA QSOFA `json:"qsofa"`
	// TargetMinutes is the target time to physician of the level (triage-rules.md §4); 0 = immediate.
	TargetMinutes int `json:"targetMinutes"`
	// Reassessment is the observation interval from the NEWS2 clinical response.
	Reassessment Reassessment `json:"reassessment"`
}

// TargetTime is the target time to physician as a duration (0 = immediate).
func (a Assessment) TargetTime() time.Duration { return TargetTime(a.Level) }

// ResourceEstimate is the resource count used at point C.
type ResourceEstimate struct {
	Types ResourceSet `json:"types"`
	// Count is the ESI resource count; when Evidence is EvidenceNotRecorded it is the assumed 2.
	Count int `json:"count"`
	// Evidence is EvidenceObserved (given by the nurse), EvidenceEstimated (from Category) or
	// EvidenceNotRecorded (no basis: >= 2 assumed).
	Evidence Evidence          `json:"evidence"`
	Category ComplaintCategory `json:"category,omitempty"`
	// Complaints are the recognised complaints the estimate comes from.
	Complaints ComplaintSet `json:"complaints,omitempty"`
}

// Reassessment is when to observe the patient again (triage-rules.md §2 clinical response).
type Reassessment struct {
	// Applicable is false when NEWS2 does not apply (under 16): no interval is proposed.
	Applicable      bool   `json:"applicable"`
	IntervalMinutes int    `json:"intervalMinutes"`
	Continuous      bool   `json:"continuous"`
	Response        string `json:"response,omitempty"`
}

// Thresholds of ESI v4 (triage-rules.md §1).
const (
	spo2PointA           = 90  // triage-rules.md §1 A: SpO2 < 90 %
	painSevere           = 7   // triage-rules.md §1 B: pain >= 7/10
	resourcesToD         = 2   // triage-rules.md §1 C: >= 2 resource types -> D
	spo2DangerZone       = 92  // triage-rules.md §1 danger zone: SpO2 < 92 % at any age
	feverTenths          = 380 // triage-rules.md §1 paediatric fever: T > 38.0 C (also "immunocompromised with fever")
	toddlerFeverTenths   = 390 // triage-rules.md §1 paediatric fever, 3 months - 3 years: T > 39.0 C
	assumedResourceCount = 2   // no basis for an estimate: assume >= 2 (go to D), triage-rules.md §6
)

// dangerRow is one row of the danger-zone table: heart rate > hr or respiratory rate > rr.
type dangerRow struct {
	band   AgeBand
	hr, rr int
}

var dangerZone = [...]dangerRow{
	{AgeBandUnder3Months, 180, 50},    // triage-rules.md §1 danger zone: < 3 months, HR > 180, RR > 50
	{AgeBand3MonthsTo3Years, 160, 40}, // triage-rules.md §1 danger zone: 3 months - 3 years, HR > 160, RR > 40
	{AgeBand3To8Years, 140, 30},       // triage-rules.md §1 danger zone: 3 - 8 years, HR > 140, RR > 30
	{AgeBandOver8Years, 100, 20},      // triage-rules.md §1 danger zone: > 8 years, HR > 100, RR > 20
}

// dangerRowFor picks the row for an age; shared boundaries go to the more urgent row. An
// unknown age gets the lowest limits of the table (those of > 8 years; a test checks).
func dangerRowFor(days int, known bool) dangerRow {
	switch {
	case !known:
		return dangerRow{AgeBandUnknown, dangerZone[3].hr, dangerZone[3].rr}
	case days < daysThreeMonths: // "< 3 months"
		return dangerZone[0]
	case days < daysThreeYears: // "3 months - 3 years"; exactly 3 years goes to 3 - 8
		return dangerZone[1]
	case days <= daysEightYears: // "3 - 8 years"
		return dangerZone[2]
	}
	return dangerZone[3] // "> 8 years"
}

// feverBandFor picks the paediatric fever rule (triage-rules.md §1) for an age, or "" when none
// applies. An unknown age is treated as a neonate (the most urgent rule).
func feverBandFor(days int, known bool) AgeBand {
	switch {
	case !known:
		return AgeBandUnknown
	case days <= daysNeonateMax: // "1-28 days" (day 0 included)
		return AgeBandNeonate
	case days <= daysThreeMonths: // "1-3 months"; exactly 3 months takes this, the more urgent rule
		return AgeBandYoungInfant
	case days <= daysThreeYears: // "3 months - 3 years"
		return AgeBand3MonthsTo3Years
	}
	return ""
}

// Assumptions for missing inputs (triage-rules.md §5).
const (
	assumeAge              = "the lowest danger-zone limits (> 8 years), the 1-28 days fever rule, and NEWS2 as for an adult"
	assumeComplaint        = "a high-risk situation cannot be ruled out: point B fires"
	assumeComplaintUnread  = "the complaint was not recognised: a nurse reads it; at least level 3, resources >= 2 assumed"
	assumeMentalAdult      = "new confusion cannot be ruled out: point B fires; NEWS2 consciousness 3; qSOFA 1; P or U (point A) not excluded: assess AVPU now"
	assumeMentalChild      = "new confusion cannot be ruled out: point B fires; qSOFA 1; P or U (point A) not excluded: assess AVPU now"
	assumePain             = "pain >= 7 cannot be ruled out: point B fires"
	assumeHeartRateAdult   = "severe bradycardia and the danger zone cannot be ruled out: point P proposes 2; NEWS2 pulse 3"
	assumeHeartRateChild   = "danger zone cannot be ruled out: point D proposes 2"
	assumeRespRateAdult    = "danger zone cannot be ruled out: point D proposes 2; NEWS2 respiratory rate 3; qSOFA 1"
	assumeRespRateChild    = "danger zone cannot be ruled out: point D proposes 2; qSOFA 1"
	assumeSpO2Adult        = "SpO2 < 90 (point A) not excluded: measure now; danger zone assumed: point D proposes 2; NEWS2 SpO2 3"
	assumeSpO2Child        = "SpO2 < 90 (point A) not excluded: measure now; danger zone assumed: point D proposes 2"
	assumeTempFeverAdult   = "hypothermia and fever cannot be ruled out: point P proposes 2; the fever rules assume fever; NEWS2 temperature 3"
	assumeTempFeverChild   = "hypothermia and fever cannot be ruled out: point P proposes 2; the fever rules assume fever"
	assumeTempAdult        = "hypothermia cannot be ruled out: point P proposes 2; NEWS2 temperature 3"
	assumeTempChild        = "hypothermia cannot be ruled out: point P proposes 2"
	assumeSBPAdult         = "hypotension cannot be ruled out: point P proposes 2; NEWS2 systolic BP 3; qSOFA 1"
	assumeSBPChild         = "qSOFA 1"
	assumeOxygen           = "on oxygen assumed: NEWS2 air or oxygen 2"
	assumeResourcesByCat   = "estimated from the complaint category"
	assumeResourcesByText  = "estimated from the recognised complaint"
	assumeResourcesModel   = "the learned second opinion chose among levels 3, 4 and 5"
	assumeResourcesNoBasis = ">= 2 assumed (no recognised complaint to estimate from): go to point D"
)

// Assess proposes a triage level with its explanation, NEWS2, qSOFA, the target time and the
// re-assessment interval, with the learned second opinion of the engine's model. It is
// deterministic, does no I/O and does not allocate.
//
// Call Validate first: Assess always returns a level 1..5, but for values Validate rejects it
// only promises not to panic (e.g. an unrecognised mental status counts as not recorded, an
// unrecognised resource type counts 1).
func Assess(in Input) Assessment { return AssessWith(in, DefaultModel()) }

// AssessWith is Assess with the learned second opinion of m (nil: none). The evaluation uses
// it to assess each cross-validation fold with a model trained without that fold.
func AssessWith(in Input, m *Model) (a Assessment) {
	a.EngineVersion = EngineVersion
	ageDays, ageKnown := in.ageInDays()
	// triage-rules.md §2: NEWS2 applies to adults >= 16; an unknown age is scored as an adult.
	adult := !ageKnown || ageDays >= daysSixteenYears
	tempTenths, tempKnown := temperatureTenths(in.Vitals.TemperatureC)
	cr := readComplaint(in.ChiefComplaint)
	cat := lookupCategory(in.ComplaintCategory)
	a.Complaint = summarize(&cr, in.ChiefComplaint)

	if adult {
		a.NEWS2 = scoreNEWS2(&in, tempTenths, tempKnown)
		a.Reassessment = Reassessment{
			Applicable:      true,
			IntervalMinutes: a.NEWS2.ReassessMinutes,
			Continuous:      a.NEWS2.Continuous,
			Response:        a.NEWS2.Response,
		}
	} else {
		a.NEWS2 = NEWS2{NotApplicable: notApplicableUnder16}
	}
	a.QSOFA = scoreQSOFA(&in)
	a.Resources = countResources(&in, cat, &cr)

	e := engine{in: &in, a: &a, ageDays: ageDays, ageKnown: ageKnown, tempTenths: tempTenths,
		tempKnown: tempKnown, cr: &cr, cat: cat, model: m}
	a.Level, a.DecisionPoint = e.decide()
	a.TargetMinutes = targetMinutes[a.Level]

	// Missing inputs and what was assumed (triage-rules.md §5).
	v := &in.Vitals
	ms := &a.Missing
	if !ageKnown {
		ms.add(FieldAge, assumeAge, true)
	}
	switch {
	case cr.words == 0:
		ms.add(FieldChiefComplaint, assumeComplaint, !e.categoryScreens())
	case !cr.recognised() && !e.categoryScreens():
		ms.add(FieldChiefComplaint, assumeComplaintUnread, true)
	}
	if !in.MentalStatus.recorded() {
		ms.add(FieldMentalStatus, pick(adult, assumeMentalAdult, assumeMentalChild), true)
	}
	if in.PainScore == nil {
		ms.add(FieldPainScore, assumePain, true)
	}
	if v.HeartRate == nil {
		ms.add(FieldHeartRate, pick(adult, assumeHeartRateAdult, assumeHeartRateChild), true)
	}
	if v.RespiratoryRate == nil {
		ms.add(FieldRespiratoryRate, pick(adult, assumeRespRateAdult, assumeRespRateChild), true)
	}
	if v.SpO2 == nil {
		ms.add(FieldSpO2, pick(adult, assumeSpO2Adult, assumeSpO2Child), true)
	}
	if !tempKnown {
		if e.feverRuleApplies() {
			ms.add(FieldTemperature, pick(adult, assumeTempFeverAdult, assumeTempFeverChild), true)
		} else {
			ms.add(FieldTemperature, pick(adult, assumeTempAdult, assumeTempChild), true)
		}
	}
	if v.SystolicBP == nil {
		ms.add(FieldSystolicBP, pick(adult, assumeSBPAdult, assumeSBPChild), adult)
	}
	if adult && v.OnSupplementalOxygen == nil {
		ms.add(FieldOnSupplementalOxygen, assumeOxygen, false)
	}
	switch {
	case a.Resources.Evidence == EvidenceObserved:
	case a.DecisionPoint == PointL:
		ms.add(FieldExpectedResources, assumeResourcesModel, true)
	case a.Resources.Evidence == EvidenceEstimated && a.Resources.Category != "":
		ms.add(FieldExpectedResources, assumeResourcesByCat, true)
	case a.Resources.Evidence == EvidenceEstimated:
		ms.add(FieldExpectedResources, assumeResourcesByText, true)
	default:
		ms.add(FieldExpectedResources, assumeResourcesNoBasis, true)
	}
	for _, mi := range ms.items[:ms.n] {
		if mi.AffectsLevel {
			a.Provisional = true
		}
	}
	// triage-rules.md §1: no level without an assessment with vital signs, unless point A.
	a.VitalsRequired = a.DecisionPoint != PointA &&
		(v.HeartRate == nil || v.RespiratoryRate == nil || v.SpO2 == nil || !tempKnown ||
			(adult && v.SystolicBP == nil))
	return a
}

func pick(adult bool, ifAdult, ifChild string) string {
	if adult {
		return ifAdult
	}
	return ifChild
}

// countResources counts the expected resources (triage-rules.md §1 C), estimating them from the
// complaint category when the nurse gave none.
func countResources(in *Input, cat *categoryInfo, cr *complaintReading) ResourceEstimate {
	if in.ExpectedResources != nil {
		var set ResourceSet
		unknown := false
		for _, t := range in.ExpectedResources {
			if i := resourceIndex(t); i >= 0 {
				set |= 1 << i
			} else {
				unknown = true
			}
		}
		n := set.Count()
		if unknown {
			n++ // Validate rejects it; counting it errs to urgent.
		}
		return ResourceEstimate{Types: set, Count: n, Evidence: EvidenceObserved}
	}
	if cat != nil && cat.estimated {
		return ResourceEstimate{Types: cat.estimate, Count: cat.estimate.Count(), Evidence: EvidenceEstimated, Category: cat.category}
	}
	if cr.recognised() && (cat == nil || cat.category == CategoryOther) {
		// Every recognised complaint's usual work-up: more resources, never fewer.
		var set ResourceSet
		cs := vocab().complaints
		for _, f := range cr.findings[:cr.nFindings] {
			set |= cs[f.complaint].resources
		}
		return ResourceEstimate{Types: set, Count: set.Count(), Evidence: EvidenceEstimated, Complaints: cr.present}
	}
	return ResourceEstimate{Count: assumedResourceCount, Evidence: EvidenceNotRecorded, Category: in.ComplaintCategory}
}

// engine walks the ESI decision points for one assessment.
type engine struct {
	in         *Input
	a          *Assessment
	ageDays    int
	ageKnown   bool
	tempTenths int
	tempKnown  bool
	cr         *complaintReading
	cat        *categoryInfo
	model      *Model
}

// categoryScreens reports whether the complaint category says what the complaint is, so that
// an empty complaint text hides no high-risk situation.
func (e *engine) categoryScreens() bool {
	return e.cat != nil && e.cat.category != CategoryOther
}

// feverRuleApplies reports whether a fever rule uses the temperature for this patient.
func (e *engine) feverRuleApplies() bool {
	_, immuno := e.immunocompromised()
	return immuno || feverBandFor(e.ageDays, e.ageKnown) != ""
}

// immunocompromised reports whether the patient is immunocompromised: flagged by the nurse,
// or, when not flagged, written in the complaint ("on chemo", "neutropenic", "transplant"),
// whose complaint it returns.
func (e *engine) immunocompromised() (ComplaintSet, bool) {
	var s ComplaintSet
	if e.in.Flags.Immunocompromised {
		return s, true
	}
	if v := vocab(); e.cr.present.has(v.immunocompromised) {
		s.add(v.immunocompromised)
	}
	return s, !s.Empty()
}

func (e *engine) add(r Reason) { e.a.Reasons.add(r) }

// decide walks the decision points. A, B and P (physiology beyond the danger zone) decide
// levels 1-2 that nothing lowers. Otherwise point C counts the resources: the nurse's, or,
// when the nurse gave none, the learned second opinion's choice among 3, 4 and 5 (adults) or
// the complaint's usual work-up (children); a patient who needs two or more resources goes to
// D, where the danger zone proposes 2. The first-order modifiers (M) keep the level at 3 or
// more urgent, the model may raise any level it did not choose, and every level 3 passes
// through D (ESI never leaves danger-zone vital signs at 3).
func (e *engine) decide() (Level, DecisionPoint) {
	if e.pointA() {
		e.a.RulesLevel = Level1
		e.opinion(false)
		return Level1, PointA
	}
	if e.pointB() {
		e.a.RulesLevel = Level2
		e.opinion(false)
		return Level2, PointB
	}
	if e.physiologyLevel2() {
		e.a.RulesLevel = Level2
		e.opinion(false)
		return Level2, PointP
	}
	var mods Reasons
	floor := Level5
	if e.modifiers(&mods) {
		floor = Level3
	}
	// The rules alone: resources as given or estimated from the complaint. Their reasons are
	// kept apart (copied out and the list restored), in case the model decides instead.
	before := e.a.Reasons
	rulesLevel, rulesPoint := e.resourcePath(floor, &mods)
	rules := e.a.Reasons
	e.a.Reasons = before
	e.a.RulesLevel = rulesLevel
	if !e.opinion(true) {
		e.a.Reasons = rules
		return rulesLevel, rulesPoint
	}
	ml := e.a.Model.Level
	model := e.a.Model.reason()
	if e.a.Resources.Evidence == EvidenceObserved || !e.ageKnown {
		// Resources given (or the age unknown, the model scored as for the oldest): the
		// model may only raise the level.
		if ml >= rulesLevel {
			e.a.Reasons = rules
			return rulesLevel, rulesPoint
		}
		e.a.Reasons = rules
		e.add(model)
		if ml == Level3 && rulesPoint != PointD {
			if e.pointD() == Level2 {
				return Level2, PointD
			}
		}
		return ml, PointL
	}
	// No resources from the nurse: the model's choice is point C.
	e.add(model)
	level, point := ml, PointL
	if level > floor {
		for i := range mods.Len() {
			e.add(mods.At(i))
		}
		level, point = floor, PointM
	}
	if level == Level3 && e.pointD() == Level2 {
		return Level2, PointD
	}
	return level, point
}

// resourcePath is point C with the resources as given or estimated, then D, then the
// first-order modifiers (floor, with their reasons in mods); a level 3 reached through the
// modifiers passes through D too.
func (e *engine) resourcePath(floor Level, mods *Reasons) (Level, DecisionPoint) {
	level, point := Level(0), PointC
	if l, decided := e.pointC(); decided {
		level = l
	} else {
		level, point = e.pointD(), PointD
	}
	if level > floor {
		for i := range mods.Len() {
			e.add(mods.At(i))
		}
		level, point = floor, PointM
		if e.pointD() == Level2 {
			return Level2, PointD
		}
	}
	return level, point
}

// pointA: needs an immediate life-saving intervention (triage-rules.md §1 A).
func (e *engine) pointA() bool {
	in, v := e.in, &e.in.Vitals
	if in.Flags.Intubated { // triage-rules.md §1 A: intubated
		e.add(Reason{Point: PointA, Code: CodeIntubated, Evidence: EvidenceObserved, Field: FieldIntubated})
	}
	if in.Flags.Apnoeic { // triage-rules.md §1 A: apnoeic
		e.add(Reason{Point: PointA, Code: CodeApnoeic, Evidence: EvidenceObserved, Field: FieldApnoeic})
	}
	if v.RespiratoryRate != nil && *v.RespiratoryRate == 0 { // triage-rules.md §1 A: apnoeic (a rate of 0 is apnoea)
		e.add(Reason{Point: PointA, Code: CodeApnoeic, Evidence: EvidenceObserved, Field: FieldRespiratoryRate, HasValue: true})
	}
	if in.Flags.Pulseless { // triage-rules.md §1 A: pulseless
		e.add(Reason{Point: PointA, Code: CodePulseless, Evidence: EvidenceObserved, Field: FieldPulseless})
	}
	if v.HeartRate != nil && *v.HeartRate == 0 { // triage-rules.md §1 A: pulseless (a heart rate of 0)
		e.add(Reason{Point: PointA, Code: CodePulseless, Evidence: EvidenceObserved, Field: FieldHeartRate, HasValue: true})
	}
	if in.Flags.SevereRespiratoryDistress { // triage-rules.md §1 A: severe respiratory distress
		e.add(Reason{Point: PointA, Code: CodeSevereRespiratoryDistress, Evidence: EvidenceObserved, Field: FieldSevereRespDistress})
	}
	if v.SpO2 != nil && *v.SpO2 < spo2PointA { // triage-rules.md §1 A: SpO2 < 90 %
		e.add(Reason{Point: PointA, Code: CodeSpO2Below90, Evidence: EvidenceObserved, Field: FieldSpO2,
			Value: float64(*v.SpO2), Limit: spo2PointA, HasValue: true})
	}
	if in.MentalStatus == MentalPain || in.MentalStatus == MentalUnresponsive { // triage-rules.md §1 A: AVPU = P or U
		e.add(Reason{Point: PointA, Code: CodeUnresponsive, Evidence: EvidenceObserved, Field: FieldMentalStatus,
			Observation: string(in.MentalStatus)})
	}
	// ESI v4 level-1 conditions named in the complaint (complaints.csv, rule A): arrest,
	// active seizure.
	var lifeThreat ComplaintSet
	cs := vocab().complaints
	for _, f := range e.cr.findings[:e.cr.nFindings] {
		if cs[f.complaint].rule == ruleA {
			lifeThreat.add(f.complaint)
		}
	}
	if !lifeThreat.Empty() {
		e.add(Reason{Point: PointA, Code: CodeLifeThreatComplaint, Evidence: EvidenceComplaint, Field: FieldChiefComplaint,
			Complaints: lifeThreat})
	}
	return e.a.Reasons.Len() > 0
}

// complaintRaise is the reason of the first modifier of complaint c that raises it to level
// and holds for this patient (complaints.csv, raise).
func (e *engine) complaintRaise(c uint16, level Level) (Reason, bool) {
	var set ComplaintSet
	set.add(c)
	for _, rz := range vocab().complaints[c].raises {
		if rz.level != level {
			continue
		}
		r := Reason{Code: CodeComplaintModifier, Evidence: EvidenceComplaint, Complaints: set, Limit: float64(rz.min)}
		switch rz.field {
		case raiseAge:
			r.Field = FieldAge
			if e.ageKnown {
				r.Value, r.HasValue = float64(yearsFromDays(e.ageDays)), true
				if int(r.Value) < rz.min {
					continue
				}
			}
		case raiseWith:
			r.Field, r.Limit = FieldChiefComplaint, 0
			if !e.cr.present.has(rz.with) {
				continue
			}
			r.Complaints.add(rz.with)
		case raisePain:
			r.Field = FieldPainScore
			if p := e.in.PainScore; p != nil {
				r.Value, r.HasValue = float64(*p), true
				if *p < rz.min {
					continue
				}
			}
		}
		return r, true
	}
	return Reason{}, false
}

// feverReason fills a fever reason from the temperature (T > limitTenths), the complaint, or
// the missing temperature; ok is false when none of them shows fever.
func (e *engine) feverReason(r Reason, limitTenths int, complaintCounts bool) (Reason, bool) {
	r.Field, r.Limit = FieldTemperature, float64(limitTenths)/10
	switch {
	case e.tempKnown && e.tempTenths > limitTenths:
		r.Evidence, r.Value, r.HasValue = EvidenceObserved, float64(e.tempTenths)/10, true
	case complaintCounts && e.cr.fever:
		r.Evidence, r.Field = EvidenceComplaint, FieldChiefComplaint
	case !e.tempKnown:
		r.Evidence = EvidenceNotRecorded
	default:
		return r, false
	}
	return r, true
}

// pointB: high-risk situation, new confusion / lethargy / disorientation, or severe pain
// (triage-rules.md §1 B).
func (e *engine) pointB() bool {
	in := e.in
	if e.cr.words == 0 && !e.categoryScreens() { // nothing to screen: errs to urgent (triage-rules.md §6)
		e.add(Reason{Point: PointB, Code: CodeHighRiskComplaint, Evidence: EvidenceNotRecorded, Field: FieldChiefComplaint})
	}
	// triage-rules.md §1 B: high-risk situations named in the complaint (complaints.csv, rule
	// B), new confusion written in it (rule AMS), and complaints raised to 2 by a modifier
	// (complaints.csv, raise).
	var highRisk, ams ComplaintSet
	cs := vocab().complaints
	for _, f := range e.cr.findings[:e.cr.nFindings] {
		switch cs[f.complaint].rule {
		case ruleB:
			highRisk.add(f.complaint)
		case ruleAMS:
			ams.add(f.complaint)
		}
	}
	if !highRisk.Empty() {
		e.add(Reason{Point: PointB, Code: CodeHighRiskComplaint, Evidence: EvidenceComplaint, Field: FieldChiefComplaint,
			Complaints: highRisk})
	}
	for _, f := range e.cr.findings[:e.cr.nFindings] {
		if r, ok := e.complaintRaise(f.complaint, Level2); ok {
			r.Point = PointB
			e.add(r)
		}
	}
	if !ams.Empty() {
		e.add(Reason{Point: PointB, Code: CodeAlteredMentalStatus, Evidence: EvidenceComplaint, Field: FieldChiefComplaint,
			Complaints: ams})
	}
	if e.cat != nil && e.cat.highRisk != "" { // triage-rules.md §1 B: high-risk complaint category
		e.add(Reason{Point: PointB, Code: CodeHighRiskCategory, Evidence: EvidenceObserved, Field: FieldComplaintCategory,
			Category: e.cat.category})
	}
	if set, ok := e.immunocompromised(); ok { // triage-rules.md §1 B: immunocompromised with fever (T > 38.0 C)
		if r, ok := e.feverReason(Reason{Point: PointB, Code: CodeImmunocompromisedFever, Complaints: set}, feverTenths, true); ok {
			e.add(r)
		}
	}
	switch band := feverBandFor(e.ageDays, e.ageKnown); band {
	case AgeBandUnknown, AgeBandNeonate: // triage-rules.md §1: 1-28 days and T > 38.0 C -> at least level 2
		if r, ok := e.feverReason(Reason{Point: PointB, Code: CodeNeonatalFever, AgeBand: band}, feverTenths, true); ok {
			e.add(r)
		}
	case AgeBandYoungInfant: // triage-rules.md §1: 1-3 months and T > 38.0 C -> consider 2 (proposed: 2)
		if r, ok := e.feverReason(Reason{Point: PointB, Code: CodeYoungInfantFever, AgeBand: band}, feverTenths, true); ok {
			e.add(r)
		}
	}
	switch in.MentalStatus {
	case MentalVoice, MentalNewConfusion: // triage-rules.md §1 B: AVPU = V or new confusion
		e.add(Reason{Point: PointB, Code: CodeAlteredMentalStatus, Evidence: EvidenceObserved, Field: FieldMentalStatus,
			Observation: string(in.MentalStatus)})
	case MentalAlert, MentalPain, MentalUnresponsive:
	default: // not recorded: new confusion cannot be ruled out
		e.add(Reason{Point: PointB, Code: CodeAlteredMentalStatus, Evidence: EvidenceNotRecorded, Field: FieldMentalStatus})
	}
	switch { // triage-rules.md §1 B: pain >= 7/10
	case in.PainScore == nil:
		e.add(Reason{Point: PointB, Code: CodeSeverePain, Evidence: EvidenceNotRecorded, Field: FieldPainScore, Limit: painSevere})
	case *in.PainScore >= painSevere:
		e.add(Reason{Point: PointB, Code: CodeSeverePain, Evidence: EvidenceObserved, Field: FieldPainScore,
			Value: float64(*in.PainScore), Limit: painSevere, HasValue: true})
	}
	return e.a.Reasons.Len() > 0
}

// pointC counts resources (triage-rules.md §1 C): 0 -> 5, 1 -> 4, >= 2 -> D. Fever at 3 months -
// 3 years ("consider 2 or 3") also goes to D, whatever the resources.
func (e *engine) pointC() (Level, bool) {
	toD := false
	var fever Reason
	if feverBandFor(e.ageDays, e.ageKnown) == AgeBand3MonthsTo3Years { // triage-rules.md §1: 3 months - 3 years, T > 39.0 C
		fever, toD = e.feverReason(Reason{Point: PointC, Code: CodeToddlerFever, AgeBand: AgeBand3MonthsTo3Years}, toddlerFeverTenths, false)
	}
	res := &e.a.Resources
	resources := Reason{Point: PointC, Code: CodeResources, Evidence: res.Evidence, Field: FieldExpectedResources,
		Resources: res.Types, Count: res.Count, Category: res.Category, Complaints: res.Complaints}
	switch {
	case res.Count >= resourcesToD: // triage-rules.md §1 C: >= 2 -> D
		e.add(resources)
		if toD {
			e.add(fever)
		}
		return 0, false
	case toD: // the resource count did not send the patient to D; the fever rule did
		e.add(fever)
		return 0, false
	}
	e.add(resources)
	if res.Count == 0 {
		return Level5, true // triage-rules.md §1 C: 0 resources -> 5
	}
	return Level4, true // triage-rules.md §1 C: 1 resource -> 4
}

// pointD checks the danger-zone vital signs (triage-rules.md §1 D): any -> 2 (the engine proposes
// 2 for "consider 2"), otherwise 3. A missing one cannot be ruled out.
func (e *engine) pointD() Level {
	v := &e.in.Vitals
	row := dangerRowFor(e.ageDays, e.ageKnown)
	var within [3]Reason
	nWithin := 0
	danger := false
	check := func(val *int, limit int, field string, dangerCode, okCode ReasonCode, below bool) {
		base := Reason{Point: PointD, Field: field, Limit: float64(limit), AgeBand: row.band}
		switch {
		case val == nil:
			base.Code, base.Evidence = dangerCode, EvidenceNotRecorded
			e.add(base)
			danger = true
		case below && *val < limit || !below && *val > limit:
			base.Code, base.Evidence, base.Value, base.HasValue = dangerCode, EvidenceObserved, float64(*val), true
			e.add(base)
			danger = true
		default:
			base.Code, base.Evidence, base.Value, base.HasValue = okCode, EvidenceObserved, float64(*val), true
			within[nWithin] = base
			nWithin++
		}
	}
	check(v.HeartRate, row.hr, FieldHeartRate, CodeDangerZoneHeartRate, CodeNoDangerZoneHeartRate, false)                         // triage-rules.md §1 danger zone: HR > limit
	check(v.RespiratoryRate, row.rr, FieldRespiratoryRate, CodeDangerZoneRespiratoryRate, CodeNoDangerZoneRespiratoryRate, false) // triage-rules.md §1 danger zone: RR > limit
	check(v.SpO2, spo2DangerZone, FieldSpO2, CodeDangerZoneSpO2, CodeNoDangerZoneSpO2, true)                                      // triage-rules.md §1 danger zone: SpO2 < 92 %
	if danger {
		return Level2 // triage-rules.md §1 D: danger zone -> consider 2; the engine proposes 2
	}
	for _, r := range within[:nWithin] {
		e.add(r)
	}
	return Level3 // triage-rules.md §1 D: otherwise 3
}
