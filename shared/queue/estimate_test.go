package queue

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/triage"
)

// fixedService is a model in which every consultation takes exactly d.
func fixedService(d time.Duration) ServiceModel {
	var m ServiceModel
	for l := 1; l <= 5; l++ {
		m.Levels[l] = LogNormal{Mu: math.Log(d.Minutes()), Sigma: 0}
	}
	return m
}

func TestEstimateDeterministicListSchedule(t *testing.T) {
	t.Parallel()
	// Two doctors, one 10 minutes into a 30-minute consultation; five level-5 patients
	// (far from their 120-minute target) whose consultations take exactly 30 minutes;
	// no arrivals. Doctor A is free at 0, doctor B at 20:
	//   a: 0 (A, to 30)   b: 20 (B, to 50)   c: 30 (A, to 60)   d: 50 (B, to 80)   e: 60
	s := Snapshot{
		Now:            testNow,
		DoctorsOnDuty:  2,
		InConsultation: []Consultation{{EncounterID: "k", Level: 3, StartedAt: testNow.Add(-10 * time.Minute)}},
		Service:        fixedService(30 * time.Minute),
		Mix:            PriorLevelMix,
	}
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		s.Queue = append(s.Queue, waiting(id, 5, float64(10-i)))
	}
	got := Estimator{Runs: 50}.Estimate(s)
	want := map[string]WaitEstimate{
		"a": {0, 0}, "b": {20, 20}, "c": {30, 30}, "d": {50, 50}, "e": {60, 60},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("estimates (-want +got):\n%s", diff)
	}
	one, ok := Estimator{Runs: 50}.EstimateFor(s, "d")
	if !ok || one != want["d"] {
		t.Errorf("EstimateFor(d) = %+v, %v; want %+v", one, ok, want["d"])
	}
	if _, ok := (Estimator{}).EstimateFor(s, "nobody"); ok {
		t.Error("EstimateFor of an encounter not in the queue: ok = true")
	}
}

func TestEstimateWithoutDoctors(t *testing.T) {
	t.Parallel()
	s := Snapshot{Now: testNow, DoctorsOnDuty: 0, Queue: []Waiting{waiting("a", 3, 1)}, Service: PriorServiceModel(), Mix: PriorLevelMix}
	if got := (Estimator{}).Estimate(s); got != nil {
		t.Errorf("no doctor on duty and nobody in consultation: estimates %v, want none", got)
	}
	// Somebody in consultation means a doctor is there, whatever the setting says.
	s.InConsultation = []Consultation{{EncounterID: "k", Level: 4, StartedAt: testNow.Add(-5 * time.Minute)}}
	if got := (Estimator{Runs: 50}).Estimate(s); len(got) != 1 || got["a"].P50Minutes <= 0 {
		t.Errorf("with a consultation in progress: estimates %v, want a positive wait for a", got)
	}
}

func TestEstimateFreeDoctorMeansNoWait(t *testing.T) {
	t.Parallel()
	s := Snapshot{Now: testNow, DoctorsOnDuty: 1, Queue: []Waiting{waiting("a", 4, 3)},
		Service: PriorServiceModel(), Mix: PriorLevelMix, ArrivalsPerHour: []float64{20, 20}}
	if got := (Estimator{}).Estimate(s)["a"]; got != (WaitEstimate{}) {
		t.Errorf("alone with a free doctor: %+v, want 0/0", got)
	}
}

func TestEstimateUntriagedWaitsForTriage(t *testing.T) {
	t.Parallel()
	s := Snapshot{Now: testNow, DoctorsOnDuty: 1, Queue: []Waiting{waiting("w", 0, 1)},
		Service: PriorServiceModel(), Mix: PriorLevelMix, TriageDelay: PriorTriageDelay}
	got := Estimator{}.Estimate(s)["w"]
	// Median remaining time to triage after 1 minute of a log-normal with median 8.
	want := int(math.Round(PriorTriageDelay.Quantile(PriorTriageDelay.CDF(1)+0.5*(1-PriorTriageDelay.CDF(1))) - 1))
	if got.P50Minutes < want-1 || got.P50Minutes > want+1 || got.P90Minutes <= got.P50Minutes {
		t.Errorf("untriaged with a free doctor: %+v, want P50 about %d (time to triage) and a wider P90", got, want)
	}
	s.Queue[0] = waiting("w", 4, 1)
	if got := (Estimator{}).Estimate(s)["w"]; got != (WaitEstimate{}) {
		t.Errorf("triaged with a free doctor: %+v, want 0/0", got)
	}
}

