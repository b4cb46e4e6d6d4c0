package queue

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/triage"
)

func TestPriorServiceModelMatchesDocumentedMeans(t *testing.T) {
	t.Parallel()
	m := PriorServiceModel()
	for l, want := range map[int]float64{1: 45, 2: 21.6, 3: 22.5, 4: 19.7, 5: 17.4} {
		if got := m.Levels[l].Mean(); math.Abs(got-want) > 1e-9 {
			t.Errorf("level %d prior mean %.3f, want %.1f", l, got, want)
		}
		if m.Levels[l].Sigma != PriorSigma || m.Samples[l] != 0 {
			t.Errorf("level %d prior = %+v, %d samples", l, m.Levels[l], m.Samples[l])
		}
	}
}

func TestLearnServiceModel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	truth := LogNormal{Mu: math.Log(40), Sigma: 0.3} // level 3 takes longer than its prior
	var samples []ServiceSample
	for range 2000 {
		samples = append(samples, ServiceSample{Level: 3, Duration: minutes(truth.Quantile(openUnit(rng.Uint64())))})
	}
	// Ignored: no level, too short, too long.
	samples = append(samples,
		ServiceSample{Level: 0, Duration: time.Hour},
		ServiceSample{Level: 4, Duration: 10 * time.Second},
		ServiceSample{Level: 4, Duration: 9 * time.Hour})

	m := LearnServiceModel(samples)
	got := m.Levels[3]
	if math.Abs(got.Mu-truth.Mu) > 0.02 || math.Abs(got.Sigma-truth.Sigma) > 0.03 {
		t.Errorf("level 3 learned %+v from 2000 samples of %+v", got, truth)
	}
	if m.Samples[3] != 2000 || m.Samples[4] != 0 {
		t.Errorf("samples counted %v, want 2000 for level 3 and none for level 4", m.Samples)
	}
	if diff := cmp.Diff(PriorServiceModel().Levels[4], m.Levels[4]); diff != "" {
		t.Errorf("level 4 without valid samples moved off its prior:\n%s", diff)
	}

	// A handful of samples only moves the prior part of the way.
	few := LearnServiceModel(samples[:5])
	prior := PriorServiceModel().Levels[3]
	if !(few.Levels[3].Mu > prior.Mu && few.Levels[3].Mu < truth.Mu) {
		t.Errorf("5 samples: mu %.3f, want between prior %.3f and truth %.3f", few.Levels[3].Mu, prior.Mu, truth.Mu)
	}
}

func TestLogNormal(t *testing.T) {
	t.Parallel()
	d := LogNormal{Mu: math.Log(20), Sigma: 0.5}
	if got := d.Quantile(0.5); math.Abs(got-20) > 1e-9 {
		t.Errorf("median %.4f, want 20", got)
	}
	for _, p := range []float64{0.01, 0.3, 0.9, 0.999} {
		if got := d.CDF(d.Quantile(p)); math.Abs(got-p) > 1e-9 {
			t.Errorf("CDF(Quantile(%v)) = %v", p, got)
		}
	}
	if d.CDF(0) != 0 || d.CDF(-3) != 0 {
		t.Error("CDF of a non-positive duration is not 0")
	}
	// The remaining time of a consultation that has lasted long is never negative and
	// is capped.
	for _, u := range []float64{1e-9, 0.5, 1 - 1e-15} {
		r := residual(d, 500, u, 60)
		if r < 0 || r > 60 {
			t.Errorf("residual(u=%v) = %v outside [0, 60]", u, r)
		}
	}
}

