package triage

import (
	"encoding/json"
	"math"
)

// NEWS2 parameter names, as they appear in NEWS2Item.Parameter.
const (
	ParamRespiratoryRate = "respiratoryRate"
	ParamSpO2            = "spo2"
	ParamAirOrOxygen     = "airOrOxygen"
	ParamSystolicBP      = "systolicBP"
	ParamPulse           = "pulse"
	ParamConsciousness   = "consciousness"
	ParamTemperature     = "temperature"
)

// NEWS2Risk is the NEWS2 clinical risk band (triage-rules.md §2).
type NEWS2Risk string

// Values of NEWS2Risk.
const (
	RiskLow       NEWS2Risk = "low"        // aggregate 0-4
	RiskLowMedium NEWS2Risk = "low_medium" // a single parameter scoring 3
	RiskMedium    NEWS2Risk = "medium"     // aggregate 5-6
	RiskHigh      NEWS2Risk = "high"       // aggregate >= 7
)

// NEWS2 clinical responses (triage-rules.md §2, RCP 2017 chart 4).
const (
	responseScore0    = "observe every 12 h"
	responseScore1to4 = "observe every 4-6 h"
	responseSingle3   = "observe hourly and inform the medical team"
	responseScore5    = "observe hourly; urgent clinical review"
	responseScore7    = "continuous monitoring; emergency response"
)

const (
	notApplicableUnder16 = "NEWS2 applies to adults aged 16 or over (RCP 2017); use the local paediatric early warning score"
	caveatPregnancy      = "NEWS2 is not validated in pregnancy (RCP 2017); use the local obstetric early warning score"
)

// NEWS2Item is one NEWS2 parameter with its points. The points are the parameter's exact
// Shapley attribution of the aggregate relative to the all-normal patient (triage-rules.md §5);
// on SpO2 scale 2 the SpO2 row is scored given the oxygen status, so there the attribution
// is exact per chart row.
type NEWS2Item struct {
	Parameter string `json:"parameter"`
	// Value is the recorded value for numeric parameters (absent from JSON when missing or
	// categorical).
	Value float64 `json:"value,omitempty"`
	// Observation is the recorded category: "air" / "oxygen", or the AVPU value.
	Observation string `json:"observation,omitempty"`
	Points      int    `json:"points"`
	// Missing means the parameter was not recorded and Points is its maximum (the
	// conservative assumption).
	Missing bool `json:"missing,omitempty"`
}

// numeric reports whether the parameter is measured as a number.
func (it NEWS2Item) numeric() bool {
	switch it.Parameter {
	case ParamRespiratoryRate, ParamSpO2, ParamSystolicBP, ParamPulse, ParamTemperature:
		return true
	}
	return false
}

