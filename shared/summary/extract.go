package summary

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triagerecord"
)

// MaxTimeline bounds the recent encounters listed.
const MaxTimeline = 10

const dateLayout = "2006-01-02"

// vitalSign describes one vital sign of triage.Vitals and the NEWS2 parameter scoring
// it ("" when NEWS2 does not score it).
type vitalSign struct {
	name, unit, news2 string
	value             func(v triage.Vitals) (float64, bool)
}

func intValue(p func(v triage.Vitals) *int) func(v triage.Vitals) (float64, bool) {
	return func(v triage.Vitals) (float64, bool) {
		if x := p(v); x != nil {
			return float64(*x), true
		}
		return 0, false
	}
}

var vitalSigns = []vitalSign{
	{"heartRate", "/min", triage.ParamPulse, intValue(func(v triage.Vitals) *int { return v.HeartRate })},
	{"respiratoryRate", "/min", triage.ParamRespiratoryRate, intValue(func(v triage.Vitals) *int { return v.RespiratoryRate })},
	{"systolicBP", "mmHg", triage.ParamSystolicBP, intValue(func(v triage.Vitals) *int { return v.SystolicBP })},
	{"diastolicBP", "mmHg", "", intValue(func(v triage.Vitals) *int { return v.DiastolicBP })},
	{"spo2", "%", triage.ParamSpO2, intValue(func(v triage.Vitals) *int { return v.SpO2 })},
	{"temperatureC", "°C", triage.ParamTemperature, func(v triage.Vitals) (float64, bool) {
		if v.TemperatureC != nil {
			return *v.TemperatureC, true
		}
		return 0, false
	}},
}

// Extract takes the facts from src. now is the date ages are computed at. The result
// depends only on src and now's date; every entry cites its sources.
func Extract(src Sources, now time.Time) Facts {
	p := src.Patient
	pid := PatientSourceID(p.ID)
	f := Facts{
		Problems:    make([]Item, 0, len(p.Problems)),
		Medications: make([]Item, 0, len(p.Medications)),
		Allergies:   make([]Item, 0, len(p.Allergies)),
		Encounters:  []EncounterItem{},
		Vitals:      []VitalTrend{},
		OpenItems:   []Item{},
	}
	for _, pr := range p.Problems {
		t := pr.Description
		if pr.Code != "" {
			t += " (" + pr.Code + ")"
		}
		if pr.Onset != "" {
			t += ", since " + pr.Onset
		}
		f.Problems = append(f.Problems, Item{Text: t, Sources: []string{pid}})
	}
	for _, m := range p.Medications {
		t := strings.Join(nonEmpty(m.Name, m.Dose, m.Route, m.Frequency), " ")
		f.Medications = append(f.Medications, Item{Text: t, Sources: []string{pid}})
	}
	for _, a := range p.Allergies {
		t := a.Substance
		if d := strings.Join(nonEmpty(a.Reaction, string(a.Severity)), ", "); d != "" {
			t += " (" + d + ")"
		}
		f.Allergies = append(f.Allergies, Item{Text: t, Sources: []string{pid}})
	}
	for i, es := range src.Encounters {
		if i == MaxTimeline {
			break
		}
		f.Encounters = append(f.Encounters, timelineEntry(es))
	}
	f.Vitals = vitalTrends(src.Encounters)
	for _, ns := range src.Notes {
		id := NoteSourceID(ns.Note.ID, ns.Version.Number)
		for _, s := range ns.Version.Content.Plan {
			if t := strings.TrimSpace(s.Text); t != "" {
				f.OpenItems = append(f.OpenItems, Item{Text: t, Sources: []string{id}})
			}
		}
	}
	f.Synopsis = synopsis(p, src, now)
	return f
}

