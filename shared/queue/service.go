package queue

import (
	"math"
	"time"

	"github.com/medi-os/medi/shared/triage"
)

// LogNormal is a log-normal distribution of durations in minutes: ln(minutes) is
// normal with mean Mu and standard deviation Sigma.
type LogNormal struct {
	Mu    float64 `firestore:"mu" json:"mu"`
	Sigma float64 `firestore:"sigma" json:"sigma"`
}

// logNormalFromMean returns the log-normal with the given mean (minutes) and log-sd.
func logNormalFromMean(meanMinutes, sigma float64) LogNormal {
	return LogNormal{Mu: math.Log(meanMinutes) - sigma*sigma/2, Sigma: sigma}
}

// Quantile returns the p-quantile in minutes (0 < p < 1).
func (d LogNormal) Quantile(p float64) float64 {
	return math.Exp(d.Mu + d.Sigma*normalQuantile(p))
}

// CDF returns P(X <= minutes).
func (d LogNormal) CDF(minutes float64) float64 {
	if minutes <= 0 {
		return 0
	}
	if d.Sigma <= 0 {
		if math.Log(minutes) >= d.Mu {
			return 1
		}
		return 0
	}
	return 0.5 * math.Erfc(-(math.Log(minutes)-d.Mu)/(d.Sigma*math.Sqrt2))
}

// Mean returns the mean in minutes.
func (d LogNormal) Mean() float64 { return math.Exp(d.Mu + d.Sigma*d.Sigma/2) }

// normalQuantile is the standard normal inverse CDF.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// Prior consultation durations (status in_consultation -> completed), per level, used
// until a clinic has history and blended with it afterwards (see LearnServiceModel).
//
// Source and assumptions: the means of levels 2-5 are the mean physician treatment
// times per CTAS level measured in a 2022 time-motion study of 1,204 ambulatory ED
// encounters (Odorizzi et al., "Time Motion Analysis of Emergency Physician Workload in
// Urgent Care Settings", West J Emerg Med 2025): 21.6, 22.5, 19.7 and 17.4 minutes for
// CTAS 2, 3, 4 and 5, taken level for level as ESI 2-5. Level 1 (resuscitation) was not
// measured there; 45 minutes is our assumption. The log-sd of 0.6 (P90 about 2.2 times
// the median) is an assumption for the right skew of consultation times.
var priorMeanMinutes = [...]float64{1: 45, 2: 21.6, 3: 22.5, 4: 19.7, 5: 17.4}

// PriorSigma is the assumed log-sd of consultation durations.
const PriorSigma = 0.6

// PriorWeight is how many observed consultations the prior of a level counts as when
// blended with observations (a conjugate normal update on log-durations).
const PriorWeight = 10

// Learned consultation durations outside these bounds are ignored as data errors
// (a consultation left open overnight, a double click).
const (
	minServiceSample = time.Minute
	maxServiceSample = 8 * time.Hour
)

// ServiceModel holds the consultation-duration distribution of each level (index 1-5)
// and how many observations each was learned from.
type ServiceModel struct {
	Levels  [6]LogNormal
	Samples [6]int
}

// PriorServiceModel returns the model before any history.
func PriorServiceModel() ServiceModel {
	var m ServiceModel
	for l := triage.Level1; l <= triage.Level5; l++ {
		m.Levels[l] = logNormalFromMean(priorMeanMinutes[l], PriorSigma)
	}
	return m
}

// ServiceSample is one observed consultation.
type ServiceSample struct {
	Level    triage.Level
	Duration time.Duration
}

// LearnServiceModel blends observed consultations with the priors, level by level.
// With n observations of log-duration (mean m, sum of squared deviations ss) and a
// prior (mu0, sigma0) weighted as k0 = PriorWeight observations:
//
//	mu     = (k0*mu0 + n*m) / (k0 + n)
//	sigma2 = (k0*sigma0^2 + ss + k0*n/(k0+n)*(m-mu0)^2) / (k0 + n)
//
// (the posterior mean of a normal model with a normal-inverse-gamma prior), so a new
// clinic starts on the priors and its own data dominate after a few dozen
// consultations per level. Samples with an invalid level or an implausible duration are
// ignored.
func LearnServiceModel(samples []ServiceSample) ServiceModel {
	m := PriorServiceModel()
	var byLevel [6][]float64
	for _, s := range samples {
		if !s.Level.Valid() || s.Duration < minServiceSample || s.Duration > maxServiceSample {
			continue
		}
		byLevel[s.Level] = append(byLevel[s.Level], s.Duration.Minutes())
	}
	for l := 1; l <= 5; l++ {
		m.Levels[l] = blend(m.Levels[l], PriorWeight, byLevel[l])
		m.Samples[l] = len(byLevel[l])
	}
	return m
}