func TestLevelMix(t *testing.T) {
	t.Parallel()
	normalised := PriorLevelMix
	for l := 1; l <= 5; l++ {
		normalised[l] /= 0.999
	}
	if diff := cmp.Diff(normalised, LearnLevelMix([6]int{}), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("no history: mix differs from the prior:\n%s", diff)
	}
	m := LearnLevelMix([6]int{1: 0, 2: 0, 3: 0, 4: 1000, 5: 0})
	var sum float64
	for l := 1; l <= 5; l++ {
		sum += m[l]
	}
	if math.Abs(sum-1) > 1e-12 || m[4] < 0.95 {
		t.Errorf("mix %v: want it to sum to 1 and be dominated by level 4", m)
	}
	// Sampling follows the mix.
	counts := [6]int{}
	for i := range 10000 {
		counts[PriorLevelMix.sample((float64(i)+0.5)/10000)]++
	}
	for l := 1; l <= 5; l++ {
		if got, want := float64(counts[l])/10000, PriorLevelMix[l]; math.Abs(got-want) > 0.001 {
			t.Errorf("level %d sampled %.4f of the time, want %.4f", l, got, want)
		}
	}
}

// dayOfArrivals returns n arrivals per hour from 08:00 to 20:00 on each of days before
// the day of now, plus today's arrivals up to now.
func dayOfArrivals(now time.Time, days, perHour int) []Arrival {
	var out []Arrival
	midnight := now.Truncate(24 * time.Hour)
	for d := -days; d <= 0; d++ {
		for h := 8; h < 20; h++ {
			for k := range perHour {
				at := midnight.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour + time.Duration(k*60/perHour)*time.Minute + time.Minute)
				if at.After(now) {
					continue
				}
				out = append(out, Arrival{EncounterID: fmt.Sprintf("e-%s", at.Format(time.RFC3339)), ArrivedAt: at, Level: 3})
			}
		}
	}
	return out
}

func TestForecastArrivals(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 10, 10, 0, 0, 0, time.UTC)
	approx := cmpopts.EquateApprox(0, 1e-9)

	if got := ForecastArrivals(nil, now, time.UTC); len(got) != ForecastHours || got[0] != 0 {
		t.Errorf("no history: %v, want %d zero hours", got, ForecastHours)
	}

	// A new clinic (today only): the last two hours' rate, for two hours.
	today := dayOfArrivals(now, 0, 3) // 6 arrivals 08:00-10:00
	got := ForecastArrivals(today, now, time.UTC)
	want := make([]float64, ForecastHours)
	want[0], want[1] = 3, 3
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("new clinic (-want +got):\n%s", diff)
	}

	// With three days of history at 3 per hour, 08:00-20:00: 3 per hour until 20:00
	// (hours 0..9 ahead), nothing after (the clinic closes).
	hist := dayOfArrivals(now, 3, 3)
	got = ForecastArrivals(hist, now, time.UTC)
	for i := range want {
		want[i] = 0
		if i < 10 {
			want[i] = 3
		}
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("steady clinic (-want +got):\n%s", diff)
	}

	// Duplicates (the same encounter from history and from the open queue) count once.
	if diff := cmp.Diff(got, ForecastArrivals(append(hist, hist[len(hist)-4:]...), now, time.UTC), approx); diff != "" {
		t.Errorf("duplicated arrivals changed the forecast:\n%s", diff)
	}

	// A busier morning than usual scales the forecast up, by at most a factor 2.
	busy := append([]Arrival(nil), hist...)
	for i := range 12 {
		busy = append(busy, Arrival{EncounterID: fmt.Sprintf("x%d", i), ArrivedAt: now.Add(-time.Duration(i*10+1) * time.Minute)})
	}
	if got := ForecastArrivals(busy, now, time.UTC); !(got[0] > 3 && got[0] <= 6) || got[11] != 0 {
		t.Errorf("busy morning forecast %v: want the first hour between 3 and 6 and closed hours still 0", got)
	}

	// Hours of the day follow the clinic's time zone.
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	shifted := ForecastArrivals(hist, now, tokyo)
	if diff := cmp.Diff(got, shifted, approx); diff == "" {
		t.Error("the forecast ignores the clinic's time zone")
	}
}