func nonEmpty(ss ...string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func synopsis(p patient.Patient, src Sources, now time.Time) Item {
	var parts []string
	who := string(p.Sex)
	if age, ok := ageYears(p.BirthDate, now); ok {
		who = strconv.Itoa(age) + "-year-old " + who
	}
	parts = append(parts, strings.TrimSpace(who)+" patient")
	if len(p.Problems) > 0 {
		names := make([]string, len(p.Problems))
		for i, pr := range p.Problems {
			names[i] = pr.Description
		}
		parts = append(parts, plural(len(p.Problems), "active problem", "active problems")+" ("+strings.Join(names, ", ")+")")
	} else {
		parts = append(parts, "no active problems recorded")
	}
	parts = append(parts, plural(len(p.Medications), "medication", "medications"))
	if len(p.Allergies) > 0 {
		names := make([]string, len(p.Allergies))
		for i, a := range p.Allergies {
			names[i] = a.Substance
		}
		parts = append(parts, "allergies: "+strings.Join(names, ", "))
	} else {
		parts = append(parts, "no allergies recorded")
	}
	sources := []string{PatientSourceID(p.ID)}
	if len(src.Encounters) > 0 {
		last := src.Encounters[0].Encounter
		parts = append(parts, "last encounter "+last.ArrivedAt.UTC().Format(dateLayout)+" ("+strings.TrimSpace(last.ChiefComplaint)+")")
		sources = append(sources, EncounterSourceID(last.ID))
	}
	return Item{Text: strings.Join(parts, "; ") + ".", Sources: sources}
}

// ageYears is the age in whole years on now's date of a YYYY-MM-DD birth date.
func ageYears(birth string, now time.Time) (int, bool) {
	b, err := time.Parse(dateLayout, birth)
	if err != nil {
		return 0, false
	}
	now = now.UTC()
	age := now.Year() - b.Year()
	if now.Month() < b.Month() || (now.Month() == b.Month() && now.Day() < b.Day()) {
		age--
	}
	return age, age >= 0
}

func timelineEntry(es EncounterSource) EncounterItem {
	e := es.Encounter
	it := EncounterItem{
		EncounterID: e.ID, ArrivedAt: e.ArrivedAt.UTC(), Status: string(e.Status),
		ChiefComplaint: strings.TrimSpace(e.ChiefComplaint),
		Sources:        []string{EncounterSourceID(e.ID)},
	}
	parts := []string{it.ArrivedAt.Format(dateLayout), it.ChiefComplaint}
	if e.Triage != nil && e.Triage.Level > 0 {
		it.TriageLevel = e.Triage.Level
		parts = append(parts, "triage level "+strconv.Itoa(e.Triage.Level))
		for _, a := range es.Assessments {
			if a.ID == e.Triage.AssessmentID {
				it.Sources = append(it.Sources, AssessmentSourceID(e.ID, a.ID))
			}
		}
	}
	parts = append(parts, strings.ReplaceAll(it.Status, "_", " "))
	it.Text = strings.Join(nonEmpty(parts...), "; ")
	return it
}

// observedInput decodes the input a nurse recorded with an assessment.
func observedInput(r triagerecord.Record) (triage.Input, bool) {
	b, err := json.Marshal(r.Input)
	if err != nil {
		return triage.Input{}, false
	}
	var in triage.Input
	if err := json.Unmarshal(b, &in); err != nil {
		return triage.Input{}, false
	}
	return in, true
}

// news2Points scores in with the triage engine and returns the points of each NEWS2
// parameter, or nil when NEWS2 does not apply (patients under 16). The zero band is
// whatever the engine gives 0 points: no thresholds are repeated here.
func news2Points(in triage.Input) map[string]int {
	if len(triage.Validate(in)) > 0 {
		return nil
	}
	n := triage.Assess(in).NEWS2
	if !n.Applicable {
		return nil
	}
	pts := make(map[string]int, len(n.Items))
	for _, it := range n.Items {
		if !it.Missing {
			pts[it.Parameter] = it.Points
		}
	}
	return pts
}

func vitalTrends(encs []EncounterSource) []VitalTrend {
	series := make([][]Observation, len(vitalSigns))
	// Oldest first, so that First and Last read in time order.
	for i := len(encs) - 1; i >= 0; i-- {
		es := encs[i]
		for _, a := range es.Assessments {
			in, ok := observedInput(a)
			if !ok {
				continue
			}
			pts := news2Points(in)
			for k, vs := range vitalSigns {
				v, ok := vs.value(in.Vitals)
				if !ok {
					continue
				}
				o := Observation{Value: v, At: a.AssessedAt.UTC(), Source: AssessmentSourceID(es.Encounter.ID, a.ID)}
				if p, ok := pts[vs.news2]; ok && vs.news2 != "" {
					o.NEWS2Points = &p
				}
				series[k] = append(series[k], o)
			}
		}
	}
	out := []VitalTrend{}
	for k, obs := range series {
		if len(obs) == 0 {
			continue
		}
		slices.SortStableFunc(obs, func(a, b Observation) int { return a.At.Compare(b.At) })
		vs := vitalSigns[k]
		t := VitalTrend{Sign: vs.name, Unit: vs.unit, Count: len(obs), First: obs[0], Last: obs[len(obs)-1],
			Min: obs[0], Max: obs[0], Flagged: []Observation{}}
		seen := map[string]bool{}
		for _, o := range obs {
			if o.Value < t.Min.Value {
				t.Min = o
			}
			if o.Value > t.Max.Value {
				t.Max = o
			}
			if o.NEWS2Points != nil && *o.NEWS2Points > 0 {
				t.Flagged = append(t.Flagged, o)
			}
			if !seen[o.Source] {
				seen[o.Source] = true
				t.Sources = append(t.Sources, o.Source)
			}
		}
		t.Text = trendText(t)
		out = append(out, t)
	}
	return out
}

func formatValue(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func trendText(t VitalTrend) string {
	obs := func(o Observation) string {
		return formatValue(o.Value) + " " + t.Unit + " (" + o.At.Format(dateLayout) + ")"
	}
	s := fmt.Sprintf("%s: %s", t.Sign, obs(t.Last))
	if t.Count > 1 {
		s = fmt.Sprintf("%s: first %s, last %s, min %s, max %s", t.Sign, obs(t.First), obs(t.Last), obs(t.Min), obs(t.Max))
	}
	if n := len(t.Flagged); n > 0 {
		s += "; " + plural(n, "value", "values") + " outside the NEWS2 zero band"
	}
	return s
}