// MarshalJSON writes value only for a recorded numeric parameter (a value of 0 included).
func (it NEWS2Item) MarshalJSON() ([]byte, error) {
	type out struct {
		Parameter   string   `json:"parameter"`
		Value       *float64 `json:"value,omitempty"`
		Observation string   `json:"observation,omitempty"`
		Points      int      `json:"points"`
		Missing     bool     `json:"missing,omitempty"`
	}
	o := out{Parameter: it.Parameter, Observation: it.Observation, Points: it.Points, Missing: it.Missing}
	if it.numeric() && !it.Missing {
		v := it.Value
		o.Value = &v
	}
	return json.Marshal(o)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (it *NEWS2Item) UnmarshalJSON(b []byte) error {
	var in struct {
		Parameter   string   `json:"parameter"`
		Value       *float64 `json:"value"`
		Observation string   `json:"observation"`
		Points      int      `json:"points"`
		Missing     bool     `json:"missing"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*it = NEWS2Item{Parameter: in.Parameter, Observation: in.Observation, Points: in.Points, Missing: in.Missing}
	if in.Value != nil {
		it.Value = *in.Value
	}
	return nil
}

// NEWS2 is the National Early Warning Score 2 (triage-rules.md §2).
type NEWS2 struct {
	// Applicable is false for patients under 16 (NotApplicable says why); nothing else is set.
	Applicable    bool   `json:"applicable"`
	NotApplicable string `json:"notApplicable,omitempty"`
	// Aggregate is 0-20, with every missing parameter at its maximum points.
	Aggregate int `json:"aggregate"`
	// MeasuredAggregate is the sum over the recorded parameters only.
	MeasuredAggregate int `json:"measuredAggregate"`
	// Complete is true when every parameter was recorded.
	Complete bool `json:"complete"`
	// Items are the seven parameters in chart order.
	Items [7]NEWS2Item `json:"items"`
	// SpO2Scale is 1 or 2.
	SpO2Scale             int       `json:"spo2Scale"`
	SingleParameterScore3 bool      `json:"singleParameterScore3"`
	Risk                  NEWS2Risk `json:"risk"`
	// Response is the clinical response of RCP chart 4.
	Response string `json:"response"`
	// ReassessMinutes is the observation interval of the response (0 with Continuous).
	ReassessMinutes int  `json:"reassessMinutes"`
	Continuous      bool `json:"continuous"`
	// Caveat warns where NEWS2 is not validated (pregnancy).
	Caveat string `json:"caveat,omitempty"`
}

// MarshalJSON leaves out the scores when NEWS2 does not apply.
func (n NEWS2) MarshalJSON() ([]byte, error) {
	type plain NEWS2
	if !n.Applicable {
		return json.Marshal(struct {
			Applicable    bool   `json:"applicable"`
			NotApplicable string `json:"notApplicable,omitempty"`
		}{false, n.NotApplicable})
	}
	return json.Marshal(plain(n))
}

// triage-rules.md §2 NEWS2 chart, one function per row.

// news2RespiratoryRate: <= 8 -> 3; 9-11 -> 1; 12-20 -> 0; 21-24 -> 2; >= 25 -> 3.
func news2RespiratoryRate(rr int) int {
	switch {
	case rr <= 8: // triage-rules.md §2 resp. rate <= 8
		return 3
	case rr <= 11: // triage-rules.md §2 resp. rate 9-11
		return 1
	case rr <= 20: // triage-rules.md §2 resp. rate 12-20
		return 0
	case rr <= 24: // triage-rules.md §2 resp. rate 21-24
		return 2
	}
	return 3 // triage-rules.md §2 resp. rate >= 25
}

// news2SpO2Scale1: <= 91 -> 3; 92-93 -> 2; 94-95 -> 1; >= 96 -> 0.
func news2SpO2Scale1(s int) int {
	switch {
	case s <= 91: // triage-rules.md §2 SpO2 scale 1 <= 91
		return 3
	case s <= 93: // triage-rules.md §2 SpO2 scale 1 92-93
		return 2
	case s <= 95: // triage-rules.md §2 SpO2 scale 1 94-95
		return 1
	}
	return 0 // triage-rules.md §2 SpO2 scale 1 >= 96
}

// news2SpO2Scale2: <= 83 -> 3; 84-85 -> 2; 86-87 -> 1; 88-92 or >= 93 on air -> 0;
// on oxygen 93-94 -> 1, 95-96 -> 2, >= 97 -> 3.
func news2SpO2Scale2(s int, onOxygen bool) int {
	switch {
	case s <= 83: // triage-rules.md §2 SpO2 scale 2 <= 83
		return 3
	case s <= 85: // triage-rules.md §2 SpO2 scale 2 84-85
		return 2
	case s <= 87: // triage-rules.md §2 SpO2 scale 2 86-87
		return 1
	case s <= 92 || !onOxygen: // triage-rules.md §2 SpO2 scale 2 88-92, or >= 93 on air
		return 0
	case s <= 94: // triage-rules.md §2 SpO2 scale 2 93-94 on O2
		return 1
	case s <= 96: // triage-rules.md §2 SpO2 scale 2 95-96 on O2
		return 2
	}
	return 3 // triage-rules.md §2 SpO2 scale 2 >= 97 on O2
}

// news2AirOrOxygen: oxygen -> 2; air -> 0.
func news2AirOrOxygen(onOxygen bool) int {
	if onOxygen {
		return 2 // triage-rules.md §2 air or oxygen: oxygen
	}
	return 0 // triage-rules.md §2 air or oxygen: air
}

// news2SystolicBP: <= 90 -> 3; 91-100 -> 2; 101-110 -> 1; 111-219 -> 0; >= 220 -> 3.
func news2SystolicBP(sbp int) int {
	switch {
	case sbp <= 90: // triage-rules.md §2 systolic BP <= 90
		return 3
	case sbp <= 100: // triage-rules.md §2 systolic BP 91-100
		return 2
	case sbp <= 110: // triage-rules.md §2 systolic BP 101-110
		return 1
	case sbp <= 219: // triage-rules.md §2 systolic BP 111-219
		return 0
	}
	return 3 // triage-rules.md §2 systolic BP >= 220
}

// news2Pulse: <= 40 -> 3; 41-50 -> 1; 51-90 -> 0; 91-110 -> 1; 111-130 -> 2; >= 131 -> 3.
func news2Pulse(hr int) int {
	switch {
	case hr <= 40: // triage-rules.md §2 pulse <= 40
		return 3
	case hr <= 50: // triage-rules.md §2 pulse 41-50
		return 1
	case hr <= 90: // triage-rules.md §2 pulse 51-90
		return 0
	case hr <= 110: // triage-rules.md §2 pulse 91-110
		return 1
	case hr <= 130: // triage-rules.md §2 pulse 111-130
		return 2
	}
	return 3 // triage-rules.md §2 pulse >= 131
}

// news2Consciousness: alert -> 0; new confusion, V, P or U -> 3.
func news2Consciousness(m MentalStatus) int {
	if m == MentalAlert {
		return 0 // triage-rules.md §2 consciousness: alert
	}
	return 3 // triage-rules.md §2 consciousness: new confusion, V, P or U
}

// news2Temperature takes tenths of a degree C: <= 35.0 -> 3; 35.1-36.0 -> 1;
// 36.1-38.0 -> 0; 38.1-39.0 -> 1; >= 39.1 -> 2.
func news2Temperature(tenths int) int {
	switch {
	case tenths <= 350: // triage-rules.md §2 temperature <= 35.0
		return 3
	case tenths <= 360: // triage-rules.md §2 temperature 35.1-36.0
		return 1
	case tenths <= 380: // triage-rules.md §2 temperature 36.1-38.0
		return 0
	case tenths <= 390: // triage-rules.md §2 temperature 38.1-39.0
		return 1
	}
	return 2 // triage-rules.md §2 temperature >= 39.1
}

// Maximum points of each parameter, assumed when it is missing (triage-rules.md §5: never
// "normal" silently).
const (
	maxPointsRespiratoryRate = 3 // triage-rules.md §2 row maximum
	maxPointsSpO2            = 3 // triage-rules.md §2 row maximum (both scales)
	maxPointsAirOrOxygen     = 2 // triage-rules.md §2 row maximum (oxygen)
	maxPointsSystolicBP      = 3 // triage-rules.md §2 row maximum
	maxPointsPulse           = 3 // triage-rules.md §2 row maximum
	maxPointsConsciousness   = 3 // triage-rules.md §2 row maximum
	maxPointsTemperature     = 3 // triage-rules.md §2 row maximum (<= 35.0)
)

// temperatureTenths reads a temperature at the NEWS2 chart's resolution of 0.1 C. Non-finite
// values count as not recorded.
func temperatureTenths(t *float64) (int, bool) {
	if t == nil || math.IsNaN(*t) || math.IsInf(*t, 0) {
		return 0, false
	}
	v := math.Max(-1000, math.Min(1000, *t))
	return int(math.Round(v * 10)), true
}

// scoreNEWS2 computes NEWS2 for an adult (triage-rules.md §2). Missing parameters score their
// maximum points.
func scoreNEWS2(in *Input, tempTenths int, tempKnown bool) NEWS2 {
	v := &in.Vitals
	n := NEWS2{Applicable: true, SpO2Scale: 1}
	if v.SpO2Scale2 {
		n.SpO2Scale = 2
	}
	// Oxygen first: SpO2 scale 2 depends on it. Missing -> oxygen (the higher score).
	onOxygen := true
	it := NEWS2Item{Parameter: ParamAirOrOxygen}
	if v.OnSupplementalOxygen == nil {
		it.Missing, it.Points = true, maxPointsAirOrOxygen
	} else {
		onOxygen = *v.OnSupplementalOxygen
		it.Observation = "air"
		if onOxygen {
			it.Observation = "oxygen"
		}
		it.Points = news2AirOrOxygen(onOxygen)
	}
	n.Items[2] = it

	n.Items[0] = numericItem(ParamRespiratoryRate, v.RespiratoryRate, maxPointsRespiratoryRate, news2RespiratoryRate)
	if v.SpO2 == nil {
		n.Items[1] = NEWS2Item{Parameter: ParamSpO2, Points: maxPointsSpO2, Missing: true}
	} else {
		p := news2SpO2Scale1(*v.SpO2)
		if v.SpO2Scale2 {
			p = news2SpO2Scale2(*v.SpO2, onOxygen)
		}
		n.Items[1] = NEWS2Item{Parameter: ParamSpO2, Value: float64(*v.SpO2), Points: p}
	}
	n.Items[3] = numericItem(ParamSystolicBP, v.SystolicBP, maxPointsSystolicBP, news2SystolicBP)
	n.Items[4] = numericItem(ParamPulse, v.HeartRate, maxPointsPulse, news2Pulse)
	if in.MentalStatus.recorded() {
		n.Items[5] = NEWS2Item{Parameter: ParamConsciousness, Observation: string(in.MentalStatus), Points: news2Consciousness(in.MentalStatus)}
	} else {
		n.Items[5] = NEWS2Item{Parameter: ParamConsciousness, Points: maxPointsConsciousness, Missing: true}
	}
	if tempKnown {
		n.Items[6] = NEWS2Item{Parameter: ParamTemperature, Value: float64(tempTenths) / 10, Points: news2Temperature(tempTenths)}
	} else {
		n.Items[6] = NEWS2Item{Parameter: ParamTemperature, Points: maxPointsTemperature, Missing: true}
	}

	n.Complete = true
	for _, it := range n.Items {
		n.Aggregate += it.Points
		if it.Missing {
			n.Complete = false
		} else {
			n.MeasuredAggregate += it.Points
		}
		if it.Points == 3 {
			n.SingleParameterScore3 = true
		}
	}
	n.Risk, n.Response, n.ReassessMinutes, n.Continuous = news2Response(n.Aggregate, n.SingleParameterScore3)
	if in.Flags.Pregnant {
		n.Caveat = caveatPregnancy
	}
	return n
}

func numericItem(name string, v *int, maxPoints int, score func(int) int) NEWS2Item {
	if v == nil {
		return NEWS2Item{Parameter: name, Points: maxPoints, Missing: true}
	}
	return NEWS2Item{Parameter: name, Value: float64(*v), Points: score(*v)}
}

// news2Response maps the aggregate to the risk band and clinical response (triage-rules.md §2).
// Observation intervals: the most frequent end of each range ("every 4-6 h" -> 4 h).
func news2Response(aggregate int, single3 bool) (risk NEWS2Risk, response string, minutes int, continuous bool) {
	switch {
	case aggregate >= 7: // triage-rules.md §2: >= 7 high; continuous monitoring, emergency response
		return RiskHigh, responseScore7, 0, true
	case aggregate >= 5: // triage-rules.md §2: 5-6 medium; hourly, urgent clinical review
		return RiskMedium, responseScore5, 60, false
	case single3: // triage-rules.md §2: any single parameter 3 -> low-medium; hourly, inform the medical team
		return RiskLowMedium, responseSingle3, 60, false
	case aggregate >= 1: // triage-rules.md §2: 1-4 low; every 4-6 h
		return RiskLow, responseScore1to4, 4 * 60, false
	}
	return RiskLow, responseScore0, 12 * 60, false // triage-rules.md §2: 0 low; every 12 h
}
