package triage

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
)

// The learned second opinion: a proportional-odds (ordinal logistic) model over what a nurse
// records at triage, trained in Go on real emergency department visits with the levels triage
// experts gave (shared/triage/learn; data/model.json says which data and how to regenerate
// it). Its score is linear in the features, so the exact Shapley value of each feature relative
// to the training population's mean patient is the feature's own term, weight x (value - mean)
// / scale, and the terms sum to the score (Lundberg & Lee 2017 for linear models).
//
// The model is a second opinion: it never lowers a level that a rule decided (points A, B, P,
// the danger zone, the first-order modifiers), it never proposes level 1 (a bedside judgement),
// and it applies only to the population it was trained on (patients aged 16 or more).
//
// Decision, in two steps:
//  1. The patient who cannot wait: the model proposes level 2 when the probability that the
//     experts' level is 1 or 2 reaches highAcuityThreshold, one chance in ten.
//  2. Otherwise it proposes the most urgent level L such that the probability that the
//     experts' level is L or more urgent reaches underTriageQuantile. With under-triage weighed
//     underTriageCost times over-triage, this quantile minimises the expected cost of the error
//     (the asymmetric absolute loss is minimised by its c_over / (c_under + c_over) quantile).
//
// Both steps are monotone in the score, so the model keeps the engine's monotonicity.

// underTriageCost weighs an under-triage against an over-triage by the same number of levels:
// under-triage is the dangerous error (triage-rules.md §6), so an under-triage costs twice an
// over-triage and the model errs towards urgency.
const underTriageCost = 2

// underTriageQuantile is 1 / (1 + underTriageCost).
const underTriageQuantile = 1.0 / (1 + underTriageCost)

// highAcuityThreshold is the probability of the experts' level 1 or 2 from which the model
// proposes level 2. ESI's first question is whether the patient can wait; a patient the model
// sends to the waiting levels (3-5) has less than one chance in ten of being one who cannot.
// The quantile alone weighs a missed level-2 patient like any one-level under-triage, and
// lets through patients with up to a one-in-three chance of being level 1 or 2
// (docs/clinical-validation.md measures both).
const highAcuityThreshold = 0.10

// modelMinAgeYears is the youngest age of the training population.
const modelMinAgeYears = 16

//go:embed data/model.json
var modelFile []byte

// Feature indexes. The names are the model file's and the API's; a test checks that the
// model file lists exactly these, in this order.
//
// Every feature except sex, arrival mode and injury is built so that a worse vital sign, an
// added symptom or a missing value never lowers it, and its weight is trained non-negative
// (Monotone), so the model keeps the engine's monotonicity: a missing vital sign counts at
// its maximum NEWS2 points, a missing pain score as 10, a missing mental status as "responds
// to voice", and an unknown age as the oldest.
const (
	featAgeDecades = iota
	featOlderAdult
	featMale
	featAmbulance
	featWalkIn
	featInjury
	featMentalVoice
	featMentalPain
	featComplaintAMS
	featPain
	featCentralPain
	featNEWS2Resp
	featNEWS2SBP
	featNEWS2Pulse
	featNEWS2Temp
	featDangerHR
	featDangerRR
	featFever
	featSIRS
	featHighRisk
	featResources
	featOlderRespiratory
	featOlderAbdominal
	featGroupCardiovascular
	featGroupENT
	featGroupEnvironmental
	featGroupGastrointestinal
	featGroupGenitourinary
	featGroupMentalHealth
	featGroupNeurologic
	featGroupObstetric
	featGroupOphthalmologic
	featGroupOrthopedic
	featGroupRespiratory
	featGroupSkin
	featGroupSubstance
	featGroupTrauma
	featGroupGeneral
	// NumBaseFeatures are the features above; one feature per vocabulary complaint follows
	// them ("complaint_<code>": 1 when the complaint is recognised), in complaints.csv order.
	NumBaseFeatures
	// NumFeatures bounds the features (the base ones and at most maxComplaints complaints).
	NumFeatures = NumBaseFeatures + maxComplaints
)

// complaintFeaturePrefix names the per-complaint features.
const complaintFeaturePrefix = "complaint_"

// FeatureCount is the number of features of the engine's vocabulary: the base features and
// one per complaint.
func FeatureCount() int { return NumBaseFeatures + len(vocab().complaints) }

// FeatureName is the name of feature i (< FeatureCount).
func FeatureName(i int) string {
	if i < NumBaseFeatures {
		return baseFeatureNames[i]
	}
	return complaintFeaturePrefix + vocab().complaints[i-NumBaseFeatures].Code
}

