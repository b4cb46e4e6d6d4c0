package queue

// The estimator as first written (one list schedule per patient and run, over every
// patient and arrival, with time.Time ranks), kept as the reference that the faster
// schedule of estimate.go must agree with exactly (TestEstimateMatchesReference).

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/triage"
)

// refOvertaker is a patient (behind p now, or yet to arrive) who is served before p if
// they come to rank ahead of p before p starts.
type refOvertaker struct {
	at      float64
	service float64
}

type refJob struct {
	w        Waiting
	service  float64
	triaged  float64
	rankNow  rank
	overAt   float64
	overRank rank
}

func refDrawJob(s Snapshot, w Waiting, seed uint64, r int) refJob {
	j := refJob{overAt: math.Inf(1)}
	if !w.Triaged() {
		w.Level = s.Mix.sample(uniform(seed, r, w.EncounterID, saltLevel))
		if s.TriageDelay != (LogNormal{}) {
			j.triaged = residual(s.TriageDelay, w.Waited(s.Now).Minutes(), uniform(seed, r, w.EncounterID, saltTriage), residualCap)
		}
	}
	j.w = w
	j.service = s.Service.Levels[w.Level].Quantile(uniform(seed, r, w.EncounterID, saltService))
	j.rankNow = w.rankAt(s.Now)
	if t := w.overTargetAt(); !t.IsZero() && !w.OverTarget(s.Now) {
		j.overAt = t.Sub(s.Now).Minutes()
		j.overRank = w.rankAt(t.Add(time.Nanosecond))
	}
	return j
}

type refRun struct {
	now       time.Time
	jobs      []refJob
	order     []int
	residuals []float64
	arrivals  []arrival
	servers   []float64
	firstFree float64
	over      []refOvertaker
}

func (e Estimator) refEstimate(s Snapshot, targets []int) map[string]WaitEstimate {
	c := s.Doctors()
	if c < 1 {
		return nil
	}
	if len(s.Queue) == 0 {
		return map[string]WaitEstimate{}
	}
	if targets == nil {
		targets = make([]int, len(s.Queue))
		for i := range targets {
			targets[i] = i
		}
	}
	runs, seed := e.RunsFor(len(s.Queue)), e.seed()

	// The consultations in progress, in a fixed order.
	cons := slices.Clone(s.InConsultation)
	slices.SortFunc(cons, func(a, b Consultation) int { return cmp.Compare(a.EncounterID, b.EncounterID) })

	starts := make([][]float64, len(targets))
	for i := range starts {
		starts[i] = make([]float64, runs)
	}
	st := &refRun{
		now:       s.Now,
		jobs:      make([]refJob, len(s.Queue)),
		order:     make([]int, len(s.Queue)),
		residuals: make([]float64, len(cons)),
		servers:   make([]float64, c),
	}
	for r := 0; r < runs; r++ {
		// Draws for the patients waiting now.
		for i, w := range s.Queue {
			st.jobs[i] = refDrawJob(s, w, seed, r)
			st.order[i] = i
		}
		slices.SortFunc(st.order, func(a, b int) int { return compareRank(st.jobs[a].rankNow, st.jobs[b].rankNow) })

		// Remaining time of the consultations in progress.
		for i, k := range cons {
			level := k.Level
			if !level.Valid() {
				level = s.Mix.sample(uniform(seed, r, k.EncounterID, saltLevel))
			}
			elapsed := max(s.Now.Sub(k.StartedAt).Minutes(), 0)
			st.residuals[i] = residual(s.Service.Levels[level], elapsed, uniform(seed, r, k.EncounterID, saltResidual), residualCap)
		}
		st.arrivals = arrivals(s, seed, r)
		st.firstFree = firstFree(s, c, seed, r)

		for ti, pi := range targets {
			starts[ti][r] = st.start(pi)
		}
	}

	out := make(map[string]WaitEstimate, len(targets))
	for ti, pi := range targets {
		xs := starts[ti]
		slices.Sort(xs)
		out[s.Queue[pi].EncounterID] = WaitEstimate{
			P50Minutes: int(math.Round(nearestRank(xs, 0.5))),
			P90Minutes: int(math.Round(nearestRank(xs, 0.9))),
		}
	}
	return out
}