// randomSnapshot builds a clinic with random patients, consultations and arrivals.
func randomSnapshot(rng *rand.Rand) Snapshot {
	s := Snapshot{
		Now:           testNow,
		DoctorsOnDuty: 1 + rng.IntN(4),
		Service:       PriorServiceModel(),
		Mix:           PriorLevelMix,
	}
	if rng.IntN(2) == 0 {
		s.TriageDelay = PriorTriageDelay
	}
	for i := range rng.IntN(4) {
		s.InConsultation = append(s.InConsultation, Consultation{EncounterID: fmt.Sprintf("k%d", i),
			Level: triage.Level(rng.IntN(6)), StartedAt: testNow.Add(-time.Duration(rng.IntN(90)) * time.Minute)})
	}
	for i := range 1 + rng.IntN(12) {
		w := waiting(fmt.Sprintf("q%02d", i), triage.Level(rng.IntN(6)), float64(rng.IntN(150)))
		w.Seen = rng.IntN(8) == 0 && w.Triaged()
		s.Queue = append(s.Queue, w)
	}
	for range rng.IntN(6) {
		s.ArrivalsPerHour = append(s.ArrivalsPerHour, rng.Float64()*8)
	}
	return s
}

func TestEstimateProperties(t *testing.T) {
	t.Parallel()
	est := Estimator{Runs: 120}
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			s := randomSnapshot(rng)
			base := est.Estimate(s)
			if len(base) != len(s.Queue) {
				t.Fatalf("%d estimates for %d patients", len(base), len(s.Queue))
			}
			for id, e := range base {
				if e.P50Minutes < 0 || e.P90Minutes < e.P50Minutes {
					t.Errorf("%s: P50 %d, P90 %d; want 0 <= P50 <= P90", id, e.P50Minutes, e.P90Minutes)
				}
			}

			// Deterministic, and independent of the order of the input.
			again := s
			again.Queue = make([]Waiting, len(s.Queue))
			for i, w := range s.Queue {
				again.Queue[len(s.Queue)-1-i] = w
			}
			if diff := cmp.Diff(base, est.Estimate(again)); diff != "" {
				t.Errorf("same clinic, other input order: estimates differ (-first +second):\n%s", diff)
			}

			// More doctors never increase an estimate.
			more := s
			more.DoctorsOnDuty = s.Doctors() + 1 + rng.IntN(2)
			for id, e := range est.Estimate(more) {
				if b := base[id]; e.P50Minutes > b.P50Minutes || e.P90Minutes > b.P90Minutes {
					t.Errorf("%s: %d -> %d doctors raised the estimate %+v -> %+v", id, s.Doctors(), more.DoctorsOnDuty, b, e)
				}
			}

			// Another patient (anywhere in the queue) never decreases an estimate.
			extra := s
			extra.Queue = append(append([]Waiting(nil), s.Queue...),
				waiting("zz-extra", triage.Level(rng.IntN(6)), float64(rng.IntN(150))))
			after := est.Estimate(extra)
			for id, b := range base {
				if e := after[id]; e.P50Minutes < b.P50Minutes || e.P90Minutes < b.P90Minutes {
					t.Errorf("%s: one more patient lowered the estimate %+v -> %+v", id, b, e)
				}
			}

			// More arrivals expected never decrease an estimate either.
			busier := s
			busier.ArrivalsPerHour = append(append([]float64(nil), s.ArrivalsPerHour...), 6, 6)
			for id, e := range est.Estimate(busier) {
				if b := base[id]; e.P50Minutes < b.P50Minutes || e.P90Minutes < b.P90Minutes {
					t.Errorf("%s: more expected arrivals lowered the estimate %+v -> %+v", id, b, e)
				}
			}
		})
	}
}

func TestEstimateBoardPositionsAreMonotone(t *testing.T) {
	t.Parallel()
	// Patients of one level, all within target, no arrivals: who is further down the
	// board never waits less.
	s := Snapshot{Now: testNow, DoctorsOnDuty: 2, Service: PriorServiceModel(), Mix: PriorLevelMix}
	for i := range 8 {
		s.Queue = append(s.Queue, waiting(fmt.Sprintf("q%d", i), 4, float64(20-i)))
	}
	got := Estimator{}.Estimate(s)
	prev := WaitEstimate{}
	for _, w := range Order(s.Queue, testNow) {
		e := got[w.EncounterID]
		if e.P50Minutes < prev.P50Minutes || e.P90Minutes < prev.P90Minutes {
			t.Errorf("%s estimated %+v, less than the patient ahead (%+v)", w.EncounterID, e, prev)
		}
		prev = e
	}
	if prev.P50Minutes == 0 {
		t.Error("the last of 8 patients with 2 doctors is estimated no wait")
	}
}

func TestRunsForBoundsWork(t *testing.T) {
	t.Parallel()
	e := Estimator{}
	if got := e.RunsFor(10); got != DefaultRuns {
		t.Errorf("RunsFor(10) = %d, want %d", got, DefaultRuns)
	}
	if got := e.RunsFor(1000); got != minRuns {
		t.Errorf("RunsFor(1000) = %d, want the floor %d", got, minRuns)
	}
	if got := e.RunsFor(300); got*300*300 > maxWork || got < minRuns {
		t.Errorf("RunsFor(300) = %d, outside the budget", got)
	}
}
