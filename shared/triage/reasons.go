package triage

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// DecisionPoint is an ESI v4 decision point (triage-rules.md §1).
type DecisionPoint string

// ESI decision points.
const (
	PointA DecisionPoint = "A" // immediate life-saving intervention -> 1
	PointB DecisionPoint = "B" // high-risk situation, new confusion, severe pain -> 2
	PointC DecisionPoint = "C" // resources: 0 -> 5, 1 -> 4, >= 2 -> D
	PointD DecisionPoint = "D" // danger-zone vital signs -> 2, else 3
	// Beyond ESI v4 (see physiology.go and model.go for the sources):
	PointP DecisionPoint = "P" // physiology beyond the danger zone -> 2
	PointM DecisionPoint = "M" // a first-order modifier keeps the patient at 3 or more urgent
	PointL DecisionPoint = "L" // the learned second opinion chose the level (never lowering a rule)
)

// Evidence says where the input behind a reason came from.
type Evidence string

// Values of Evidence.
const (
	// EvidenceObserved: a value or observation the nurse recorded.
	EvidenceObserved Evidence = "observed"
	// EvidenceComplaint: found in the chief complaint text.
	EvidenceComplaint Evidence = "complaint"
	// EvidenceNotRecorded: the input is missing and the reason is the conservative assumption.
	EvidenceNotRecorded Evidence = "not_recorded"
	// EvidenceEstimated: estimated from the complaint category or the complaint vocabulary.
	EvidenceEstimated Evidence = "estimated"
	// EvidenceModel: the learned second opinion.
	EvidenceModel Evidence = "model"
)

// AgeBand names the row of an age-dependent table of triage-rules.md §1 that a reason used.
type AgeBand string

// Age bands of the danger-zone table and the paediatric fever rules (triage-rules.md §1).
const (
	AgeBandUnknown         AgeBand = "unknown"          // age not recorded
	AgeBandNeonate         AgeBand = "1-28_days"        // fever rule
	AgeBandYoungInfant     AgeBand = "1-3_months"       // fever rule
	AgeBandUnder3Months    AgeBand = "under_3_months"   // danger zone
	AgeBand3MonthsTo3Years AgeBand = "3_months-3_years" // danger zone, fever rule
	AgeBand3To8Years       AgeBand = "3-8_years"        // danger zone
	AgeBandOver8Years      AgeBand = "over_8_years"     // danger zone
)

func (b AgeBand) label() string {
	switch b {
	case AgeBandNeonate:
		return "1-28 days"
	case AgeBandYoungInfant:
		return "1-3 months"
	case AgeBandUnder3Months:
		return "< 3 months"
	case AgeBand3MonthsTo3Years:
		return "3 months - 3 years"
	case AgeBand3To8Years:
		return "3 - 8 years"
	case AgeBandOver8Years:
		return "> 8 years"
	}
	return "not recorded, lowest limits"
}

// ReasonCode identifies the rule behind a reason. Codes are stable: clients may switch on them.
type ReasonCode string

