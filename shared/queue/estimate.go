package queue

import (
	"cmp"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/medi-os/medi/shared/triage"
)

// Estimator defaults.
const (
	// DefaultRuns is the number of Monte Carlo runs per estimate.
	DefaultRuns = 400
	// DefaultSeed seeds the runs: the same inputs always give the same estimate.
	DefaultSeed uint64 = 0x6d656469 // "medi"
	// residualCap bounds a drawn remaining consultation time (minutes).
	residualCap = 24 * 60
)

// EstimatorVersion names the method below; it is stored on the board so that a reader
// knows which model produced an estimate.
const EstimatorVersion = "mc-list-scheduling/1"

// Consultation is an encounter a doctor is seeing now.
type Consultation struct {
	EncounterID string
	// Level is the triage level, 0 if unknown.
	Level     triage.Level
	ArrivedAt time.Time
	StartedAt time.Time
}

// Snapshot is everything the estimator looks at: the clinic at one moment.
type Snapshot struct {
	Now time.Time
	// DoctorsOnDuty is the clinic's setting. The estimator uses at least as many
	// doctors as there are consultations in progress.
	DoctorsOnDuty int
	// Queue holds the waiting and triaged encounters, in any order.
	Queue []Waiting
	// InConsultation holds the consultations in progress.
	InConsultation []Consultation
	// Service is the consultation-duration model (PriorServiceModel or learned).
	Service ServiceModel
	// TriageDelay is the time from arrival to triage (PriorTriageDelay or learned): an
	// untriaged patient cannot see a doctor before being triaged. The zero value
	// means triage takes no time.
	TriageDelay LogNormal
	// Mix is the level distribution assumed for untriaged patients.
	Mix LevelMix
	// ArrivalsPerHour is the forecast of new arrivals: the expected number in each hour
	// from Now (index 0: the first hour), of levels drawn from Mix. Beyond its length
	// nobody arrives. See ForecastArrivals.
	ArrivalsPerHour []float64
}

// Doctors is the number of doctors the estimate assumes.
func (s Snapshot) Doctors() int { return max(s.DoctorsOnDuty, len(s.InConsultation)) }

// WaitEstimate is the estimated time from the snapshot until a doctor starts seeing
// the patient: the median (P50) and the 90th percentile (P90), in whole minutes.
type WaitEstimate struct {
	P50Minutes int `firestore:"p50Minutes" json:"p50Minutes"`
	P90Minutes int `firestore:"p90Minutes" json:"p90Minutes"`
}

// Estimator estimates the time to doctor of every waiting patient.
//
// Method (Monte Carlo over list schedules, deterministic for the same inputs):
//
// Each of Runs runs draws, with common random numbers (every draw is tied to the
// identity of what it describes, not to the order of drawing, so adding a patient
// does not change anybody else's draws):
//
//   - an eventual level for each untriaged patient, from Mix;
//   - a consultation duration for each waiting patient, from the log-normal of its level
//     (Service: priors blended with the clinic's completed consultations);
//   - the remaining time of each consultation in progress, from the same log-normal
//     conditioned on the time already spent (inverse CDF on [F(elapsed), 1));
//   - for each untriaged patient, the remaining time until triage, from TriageDelay
//     conditioned on the time already waited;
//   - future arrivals: a Poisson process whose rate follows ArrivalsPerHour hour by
//     hour, each arrival of a level drawn from Mix.
//
// For a patient p, the doctors are c = max(DoctorsOnDuty, consultations in progress)
// servers. The consultations in progress occupy them first, then the patients who rank
// ahead of p now (Order, with untriaged patients at their drawn level) are handed, in
// that order, to the doctor who becomes free first (list scheduling). p starts when the
// first doctor becomes free after that, except that patients who overtake p while p
// waits are served first: a patient now behind p who becomes over target and thereby
// ranks ahead of p, and a new arrival who ranks ahead of p at arrival. These are added
// in time order for as long as they turn up before the earliest free doctor (the least
// fixed point T = schedule(ahead + overtakers before T)), which is exact for list
// scheduling because an overtaker is only added while every doctor is busy.
//
// P50 and P90 are the nearest-rank quantiles of p's start over the runs, in minutes
// from Now, rounded.
//
// Simplifications, chosen so that the estimate is monotone (more doctors never
// increase it; another patient ahead never decreases it): patients who rank ahead of p
// now stay ahead even if p later becomes over target and would pass some of them, and
// future arrivals are ranked as if triaged on arrival. The first makes estimates
// conservative near a patient's target time.
type Estimator struct {
	Runs int    // DefaultRuns when 0
	Seed uint64 // DefaultSeed when 0
}

