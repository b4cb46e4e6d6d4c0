package summary

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func intp(v int) *int { return &v }

func TestExtract(t *testing.T) {
	t.Parallel()
	f := Extract(testSources(), now)

	if got, want := f.Synopsis, (Item{
		Text:    "60-year-old female patient; 1 active problem (Type 2 diabetes); 1 medication; allergies: penicillin; last encounter 2026-11-02 (cough).",
		Sources: []string{"patient/p1", "encounter/e2"},
	}); !cmp.Equal(got, want) {
		t.Errorf("synopsis diff (-got +want):\n%s", cmp.Diff(got, want))
	}
	lists := []struct {
		name string
		got  []Item
		want []Item
	}{
		{"problems", f.Problems, []Item{{Text: "Type 2 diabetes (E11), since 2019", Sources: []string{"patient/p1"}}}},
		{"medications", f.Medications, []Item{{Text: "metformin 500 mg oral twice daily", Sources: []string{"patient/p1"}}}},
		{"allergies", f.Allergies, []Item{{Text: "penicillin (rash, severe)", Sources: []string{"patient/p1"}}}},
		// The blank plan sentence is left out; the note's assessment is not an open item.
		{"open items", f.OpenItems, []Item{{Text: "Chest X-ray in 6 weeks.", Sources: []string{"note/n1/v2"}}}},
	}
	for _, l := range lists {
		if d := cmp.Diff(l.got, l.want); d != "" {
			t.Errorf("%s diff (-got +want):\n%s", l.name, d)
		}
	}
	wantTimeline := []EncounterItem{
		{EncounterID: "e2", ArrivedAt: day2, Status: "completed", ChiefComplaint: "cough", TriageLevel: 3,
			Text: "2026-11-02; cough; triage level 3; completed", Sources: []string{"encounter/e2", "assessment/e2/000001"}},
		{EncounterID: "e1", ArrivedAt: day1, Status: "completed", ChiefComplaint: "check-up", TriageLevel: 5,
			Text: "2026-10-01; check-up; triage level 5; completed", Sources: []string{"encounter/e1", "assessment/e1/000001"}},
	}
	if d := cmp.Diff(f.Encounters, wantTimeline); d != "" {
		t.Errorf("timeline diff (-got +want):\n%s", d)
	}
}

func TestExtractVitalTrends(t *testing.T) {
	t.Parallel()
	f := Extract(testSources(), now)
	byName := map[string]VitalTrend{}
	for _, v := range f.Vitals {
		byName[v.Sign] = v
	}
	old := Observation{Value: 72, At: day1, Source: "assessment/e1/000001", NEWS2Points: intp(0)}
	recent := Observation{Value: 125, At: day2, Source: "assessment/e2/000001", NEWS2Points: intp(2)}
	want := VitalTrend{Sign: "heartRate", Unit: "/min", Count: 2, First: old, Last: recent, Min: old, Max: recent,
		Flagged: []Observation{recent},
		Text:    "heartRate: first 72 /min (2026-10-01), last 125 /min (2026-11-02), min 72 /min (2026-10-01), max 125 /min (2026-11-02); 1 value outside the NEWS2 zero band",
		Sources: []string{"assessment/e1/000001", "assessment/e2/000001"}}
	if d := cmp.Diff(byName["heartRate"], want); d != "" {
		t.Errorf("heart rate trend diff (-got +want):\n%s", d)
	}
	tests := []struct {
		sign    string
		flagged int
		scored  bool
	}{
		{"respiratoryRate", 0, true},
		{"systolicBP", 0, true},
		{"diastolicBP", 0, false}, // not recorded in the test input
		{"spo2", 0, true},
		{"temperatureC", 1, true}, // 38.4 scores 1 point
	}
	for _, tt := range tests {
		v, ok := byName[tt.sign]
		if !tt.scored {
			if ok {
				t.Errorf("%s: trend present without observations", tt.sign)
			}
			continue
		}
		if got := len(v.Flagged); got != tt.flagged {
			t.Errorf("%s: %d flagged values, want %d", tt.sign, got, tt.flagged)
		}
	}
}

func TestExtractNoNEWS2ForChildren(t *testing.T) {
	t.Parallel()
	src := testSources()
	src.Encounters = src.Encounters[:1]
	in := vitalsInput(160, 40, 90, 91, 39)
	in["ageYears"] = 4
	src.Encounters[0].Assessments[0].Input = in
	for _, v := range Extract(src, now).Vitals {
		if len(v.Flagged) != 0 || v.Last.NEWS2Points != nil {
			t.Errorf("%s: NEWS2 points given for a 4-year-old: %+v", v.Sign, v.Last)
		}
	}
}

// Every item of every section cites at least one source that Citations lists.
func TestExtractEverythingCited(t *testing.T) {
	t.Parallel()
	src := testSources()
	f := Extract(src, now)
	known := map[string]bool{}
	for _, c := range Citations(src) {
		known[c.ID] = true
	}
	check := func(where string, ids []string) {
		if len(ids) == 0 {
			t.Errorf("%s cites nothing", where)
		}
		for _, id := range ids {
			if !known[id] {
				t.Errorf("%s cites %q, which is not a source", where, id)
			}
		}
	}
	check("synopsis", f.Synopsis.Sources)
	for _, l := range [][]Item{f.Problems, f.Medications, f.Allergies, f.OpenItems} {
		for _, it := range l {
			check(it.Text, it.Sources)
		}
	}
	for _, e := range f.Encounters {
		check(e.Text, e.Sources)
	}
	for _, v := range f.Vitals {
		check(v.Sign, v.Sources)
		for _, o := range append([]Observation{v.First, v.Last, v.Min, v.Max}, v.Flagged...) {
			check(v.Sign+" observation", []string{o.Source})
		}
	}
}

func TestSourceHash(t *testing.T) {
	t.Parallel()
	base := SourceHash(testSources())
	if got := SourceHash(testSources()); got != base {
		t.Fatalf("hash not stable: %s != %s", got, base)
	}
	changes := map[string]func(*Sources){
		"patient updated":   func(s *Sources) { s.Patient.Version++ },
		"encounter changed": func(s *Sources) { s.Encounters[0].Encounter.Version++ },
		"encounter removed": func(s *Sources) { s.Encounters = s.Encounters[:1] },
		"new note approved": func(s *Sources) {
			s.Notes = append(s.Notes, NoteSource{Note: s.Notes[0].Note, Version: s.Notes[0].Version})
			s.Notes[1].Note.ID = "n2"
		},
		"note amended":           func(s *Sources) { s.Notes[0].Version.Number = 3 },
		"assessment confirmed":   func(s *Sources) { s.Encounters[0].Assessments[0].Confirmations = make([]assessmentConfirmation, 1) },
		"encounter touched only": func(s *Sources) { s.Encounters[1].Encounter.UpdatedAt = now },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := testSources()
			change(&s)
			if SourceHash(s) == base {
				t.Errorf("hash unchanged after %s", name)
			}
		})
	}
}
