package queue

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/encounter"
)

func intp(i int) *int { return &i }

func TestBuildBoard(t *testing.T) {
	t.Parallel()
	seen := waiting("seen", 3, 90)
	seen.Seen = true
	s := Snapshot{
		Now:            testNow,
		DoctorsOnDuty:  2,
		Queue:          []Waiting{waiting("l4", 4, 61.5), waiting("untriaged", 0, 3), waiting("l2", 2, 4), seen},
		InConsultation: []Consultation{{EncounterID: "k", Level: 3, StartedAt: testNow.Add(-5 * time.Minute)}},
		Service:        fixedService(20 * time.Minute),
		Mix:            PriorLevelMix,
	}
	s.Service.Samples[3] = 7
	b := BuildBoard("clinic-a", s, Estimator{Runs: 60})

	want := []Entry{
		{EncounterID: "l2", PatientID: "p-l2", Position: 1, Level: intp(2), Status: encounter.StatusTriaged,
			ArrivedAt: testNow.Add(-4 * time.Minute), WaitedMinutes: 4, TargetMinutes: 15},
		{EncounterID: "untriaged", PatientID: "p-untriaged", Position: 2, Level: nil, Status: encounter.StatusWaiting,
			ArrivedAt: testNow.Add(-3 * time.Minute), WaitedMinutes: 3, TargetMinutes: 15},
		{EncounterID: "l4", PatientID: "p-l4", Position: 3, Level: intp(4), Status: encounter.StatusTriaged,
			ArrivedAt: testNow.Add(-61*time.Minute - 30*time.Second), WaitedMinutes: 61, TargetMinutes: 60, OverTarget: true},
		{EncounterID: "seen", PatientID: "p-seen", Position: 4, Level: intp(3), Status: encounter.StatusTriaged,
			ArrivedAt: testNow.Add(-90 * time.Minute), WaitedMinutes: 90, TargetMinutes: 30, Seen: true},
	}
	// Estimates are checked by the estimator's tests; here only that every entry has one.
	for i, e := range b.Entries {
		if e.WaitEstimate == nil {
			t.Errorf("entry %d (%s) has no wait estimate", i, e.EncounterID)
		}
		b.Entries[i].WaitEstimate = nil
	}
	if diff := cmp.Diff(want, b.Entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if b.ClinicID != "clinic-a" || !b.BuiltAt.Equal(testNow) || b.DoctorsOnDuty != 2 || b.InConsultation != 1 ||
		b.Version != 0 || b.Estimator != (EstimatorInfo{Version: EstimatorVersion, Runs: 60, EstimatedAt: testNow, LearnedFrom: 7}) {
		t.Errorf("board header = %+v", b)
	}
}

func TestBoardJSONHasNoPatientData(t *testing.T) {
	t.Parallel()
	s := Snapshot{Now: testNow, DoctorsOnDuty: 1, Queue: []Waiting{waiting("u", 0, 1)}, Service: PriorServiceModel(), Mix: PriorLevelMix}
	raw, err := json.Marshal(BuildBoard("c", s, Estimator{Runs: 20}))
	if err != nil {
		t.Fatal(err)
	}
	var generic struct {
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	e := generic.Entries[0]
	if v, ok := e["level"]; !ok || v != nil {
		t.Errorf("untriaged level = %v (present %v), want an explicit null", v, ok)
	}
	var keys []string
	for k := range e {
		keys = append(keys, k)
	}
	allowed := "encounterId patientId position level status arrivedAt waitedMinutes targetMinutes overTarget seen waitEstimate"
	for _, k := range keys {
		if !strings.Contains(" "+allowed+" ", " "+k+" ") {
			t.Errorf("board entry has field %q; boards carry ids, levels and times only", k)
		}
	}
}

func TestBuildBoardWithoutDoctorsAndTruncated(t *testing.T) {
	t.Parallel()
	s := Snapshot{Now: testNow, DoctorsOnDuty: 0, Service: PriorServiceModel(), Mix: PriorLevelMix}
	for i := range MaxBoardEntries + 3 {
		s.Queue = append(s.Queue, waiting(fmt.Sprintf("q%04d", i), 4, float64(i%50)))
	}
	b := BuildBoard("c", s, Estimator{})
	if len(b.Entries) != MaxBoardEntries || b.Omitted != 3 {
		t.Errorf("%d entries, %d omitted; want %d and 3", len(b.Entries), b.Omitted, MaxBoardEntries)
	}
	for _, e := range b.Entries {
		if e.WaitEstimate != nil {
			t.Fatalf("no doctor on duty, yet %s has an estimate", e.EncounterID)
		}
	}
	if empty := BuildBoard("c", Snapshot{Now: testNow, DoctorsOnDuty: 1}, Estimator{}); empty.Entries == nil {
		t.Error("an empty board has nil entries (JSON null) instead of []")
	}
}

func TestSetEstimatesCarriesEarlierEstimates(t *testing.T) {
	t.Parallel()
	s := Snapshot{Now: testNow, DoctorsOnDuty: 1, Queue: []Waiting{waiting("old", 4, 10), waiting("new", 4, 1)},
		Service: PriorServiceModel(), Mix: PriorLevelMix}
	b, _ := orderBoard("c", s)
	made := testNow.Add(-2*time.Minute - 10*time.Second)
	SetEstimates(&b, Estimates{ByEncounter: map[string]WaitEstimate{"old": {P50Minutes: 5, P90Minutes: 30}}, At: made, Runs: 9})
	// Two whole minutes have passed since the estimates were made: counted from BuiltAt.
	if e := b.Entries[0].WaitEstimate; b.Entries[0].EncounterID != "old" || e == nil || *e != (WaitEstimate{P50Minutes: 3, P90Minutes: 28}) {
		t.Errorf("carried estimate of the earlier patient = %+v", e)
	}
	// A patient the estimates do not know yet has none (null), not a made-up one.
	if e := b.Entries[1].WaitEstimate; e != nil {
		t.Errorf("patient newer than the estimates has estimate %+v, want none", e)
	}
	if b.Estimator.EstimatedAt != made || b.Estimator.Runs != 9 {
		t.Errorf("estimator info %+v", b.Estimator)
	}
	SetEstimates(&b, Estimates{ByEncounter: map[string]WaitEstimate{"old": {P50Minutes: 1, P90Minutes: 2}}, At: made})
	if e := b.Entries[0].WaitEstimate; *e != (WaitEstimate{}) {
		t.Errorf("estimate older than itself = %+v, want 0/0", e)
	}
}
