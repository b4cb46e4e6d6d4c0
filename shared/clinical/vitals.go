package clinical

import (
	"math"
	"strings"

	"github.com/medi-os/medi/shared/transcript"
)

// vitalCue is a phrase naming a vital sign.
type vitalCue struct {
	phrase, kind string
}

// vitalCues in the order they are tried (longer phrases first).
var vitalCues = []vitalCue{
	{"blood pressure", VitalBloodPressure}, {"bp", VitalBloodPressure}, {"pressure", VitalBloodPressure},
	{"heart rate", VitalHeartRate}, {"pulse rate", VitalHeartRate}, {"pulse ox", VitalSpO2}, {"pulse oximetry", VitalSpO2}, {"pulse", VitalHeartRate}, {"hr", VitalHeartRate},
	{"respiratory rate", VitalRespRate}, {"respiration rate", VitalRespRate}, {"respirations", VitalRespRate}, {"breathing rate", VitalRespRate}, {"rr", VitalRespRate},
	{"oxygen saturation", VitalSpO2}, {"o2 saturation", VitalSpO2}, {"o2 sat", VitalSpO2}, {"oxygen level", VitalSpO2}, {"oxygen levels", VitalSpO2},
	{"sats", VitalSpO2}, {"saturation", VitalSpO2}, {"saturating", VitalSpO2}, {"satting", VitalSpO2}, {"sating", VitalSpO2}, {"oxygenation", VitalSpO2}, {"spo2", VitalSpO2}, {"sat", VitalSpO2}, {"oxygen", VitalSpO2},
	{"temperature", VitalTemperature}, {"temp", VitalTemperature}, {"fever of", VitalTemperature}, {"febrile to", VitalTemperature}, {"fever", VitalTemperature},
	{"weight", VitalWeight}, {"weigh", VitalWeight}, {"weighs", VitalWeight}, {"weighed", VitalWeight},
}

// vitalsIn reads vital signs from a sentence: a cue phrase followed, within eight tokens
// and before the next cue, by a number in the sign's plausible range. A question or a
// sentence about a home reading at another time is read too (the note says what was
// said); values outside the ranges are left out.
func vitalsIn(s transcript.Sentence) []Vital {
	ts := s.Tokens
	type hit struct {
		at, end int
		kind    string
	}
	var hits []hit
	bare := make([]transcript.Token, len(ts)) // "pressure's" is "pressure"
	for i, t := range ts {
		t.Norm = strings.TrimSuffix(t.Norm, "'s")
		bare[i] = t
	}
	for i := 0; i < len(ts); i++ {
		for _, c := range vitalCues {
			if phraseAt(bare, c.phrase, i) {
				n := len(phraseWords(c.phrase))
				hits = append(hits, hit{i, i + n, c.kind})
				i += n - 1
				break
			}
		}
	}
	nums := Numbers(ts)
	var out []Vital
	used := map[int]bool{}
	for h, c := range hits {
		limit := min(len(ts), c.end+8)
		if h+1 < len(hits) {
			limit = min(limit, hits[h+1].at)
		}
		for ni, n := range nums {
			if used[ni] || n.Start < c.end || n.Start >= limit {
				continue
			}
			if v, ok := readVital(c.kind, n, ts); ok {
				v.Evidence = []transcript.Span{s.Span()}
				out = append(out, v)
				used[ni] = true
				break
			}
		}
	}
	// "180 over 95" said without naming it is a blood pressure.
	for ni, n := range nums {
		if used[ni] || !n.HasSecond || n.Start+1 >= len(ts) || n.End-n.Start < 2 && !strings.Contains(ts[n.Start].Norm, "/") {
			continue
		}
		if strings.Contains(ts[n.Start].Norm, "/") {
			continue // "3/6", "5/5": grades, not pressures, unless named
		}
		if v, ok := readVital(VitalBloodPressure, n, ts); ok && v.Value >= 80 {
			v.Evidence = []transcript.Span{s.Span()}
			out = append(out, v)
		}
	}
	return out
}

// readVital checks a number against the plausible range of kind and gives its unit.
func readVital(kind string, n Number, ts []transcript.Token) (Vital, bool) {
	next := ""
	if n.End < len(ts) {
		next = ts[n.End].Norm
		if next == "degrees" && n.End+1 < len(ts) {
			next = ts[n.End+1].Norm
		}
	}
	v := Vital{Kind: kind, Value: n.Value}
	switch kind {
	case VitalBloodPressure:
		if !n.HasSecond || n.Value < 60 || n.Value > 260 || n.Second < 30 || n.Second > 160 || n.Second >= n.Value {
			return Vital{}, false
		}
		v.Value2, v.Unit = n.Second, "mmHg"
	case VitalTemperature:
		switch {
		case next == "fahrenheit" || next == "f":
			v.Unit = "°F"
		case next == "celsius" || next == "c" || next == "centigrade":
			v.Unit = "°C"
		case n.Value >= 93 && n.Value <= 108:
			v.Unit, v.UnitInferred = "°F", true
		case n.Value >= 34 && n.Value <= 42.5:
			v.Unit, v.UnitInferred = "°C", true
		default:
			return Vital{}, false
		}
		if v.Unit == "°F" && (n.Value < 93 || n.Value > 108) || v.Unit == "°C" && (n.Value < 34 || n.Value > 42.5) {
			return Vital{}, false
		}
	case VitalHeartRate:
		if n.HasSecond || n.Value < 25 || n.Value > 250 {
			return Vital{}, false
		}
		v.Unit = "bpm"
	case VitalRespRate:
		if n.HasSecond || n.Value < 4 || n.Value > 60 {
			return Vital{}, false
		}
		v.Unit = "breaths/min"
	case VitalSpO2:
		if n.HasSecond || n.Value < 50 || n.Value > 100 {
			return Vital{}, false
		}
		v.Unit = "%"
	case VitalWeight:
		switch next {
		case "pounds", "pound", "lbs", "lb":
			v.Unit = "lb"
		case "kilograms", "kilogram", "kilos", "kg", "kgs":
			v.Unit = "kg"
		default:
			return Vital{}, false
		}
		if v.Unit == "lb" && (n.Value < 2 || n.Value > 1000) || v.Unit == "kg" && (n.Value < 1 || n.Value > 450) {
			return Vital{}, false
		}
	default:
		return Vital{}, false
	}
	return v, true
}

// Celsius converts a temperature to °C (rounded to 0.1).
func (v Vital) Celsius() float64 {
	if v.Unit == "°C" {
		return v.Value
	}
	return math.Round((v.Value-32)*5/9*10) / 10
}

// Fahrenheit converts a temperature to °F (rounded to 0.1).
func (v Vital) Fahrenheit() float64 {
	if v.Unit == "°F" {
		return v.Value
	}
	return math.Round((v.Value*9/5+32)*10) / 10
}

// mergeVitals keeps one reading per kind and value (the same reading said twice cites
// both places).
func mergeVitals(vs []Vital) []Vital {
	var out []Vital
	for _, v := range vs {
		dup := false
		for j := range out {
			if out[j].Kind == v.Kind && out[j].Value == v.Value && out[j].Value2 == v.Value2 {
				out[j].Evidence = appendSpans(out[j].Evidence, v.Evidence...)
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}