// Reason codes, by decision point.
const (
	// Point A (level 1).
	CodeIntubated                 ReasonCode = "intubated"
	CodeApnoeic                   ReasonCode = "apnoeic"
	CodePulseless                 ReasonCode = "pulseless"
	CodeSevereRespiratoryDistress ReasonCode = "severe_respiratory_distress"
	CodeSpO2Below90               ReasonCode = "spo2_below_90"
	CodeUnresponsive              ReasonCode = "unresponsive"
	CodeLifeThreatComplaint       ReasonCode = "life_threat_complaint"

	// Point B (level 2).
	CodeHighRiskComplaint      ReasonCode = "high_risk_complaint"
	CodeHighRiskCategory       ReasonCode = "high_risk_category"
	CodeImmunocompromisedFever ReasonCode = "immunocompromised_fever"
	CodeNeonatalFever          ReasonCode = "neonatal_fever"
	CodeYoungInfantFever       ReasonCode = "young_infant_fever"
	CodeAlteredMentalStatus    ReasonCode = "altered_mental_status"
	CodeSeverePain             ReasonCode = "severe_pain"

	// Point C (level 5, 4, or go to D).
	CodeResources    ReasonCode = "resources"
	CodeToddlerFever ReasonCode = "toddler_fever"

	// Point D (level 2 or 3).
	CodeDangerZoneHeartRate         ReasonCode = "danger_zone_heart_rate"
	CodeDangerZoneRespiratoryRate   ReasonCode = "danger_zone_respiratory_rate"
	CodeDangerZoneSpO2              ReasonCode = "danger_zone_spo2"
	CodeNoDangerZoneHeartRate       ReasonCode = "no_danger_zone_heart_rate"
	CodeNoDangerZoneRespiratoryRate ReasonCode = "no_danger_zone_respiratory_rate"
	CodeNoDangerZoneSpO2            ReasonCode = "no_danger_zone_spo2"

	// Point P (level 2): physiology beyond the danger zone.
	CodeHypotension       ReasonCode = "hypotension"
	CodeSevereBradycardia ReasonCode = "severe_bradycardia"
	CodeHypothermia       ReasonCode = "hypothermia"
	CodeNEWS2High         ReasonCode = "news2_high"
	CodeSIRSFever         ReasonCode = "sirs_fever"

	// Point M (at least level 3): first-order modifiers and an unread complaint.
	CodeShockIndex            ReasonCode = "shock_index"
	CodeBradycardia           ReasonCode = "bradycardia"
	CodeNEWS2Medium           ReasonCode = "news2_medium"
	CodeNEWS2SingleRed        ReasonCode = "news2_single_red"
	CodeFeverUnwell           ReasonCode = "fever_unwell"
	CodeCentralPain           ReasonCode = "central_pain_moderate"
	CodeUnrecognisedComplaint ReasonCode = "unrecognised_complaint"
	// CodeComplaintModifier: a complaint's modifier (complaints.csv, raise) holds: point B at
	// level 2, point M at level 3.
	CodeComplaintModifier ReasonCode = "complaint_modifier"

	// Point L: the learned second opinion.
	CodeModel ReasonCode = "model"
	// CodeModelHighAcuity: the learned second opinion proposes level 2 because the probability
	// that the experts' level is 1 or 2 (Value) reaches the threshold (Limit).
	CodeModelHighAcuity ReasonCode = "model_high_acuity"
)

// Input field names (JSON paths) used in reasons and missing inputs.
const (
	FieldAge                  = "age"
	FieldChiefComplaint       = "chiefComplaint"
	FieldComplaintCategory    = "complaintCategory"
	FieldMentalStatus         = "mentalStatus"
	FieldPainScore            = "painScore"
	FieldHeartRate            = "vitals.heartRate"
	FieldRespiratoryRate      = "vitals.respiratoryRate"
	FieldSystolicBP           = "vitals.systolicBP"
	FieldDiastolicBP          = "vitals.diastolicBP"
	FieldSpO2                 = "vitals.spo2"
	FieldTemperature          = "vitals.temperatureC"
	FieldOnSupplementalOxygen = "vitals.onSupplementalOxygen"
	FieldExpectedResources    = "expectedResources"
	FieldIntubated            = "flags.intubated"
	FieldApnoeic              = "flags.apnoeic"
	FieldPulseless            = "flags.pulseless"
	FieldSevereRespDistress   = "flags.severeRespiratoryDistress"
	FieldImmunocompromised    = "flags.immunocompromised"
	FieldNEWS2                = "news2"
	FieldModel                = "model"
)