// blend is the conjugate update of LearnServiceModel: the log-normal prior worth k0
// observations, updated with the observed durations (minutes, all > 0).
func blend(prior LogNormal, k0 float64, minutes []float64) LogNormal {
	if len(minutes) == 0 {
		return prior
	}
	var sum, sumSq float64
	for _, x := range minutes {
		lx := math.Log(x)
		sum += lx
		sumSq += lx * lx
	}
	nf := float64(len(minutes))
	mean := sum / nf
	ss := max(sumSq-nf*mean*mean, 0)
	mu := (k0*prior.Mu + nf*mean) / (k0 + nf)
	v := (k0*prior.Sigma*prior.Sigma + ss + k0*nf/(k0+nf)*(mean-prior.Mu)*(mean-prior.Mu)) / (k0 + nf)
	return LogNormal{Mu: mu, Sigma: math.Sqrt(v)}
}

// Time from arrival to triage (status waiting -> triaged), used for untriaged patients:
// a doctor cannot start before the patient is triaged.
//
// Prior: median 8 minutes, log-sd 0.8, worth 10 observations. This is an assumption
// (about 80 % of patients triaged within the 15-minute target, UntriagedTarget); the
// clinic's own arrival-to-triage times replace it quickly.
var PriorTriageDelay = LogNormal{Mu: math.Log(8), Sigma: 0.8}

// Bounds of learned arrival-to-triage times: triage at the door counts as 30 seconds
// (a log-normal has no zero); beyond 4 hours is a data error.
const (
	minTriageSample = 30 * time.Second
	maxTriageSample = 4 * time.Hour
)

// LearnTriageDelay blends observed arrival-to-triage times with PriorTriageDelay.
func LearnTriageDelay(delays []time.Duration) LogNormal {
	var xs []float64
	for _, d := range delays {
		if d < 0 || d > maxTriageSample {
			continue
		}
		xs = append(xs, max(d, minTriageSample).Minutes())
	}
	return blend(PriorTriageDelay, PriorWeight, xs)
}

// LevelMix is the probability of each level (index 1-5) for a patient not yet triaged.
type LevelMix [6]float64

// PriorLevelMix is the ESI distribution of US emergency department visits in NHAMCS
// (1.1 / 12.2 / 47.4 / 33.3 / 5.9 %), used for untriaged patients until a clinic has
// its own history.
var PriorLevelMix = LevelMix{1: 0.011, 2: 0.122, 3: 0.474, 4: 0.333, 5: 0.059}

// LevelMixPriorWeight is how many triaged patients the prior mix counts as.
const LevelMixPriorWeight = 20

// LearnLevelMix blends observed level counts (index 1-5) with PriorLevelMix
// (a Dirichlet posterior mean with LevelMixPriorWeight pseudo-patients).
// The result sums to 1 (the published shares sum to 99.9 %; the prior is normalised).
func LearnLevelMix(counts [6]int) LevelMix {
	var mix LevelMix
	var priorSum float64
	for l := 1; l <= 5; l++ {
		priorSum += PriorLevelMix[l]
	}
	total := float64(LevelMixPriorWeight)
	for l := 1; l <= 5; l++ {
		total += float64(counts[l])
	}
	for l := 1; l <= 5; l++ {
		mix[l] = (LevelMixPriorWeight*PriorLevelMix[l]/priorSum + float64(counts[l])) / total
	}
	return mix
}

// sample picks a level for the uniform u in [0, 1).
func (m LevelMix) sample(u float64) triage.Level {
	var total float64
	for l := 1; l <= 5; l++ {
		total += m[l]
	}
	if total <= 0 {
		return triage.Level3
	}
	x := u * total
	for l := 1; l <= 5; l++ {
		if x < m[l] {
			return triage.Level(l)
		}
		x -= m[l]
	}
	return triage.Level5
}