// drawJob is waiting patient w in run r: an untriaged patient's level drawn from the
// clinic's level mix (and when the triage comes, from the triage delay), the consultation's
// length drawn from its level's distribution, and when the patient goes over target (which
func (st *refRun) start(pi int) float64 {
	p := st.jobs[pi]
	upper := st.schedule(pi, func(t time.Time) rank { return p.w.rankAt(t) })
	if !math.IsInf(p.overAt, 1) {
		promoted := st.schedule(pi, func(time.Time) rank { return p.overRank })
		upper = min(upper, max(p.overAt+st.firstFree, promoted))
	}
	// Not before being triaged.
	return max(upper, p.triaged)
}

// schedule is the list schedule for patient pi whose rank at a moment is rankOf: the
// time from now at which a doctor is free for p after the consultations in progress,
// the patients ranking ahead of p now, and every overtaker that turns up before then.
func (st *refRun) schedule(pi int, rankOf func(time.Time) rank) float64 {
	for k := range st.servers {
		st.servers[k] = 0
	}
	for _, res := range st.residuals {
		assign(st.servers, res)
	}
	pNow := rankOf(st.now)
	st.over = st.over[:0]
	for _, qi := range st.order {
		if qi == pi {
			continue
		}
		q := st.jobs[qi]
		if compareRank(q.rankNow, pNow) < 0 {
			assign(st.servers, q.service)
			continue
		}
		// Behind p now: overtakes if, once over target, it ranks ahead of p.
		if !math.IsInf(q.overAt, 1) {
			at := st.now.Add(minutes(q.overAt)).Add(time.Nanosecond)
			if compareRank(q.overRank, rankOf(at)) < 0 {
				st.over = append(st.over, refOvertaker{at: q.overAt, service: q.service})
			}
		}
	}
	for _, a := range st.arrivals {
		// A new arrival overtakes p if it ranks ahead of p when it arrives, or later,
		// once it is over target itself.
		when := st.now.Add(minutes(a.at))
		if compareRank(a.w.rankAt(when), rankOf(when)) < 0 {
			st.over = append(st.over, refOvertaker{at: a.at, service: a.service})
			continue
		}
		if t := a.w.overTargetAt(); t.After(when) {
			at := t.Add(time.Nanosecond)
			if compareRank(a.w.rankAt(at), rankOf(at)) < 0 {
				st.over = append(st.over, refOvertaker{at: t.Sub(st.now).Minutes(), service: a.service})
			}
		}
	}
	slices.SortStableFunc(st.over, func(a, b refOvertaker) int { return cmp.Compare(a.at, b.at) })
	start := minFree(st.servers)
	for _, o := range st.over {
		if o.at >= start {
			break
		}
		assign(st.servers, o.service)
		start = minFree(st.servers)
	}
	return start
}

// firstFree draws, for run r, the time until the first of c busy doctors frees up at
// an arbitrary moment: the minimum of c independent residual consultation times (a
// consultation in progress at a random moment is length-biased: its level is drawn
// with weight mix x mean duration, its length from the length-biased log-normal
// LN(mu + sigma^2, sigma), and the remaining part is a uniform share of it). Doctor k's

// TestEstimateMatchesReference: the schedule of estimate.go (prefix states shared by the
// patients of a run, candidate overtakers sorted once per run, integer ranks) gives
// exactly the reference's estimates, on random clinics and on long queues after a burst.
func TestEstimateMatchesReference(t *testing.T) {
	t.Parallel()
	est := Estimator{Runs: 60}
	check := func(t *testing.T, s Snapshot) {
		t.Helper()
		want, got := est.refEstimate(s, nil), est.Estimate(s)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("estimates differ from the reference (-reference +fast):\n%s", diff)
		}
	}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 11))
		s := randomSnapshot(rng)
		// Longer queues than randomSnapshot's, with ties in arrival times.
		for i := range rng.IntN(30) {
			w := waiting(fmt.Sprintf("r%02d", i), triage.Level(rng.IntN(6)), float64(rng.IntN(40)))
			w.Seen = rng.IntN(8) == 0 && w.Triaged()
			s.Queue = append(s.Queue, w)
		}
		if rng.IntN(3) == 0 {
			s.ArrivalsPerHour = []float64{20 * rng.Float64(), 20 * rng.Float64(), 5}
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) { check(t, s) })
	}
	t.Run("burst", func(t *testing.T) {
		src, h := burstSource(120)
		check(t, NewSnapshot(testNow, src, h))
	})
}