// baseFeatureNames are the model's inputs, derived from what the nurse recorded only (never a
// diagnosis, a level or an outcome).
var baseFeatureNames = [NumBaseFeatures]string{
	featAgeDecades:            "age_decades",
	featOlderAdult:            "age_65_or_more",
	featMale:                  "sex_male",
	featAmbulance:             "arrival_ambulance",
	featWalkIn:                "arrival_walk_in",
	featInjury:                "injury",
	featMentalVoice:           "avpu_voice_or_new_confusion",
	featMentalPain:            "avpu_pain_or_unresponsive",
	featComplaintAMS:          "complaint_altered_mental_status",
	featPain:                  "pain_score",
	featCentralPain:           "central_pain_4_or_more",
	featNEWS2Resp:             "news2_respiratory_rate_points",
	featNEWS2SBP:              "news2_systolic_bp_points",
	featNEWS2Pulse:            "news2_pulse_points",
	featNEWS2Temp:             "news2_temperature_points",
	featDangerHR:              "heart_rate_over_100",
	featDangerRR:              "respiratory_rate_over_20",
	featFever:                 "fever_over_38",
	featSIRS:                  "sirs_criteria",
	featHighRisk:              "complaint_high_risk",
	featResources:             "complaint_resources_estimate",
	featOlderRespiratory:      "age_65_or_more_with_respiratory_complaint",
	featOlderAbdominal:        "age_65_or_more_with_abdominal_complaint",
	featGroupCardiovascular:   "group_cardiovascular",
	featGroupENT:              "group_ent",
	featGroupEnvironmental:    "group_environmental",
	featGroupGastrointestinal: "group_gastrointestinal",
	featGroupGenitourinary:    "group_genitourinary",
	featGroupMentalHealth:     "group_mental_health",
	featGroupNeurologic:       "group_neurologic",
	featGroupObstetric:        "group_obstetric_gynecologic",
	featGroupOphthalmologic:   "group_ophthalmologic",
	featGroupOrthopedic:       "group_orthopedic",
	featGroupRespiratory:      "group_respiratory",
	featGroupSkin:             "group_skin",
	featGroupSubstance:        "group_substance_misuse",
	featGroupTrauma:           "group_trauma",
	featGroupGeneral:          "group_general",
}

// Monotone reports whether feature i's weight is trained non-negative (all but sex, arrival
// mode and injury, which no monotonicity rule of the engine speaks about; every complaint
// feature is monotone, so that an added complaint never lowers the score).
func Monotone(i int) bool {
	switch i {
	case featMale, featAmbulance, featWalkIn, featInjury:
		return false
	}
	return true
}

// groupFeature maps a complaints.csv group to its feature.
var groupFeature = map[string]int{
	"cardiovascular": featGroupCardiovascular, "ent": featGroupENT, "environmental": featGroupEnvironmental,
	"gastrointestinal": featGroupGastrointestinal, "genitourinary": featGroupGenitourinary,
	"mental_health": featGroupMentalHealth, "neurologic": featGroupNeurologic,
	"obstetric_gynecologic": featGroupObstetric, "ophthalmologic": featGroupOphthalmologic,
	"orthopedic": featGroupOrthopedic, "respiratory": featGroupRespiratory, "skin": featGroupSkin,
	"substance_misuse": featGroupSubstance, "trauma": featGroupTrauma, "general": featGroupGeneral,
}

// Features are the model's input values for one assessment, in FeatureNames order.
type Features [NumFeatures]float64

// resourcesCap bounds the estimated resource count feature (ESI stops counting at 2; the
// cap keeps a long list of complaints from dominating).
const resourcesCap = 4

// unknownAgeYears is the age the model assumes when none is recorded: the oldest, which no
// lower age scores above (the age weights are non-negative).
const unknownAgeYears = 120

