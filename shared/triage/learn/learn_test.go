package learn

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/triage"
)

// synthetic draws examples whose level depends on pain (more pain, more urgent) and on
// arrival by ambulance, with noise.
func synthetic(n int, seed uint64) []Example {
	r := rand.New(rand.NewPCG(seed, 1))
	ex := make([]Example, n)
	for i := range ex {
		var x triage.Features
		pain := float64(r.IntN(11))
		amb := float64(r.IntN(2))
		x[featurePain()] = pain
		x[featureAmbulance()] = amb
		latent := 0.6*pain + 1.5*amb + r.NormFloat64()
		lvl := triage.Level5
		switch {
		case latent > 7:
			lvl = triage.Level1
		case latent > 5.5:
			lvl = triage.Level2
		case latent > 3.5:
			lvl = triage.Level3
		case latent > 2:
			lvl = triage.Level4
		}
		ex[i] = Example{X: x, Level: lvl}
	}
	return ex
}

func featureIndex(name string) int {
	for i := range triage.FeatureCount() {
		if triage.FeatureName(i) == name {
			return i
		}
	}
	panic(name)
}
func featurePain() int      { return featureIndex("pain_score") }
func featureAmbulance() int { return featureIndex("arrival_ambulance") }

func TestTrainRecoversTheDirection(t *testing.T) {
	t.Parallel()
	m, rep, err := Train(synthetic(600, 1), DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Converged || rep.Iterations > 50 {
		t.Errorf("report %+v", rep)
	}
	if m.Weight[featurePain()] <= 0.5 || m.Weight[featureAmbulance()] <= 0.2 {
		t.Errorf("weights pain %v ambulance %v, want clearly positive (more urgent)", m.Weight[featurePain()], m.Weight[featureAmbulance()])
	}
	for i := range triage.FeatureCount() {
		if i != featurePain() && i != featureAmbulance() && m.Weight[i] != 0 {
			t.Errorf("constant feature %s has weight %v", triage.FeatureName(i), m.Weight[i])
		}
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	t.Parallel()
	ex := synthetic(300, 2)
	opt := DefaultOptions
	opt.Version = "test/1"
	a, ra, _ := Train(ex, opt)
	b, rb, _ := Train(ex, opt)
	info := FileInfo{Data: "x.csv", DataSHA256: DataHash([]byte("x")), Rows: len(ex), Command: "test"}
	if !bytes.Equal(Encode(a, info, DefaultOptions, ra), Encode(b, info, DefaultOptions, rb)) {
		t.Error("two trainings on the same data give different files")
	}
	// The encoded file is what the engine reads back.
	m, err := triage.ParseModel(Encode(a, info, DefaultOptions, ra))
	if err != nil {
		t.Fatal(err)
	}
	if m.Weight != a.Weight || m.Thresholds != a.Thresholds || m.Mean != a.Mean || m.Scale != a.Scale {
		t.Error("the file does not hold the trained model")
	}
}

// TestMonotoneWeightsStayNonNegative: data that pushes a monotone feature's weight below 0
// leave it at 0.
func TestMonotoneWeightsStayNonNegative(t *testing.T) {
	t.Parallel()
	ex := synthetic(600, 3)
	for i := range ex {
		ex[i].X[featurePain()] = 10 - ex[i].X[featurePain()] // now more "pain", less urgent
	}
	m, _, err := Train(ex, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !triage.Monotone(featurePain()) || m.Weight[featurePain()] != 0 {
		t.Errorf("monotone pain weight %v, want 0", m.Weight[featurePain()])
	}
}

func TestTrainRefusesUnusableData(t *testing.T) {
	t.Parallel()
	if _, _, err := Train(nil, DefaultOptions); err == nil {
		t.Error("no examples accepted")
	}
	ex := synthetic(100, 4)
	for i := range ex {
		if ex[i].Level == triage.Level1 {
			ex[i].Level = triage.Level2
		}
	}
	if _, _, err := Train(ex, DefaultOptions); err == nil || !strings.Contains(err.Error(), "level 1") {
		t.Errorf("no level-1 example: %v", err)
	}
	ex[0].Level = 9
	if _, _, err := Train(ex, DefaultOptions); err == nil {
		t.Error("level 9 accepted")
	}
}