// maxWork bounds runs x patients^2, the estimator's cost, so that an unusually long
// queue costs fewer runs instead of a timeout.
const maxWork = 20_000_000

// minRuns is the fewest runs an estimate uses however long the queue.
const minRuns = 100

// RunsFor is the number of runs used for a queue of n patients: Runs (DefaultRuns when
// 0), reduced for long queues so that runs*n*n stays within a fixed budget, but never
// below 100.
func (e Estimator) RunsFor(n int) int {
	r := DefaultRuns
	if e.Runs > 0 {
		r = e.Runs
	}
	if n > 0 && r*n*n > maxWork {
		r = max(maxWork/(n*n), min(r, minRuns))
	}
	return r
}

// work is a measure of the cost of estimating s: runs x patients x (patients + twice
// the expected arrivals), the candidates each patient's schedule goes through.
func (e Estimator) work(s Snapshot) int {
	n := len(s.Queue)
	var arrivals float64
	for _, a := range s.ArrivalsPerHour {
		if a > 0 && !math.IsInf(a, 0) {
			arrivals += a
		}
	}
	return e.RunsFor(n) * n * (n + int(2*min(arrivals, 1e6)))
}

func (e Estimator) seed() uint64 {
	if e.Seed != 0 {
		return e.Seed
	}
	return DefaultSeed
}

// Estimate returns the estimate of every patient in s.Queue by encounter id. It returns
// nil when there is no doctor (no doctors on duty and nobody in consultation): then no
// estimate is honest.
func (e Estimator) Estimate(s Snapshot) map[string]WaitEstimate {
	return e.estimate(s, nil)
}

// EstimateFor returns the estimate of one patient of s.Queue; ok is false when the
// encounter is not in the queue or there is no doctor.
func (e Estimator) EstimateFor(s Snapshot, encounterID string) (est WaitEstimate, ok bool) {
	i := slices.IndexFunc(s.Queue, func(w Waiting) bool { return w.EncounterID == encounterID })
	if i < 0 {
		return WaitEstimate{}, false
	}
	out := e.estimate(s, []int{i})
	est, ok = out[encounterID]
	return est, ok
}

// Salts separating the independent draws made for one entity in one run.
const (
	saltLevel uint64 = iota + 1
	saltService
	saltResidual
	saltTriage
)

// job is one patient as one run sees it.
type job struct {
	w        Waiting // with the drawn level when untriaged
	service  float64 // minutes
	triaged  float64 // minutes from now until triaged (0 if triaged already)
	clock    clock   // w's rank as time passes
	rankNow  nrank
	overAt   float64 // minutes from now when w becomes over target; +Inf if never or already
	overRank nrank   // rank once over target
}

// arrival is a future patient of one run.
type arrival struct {
	at      float64 // minutes from now
	w       Waiting
	service float64
}

// clock is a patient's rank as a function of time, with times in nanoseconds from the
// snapshot's Now: the schedules compare ranks millions of times per board, so in
// integers rather than time.Time. clock.at(t) orders exactly as Waiting.rankAt(Now+t).
type clock struct {
	band, promoted int
	arrived        int64 // ns from now
	over           int64 // over target at t when t > over; math.MaxInt64: never
	id             string
}

// nrank is rank with the arrival in nanoseconds from the snapshot's Now.
type nrank struct {
	effective, band int
	arrived         int64
	id              string
}

func clockOf(w Waiting, now time.Time) clock {
	c := clock{band: w.band(), arrived: int64(w.ArrivedAt.Sub(now)), over: math.MaxInt64, id: w.EncounterID}
	c.promoted = promotedBand(c.band)
	if !w.Seen {
		// Waited > Target, with Waited = max(t - arrived, 0) and Target >= 0.
		c.over = c.arrived + int64(w.Target())
	}
	return c
}