// FeaturesOf computes the model's inputs for in, as Assess does.
func FeaturesOf(in Input) Features {
	ageDays, ageKnown := in.ageInDays()
	tempTenths, tempKnown := temperatureTenths(in.Vitals.TemperatureC)
	cr := readComplaint(in.ChiefComplaint)
	cat := lookupCategory(in.ComplaintCategory)
	var a Assessment
	a.Resources = countResources(&in, cat, &cr)
	e := engine{in: &in, a: &a, ageDays: ageDays, ageKnown: ageKnown, tempTenths: tempTenths,
		tempKnown: tempKnown, cr: &cr, cat: cat}
	return e.features()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// features computes the model's inputs from what the engine has read.
func (e *engine) features() (x Features) {
	in, v := e.in, &e.in.Vitals
	days := e.ageDays
	if !e.ageKnown {
		days = daysFromYears(unknownAgeYears)
	}
	older := days >= daysFromYears(olderAdultYears)
	x[featAgeDecades] = float64(days) / 365.25 / 10
	x[featOlderAdult] = b2f(older)
	x[featMale] = b2f(in.Sex == SexMale)
	x[featAmbulance] = b2f(in.ArrivalMode == ArrivalAmbulance)
	x[featWalkIn] = b2f(in.ArrivalMode == ArrivalWalkIn)
	x[featInjury] = b2f(in.Injury)
	switch in.MentalStatus {
	case MentalAlert:
	case MentalPain, MentalUnresponsive:
		x[featMentalPain] = 1
	default: // V, new confusion, or not recorded (new confusion cannot be ruled out)
		x[featMentalVoice] = 1
	}
	cs := vocab().complaints
	high, ams := false, false
	for _, f := range e.cr.findings[:e.cr.nFindings] {
		c := &cs[f.complaint]
		switch c.rule {
		case ruleA, ruleB:
			high = true
		case ruleAMS:
			ams = true
		}
		if _, ok := e.complaintRaise(f.complaint, Level2); ok {
			high = true
		}
		if g, ok := groupFeature[c.Group]; ok {
			x[g] = 1
		}
		x[NumBaseFeatures+int(f.complaint)] = 1
	}
	x[featComplaintAMS] = b2f(ams)
	x[featHighRisk] = b2f(high)
	x[featOlderRespiratory] = b2f(older && x[featGroupRespiratory] == 1)
	x[featOlderAbdominal] = b2f(older && x[featGroupGastrointestinal] == 1)
	pain := 10 // not recorded: pain >= 7 cannot be ruled out
	if in.PainScore != nil {
		pain = *in.PainScore
	}
	x[featPain] = float64(pain)
	x[featCentralPain] = b2f(pain >= centralPainModerateMin && e.centralPain())
	points := func(val *int, maxPoints int, score func(int) int) float64 {
		if val == nil {
			return float64(maxPoints)
		}
		return float64(score(*val))
	}
	x[featNEWS2Resp] = points(v.RespiratoryRate, maxPointsRespiratoryRate, news2RespiratoryRate)
	x[featNEWS2SBP] = points(v.SystolicBP, maxPointsSystolicBP, news2SystolicBP)
	x[featNEWS2Pulse] = points(v.HeartRate, maxPointsPulse, news2Pulse)
	if e.tempKnown {
		x[featNEWS2Temp] = float64(news2Temperature(e.tempTenths))
	} else {
		x[featNEWS2Temp] = maxPointsTemperature
	}
	row := dangerZone[3] // adults: the model applies from 16 years
	x[featDangerHR] = b2f(v.HeartRate == nil || *v.HeartRate > row.hr)
	x[featDangerRR] = b2f(v.RespiratoryRate == nil || *v.RespiratoryRate > row.rr)
	x[featFever] = b2f(!e.tempKnown || e.sirsFever())
	sirs, _ := e.sirsCount()
	x[featSIRS] = float64(sirs)
	switch e.a.Resources.Evidence {
	case EvidenceObserved, EvidenceEstimated:
		x[featResources] = float64(min(e.a.Resources.Count, resourcesCap))
	default:
		x[featResources] = assumedResourceCount
	}
	return x
}

// Model is a trained proportional-odds model: P(level <= k) = sigmoid(Thresholds[k-1] + score),
// score = sum of Weight[i] * (x[i] - Mean[i]) / Scale[i]. A higher score is more urgent.
type Model struct {
	Version string
	// n is the number of features in use (FeatureCount when the model was made).
	n          int
	Mean       Features
	Scale      Features
	Weight     Features
	Thresholds [4]float64
}

// modelJSON is the file format of data/model.json (written by shared/triage/learn).
type modelJSON struct {
	Version     string          `json:"version"`
	Description string          `json:"description"`
	Source      string          `json:"source"`
	Licence     string          `json:"licence"`
	Command     string          `json:"command"`
	Training    json.RawMessage `json:"training"`
	Features    []struct {
		Name   string  `json:"name"`
		Mean   float64 `json:"mean"`
		Scale  float64 `json:"scale"`
		Weight float64 `json:"weight"`
	} `json:"features"`
	Thresholds []float64 `json:"thresholds"`
}

// ParseModel reads a model file, checking that it lists the engine's features in order.
func ParseModel(b []byte) (*Model, error) {
	var f modelJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("triage: model file: %w", err)
	}
	if f.Version == "" {
		return nil, errors.New("triage: model file: no version")
	}
	if n := FeatureCount(); len(f.Features) != n {
		return nil, fmt.Errorf("triage: model file: %d features, the engine computes %d", len(f.Features), n)
	}
	if len(f.Thresholds) != 4 {
		return nil, fmt.Errorf("triage: model file: %d thresholds, want 4", len(f.Thresholds))
	}
	m := &Model{Version: f.Version, n: len(f.Features)}
	for i, ft := range f.Features {
		if ft.Name != FeatureName(i) {
			return nil, fmt.Errorf("triage: model file: feature %d is %q, the engine's is %q", i, ft.Name, FeatureName(i))
		}
		if !(ft.Scale > 0) || math.IsInf(ft.Scale, 0) || math.IsNaN(ft.Mean) || math.IsInf(ft.Mean, 0) ||
			math.IsNaN(ft.Weight) || math.IsInf(ft.Weight, 0) {
			return nil, fmt.Errorf("triage: model file: feature %q has a non-finite or non-positive value", ft.Name)
		}
		m.Mean[i], m.Scale[i], m.Weight[i] = ft.Mean, ft.Scale, ft.Weight
	}
	for k, t := range f.Thresholds {
		if math.IsNaN(t) || math.IsInf(t, 0) || k > 0 && !(t > f.Thresholds[k-1]) {
			return nil, errors.New("triage: model file: thresholds must be finite and increasing")
		}
		m.Thresholds[k] = t
	}
	return m, nil
}

