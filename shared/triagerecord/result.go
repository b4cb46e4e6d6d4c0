package triagerecord

import (
	"github.com/medi-os/medi/shared/triage"
)

// Result is the engine's assessment as the API returns it and Firestore stores it: every
// list is a slice holding only real entries, every name is the engine's JSON name. It is
// derived from a triage.Assessment by NewResult and carries the explanation triage-rules.md
// section 5 asks for: the decision point with the reasons that made it fire (as text and
// as structured details), NEWS2 and qSOFA with the points of every parameter, the missing
// inputs with what was assumed for each, the target time and the re-assessment interval,
// and the engine version.
type Result struct {
	EngineVersion string `json:"engineVersion" firestore:"engineVersion"`
	// Level is the proposed ESI level 1..5.
	Level         int    `json:"level" firestore:"level"`
	DecisionPoint string `json:"decisionPoint" firestore:"decisionPoint"`
	// Reasons are the reasons rendered for people, e.g. "B: pain 8/10 >= 7".
	Reasons []string `json:"reasons" firestore:"reasons"`
	// ReasonDetails are the same reasons, structured (same order).
	ReasonDetails  []ReasonDetail `json:"reasonDetails" firestore:"reasonDetails"`
	Provisional    bool           `json:"provisional" firestore:"provisional"`
	VitalsRequired bool           `json:"vitalsRequired" firestore:"vitalsRequired"`
	// MissingVitals names the required vital signs that are missing (input field paths);
	// empty unless VitalsRequired.
	MissingVitals []string       `json:"missingVitals" firestore:"missingVitals"`
	Missing       []MissingInput `json:"missing" firestore:"missing"`
	Resources     Resources      `json:"resources" firestore:"resources"`
	// Complaint is how the engine read the chief complaint.
	Complaint Complaint `json:"complaint" firestore:"complaint"`
	// RulesLevel is the level the rules alone propose; Level differs only where the learned
	// second opinion raised it or chose among 3, 4 and 5 without resources.
	RulesLevel int `json:"rulesLevel" firestore:"rulesLevel"`
	// Model is the learned second opinion with its exact attributions.
	Model Model `json:"model" firestore:"model"`
	NEWS2 NEWS2 `json:"news2" firestore:"news2"`
	QSOFA QSOFA `json:"qsofa" firestore:"qsofa"`
	// TargetMinutes is the target time to physician (triage-rules.md section 4); 0 = immediate.
	TargetMinutes int          `json:"targetMinutes" firestore:"targetMinutes"`
	Reassessment  Reassessment `json:"reassessment" firestore:"reassessment"`
}

// ReasonDetail is one reason, structured; Text is its rendering.
type ReasonDetail struct {
	Point       string   `json:"point" firestore:"point"`
	Code        string   `json:"code" firestore:"code"`
	Evidence    string   `json:"evidence" firestore:"evidence"`
	Field       string   `json:"field,omitempty" firestore:"field,omitempty"`
	Value       *float64 `json:"value,omitempty" firestore:"value,omitempty"`
	Limit       *float64 `json:"limit,omitempty" firestore:"limit,omitempty"`
	Observation string   `json:"observation,omitempty" firestore:"observation,omitempty"`
	AgeBand     string   `json:"ageBand,omitempty" firestore:"ageBand,omitempty"`
	Complaints  []string `json:"complaints,omitempty" firestore:"complaints,omitempty"`
	Resources   []string `json:"resources,omitempty" firestore:"resources,omitempty"`
	Count       *int     `json:"count,omitempty" firestore:"count,omitempty"`
	Category    string   `json:"category,omitempty" firestore:"category,omitempty"`
	Text        string   `json:"text" firestore:"text"`
}

// MissingInput is an input that was not recorded and what the engine assumed for it.
type MissingInput struct {
	Field        string `json:"field" firestore:"field"`
	Assumption   string `json:"assumption" firestore:"assumption"`
	AffectsLevel bool   `json:"affectsLevel" firestore:"affectsLevel"`
}

