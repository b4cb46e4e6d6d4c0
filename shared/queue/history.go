package queue

import (
	"slices"
	"time"

	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/triage"
)

// Windows of history the projector learns from.
const (
	// HistoryWindow is how far back arrivals and completed consultations are learned
	// from.
	HistoryWindow = 7 * 24 * time.Hour
	// MaxHistoryEncounters bounds the encounters read per clinic for learning (the
	// most recent arrivals).
	MaxHistoryEncounters = 5000
	// MaxServiceSamples bounds the completed consultations learned from (the most
	// recent ones).
	MaxServiceSamples = 500
	// ForecastHours is how far ahead arrivals are forecast.
	ForecastHours = 12
	// RecentWindow is the trailing window that scales the forecast to today's pace.
	RecentWindow = 2 * time.Hour
	// unprofiledHours is how many hours the recent arrival rate is extrapolated for
	// hours of the day the clinic has no history of yet.
	unprofiledHours = 2
)

// History is what the estimator learns from a clinic's past: consultation durations,
// the level mix and the arrivals of the last HistoryWindow.
type History struct {
	Service ServiceModel
	// TriageDelay is the time from arrival to triage.
	TriageDelay LogNormal
	Mix         LevelMix
	Arrivals    []Arrival
}

// PriorHistory is the history of a clinic with no past.
func PriorHistory() History {
	return History{Service: PriorServiceModel(), TriageDelay: PriorTriageDelay, Mix: PriorLevelMix}
}

// Arrival is one past arrival: which encounter, when, and its level (0 if none).
type Arrival struct {
	EncounterID string
	ArrivedAt   time.Time
	Level       triage.Level
}

// LearnHistory learns from a clinic's recent encounters (any status): the durations
// of completed consultations (at most MaxServiceSamples, the most recently completed),
// arrival-to-triage times, the level mix of triaged encounters, and the arrivals.
func LearnHistory(encs []encounter.Encounter) History {
	var samples []ServiceSample
	var ends []time.Time
	var counts [6]int
	var triageDelays []time.Duration
	h := History{}
	for _, e := range encs {
		l := anyLevel(e)
		if l.Valid() {
			counts[l]++
		}
		if t := e.StatusTimes[string(encounter.StatusTriaged)]; !t.IsZero() && !e.ArrivedAt.IsZero() {
			triageDelays = append(triageDelays, t.Sub(e.ArrivedAt))
		}
		h.Arrivals = append(h.Arrivals, Arrival{EncounterID: e.ID, ArrivedAt: e.ArrivedAt, Level: l})
		if e.Status != encounter.StatusCompleted {
			continue
		}
		if sm, ok := ServiceSampleFrom(e); ok {
			samples = append(samples, sm)
			ends = append(ends, e.StatusTimes[string(encounter.StatusCompleted)])
		}
	}
	if len(samples) > MaxServiceSamples {
		idx := make([]int, len(samples))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return ends[b].Compare(ends[a]) })
		kept := make([]ServiceSample, 0, MaxServiceSamples)
		for _, i := range idx[:MaxServiceSamples] {
			kept = append(kept, samples[i])
		}
		samples = kept
	}
	h.Service = LearnServiceModel(samples)
	h.TriageDelay = LearnTriageDelay(triageDelays)
	h.Mix = LearnLevelMix(counts)
	return h
}

// ForecastArrivals returns the expected number of arrivals in each of the next
// ForecastHours hours from now (index 0: the first hour), from past arrivals (duplicates
// by encounter id are counted once).
//
// The rate of each hour of the day (in loc, the clinic's time zone) is the number of
// arrivals in that hour over the last HistoryWindow divided by how many times that hour
// has been observed since the clinic's first recorded day, so a clinic's opening hours
// and daily peaks are learned. The forecast is scaled by today's pace: (arrivals in the
// last RecentWindow + 1) / (profile's expectation for it + 1), clamped to [0.5, 2]. An
// hour of the day never observed yet (a new clinic) gets the rate of the last
// RecentWindow for the first two hours ahead and nothing after that: without history
// the estimator does not extrapolate further.
func ForecastArrivals(arrivals []Arrival, now time.Time, loc *time.Location) []float64 {
	if loc == nil {
		loc = time.UTC
	}
	times := arrivalsInWindow(arrivals, now)
	out := make([]float64, ForecastHours)
	if len(times) == 0 {
		return out
	}
	earliest := slices.MinFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	el := earliest.In(loc)
	spanStart := time.Date(el.Year(), el.Month(), el.Day(), 0, 0, 0, 0, loc)
	if cut := now.Add(-HistoryWindow); spanStart.Before(cut) {
		spanStart = cut
	}
	exposure := hourlyExposure(spanStart, now, loc)
	var counts [24]float64
	var recent float64
	for _, t := range times {
		if !t.Before(spanStart) {
			counts[t.In(loc).Hour()]++
		}
		if t.After(now.Add(-RecentWindow)) {
			recent++
		}
	}
	var profile [24]float64
	var known [24]bool
	for h := range 24 {
		if exposure[h] >= 1 {
			profile[h], known[h] = counts[h]/exposure[h], true
		}
	}
	ratio := paceRatio(profile, known, recent, now, loc)
	trailing := recent / RecentWindow.Hours()
	for i := range out {
		h := now.Add(time.Duration(i)*time.Hour + 30*time.Minute).In(loc).Hour()
		switch {
		case known[h]:
			out[i] = profile[h] * ratio
		case i < unprofiledHours:
			out[i] = trailing
		}
	}
	return out
}