// DefaultModel is the engine's model (data/model.json), read on first use. The file is
// embedded and checked by the package's tests, so it cannot fail to parse in a tested build.
var DefaultModel = sync.OnceValue(func() *Model {
	m, err := ParseModel(modelFile)
	if err != nil {
		panic(err)
	}
	return m
})

// Attribution is one feature's exact Shapley value: its part of the score relative to the
// training population's mean patient.
type Attribution struct {
	Feature      string  `json:"feature"`
	Value        float64 `json:"value"`
	Contribution float64 `json:"contribution"`
}

// NewModel returns a model over the engine's FeatureCount features with the given values
// (those beyond FeatureCount are ignored).
func NewModel(version string, mean, scale, weight Features, thresholds [4]float64) *Model {
	return &Model{Version: version, n: FeatureCount(), Mean: mean, Scale: scale, Weight: weight, Thresholds: thresholds}
}

// FeatureCount is the number of features the model uses.
func (m *Model) FeatureCount() int { return m.n }

// complaintsPlayer names the attribution of all the per-complaint features together.
const complaintsPlayer = "complaints"

// NumAttributions is the number of attributions of an opinion: one per base feature and one
// for the per-complaint features together.
const NumAttributions = NumBaseFeatures + 1

// ModelOpinion is the learned second opinion of an assessment.
type ModelOpinion struct {
	// Applicable is false when the model does not apply (NotApplicable says why).
	Applicable    bool
	NotApplicable string
	Version       string
	// Level is the model's proposal (2..5; the model never proposes 1).
	Level Level
	// Probabilities[k] is the probability that the experts' level is k+1.
	Probabilities [5]float64
	// Score is the sum of the attributions (higher is more urgent); the mean patient scores 0.
	Score float64
	// Attributions are the exact Shapley values of the base features, then of the
	// per-complaint features as one player (a coalition's Shapley value in a linear model is
	// the sum of its members' terms); Value of that player is the number of complaints.
	Attributions [NumAttributions]Attribution
}

const (
	notApplicableNoModel = "no model is configured"
	notApplicableAge     = "the model was trained on patients aged 16 or more"
)

// moreUrgentProbability is the probability that the experts' level is more urgent than the
// model's proposal.
func (o *ModelOpinion) moreUrgentProbability() float64 {
	p := 0.0
	for k := Level1; k < o.Level; k++ {
		p += o.Probabilities[k-1]
	}
	return p
}