// Resources are the resources counted at ESI point C, as given or as estimated.
type Resources struct {
	Types    []string `json:"types" firestore:"types"`
	Count    int      `json:"count" firestore:"count"`
	Evidence string   `json:"evidence" firestore:"evidence"`
	Category string   `json:"category,omitempty" firestore:"category,omitempty"`
	// Complaints are the recognised complaints an estimate comes from.
	Complaints []string `json:"complaints,omitempty" firestore:"complaints,omitempty"`
}

// Complaint is how the engine read the chief complaint: the vocabulary complaints it
// recognised (with their side and the phrase that matched), those written as absent, and how
// many words it did not know or read after a one-letter correction.
type Complaint struct {
	// Status is recognised, not_recognised or empty.
	Status         string             `json:"status" firestore:"status"`
	Recognised     []ComplaintFinding `json:"recognised" firestore:"recognised"`
	Negated        []string           `json:"negated" firestore:"negated"`
	Words          int                `json:"words" firestore:"words"`
	UnknownWords   int                `json:"unknownWords" firestore:"unknownWords"`
	CorrectedWords int                `json:"correctedWords" firestore:"correctedWords"`
}

// ComplaintFinding is one recognised complaint of the vocabulary.
type ComplaintFinding struct {
	Code       string `json:"code" firestore:"code"`
	Name       string `json:"name" firestore:"name"`
	Group      string `json:"group" firestore:"group"`
	Laterality string `json:"laterality,omitempty" firestore:"laterality,omitempty"`
	Phrase     string `json:"phrase" firestore:"phrase"`
	Rule       string `json:"rule,omitempty" firestore:"rule,omitempty"`
}

// Model is the learned second opinion: its level, the probabilities of levels 1-5 (index 0 is
// level 1), its score and every feature's exact Shapley value (summing to the score).
type Model struct {
	Applicable    bool          `json:"applicable" firestore:"applicable"`
	NotApplicable string        `json:"notApplicable,omitempty" firestore:"notApplicable,omitempty"`
	Version       string        `json:"version,omitempty" firestore:"version,omitempty"`
	Level         int           `json:"level,omitempty" firestore:"level,omitempty"`
	Probabilities []float64     `json:"probabilities" firestore:"probabilities"`
	Score         float64       `json:"score" firestore:"score"`
	Attributions  []Attribution `json:"attributions" firestore:"attributions"`
}

// Attribution is one feature's value and exact Shapley value.
type Attribution struct {
	Feature      string  `json:"feature" firestore:"feature"`
	Value        float64 `json:"value" firestore:"value"`
	Contribution float64 `json:"contribution" firestore:"contribution"`
}

// NEWS2 is the National Early Warning Score 2 with the points of every parameter; when it
// does not apply (under 16) only Applicable and NotApplicable are set and Items is empty.
type NEWS2 struct {
	Applicable            bool        `json:"applicable" firestore:"applicable"`
	NotApplicable         string      `json:"notApplicable,omitempty" firestore:"notApplicable,omitempty"`
	Aggregate             int         `json:"aggregate" firestore:"aggregate"`
	MeasuredAggregate     int         `json:"measuredAggregate" firestore:"measuredAggregate"`
	Complete              bool        `json:"complete" firestore:"complete"`
	Items                 []NEWS2Item `json:"items" firestore:"items"`
	SpO2Scale             int         `json:"spo2Scale,omitempty" firestore:"spo2Scale,omitempty"`
	SingleParameterScore3 bool        `json:"singleParameterScore3" firestore:"singleParameterScore3"`
	Risk                  string      `json:"risk,omitempty" firestore:"risk,omitempty"`
	Response              string      `json:"response,omitempty" firestore:"response,omitempty"`
	ReassessMinutes       int         `json:"reassessMinutes" firestore:"reassessMinutes"`
	Continuous            bool        `json:"continuous" firestore:"continuous"`
	Caveat                string      `json:"caveat,omitempty" firestore:"caveat,omitempty"`
}

// NEWS2Item is one NEWS2 parameter with its points (its exact Shapley attribution relative
// to the all-normal patient, triage-rules.md section 5). Value is absent when the parameter is
// categorical or missing.
type NEWS2Item struct {
	Parameter   string   `json:"parameter" firestore:"parameter"`
	Value       *float64 `json:"value,omitempty" firestore:"value,omitempty"`
	Observation string   `json:"observation,omitempty" firestore:"observation,omitempty"`
	Points      int      `json:"points" firestore:"points"`
	Missing     bool     `json:"missing" firestore:"missing"`
}

