// Command queuesim measures the queue's wait estimator against a discrete-event
// simulation of clinic days.
//
// Each simulated day the clinic is open from 08:00 to 20:00. Patients arrive as a
// Poisson process whose rate varies by hour (arrivalProfile) and is scaled so that the
// doctors are busy -load of the time on average; levels follow the NHAMCS ED mix
// (1.1 / 12.2 / 47.4 / 33.3 / 5.9 %). Consultation times are log-normal per level with
// the means in trueServiceMean (deliberately not the estimator's priors: it has to
// learn them from the completed consultations, as in a real clinic). Whenever a doctor
// is free they take the first triaged patient in queue.Order, the real ordering. After
// closing no one arrives and the doctors finish the queue.
//
// At every arrival the real estimator (queue.Estimator over a queue.Snapshot built the
// way the projector builds it: learned durations, learned level mix, arrival rates of
// the last two hours) records the new patient's P50 and P90; when the patient's
// consultation starts, the actual wait is known. The command prints, per scenario, the
// mean absolute error of P50 and the share of actual waits above P90 (goals: MAE <= 12
// minutes, <= 10 % above P90).
//
//	go run ./scripts/cmd/queuesim -seed 1 -days 5
package main

import (
	"container/heap"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/queue"
	"github.com/medi-os/medi/shared/triage"
)

// levelMix is the NHAMCS ED level distribution (index 1-5).
var levelMix = [6]float64{1: 0.011, 2: 0.122, 3: 0.474, 4: 0.333, 5: 0.059}

// trueServiceMean is the simulated clinic's mean consultation time per level, in
// minutes; trueServiceSigma its log-sd.
var trueServiceMean = [6]float64{1: 50, 2: 35, 3: 25, 4: 15, 5: 10}

const trueServiceSigma = 0.5

// arrivalProfile is the relative arrival rate of each opening hour (08:00..19:00),
// busiest late morning and early evening; its mean is 1.
var arrivalProfile = []float64{0.7, 1.0, 1.25, 1.25, 1.1, 0.95, 0.85, 0.9, 1.0, 1.15, 1.05, 0.8}

// shiftDoctors is the "shifts" scenario: doctors on duty per opening hour.
var shiftDoctors = []int{2, 2, 3, 3, 4, 4, 3, 3, 3, 4, 3, 2}