// opinion computes the model's opinion into the assessment and reports whether it applies
// and may act (act: the rules left the level to C, D and the modifiers).
func (e *engine) opinion(act bool) bool {
	o := &e.a.Model
	switch {
	case e.model == nil:
		o.NotApplicable = notApplicableNoModel
		return false
	case e.ageKnown && e.ageDays < daysFromYears(modelMinAgeYears):
		o.NotApplicable = notApplicableAge
		return false
	}
	m := e.model
	x := e.features()
	o.Applicable, o.Version = true, m.Version
	score := 0.0
	for i := range NumBaseFeatures {
		c := m.Weight[i] * (x[i] - m.Mean[i]) / m.Scale[i]
		o.Attributions[i] = Attribution{Feature: baseFeatureNames[i], Value: x[i], Contribution: c}
		score += c
	}
	complaints := Attribution{Feature: complaintsPlayer}
	for i := NumBaseFeatures; i < m.n; i++ {
		complaints.Contribution += m.Weight[i] * (x[i] - m.Mean[i]) / m.Scale[i]
		complaints.Value += x[i]
	}
	o.Attributions[NumBaseFeatures] = complaints
	score += complaints.Contribution
	o.Score = score
	prev := 0.0
	for k := range 4 {
		cum := sigmoid(m.Thresholds[k] + score)
		o.Probabilities[k] = cum - prev
		prev = cum
	}
	o.Probabilities[4] = 1 - prev
	o.Level = Level5
	cum := 0.0
	for k := range 5 {
		cum += o.Probabilities[k]
		if cum >= underTriageQuantile {
			o.Level = Level(k + 1)
			break
		}
	}
	if o.highAcuityProbability() >= highAcuityThreshold {
		o.Level = Level2
	}
	o.Level = max(o.Level, Level2)
	return act
}

// highAcuityProbability is the probability that the experts' level is 1 or 2.
func (o *ModelOpinion) highAcuityProbability() float64 {
	return o.Probabilities[0] + o.Probabilities[1]
}

// byHighAcuity reports whether the opinion is level 2 because of highAcuityThreshold (the
// quantile alone would have proposed 3 or less urgent).
func (o *ModelOpinion) byHighAcuity() bool {
	return o.Level == Level2 && o.highAcuityProbability() < underTriageQuantile &&
		o.highAcuityProbability() >= highAcuityThreshold
}

// reason is the point-L reason of the opinion: the level with the probability that the
// experts' level is more urgent, or, when the threshold of level 1-2 decided, that probability
// and the threshold.
func (o *ModelOpinion) reason() Reason {
	r := Reason{Point: PointL, Code: CodeModel, Evidence: EvidenceModel, Field: FieldModel,
		Value: float64(o.Level), HasValue: true, Limit: o.moreUrgentProbability()}
	if o.byHighAcuity() {
		r.Code, r.Value, r.Limit = CodeModelHighAcuity, o.highAcuityProbability(), highAcuityThreshold
	}
	return r
}

func sigmoid(t float64) float64 {
	if t >= 0 {
		return 1 / (1 + math.Exp(-t))
	}
	z := math.Exp(t)
	return z / (1 + z)
}

// MarshalJSON writes the opinion; when the model does not apply, only why.
func (o ModelOpinion) MarshalJSON() ([]byte, error) {
	if !o.Applicable {
		return json.Marshal(struct {
			Applicable    bool   `json:"applicable"`
			NotApplicable string `json:"notApplicable,omitempty"`
		}{false, o.NotApplicable})
	}
	attrs := make([]Attribution, NumAttributions)
	for i, a := range o.Attributions {
		attrs[i] = a
	}
	return json.Marshal(struct {
		Applicable    bool          `json:"applicable"`
		Version       string        `json:"version"`
		Level         Level         `json:"level"`
		Probabilities [5]float64    `json:"probabilities"`
		Score         float64       `json:"score"`
		Attributions  []Attribution `json:"attributions"`
	}{true, o.Version, o.Level, o.Probabilities, o.Score, attrs})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *ModelOpinion) UnmarshalJSON(b []byte) error {
	var in struct {
		Applicable    bool          `json:"applicable"`
		NotApplicable string        `json:"notApplicable"`
		Version       string        `json:"version"`
		Level         Level         `json:"level"`
		Probabilities [5]float64    `json:"probabilities"`
		Score         float64       `json:"score"`
		Attributions  []Attribution `json:"attributions"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if len(in.Attributions) > NumAttributions {
		return fmt.Errorf("triage: %d attributions, at most %d", len(in.Attributions), NumAttributions)
	}
	*o = ModelOpinion{Applicable: in.Applicable, NotApplicable: in.NotApplicable, Version: in.Version,
		Level: in.Level, Score: in.Score}
	o.Probabilities = in.Probabilities
	copy(o.Attributions[:], in.Attributions)
	return nil
}