// QSOFA is the quick SOFA score with the point of every criterion.
type QSOFA struct {
	Score         int         `json:"score" firestore:"score"`
	MeasuredScore int         `json:"measuredScore" firestore:"measuredScore"`
	Items         []QSOFAItem `json:"items" firestore:"items"`
	HighRisk      bool        `json:"highRisk" firestore:"highRisk"`
	Complete      bool        `json:"complete" firestore:"complete"`
}

// QSOFAItem is one qSOFA criterion with its point.
type QSOFAItem struct {
	Criterion string `json:"criterion" firestore:"criterion"`
	Points    int    `json:"points" firestore:"points"`
	Missing   bool   `json:"missing" firestore:"missing"`
}

// Reassessment is when to observe the patient again (NEWS2 clinical response).
type Reassessment struct {
	Applicable      bool   `json:"applicable" firestore:"applicable"`
	IntervalMinutes int    `json:"intervalMinutes" firestore:"intervalMinutes"`
	Continuous      bool   `json:"continuous" firestore:"continuous"`
	Response        string `json:"response,omitempty" firestore:"response,omitempty"`
}

// NewResult converts the engine's assessment into its stored and returned form.
func NewResult(a triage.Assessment) Result {
	r := Result{
		EngineVersion:  a.EngineVersion,
		Level:          int(a.Level),
		DecisionPoint:  string(a.DecisionPoint),
		Reasons:        a.Reasons.Strings(),
		ReasonDetails:  make([]ReasonDetail, 0, a.Reasons.Len()),
		Provisional:    a.Provisional,
		VitalsRequired: a.VitalsRequired,
		MissingVitals:  MissingVitals(a),
		Missing:        make([]MissingInput, 0, a.Missing.Len()),
		Resources: Resources{
			Types:      typeNames(a.Resources.Types),
			Count:      a.Resources.Count,
			Evidence:   string(a.Resources.Evidence),
			Category:   string(a.Resources.Category),
			Complaints: a.Resources.Complaints.Codes(),
		},
		Complaint:     newComplaint(a.Complaint),
		RulesLevel:    int(a.RulesLevel),
		Model:         newModel(a.Model),
		NEWS2:         newNEWS2(a.NEWS2),
		QSOFA:         newQSOFA(a.QSOFA),
		TargetMinutes: a.TargetMinutes,
		Reassessment: Reassessment{
			Applicable:      a.Reassessment.Applicable,
			IntervalMinutes: a.Reassessment.IntervalMinutes,
			Continuous:      a.Reassessment.Continuous,
			Response:        a.Reassessment.Response,
		},
	}
	for i := range a.Reasons.Len() {
		r.ReasonDetails = append(r.ReasonDetails, newReasonDetail(a.Reasons.At(i)))
	}
	for i := range a.Missing.Len() {
		m := a.Missing.At(i)
		r.Missing = append(r.Missing, MissingInput{Field: m.Field, Assumption: m.Assumption, AffectsLevel: m.AffectsLevel})
	}
	return r
}

func newReasonDetail(x triage.Reason) ReasonDetail {
	d := ReasonDetail{
		Point:       string(x.Point),
		Code:        string(x.Code),
		Evidence:    string(x.Evidence),
		Field:       x.Field,
		Observation: x.Observation,
		AgeBand:     string(x.AgeBand),
		Complaints:  x.Complaints.Codes(),
		Category:    string(x.Category),
		Text:        x.String(),
	}
	if x.HasValue {
		v := x.Value
		d.Value = &v
	}
	if x.Limit != 0 {
		l := x.Limit
		d.Limit = &l
	}
	if x.Code == triage.CodeResources {
		d.Resources = typeNames(x.Resources)
		c := x.Count
		d.Count = &c
	} else if x.Count != 0 {
		c := x.Count
		d.Count = &c
	}
	return d
}