// arrivalsInWindow are the arrival times of the history window before now, each
// encounter counted once.
func arrivalsInWindow(arrivals []Arrival, now time.Time) []time.Time {
	seen := map[string]bool{}
	var times []time.Time
	for _, a := range arrivals {
		if a.ArrivedAt.After(now) || !a.ArrivedAt.After(now.Add(-HistoryWindow)) {
			continue
		}
		if a.EncounterID != "" {
			if seen[a.EncounterID] {
				continue
			}
			seen[a.EncounterID] = true
		}
		times = append(times, a.ArrivedAt)
	}
	return times
}

// hourlyExposure is how many hours of each local clock hour (0-23) lie between start and
// now: the denominator of the hourly arrival rates.
func hourlyExposure(start, now time.Time, loc *time.Location) [24]float64 {
	var exposure [24]float64
	for cur := start; cur.Before(now); {
		l := cur.In(loc)
		next := time.Date(l.Year(), l.Month(), l.Day(), l.Hour()+1, 0, 0, 0, loc)
		if !next.After(cur) { // a DST fold: step an hour of absolute time
			next = cur.Add(time.Hour)
		}
		if next.After(now) {
			next = now
		}
		exposure[l.Hour()] += next.Sub(cur).Hours()
		cur = next
	}
	return exposure
}

// paceRatio is today's pace against the profile over the recent window (recent arrivals
// against those the profile expects, smoothed and bounded to 0.5-2), or 1 when an hour of
// the window has no profile.
func paceRatio(profile [24]float64, known [24]bool, recent float64, now time.Time, loc *time.Location) float64 {
	expected := 0.0
	for cur := now.Add(-RecentWindow); cur.Before(now); cur = cur.Add(time.Minute) {
		h := cur.In(loc).Hour()
		if !known[h] {
			return 1
		}
		expected += profile[h] / 60
	}
	return min(max((recent+1)/(expected+1), 0.5), 2)
}

// level returns the level of e in force on the queue: the triage level of a triaged
// encounter (0 when the triage data is missing or invalid); a waiting encounter is
// untriaged even if a level has been proposed but not yet applied.
func level(e encounter.Encounter) triage.Level {
	if e.Status == encounter.StatusWaiting || e.Triage == nil {
		return 0
	}
	l := triage.Level(e.Triage.Level)
	if !l.Valid() {
		return 0
	}
	return l
}

// anyLevel returns e's triage level whatever its status (0 if none).
func anyLevel(e encounter.Encounter) triage.Level {
	if e.Triage == nil {
		return 0
	}
	if l := triage.Level(e.Triage.Level); l.Valid() {
		return l
	}
	return 0
}

// WaitingFrom converts a queued encounter (waiting or triaged).
func WaitingFrom(e encounter.Encounter) Waiting {
	return Waiting{
		EncounterID: e.ID,
		PatientID:   e.PatientID,
		Status:      e.Status,
		Level:       level(e),
		ArrivedAt:   e.ArrivedAt,
		Seen:        !e.StatusTimes[string(encounter.StatusInConsultation)].IsZero(),
	}
}

// ConsultationFrom converts an encounter in consultation. The start is the first time
// it entered in_consultation (falling back to its last update).
func ConsultationFrom(e encounter.Encounter) Consultation {
	start := e.StatusTimes[string(encounter.StatusInConsultation)]
	if start.IsZero() {
		start = e.UpdatedAt
	}
	return Consultation{EncounterID: e.ID, Level: anyLevel(e), ArrivedAt: e.ArrivedAt, StartedAt: start}
}

// ServiceSampleFrom returns the consultation of a completed encounter; ok is false when
// its times or level are missing.
func ServiceSampleFrom(e encounter.Encounter) (s ServiceSample, ok bool) {
	start := e.StatusTimes[string(encounter.StatusInConsultation)]
	end := e.StatusTimes[string(encounter.StatusCompleted)]
	l := anyLevel(e)
	if start.IsZero() || end.IsZero() || !l.Valid() || !end.After(start) {
		return ServiceSample{}, false
	}
	return ServiceSample{Level: l, Duration: end.Sub(start)}, true
}

// NewSnapshot puts together what the estimator looks at, at now: the clinic's open
// encounters and doctors from src, what was learned from its history, and the arrival
// forecast from the history's arrivals and the open encounters (which include arrivals
// newer than a cached history).
func NewSnapshot(now time.Time, src Source, h History) Snapshot {
	arrivals := slices.Clone(h.Arrivals)
	for _, w := range src.Queue {
		arrivals = append(arrivals, Arrival{EncounterID: w.EncounterID, ArrivedAt: w.ArrivedAt, Level: w.Level})
	}
	for _, c := range src.InConsultation {
		arrivals = append(arrivals, Arrival{EncounterID: c.EncounterID, ArrivedAt: c.ArrivedAt, Level: c.Level})
	}
	return Snapshot{
		Now:             now,
		DoctorsOnDuty:   src.DoctorsOnDuty,
		Queue:           src.Queue,
		InConsultation:  src.InConsultation,
		Service:         h.Service,
		TriageDelay:     h.TriageDelay,
		Mix:             h.Mix,
		ArrivalsPerHour: ForecastArrivals(arrivals, now, src.Location),
	}
}