func TestHistoryFromEncounters(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return testNow.Add(time.Duration(m) * time.Minute) }
	encs := []encounter.Encounter{
		{ID: "done", Status: encounter.StatusCompleted, ArrivedAt: at(-120), Triage: &encounter.Triage{Level: 3},
			StatusTimes: map[string]time.Time{"triaged": at(-100), "in_consultation": at(-60), "completed": at(-35)}},
		{ID: "no-times", Status: encounter.StatusCompleted, ArrivedAt: at(-100), Triage: &encounter.Triage{Level: 4}},
		{ID: "open", Status: encounter.StatusWaiting, ArrivedAt: at(-5)},
	}
	h := LearnHistory(encs)
	if h.Service.Samples[3] != 1 || h.Service.Samples[4] != 0 {
		t.Errorf("learned from %v, want one level-3 consultation", h.Service.Samples)
	}
	if len(h.Arrivals) != 3 {
		t.Errorf("arrivals %v, want all three encounters", h.Arrivals)
	}
	if sm, ok := ServiceSampleFrom(encs[0]); !ok || sm != (ServiceSample{Level: 3, Duration: 25 * time.Minute}) {
		t.Errorf("ServiceSampleFrom = %+v, %v", sm, ok)
	}

	// Conversions for the queue.
	tri := encounter.Encounter{ID: "t", PatientID: "p", Status: encounter.StatusTriaged, ArrivedAt: at(-10),
		Triage: &encounter.Triage{Level: 2}, StatusTimes: map[string]time.Time{"in_consultation": at(-5)}}
	if got, want := WaitingFrom(tri), (Waiting{EncounterID: "t", PatientID: "p", Status: encounter.StatusTriaged,
		Level: 2, ArrivedAt: at(-10), Seen: true}); got != want {
		t.Errorf("WaitingFrom = %+v, want %+v", got, want)
	}
	proposed := encounter.Encounter{ID: "w", Status: encounter.StatusWaiting, Triage: &encounter.Triage{Level: 2}}
	if got := WaitingFrom(proposed).Level; got != 0 {
		t.Errorf("a waiting encounter with a proposed level sorts as level %d, want untriaged", got)
	}
	badLevel := encounter.Encounter{ID: "b", Status: encounter.StatusTriaged, Triage: &encounter.Triage{Level: 9}}
	if got := WaitingFrom(badLevel).Level; got != 0 {
		t.Errorf("an invalid level is kept as %d", got)
	}
	inc := encounter.Encounter{ID: "c", Status: encounter.StatusInConsultation, ArrivedAt: at(-30), Triage: &encounter.Triage{Level: 5},
		StatusTimes: map[string]time.Time{"in_consultation": at(-3)}}
	if got, want := ConsultationFrom(inc), (Consultation{EncounterID: "c", Level: triage.Level5, ArrivedAt: at(-30), StartedAt: at(-3)}); got != want {
		t.Errorf("ConsultationFrom = %+v, want %+v", got, want)
	}
}

func TestLearnTriageDelay(t *testing.T) {
	t.Parallel()
	if got := LearnTriageDelay(nil); got != PriorTriageDelay {
		t.Errorf("no data: %+v, want the prior", got)
	}
	var ds []time.Duration
	for range 1000 {
		ds = append(ds, 3*time.Minute)
	}
	ds = append(ds, -time.Minute, 5*time.Hour) // ignored
	if got := LearnTriageDelay(ds).Quantile(0.5); math.Abs(got-3) > 0.2 {
		t.Errorf("median after 1000 three-minute triages: %.2f", got)
	}
	// Triage at the door (0) is kept as 30 seconds, not dropped.
	if got := LearnTriageDelay(make([]time.Duration, 1000)).Quantile(0.5); math.Abs(got-0.5) > 0.1 {
		t.Errorf("median after 1000 immediate triages: %.2f", got)
	}
}