func newComplaint(c triage.ComplaintSummary) Complaint {
	out := Complaint{Status: string(c.Status), Recognised: []ComplaintFinding{}, Negated: nonNilSlice(c.Negated.Codes()),
		Words: c.Words, UnknownWords: c.UnknownWords, CorrectedWords: c.CorrectedWords}
	for _, f := range c.Recognised() {
		out.Recognised = append(out.Recognised, ComplaintFinding{Code: f.Code, Name: f.Name, Group: f.Group,
			Laterality: string(f.Laterality), Phrase: f.Phrase, Rule: f.Rule})
	}
	return out
}

func newModel(o triage.ModelOpinion) Model {
	out := Model{Applicable: o.Applicable, NotApplicable: o.NotApplicable, Probabilities: []float64{},
		Attributions: []Attribution{}}
	if !o.Applicable {
		return out
	}
	out.Version, out.Level, out.Score = o.Version, int(o.Level), o.Score
	out.Probabilities = append(out.Probabilities, o.Probabilities[:]...)
	for _, at := range o.Attributions {
		out.Attributions = append(out.Attributions, Attribution{Feature: at.Feature, Value: at.Value, Contribution: at.Contribution})
	}
	return out
}

func newNEWS2(n triage.NEWS2) NEWS2 {
	out := NEWS2{Applicable: n.Applicable, NotApplicable: n.NotApplicable, Items: []NEWS2Item{}}
	if !n.Applicable {
		return out
	}
	out.Aggregate, out.MeasuredAggregate, out.Complete = n.Aggregate, n.MeasuredAggregate, n.Complete
	out.SpO2Scale, out.SingleParameterScore3 = n.SpO2Scale, n.SingleParameterScore3
	out.Risk, out.Response = string(n.Risk), n.Response
	out.ReassessMinutes, out.Continuous, out.Caveat = n.ReassessMinutes, n.Continuous, n.Caveat
	for _, it := range n.Items {
		if it.Parameter == "" {
			continue
		}
		item := NEWS2Item{Parameter: it.Parameter, Observation: it.Observation, Points: it.Points, Missing: it.Missing}
		if numericParam(it.Parameter) && !it.Missing {
			v := it.Value
			item.Value = &v
		}
		out.Items = append(out.Items, item)
	}
	return out
}

// numericParam reports whether a NEWS2 parameter is measured as a number (the others,
// air or oxygen and consciousness, are categorical).
func numericParam(p string) bool {
	switch p {
	case triage.ParamRespiratoryRate, triage.ParamSpO2, triage.ParamSystolicBP, triage.ParamPulse, triage.ParamTemperature:
		return true
	}
	return false
}

func newQSOFA(q triage.QSOFA) QSOFA {
	out := QSOFA{Score: q.Score, MeasuredScore: q.MeasuredScore, HighRisk: q.HighRisk, Complete: q.Complete,
		Items: make([]QSOFAItem, 0, len(q.Items))}
	for _, it := range q.Items {
		if it.Criterion == "" {
			continue
		}
		out.Items = append(out.Items, QSOFAItem{Criterion: it.Criterion, Points: it.Points, Missing: it.Missing})
	}
	return out
}

// requiredVitals are the vital signs ESI needs before a level may be recorded, in the
// order of the engine's missing inputs (shared/triage doc, "Missing data").
var requiredVitals = []string{triage.FieldHeartRate, triage.FieldRespiratoryRate, triage.FieldSpO2,
	triage.FieldTemperature, triage.FieldSystolicBP}

// MissingVitals lists the missing vital signs that make a.VitalsRequired true: heart rate,
// respiratory rate, SpO2 and temperature, plus systolic blood pressure where NEWS2 applies
// (adults). It is empty (not nil) when the vital signs are not required.
func MissingVitals(a triage.Assessment) []string {
	out := []string{}
	if !a.VitalsRequired {
		return out
	}
	for _, f := range requiredVitals {
		if f == triage.FieldSystolicBP && !a.NEWS2.Applicable {
			continue
		}
		if a.Missing.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

func typeNames(s triage.ResourceSet) []string {
	out := []string{}
	for _, t := range s.Types() {
		out = append(out, string(t))
	}
	return out
}