const openHour = 8

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("queuesim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "random seed of the simulation (the estimator has its own fixed seed)")
	days := fs.Int("days", 5, "clinic days per scenario (learned durations carry over from day to day)")
	load := fs.Float64("load", 0.8, "mean doctor utilisation the arrival rate is scaled to")
	scenarios := fs.String("doctors", "2,3,4,shifts", "comma-separated scenarios: a number of doctors, or \"shifts\" (2-4 by hour)")
	triageDelay := fs.Float64("triage-delay", 0, "mean minutes from arrival to triage (exponential; 0: triaged on arrival)")
	runs := fs.Int("runs", queue.DefaultRuns, "estimator Monte Carlo runs")
	byLevel := fs.Bool("by-level", false, "also print the errors per level")
	dump := fs.String("dump", "", "write every simulated patient (scenario, day, level, queue length, wait, P50, P90) to this CSV file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *days < 1 || *load <= 0 || *load > 2 || *runs < 1 || *triageDelay < 0 {
		fmt.Fprintln(stderr, "queuesim: -days >= 1, 0 < -load <= 2, -runs >= 1 and -triage-delay >= 0 are required")
		return 2
	}
	var results []result
	var sims []*sim
	for _, sc := range strings.Split(*scenarios, ",") {
		sc = strings.TrimSpace(sc)
		doctors, err := doctorPlan(sc)
		if err != nil {
			fmt.Fprintln(stderr, "queuesim:", err)
			return 2
		}
		s := newSim(*seed, doctors, *load, *triageDelay, queue.Estimator{Runs: *runs})
		for d := 0; d < *days; d++ {
			s.day(d)
		}
		results = append(results, s.result(sc))
		sims = append(sims, s)
	}
	if *dump != "" {
		if err := writeDump(*dump, results, sims); err != nil {
			fmt.Fprintln(stderr, "queuesim:", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "queuesim: seed %d, %d day(s) per scenario, load %.2f, triage delay %.0f min, %d estimator runs\n\n",
		*seed, *days, *load, *triageDelay, *runs)
	printTable(stdout, results)
	if *byLevel {
		fmt.Fprintln(stdout)
		printByLevel(stdout, results)
	}
	return 0
}

// doctorPlan returns doctors on duty per opening hour for a scenario name.
func doctorPlan(name string) ([]int, error) {
	if name == "shifts" {
		return shiftDoctors, nil
	}
	n, err := strconv.Atoi(name)
	if err != nil || n < 1 || n > 50 {
		return nil, fmt.Errorf("scenario %q: want a number of doctors (1-50) or \"shifts\"", name)
	}
	plan := make([]int, len(arrivalProfile))
	for i := range plan {
		plan[i] = n
	}
	return plan, nil
}

// patient is one simulated encounter.
type patient struct {
	id       string
	level    triage.Level
	arrived  time.Time
	triaged  bool
	service  time.Duration
	started  time.Time
	p50, p90 float64
	day      int
	ahead    int // patients waiting when this one arrived
	enc      *encounter.Encounter
}

type eventKind int

const (
	evArrival eventKind = iota
	evTriage
	evComplete
	evShift
)

type event struct {
	at   time.Time
	seq  int
	kind eventKind
	p    *patient
	doc  int // doctor index for evComplete
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// consult is a doctor's current patient.
type consult struct {
	p     *patient
	start time.Time
}

type sim struct {
	rng         *rand.Rand
	plan        []int
	load        float64
	triageDelay float64
	est         queue.Estimator

	events  eventQueue
	seq     int
	now     time.Time
	onDuty  int
	doctors []*consult // nil: free; len grows with the plan
	waiting []*patient
	done    []*patient // seen by a doctor (actual wait known)
	all     []*encounter.Encounter
	nextID  int

	history       queue.History
	historyLoaded time.Time
}

func newSim(seed uint64, plan []int, load, triageDelay float64, est queue.Estimator) *sim {
	return &sim{rng: rand.New(rand.NewPCG(seed, 0x5157)), plan: plan, load: load, triageDelay: triageDelay, est: est}
}

func (s *sim) push(e event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.events, e)
}

// meanService is the mix-weighted mean consultation, in minutes.
func meanService() float64 {
	var m float64
	for l := 1; l <= 5; l++ {
		m += levelMix[l] * trueServiceMean[l]
	}
	return m
}

// day simulates one clinic day: arrivals 08:00-20:00, then the doctors empty the queue.
func (s *sim) day(d int) {
	base := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
	open := base.Add(openHour * time.Hour)
	// Arrivals: a non-homogeneous Poisson process, hour by hour.
	for h, rel := range arrivalProfile {
		perMinute := s.load * float64(s.plan[h]) / meanService() * rel
		start := open.Add(time.Duration(h) * time.Hour)
		for t := s.rng.ExpFloat64() / perMinute; t < 60; t += s.rng.ExpFloat64() / perMinute {
			s.push(event{at: start.Add(minutes(t)), kind: evArrival})
		}
		s.push(event{at: start, kind: evShift, doc: s.plan[h]})
	}
	for s.events.Len() > 0 {
		e := heap.Pop(&s.events).(event)
		s.now = e.at
		switch e.kind {
		case evShift:
			s.onDuty = e.doc
			for len(s.doctors) < s.onDuty {
				s.doctors = append(s.doctors, nil)
			}
		case evArrival:
			s.arrive(d)
		case evTriage:
			s.triage(e.p)
		case evComplete:
			c := s.doctors[e.doc]
			c.p.enc.Status = encounter.StatusCompleted
			c.p.enc.StatusTimes[string(encounter.StatusCompleted)] = s.now
			c.p.enc.UpdatedAt = s.now
			s.doctors[e.doc] = nil
		}
		s.dispatch()
	}
}

func (s *sim) arrive(d int) {
	s.nextID++
	p := &patient{id: fmt.Sprintf("e%06d", s.nextID), arrived: s.now, day: d}
	u := s.rng.Float64()
	for l := 1; l <= 5; l++ {
		if u < levelMix[l] || l == 5 {
			p.level = triage.Level(l)
			break
		}
		u -= levelMix[l]
	}
	ln := queue.LogNormal{Mu: math.Log(trueServiceMean[p.level]) - trueServiceSigma*trueServiceSigma/2, Sigma: trueServiceSigma}
	p.service = minutes(ln.Quantile(openUnit(s.rng)))
	p.enc = &encounter.Encounter{
		ID: p.id, PatientID: "p" + p.id, Status: encounter.StatusWaiting, ArrivedAt: s.now, UpdatedAt: s.now,
		StatusTimes: map[string]time.Time{string(encounter.StatusWaiting): s.now},
	}
	s.all = append(s.all, p.enc)
	if s.triageDelay > 0 {
		s.push(event{at: s.now.Add(minutes(s.rng.ExpFloat64() * s.triageDelay)), kind: evTriage, p: p})
	} else {
		s.triage(p)
	}
	p.ahead = len(s.waiting)
	s.waiting = append(s.waiting, p)

	est, ok := s.est.EstimateFor(s.snapshot(), p.id)
	if !ok {
		panic("queuesim: no estimate for a waiting patient")
	}
	p.p50, p.p90 = float64(est.P50Minutes), float64(est.P90Minutes)
}

func (s *sim) triage(p *patient) {
	p.triaged = true
	p.enc.Status = encounter.StatusTriaged
	p.enc.StatusTimes[string(encounter.StatusTriaged)] = s.now
	p.enc.Triage = &encounter.Triage{Level: int(p.level), ProposedLevel: int(p.level), Confirmed: true}
	p.enc.UpdatedAt = s.now
}

// snapshot is what the projector would see now: the open encounters, and the history
// it learned from at most queue.DefaultHistoryTTL ago (the same query: arrivals of the
// last queue.HistoryWindow, newest first, at most queue.MaxHistoryEncounters).
func (s *sim) snapshot() queue.Snapshot {
	if s.historyLoaded.IsZero() || s.now.Sub(s.historyLoaded) >= queue.DefaultHistoryTTL {
		var recent []encounter.Encounter
		for i := len(s.all) - 1; i >= 0 && len(recent) < queue.MaxHistoryEncounters; i-- {
			if !s.all[i].ArrivedAt.After(s.now.Add(-queue.HistoryWindow)) {
				break
			}
			recent = append(recent, *s.all[i])
		}
		s.history, s.historyLoaded = queue.LearnHistory(recent), s.now
	}
	src := queue.Source{DoctorsOnDuty: s.onDuty, Location: time.UTC}
	for _, p := range s.waiting {
		src.Queue = append(src.Queue, queue.WaitingFrom(*p.enc))
	}
	for _, c := range s.doctors {
		if c != nil {
			src.InConsultation = append(src.InConsultation, queue.ConsultationFrom(*c.p.enc))
		}
	}
	return queue.NewSnapshot(s.now, src, s.history)
}

// dispatch gives free doctors (within the number on duty) the first triaged patient in
// queue order.
func (s *sim) dispatch() {
	for {
		free := -1
		for i := 0; i < s.onDuty && i < len(s.doctors); i++ {
			if s.doctors[i] == nil {
				free = i
				break
			}
		}
		if free < 0 {
			return
		}
		var ws []queue.Waiting
		byID := map[string]*patient{}
		for _, p := range s.waiting {
			if !p.triaged {
				continue
			}
			ws = append(ws, queue.Waiting{EncounterID: p.id, Status: encounter.StatusTriaged, Level: p.level, ArrivedAt: p.arrived})
			byID[p.id] = p
		}
		if len(ws) == 0 {
			return
		}
		next := byID[queue.Order(ws, s.now)[0].EncounterID]
		s.waiting = slices.DeleteFunc(s.waiting, func(p *patient) bool { return p == next })
		next.started = s.now
		next.enc.Status = encounter.StatusInConsultation
		next.enc.StatusTimes[string(encounter.StatusInConsultation)] = s.now
		next.enc.UpdatedAt = s.now
		s.done = append(s.done, next)
		s.doctors[free] = &consult{p: next, start: s.now}
		s.push(event{at: s.now.Add(next.service), kind: evComplete, doc: free})
	}
}

// result summarises one scenario.
type result struct {
	name                 string
	patients             int
	maeP50, medAbsP50    float64
	biasP50              float64
	aboveP90             float64
	meanWait, p90Wait    float64
	firstDayMAE          float64
	firstDayAbove        float64
	levelMAE, levelAbove [6]float64
	levelBias            [6]float64
	levelN               [6]int
}

func (s *sim) result(name string) result {
	r := result{name: name, patients: len(s.done)}
	var absErr, waits []float64
	var above, firstN, firstAbove int
	var firstAbs float64
	var levelAbs [6]float64
	var levelAboveN [6]int
	for _, p := range s.done {
		wait := p.started.Sub(p.arrived).Minutes()
		e := math.Abs(p.p50 - wait)
		absErr = append(absErr, e)
		waits = append(waits, wait)
		r.biasP50 += p.p50 - wait
		isAbove := wait > p.p90
		if isAbove {
			above++
			levelAboveN[p.level]++
		}
		levelAbs[p.level] += e
		r.levelBias[p.level] += p.p50 - wait
		r.levelN[p.level]++
		if p.day == 0 {
			firstN++
			firstAbs += e
			if isAbove {
				firstAbove++
			}
		}
	}
	n := float64(len(s.done))
	if n == 0 {
		return r
	}
	r.maeP50 = mean(absErr)
	r.medAbsP50 = quantile(absErr, 0.5)
	r.biasP50 /= n
	r.aboveP90 = float64(above) / n
	r.meanWait = mean(waits)
	r.p90Wait = quantile(waits, 0.9)
	if firstN > 0 {
		r.firstDayMAE = firstAbs / float64(firstN)
		r.firstDayAbove = float64(firstAbove) / float64(firstN)
	}
	for l := 1; l <= 5; l++ {
		if r.levelN[l] > 0 {
			r.levelMAE[l] = levelAbs[l] / float64(r.levelN[l])
			r.levelAbove[l] = float64(levelAboveN[l]) / float64(r.levelN[l])
			r.levelBias[l] /= float64(r.levelN[l])
		}
	}
	return r
}

func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "doctors\tpatients\tmean wait\tP90 wait\tMAE P50\tmedian |err|\tbias P50\t> P90\tday-1 MAE\tday-1 > P90\tgoals met\t")
	for _, r := range rs {
		met := "yes"
		if r.maeP50 > 12 || r.aboveP90 > 0.10 {
			met = "no"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%+.1f\t%.1f %%\t%.1f\t%.1f %%\t%s\t\n",
			r.name, r.patients, r.meanWait, r.p90Wait, r.maeP50, r.medAbsP50, r.biasP50, 100*r.aboveP90,
			r.firstDayMAE, 100*r.firstDayAbove, met)
	}
	tw.Flush()
	fmt.Fprintln(w, "\n(minutes; MAE P50 = mean |P50 - actual wait|; > P90 = share of actual waits above P90; goals: MAE <= 12, > P90 <= 10 %)")
}

func printByLevel(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "doctors\tlevel\tpatients\tMAE P50\tbias P50\t> P90\t")
	for _, r := range rs {
		for l := 1; l <= 5; l++ {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%+.1f\t%.1f %%\t\n", r.name, l, r.levelN[l], r.levelMAE[l], r.levelBias[l], 100*r.levelAbove[l])
		}
	}
	tw.Flush()
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func quantile(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

func openUnit(r *rand.Rand) float64 { return (float64(r.Uint64()>>11) + 0.5) / (1 << 53) }

func writeDump(path string, rs []result, sims []*sim) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "scenario,day,level,waiting_at_arrival,wait_min,p50_min,p90_min")
	for i, s := range sims {
		for _, p := range s.done {
			fmt.Fprintf(f, "%s,%d,%d,%d,%.1f,%.0f,%.0f\n", rs[i].name, p.day+1, p.level, p.ahead,
				p.started.Sub(p.arrived).Minutes(), p.p50, p.p90)
		}
	}
	return f.Close()
}