// at is the rank at t nanoseconds from now.
func (c clock) at(t int64) nrank {
	eff := c.band
	if t > c.over {
		eff = c.promoted
	}
	return nrank{effective: eff, band: c.band, arrived: c.arrived, id: c.id}
}

// compareN is compareRank on nranks.
func compareN(a, b nrank) int {
	if a.effective != b.effective {
		return cmp.Compare(a.effective, b.effective)
	}
	if a.band != b.band {
		return cmp.Compare(a.band, b.band)
	}
	if a.arrived != b.arrived {
		return cmp.Compare(a.arrived, b.arrived)
	}
	return cmp.Compare(a.id, b.id)
}

// key is the leading part of a rank (effective band, band) as one number.
func (r nrank) key() int32 { return int32(r.effective)<<4 | int32(r.band) }

// Kinds of candidate overtakers.
const (
	candJob          = iota // a patient behind p now who goes over target
	candArrival             // a new arrival ranking ahead of p when it arrives
	candArrivalLater        // a new arrival ranking ahead of p once over target itself
)

// candidate is someone who may overtake a patient p while p waits: whether they do
// depends on p (see run.schedule); when is the same for every p. Its rank at t is
// (key, arrived, id).
type candidate struct {
	at      float64 // minutes from now: when they overtake
	service float64
	t       int64 // ns from now at which their rank is compared with p's
	arrived int64
	key     int32
	kind    int32
	job     int // candJob: the job
	// candArrivalLater: the arrival's own time and key (it overtakes later only if it did
	// not on arrival).
	arrT   int64
	arrKey int32
	id     string
}

// ahead reports whether the rank (key, arrived, id) goes before p's rank r.
func ahead(key int32, arrived int64, id string, r nrank) bool {
	if k := r.key(); key != k {
		return key < k
	}
	if arrived != r.arrived {
		return arrived < r.arrived
	}
	return id < r.id
}

// run is the state of one Monte Carlo run.
type run struct {
	now       time.Time
	jobs      []job
	order     []int // jobs by rank now
	residuals []float64
	arrivals  []arrival
	servers   []float64
	firstFree float64 // time until the first of the doctors busy at a moment frees up
	// prefix[k*c:(k+1)*c] is the doctors' state after the consultations in progress and
	// the first k jobs of order (list scheduling: each to the doctor free first).
	prefix []float64
	// pos is each job's place in order.
	pos []int
	// cands are the candidate overtakers of every patient, stably sorted by time (jobs
	// in order, then arrivals), so that each patient's overtakers are a subsequence.
	cands []candidate
}