// Reason is one input that made a decision point fire, as a structured value; String renders
// it for people ("B: pain 8/10 >= 7"). Only the fields its Code uses are set.
type Reason struct {
	Point    DecisionPoint
	Code     ReasonCode
	Evidence Evidence
	// Field is the input's JSON path (e.g. "vitals.spo2").
	Field string
	// Value is the recorded value and Limit the triage-rules.md threshold it was compared with;
	// HasValue says whether Value is set (a value may be 0).
	Value    float64
	Limit    float64
	HasValue bool
	// Observation is the recorded category (the AVPU value).
	Observation string
	// AgeBand is the age row used by age-dependent rules.
	AgeBand AgeBand
	// Complaints are the vocabulary complaints that fired (high-risk complaint, altered
	// mental status or fever written in the complaint, moderate central pain).
	Complaints ComplaintSet
	// Resources and Count are the resource types and their ESI count (CodeResources); Count
	// is also the number of SIRS criteria (fever rules) and of unknown words.
	Resources ResourceSet
	Count     int
	// Category is the complaint category (high-risk category, estimated resources).
	Category ComplaintCategory
}

func formatInt(v float64) string  { return strconv.FormatFloat(v, 'f', 0, 64) }
func formatTemp(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// formatPercent renders a probability as a whole percentage ("14 %").
func formatPercent(p float64) string { return strconv.FormatFloat(p*100, 'f', 0, 64) + " %" }

// String renders the reason, e.g. "A: SpO2 86 % < 90" or "B: pain 8/10 >= 7".
func (r Reason) String() string {
	var b strings.Builder
	b.WriteString(string(r.Point))
	b.WriteString(": ")
	notRecorded := r.Evidence == EvidenceNotRecorded
	switch r.Code {
	case CodeIntubated:
		b.WriteString("intubated")
	case CodeApnoeic:
		b.WriteString("apnoeic")
		if r.Field == FieldRespiratoryRate {
			b.WriteString(" (respiratory rate " + formatInt(r.Value) + ")")
		}
	case CodePulseless:
		b.WriteString("pulseless")
		if r.Field == FieldHeartRate {
			b.WriteString(" (heart rate " + formatInt(r.Value) + ")")
		}
	case CodeSevereRespiratoryDistress:
		b.WriteString("severe respiratory distress")
	case CodeSpO2Below90:
		b.WriteString("SpO2 " + formatInt(r.Value) + " % < " + formatInt(r.Limit))
	case CodeUnresponsive:
		b.WriteString("AVPU = " + r.Observation + " (unresponsive)")
	case CodeLifeThreatComplaint:
		b.WriteString("the complaint names a life threat needing immediate intervention: ")
		writeSituations(&b, r.Complaints)
	case CodeHighRiskComplaint:
		if notRecorded {
			b.WriteString("chief complaint not recorded: a high-risk situation cannot be ruled out")
			break
		}
		b.WriteString("high-risk situation in the complaint: ")
		writeSituations(&b, r.Complaints)
		if r.HasValue {
			b.WriteString(" (age " + formatInt(r.Value) + " >= " + formatInt(r.Limit) + ")")
		}
	case CodeHighRiskCategory:
		label := ""
		if c := lookupCategory(r.Category); c != nil && c.highRisk != "" {
			label = " (" + c.highRisk + ")"
		}
		b.WriteString("complaint category " + string(r.Category) + " is a high-risk situation" + label)
	case CodeImmunocompromisedFever:
		b.WriteString("immunocompromised")
		if !r.Complaints.Empty() { // written in the complaint, not flagged
			b.WriteString(" (")
			writeComplaintNames(&b, r.Complaints)
			b.WriteString(" in the complaint)")
		}
		switch r.Evidence {
		case EvidenceObserved:
			b.WriteString(" with fever: temperature " + formatTemp(r.Value) + " C > " + formatTemp(r.Limit))
		case EvidenceComplaint:
			b.WriteString(" with fever reported in the complaint")
		default:
			b.WriteString(" and temperature not recorded: fever cannot be ruled out")
		}
	case CodeNeonatalFever, CodeYoungInfantFever, CodeToddlerFever:
		if r.AgeBand == AgeBandUnknown {
			b.WriteString("age not recorded (fever rule of 1-28 days applied)")
		} else {
			b.WriteString("age " + r.AgeBand.label())
		}
		switch r.Evidence {
		case EvidenceObserved:
			b.WriteString(" with temperature " + formatTemp(r.Value) + " C > " + formatTemp(r.Limit))
		case EvidenceComplaint:
			b.WriteString(" with fever reported in the complaint")
		default:
			b.WriteString(" and temperature not recorded: fever")
			if r.Code == CodeToddlerFever {
				b.WriteString(" > " + formatTemp(r.Limit) + " C")
			}
			b.WriteString(" cannot be ruled out")
		}
		switch r.Code {
		case CodeNeonatalFever:
			b.WriteString(": at least level 2")
		case CodeYoungInfantFever:
			b.WriteString(": consider level 2")
		default:
			b.WriteString(": consider level 2 or 3 -> D")
		}
	case CodeAlteredMentalStatus:
		switch {
		case notRecorded:
			b.WriteString("mental status not recorded: new confusion cannot be ruled out")
		case r.Evidence == EvidenceComplaint:
			b.WriteString("altered mental status written in the complaint (new confusion, lethargy or disorientation): ")
			writeComplaintNames(&b, r.Complaints)
		case MentalStatus(r.Observation) == MentalNewConfusion:
			b.WriteString("new confusion, lethargy or disorientation")
		default:
			b.WriteString("AVPU = " + r.Observation + " (new confusion, lethargy or disorientation)")
		}
	case CodeSeverePain:
		if notRecorded {
			b.WriteString("pain score not recorded: pain >= " + formatInt(r.Limit) + "/10 cannot be ruled out")
			break
		}
		b.WriteString("pain " + formatInt(r.Value) + "/10 >= " + formatInt(r.Limit))
	case CodeResources:
		if notRecorded {
			b.WriteString("resources not given and no recognised complaint to estimate them from: >= 2 assumed -> D")
			break
		}
		switch r.Count {
		case 0:
			b.WriteString("no resources expected")
		case 1:
			b.WriteString("1 resource expected")
		default:
			b.WriteString(strconv.Itoa(r.Count) + " resources expected")
		}
		if r.Count > 0 {
			b.WriteString(" (")
			sep := ""
			for i := range resourceTable {
				if r.Resources&(1<<i) != 0 && resourceTable[i].weight > 0 {
					b.WriteString(sep + resourceTable[i].label)
					if resourceTable[i].weight > 1 {
						b.WriteString(" counts " + strconv.Itoa(resourceTable[i].weight))
					}
					sep = ", "
				}
			}
			b.WriteString(")")
		}
		if r.Evidence == EvidenceEstimated {
			if r.Category != "" {
				b.WriteString(", estimated from complaint category " + string(r.Category))
			} else {
				b.WriteString(", estimated from the complaint: ")
				writeComplaintNames(&b, r.Complaints)
			}
		}
		switch {
		case r.Count == 0:
			b.WriteString(" -> level 5")
		case r.Count == 1:
			b.WriteString(" -> level 4")
		default:
			b.WriteString(" -> D")
		}
	case CodeDangerZoneHeartRate, CodeDangerZoneRespiratoryRate, CodeNoDangerZoneHeartRate, CodeNoDangerZoneRespiratoryRate:
		name := "heart rate"
		if r.Code == CodeDangerZoneRespiratoryRate || r.Code == CodeNoDangerZoneRespiratoryRate {
			name = "respiratory rate"
		}
		switch {
		case notRecorded:
			b.WriteString(name + " not recorded: danger zone cannot be ruled out")
		case r.Code == CodeDangerZoneHeartRate || r.Code == CodeDangerZoneRespiratoryRate:
			b.WriteString(name + " " + formatInt(r.Value) + " > " + formatInt(r.Limit) + " (danger zone, age " + r.AgeBand.label() + ")")
		default:
			b.WriteString(name + " " + formatInt(r.Value) + " <= " + formatInt(r.Limit) + " (age " + r.AgeBand.label() + ")")
		}
	case CodeDangerZoneSpO2:
		if notRecorded {
			b.WriteString("SpO2 not recorded: danger zone cannot be ruled out")
			break
		}
		b.WriteString("SpO2 " + formatInt(r.Value) + " % < " + formatInt(r.Limit) + " (danger zone)")
	case CodeNoDangerZoneSpO2:
		b.WriteString("SpO2 " + formatInt(r.Value) + " % >= " + formatInt(r.Limit))
	case CodeHypotension:
		if notRecorded {
			b.WriteString("systolic BP not recorded: hypotension (< " + formatInt(r.Limit) + " mmHg) cannot be ruled out")
			break
		}
		b.WriteString("systolic BP " + formatInt(r.Value) + " < " + formatInt(r.Limit) + " mmHg (hypotension)")
	case CodeShockIndex:
		b.WriteString("shock index (heart rate / systolic BP) " + strconv.FormatFloat(r.Value, 'f', 2, 64) + " >= " +
			strconv.FormatFloat(r.Limit, 'f', 1, 64) + ": at least level 3")
	case CodeSevereBradycardia:
		if notRecorded {
			b.WriteString("heart rate not recorded: severe bradycardia (< " + formatInt(r.Limit) + ") cannot be ruled out")
			break
		}
		b.WriteString("heart rate " + formatInt(r.Value) + " < " + formatInt(r.Limit) + " (severe bradycardia)")
	case CodeHypothermia:
		if notRecorded {
			b.WriteString("temperature not recorded: hypothermia (<= " + formatTemp(r.Limit) + " C) cannot be ruled out")
			break
		}
		b.WriteString("temperature " + formatTemp(r.Value) + " C <= " + formatTemp(r.Limit) + " (hypothermia)")
	case CodeNEWS2High:
		b.WriteString("NEWS2 " + formatInt(r.Value) + " >= " + formatInt(r.Limit) + " (emergency response band)")
		if notRecorded {
			b.WriteString(", counting missing parameters at their maximum")
		}
	case CodeSIRSFever:
		if notRecorded {
			b.WriteString("all three SIRS criteria (T > 38.0 C, heart rate > 90, respiratory rate > 20) met or not recorded: sepsis cannot be ruled out")
			break
		}
		b.WriteString("fever " + formatTemp(r.Value) + " C with heart rate > 90 and respiratory rate > 20 (all three SIRS criteria: looks septic)")
	case CodeBradycardia:
		b.WriteString("heart rate " + formatInt(r.Value) + " < " + formatInt(r.Limit) + " (bradycardia): at least level 3")
	case CodeNEWS2Medium:
		b.WriteString("NEWS2 " + formatInt(r.Value) + " (urgent response band 5-6")
		if notRecorded {
			b.WriteString(", counting missing parameters at their maximum")
		}
		b.WriteString("): at least level 3")
	case CodeNEWS2SingleRed:
		if notRecorded {
			b.WriteString("NEWS2 " + r.Observation + " not recorded, counted at 3 (single red parameter): at least level 3")
			break
		}
		b.WriteString("NEWS2 " + r.Observation + " scores 3 (single red parameter): at least level 3")
	case CodeFeverUnwell:
		b.WriteString("fever " + formatTemp(r.Value) + " C with " + strconv.Itoa(r.Count) + " of 3 SIRS criteria (looks unwell): at least level 3")
	case CodeCentralPain:
		b.WriteString("moderate central pain " + formatInt(r.Value) + "/10 (")
		writeComplaintNames(&b, r.Complaints)
		b.WriteString("): at least level 3")
	case CodeComplaintModifier:
		writeComplaintNames(&b, r.Complaints)
		name := "age"
		if r.Field == FieldPainScore {
			name = "pain"
		}
		switch {
		case r.Field == FieldChiefComplaint: // two complaints written together
			b.WriteString(" written together")
		case r.HasValue:
			b.WriteString(" with " + name + " " + formatInt(r.Value) + " >= " + formatInt(r.Limit))
		default:
			b.WriteString(" with " + name + " not recorded (>= " + formatInt(r.Limit) + " cannot be ruled out)")
		}
		if r.Point == PointM {
			b.WriteString(": at least level 3")
		}
	case CodeUnrecognisedComplaint:
		b.WriteString("the complaint was not recognised (" + strconv.Itoa(r.Count) + " unknown word")
		if r.Count != 1 {
			b.WriteString("s")
		}
		b.WriteString("): a nurse reads it; at least level 3 until then")
	case CodeModel:
		b.WriteString("learned second opinion proposes level " + formatInt(r.Value))
		if r.Limit > 0 {
			b.WriteString(" (probability of a more urgent level " + formatPercent(r.Limit) + ")")
		}
	case CodeModelHighAcuity:
		b.WriteString("learned second opinion proposes level 2: probability of level 1 or 2 " +
			formatPercent(r.Value) + " >= " + formatPercent(r.Limit))
	default:
		b.WriteString(string(r.Code))
	}
	return b.String()
}

// writeSituations writes the high-risk situations of the complaints in s, each with the
// complaint's name.
func writeSituations(b *strings.Builder, s ComplaintSet) {
	sep := ""
	for i, c := range vocab().complaints {
		if s.has(uint16(i)) {
			b.WriteString(sep + c.Situation + " (" + c.Name + ")")
			sep = ", "
		}
	}
}

func writeComplaintNames(b *strings.Builder, s ComplaintSet) {
	sep := ""
	for i, c := range vocab().complaints {
		if s.has(uint16(i)) {
			b.WriteString(sep + c.Name)
			sep = ", "
		}
	}
}

// reasonJSON is the wire form of a Reason.
type reasonJSON struct {
	Point       DecisionPoint     `json:"point"`
	Code        ReasonCode        `json:"code"`
	Evidence    Evidence          `json:"evidence"`
	Field       string            `json:"field,omitempty"`
	Value       *float64          `json:"value,omitempty"`
	Limit       *float64          `json:"limit,omitempty"`
	Observation string            `json:"observation,omitempty"`
	AgeBand     AgeBand           `json:"ageBand,omitempty"`
	Complaints  *ComplaintSet     `json:"complaints,omitempty"`
	Resources   *ResourceSet      `json:"resources,omitempty"`
	Count       *int              `json:"count,omitempty"`
	Category    ComplaintCategory `json:"category,omitempty"`
	Text        string            `json:"text"`
}

// MarshalJSON writes the structured fields the code uses and the rendered text.
func (r Reason) MarshalJSON() ([]byte, error) {
	o := reasonJSON{
		Point: r.Point, Code: r.Code, Evidence: r.Evidence, Field: r.Field,
		Observation: r.Observation, AgeBand: r.AgeBand, Category: r.Category, Text: r.String(),
	}
	if r.HasValue {
		v := r.Value
		o.Value = &v
	}
	if r.Limit != 0 {
		l := r.Limit
		o.Limit = &l
	}
	if !r.Complaints.Empty() {
		c := r.Complaints
		o.Complaints = &c
	}
	if r.Count != 0 && r.Code != CodeResources {
		c := r.Count
		o.Count = &c
	}
	if r.Code == CodeResources {
		s, c := r.Resources, r.Count
		o.Resources, o.Count = &s, &c
	}
	return json.Marshal(o)
}

// UnmarshalJSON reads what MarshalJSON writes (the text is derived, so it is ignored).
func (r *Reason) UnmarshalJSON(b []byte) error {
	var o reasonJSON
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*r = Reason{
		Point: o.Point, Code: o.Code, Evidence: o.Evidence, Field: o.Field,
		Observation: o.Observation, AgeBand: o.AgeBand, Category: o.Category,
	}
	if o.Value != nil {
		r.Value, r.HasValue = *o.Value, true
	}
	if o.Limit != nil {
		r.Limit = *o.Limit
	}
	if o.Complaints != nil {
		r.Complaints = *o.Complaints
	}
	if o.Resources != nil {
		r.Resources = *o.Resources
	}
	if o.Count != nil {
		r.Count = *o.Count
	}
	return nil
}

// maxReasons bounds the reasons of one assessment; the most any decision point can give is
// 9 (point A with every criterion, a test checks).
const maxReasons = 16

// Reasons is the ordered list of reasons of an assessment, held in a fixed-size array so that
// Assess does not allocate. It marshals to JSON as a list.
type Reasons struct {
	items [maxReasons]Reason
	n     uint8
}

func (rs *Reasons) add(r Reason) {
	if int(rs.n) < len(rs.items) {
		rs.items[rs.n] = r
		rs.n++
	}
}

// Len is the number of reasons.
func (rs Reasons) Len() int { return int(rs.n) }

// At returns reason i (0 <= i < Len).
func (rs Reasons) At(i int) Reason {
	if i < 0 || i >= int(rs.n) {
		panic(fmt.Sprintf("triage: reason index %d out of range [0,%d)", i, rs.n))
	}
	return rs.items[i]
}

// Slice returns a copy of the reasons.
func (rs Reasons) Slice() []Reason { return append([]Reason(nil), rs.items[:rs.n]...) }

// Strings renders every reason.
func (rs Reasons) Strings() []string {
	out := make([]string, rs.n)
	for i := range out {
		out[i] = rs.items[i].String()
	}
	return out
}

// MarshalJSON encodes the reasons as a list.
func (rs Reasons) MarshalJSON() ([]byte, error) {
	return json.Marshal(rs.items[:rs.n])
}

// UnmarshalJSON decodes a list of at most maxReasons reasons.
func (rs *Reasons) UnmarshalJSON(b []byte) error {
	var list []Reason
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	if len(list) > maxReasons {
		return fmt.Errorf("triage: %d reasons, at most %d", len(list), maxReasons)
	}
	*rs = Reasons{}
	for _, r := range list {
		rs.add(r)
	}
	return nil
}

// MissingInput is an input that was not recorded and what the engine assumed for it.
type MissingInput struct {
	Field      string `json:"field"`
	Assumption string `json:"assumption"`
	// AffectsLevel is true when the assumption can make the proposed level more urgent than
	// the recorded value would.
	AffectsLevel bool `json:"affectsLevel"`
}

const maxMissing = 12

// MissingInputs is the list of missing inputs, held in a fixed-size array so that Assess does
// not allocate. It marshals to JSON as a list.
type MissingInputs struct {
	items [maxMissing]MissingInput
	n     uint8
}

func (ms *MissingInputs) add(field, assumption string, affectsLevel bool) {
	if int(ms.n) < len(ms.items) {
		ms.items[ms.n] = MissingInput{Field: field, Assumption: assumption, AffectsLevel: affectsLevel}
		ms.n++
	}
}

// Len is the number of missing inputs.
func (ms MissingInputs) Len() int { return int(ms.n) }

// At returns missing input i (0 <= i < Len).
func (ms MissingInputs) At(i int) MissingInput {
	if i < 0 || i >= int(ms.n) {
		panic(fmt.Sprintf("triage: missing-input index %d out of range [0,%d)", i, ms.n))
	}
	return ms.items[i]
}

// Slice returns a copy of the missing inputs.
func (ms MissingInputs) Slice() []MissingInput {
	return append([]MissingInput(nil), ms.items[:ms.n]...)
}

// Has reports whether field is missing.
func (ms MissingInputs) Has(field string) bool {
	for _, m := range ms.items[:ms.n] {
		if m.Field == field {
			return true
		}
	}
	return false
}

// MarshalJSON encodes the missing inputs as a list.
func (ms MissingInputs) MarshalJSON() ([]byte, error) {
	return json.Marshal(ms.items[:ms.n])
}

// UnmarshalJSON decodes a list of at most maxMissing missing inputs.
func (ms *MissingInputs) UnmarshalJSON(b []byte) error {
	var list []MissingInput
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	if len(list) > maxMissing {
		return fmt.Errorf("triage: %d missing inputs, at most %d", len(list), maxMissing)
	}
	*ms = MissingInputs{}
	for _, m := range list {
		ms.add(m.Field, m.Assumption, m.AffectsLevel)
	}
	return nil
}