func (e Estimator) estimate(s Snapshot, targets []int) map[string]WaitEstimate {
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
	st := &run{
		now:       s.Now,
		jobs:      make([]job, len(s.Queue)),
		order:     make([]int, len(s.Queue)),
		residuals: make([]float64, len(cons)),
		servers:   make([]float64, c),
		prefix:    make([]float64, (len(s.Queue)+1)*c),
		pos:       make([]int, len(s.Queue)),
	}
	for r := 0; r < runs; r++ {
		// Draws for the patients waiting now.
		for i, w := range s.Queue {
			st.jobs[i] = drawJob(s, w, seed, r)
			st.order[i] = i
		}
		slices.SortFunc(st.order, func(a, b int) int { return compareN(st.jobs[a].rankNow, st.jobs[b].rankNow) })

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
		st.prepare()

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
// moves them up the queue).
func drawJob(s Snapshot, w Waiting, seed uint64, r int) job {
	j := job{overAt: math.Inf(1)}
	if !w.Triaged() {
		w.Level = s.Mix.sample(uniform(seed, r, w.EncounterID, saltLevel))
		if s.TriageDelay != (LogNormal{}) {
			j.triaged = residual(s.TriageDelay, w.Waited(s.Now).Minutes(), uniform(seed, r, w.EncounterID, saltTriage), residualCap)
		}
	}
	j.w = w
	j.service = s.Service.Levels[w.Level].Quantile(uniform(seed, r, w.EncounterID, saltService))
	j.clock = clockOf(w, s.Now)
	j.rankNow = j.clock.at(0)
	if j.clock.over != math.MaxInt64 && j.clock.over >= 0 {
		j.overAt = time.Duration(j.clock.over).Minutes()
		j.overRank = j.clock.at(j.clock.over + 1)
	}
	return j
}

// prepare computes what every patient's schedule of the run shares: the doctors' state
// after each prefix of the queue, and the candidate overtakers sorted by time.
func (st *run) prepare() {
	c := len(st.servers)
	clear(st.prefix[:c])
	for _, res := range st.residuals {
		assign(st.prefix[:c], res)
	}
	for k, qi := range st.order {
		next := st.prefix[(k+1)*c : (k+2)*c]
		copy(next, st.prefix[k*c:(k+1)*c])
		assign(next, st.jobs[qi].service)
	}
	st.cands = st.cands[:0]
	for k, qi := range st.order {
		st.pos[qi] = k
		q := &st.jobs[qi]
		if !math.IsInf(q.overAt, 1) {
			st.cands = append(st.cands, candidate{kind: candJob, at: q.overAt, service: q.service,
				t: int64(minutes(q.overAt)) + 1, key: q.overRank.key(), arrived: q.overRank.arrived, id: q.overRank.id, job: qi})
		}
	}
	for _, a := range st.arrivals {
		ac := clockOf(a.w, st.now)
		when := int64(minutes(a.at))
		onArrival := ac.at(when)
		st.cands = append(st.cands, candidate{kind: candArrival, at: a.at, service: a.service, t: when,
			key: onArrival.key(), arrived: ac.arrived, id: ac.id})
		if ac.over != math.MaxInt64 && ac.over > when {
			st.cands = append(st.cands, candidate{kind: candArrivalLater, at: time.Duration(ac.over).Minutes(),
				service: a.service, t: ac.over + 1, key: ac.at(ac.over + 1).key(), arrived: ac.arrived, id: ac.id,
				arrT: when, arrKey: onArrival.key()})
		}
	}
	slices.SortStableFunc(st.cands, func(a, b candidate) int { return cmp.Compare(a.at, b.at) })
}

// start returns when patient pi starts, in minutes from now:
//
//	max(triaged, min(upper, max(overAt + firstFree, promoted)))
//
// where upper keeps everyone who ranks ahead of p now ahead of p, and promoted is the
// schedule in which p holds its over-target rank from now on, so that only those who
// rank ahead of an over-target p count. If p is seen before its target time, upper is
// (nearly) exact; if not, p starts once over target and a doctor has come free
// (firstFree: the first of the busy doctors freeing up), or once the doctors have seen
// everyone ahead of over-target p, whichever is later. Both terms are monotone in the
// doctors and in the patients ahead, and so is their min and max. An untriaged patient
// cannot start before being triaged (triaged: the drawn remaining time to triage).
func (st *run) start(pi int) float64 {
	p := &st.jobs[pi]
	upper := st.schedule(pi, false)
	if !math.IsInf(p.overAt, 1) {
		promoted := st.schedule(pi, true)
		upper = min(upper, max(p.overAt+st.firstFree, promoted))
	}
	// Not before being triaged.
	return max(upper, p.triaged)
}

// schedule is the list schedule for patient pi (holding its over-target rank from now
// on when promoted): the time from now at which a doctor is free for p after the
// consultations in progress, the patients ranking ahead of p now, and every overtaker
// that turns up before then.
func (st *run) schedule(pi int, promoted bool) float64 {
	p := &st.jobs[pi]
	pNow := p.rankNow
	if promoted {
		pNow = p.overRank
	}
	rankOf := func(t int64) nrank {
		if promoted {
			return p.overRank
		}
		return p.clock.at(t)
	}
	// Those ahead of p now are a prefix of order (p is never in it).
	k, _ := slices.BinarySearchFunc(st.order, pNow, func(qi int, r nrank) int { return compareN(st.jobs[qi].rankNow, r) })
	c := len(st.servers)
	copy(st.servers, st.prefix[k*c:(k+1)*c])
	start := minFree(st.servers)
	for i := range st.cands {
		o := &st.cands[i]
		if o.at >= start {
			break
		}
		switch o.kind {
		case candJob:
			// Behind p now (not p), and ahead of p once over target.
			if o.job == pi || st.pos[o.job] < k || !ahead(o.key, o.arrived, o.id, rankOf(o.t)) {
				continue
			}
		case candArrival:
			if !ahead(o.key, o.arrived, o.id, rankOf(o.t)) {
				continue
			}
		case candArrivalLater:
			if ahead(o.arrKey, o.arrived, o.id, rankOf(o.arrT)) || !ahead(o.key, o.arrived, o.id, rankOf(o.t)) {
				continue
			}
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
// draw depends only on (seed, r, k), so more doctors can only lower the minimum.
func firstFree(s Snapshot, c int, seed uint64, r int) float64 {
	var weights LevelMix
	for l := 1; l <= 5; l++ {
		weights[l] = s.Mix[l] * s.Service.Levels[l].Mean()
	}
	first := math.Inf(1)
	for k := 0; k < c; k++ {
		id := "\x00doctor-" + strconv.Itoa(k)
		l := weights.sample(uniform(seed, r, id, saltLevel))
		d := s.Service.Levels[l]
		biased := LogNormal{Mu: d.Mu + d.Sigma*d.Sigma, Sigma: d.Sigma}
		rest := uniform(seed, r, id, saltResidual) * biased.Quantile(uniform(seed, r, id, saltService))
		first = min(first, rest)
	}
	return first
}

// arrivals draws the future arrivals of run r, sorted by time. They depend only on the
// seed, the run and the forecast, never on who is waiting.
func arrivals(s Snapshot, seed uint64, r int) []arrival {
	rng := rand.New(rand.NewPCG(seed, uint64(r)))
	var out []arrival
	for h, perHour := range s.ArrivalsPerHour {
		if !(perHour > 0) || math.IsInf(perHour, 0) {
			continue
		}
		from, to := float64(60*h), float64(60*(h+1))
		for t := from + rng.ExpFloat64()*60/perHour; t < to; t += rng.ExpFloat64() * 60 / perHour {
			l := s.Mix.sample(openUnit(rng.Uint64()))
			out = append(out, arrival{
				at:      t,
				w:       Waiting{EncounterID: "\uffff", Level: l, ArrivedAt: s.Now.Add(minutes(t))},
				service: s.Service.Levels[l].Quantile(openUnit(rng.Uint64())),
			})
		}
	}
	return out
}

// residual draws the remaining minutes of a consultation that has lasted elapsed
// minutes: the log-normal conditioned on exceeding elapsed, capped at capMinutes.
func residual(d LogNormal, elapsed, u, capMinutes float64) float64 {
	f := d.CDF(elapsed)
	p := f + u*(1-f)
	if p >= 1-1e-12 {
		return capMinutes
	}
	return min(max(d.Quantile(p)-elapsed, 0), capMinutes)
}

// assign hands a job of d minutes to the doctor who is free first.
func assign(servers []float64, d float64) {
	k := 0
	for i := 1; i < len(servers); i++ {
		if servers[i] < servers[k] {
			k = i
		}
	}
	servers[k] += d
}

func minFree(servers []float64) float64 { return slices.Min(servers) }

// nearestRank returns the q-quantile of sorted xs by the nearest-rank method.
func nearestRank(xs []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

// uniform returns a draw in (0, 1) determined by the seed, the run, the entity and the
// purpose of the draw only (common random numbers).
func uniform(seed uint64, run int, id string, salt uint64) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	x := splitmix(seed ^ splitmix(h.Sum64()) ^ splitmix(uint64(run)*0x9e3779b97f4a7c15+salt))
	return openUnit(x)
}

// openUnit maps 64 random bits to (0, 1).
func openUnit(x uint64) float64 { return (float64(x>>11) + 0.5) / (1 << 53) }

// splitmix is the SplitMix64 finaliser.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
