package evaluation

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/triage"
	"github.com/medi-os/medi/shared/triage/learn"
)

const header = "Group,Sex,Age,Patients number per hour,Arrival mode,Injury,Chief_complain,Mental,Pain,NRS_pain,SBP,DBP,HR,RR,BT,KTAS_RN,Diagnosis in ED,KTAS_expert,Length of stay_min\n"

func TestReadKTAS(t *testing.T) {
	t.Parallel()
	csv := "\ufeff" + header +
		`1,Female,56,12,Private Vehicle,Yes,"pain, chest",Alert,1,7.0,137.0,75.0,60.0,20.0,36.5,2,Secret diagnosis,2,64` + "\n" +
		`2,Male,71,8,119 Ambulance,No,abd pain,Verbal Response,0,,91,67,93,18,,4,x,3,108` + "\n" +
		`1,Male,30,3,Walking,No,,Pain Response,1,,,,,,,1,x,1,10` + "\n"
	v, err := ReadKTAS(strings.NewReader(csv), DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 3 {
		t.Fatalf("%d visits", len(v))
	}
	a := v[0].Input
	if *a.AgeYears != 56 || a.Sex != triage.SexFemale || a.ArrivalMode != triage.ArrivalPrivateVehicle || !a.Injury ||
		a.ChiefComplaint != "pain, chest" || a.MentalStatus != triage.MentalAlert || *a.PainScore != 7 ||
		*a.Vitals.SystolicBP != 137 || *a.Vitals.HeartRate != 60 || *a.Vitals.TemperatureC != 36.5 ||
		*a.Vitals.SpO2 != 98 || *a.Vitals.OnSupplementalOxygen || a.ExpectedResources != nil ||
		v[0].Expert != 2 || v[0].Nurse != 2 || v[0].Row != 1 {
		t.Errorf("visit 1: %+v", v[0])
	}
	b := v[1].Input
	if b.ArrivalMode != triage.ArrivalAmbulance || b.MentalStatus != triage.MentalVoice || *b.PainScore != 0 ||
		b.Vitals.TemperatureC != nil || v[1].Expert != 3 {
		t.Errorf("visit 2 (no pain: 0; no temperature: nil): %+v", v[1])
	}
	c := v[2].Input
	if c.PainScore != nil || c.Vitals.HeartRate != nil || c.MentalStatus != triage.MentalPain || c.ArrivalMode != triage.ArrivalWalkIn {
		t.Errorf("visit 3 (pain without a score: not recorded): %+v", v[2])
	}
	// Nothing the nurse did not know reaches the engine's input.
	if strings.Contains(strings.ToLower(a.ChiefComplaint), "secret") {
		t.Error("the diagnosis leaked into the input")
	}
}

func TestReadKTASErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ csv, want string }{
		"missing column": {"Sex,Age\nMale,3\n", "missing columns"},
		"bad level":      {header + "1,Male,30,1,Walking,No,x,Alert,0,,120,80,80,16,36.5,2,x,7,1\n", "row 1: column KTAS_expert"},
		"bad number":     {header + "1,Male,thirty,1,Walking,No,x,Alert,0,,120,80,80,16,36.5,2,x,3,1\n", "row 1: column Age"},
		"bad mental":     {header + "1,Male,30,1,Walking,No,x,Sleepy,0,,120,80,80,16,36.5,2,x,3,1\n", "column Mental"},
	} {
		_, err := ReadKTAS(strings.NewReader(tc.csv), DefaultOptions)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "thirty") || strings.Contains(err.Error(), "Sleepy")) {
			t.Errorf("%s: the error repeats the value: %v", name, err)
		}
	}
}

func TestAgreement(t *testing.T) {
	t.Parallel()
	var perfect Agreement
	for l := triage.Level1; l <= triage.Level5; l++ {
		perfect.Add(l, l)
	}
	if perfect.QuadraticKappa() != 1 || perfect.ExactRate() != 1 || perfect.Under != 0 || perfect.Over != 0 {
		t.Errorf("perfect: %+v kappa %v", perfect, perfect.QuadraticKappa())
	}
	// A worked example: reference 1,2,3,4,5; proposed 2,2,3,4,4.
	var a Agreement
	for i, p := range []triage.Level{2, 2, 3, 4, 4} {
		a.Add(triage.Level(i+1), p)
	}
	// Observed weighted disagreement: (1 + 1)/16 / 5 = 0.025. Expected: rows 1/5 each,
	// columns {2: 2/5, 3: 1/5, 4: 2/5}; sum over reference i of (1/5) sum over proposed j of
	// (i-j)^2/16 * c_j = (4.8 + 1.8 + 0.8 + 1.8 + 4.8) / 16 / 5 = 0.175, so kappa = 1 - 0.025 / 0.175.
	if got, want := a.QuadraticKappa(), 1-0.025/0.175; math.Abs(got-want) > 1e-12 {
		t.Errorf("kappa %v, want %v", got, want)
	}
	if a.Exact != 3 || a.Under != 1 || a.Over != 1 || a.HighAcuity != 2 || a.HighAcuityUnder != 1 {
		t.Errorf("counts %+v", a)
	}
	// By the experts' level: 1 proposed at 2 is under-triaged, 5 proposed at 4 over-triaged.
	for l, want := range map[triage.Level][3]int{1: {1, 1, 0}, 2: {1, 0, 0}, 3: {1, 0, 0}, 4: {1, 0, 0}, 5: {1, 0, 1}} {
		if n, under, over := a.AtLevel(l); [3]int{n, under, over} != want {
			t.Errorf("level %d: n %d under %d over %d, want %v", l, n, under, over, want)
		}
	}
}

func TestIntervals(t *testing.T) {
	t.Parallel()
	z2 := z95 * z95
	for _, c := range []struct {
		part, whole int
		lo, hi      float64
	}{
		// Newcombe, Stat Med 1998;17:857-872, Table I, method 3 (Wilson score, no continuity
		// correction): 81 of 263 gives 0.2553 to 0.3662.
		{81, 263, 0.2553, 0.3662},
		// At the ends the interval has a closed form: 0 of n gives [0, z²/(n+z²)].
		{0, 10, 0, z2 / (10 + z2)},
		{10, 10, 10 / (10 + z2), 1},
		{0, 0, 0, 1},
	} {
		lo, hi := Wilson(c.part, c.whole)
		if math.Abs(lo-c.lo) > 5e-5 || math.Abs(hi-c.hi) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = [%.5f, %.5f], want [%.4f, %.4f]", c.part, c.whole, lo, hi, c.lo, c.hi)
		}
	}
	if lo, hi := Wilson(3, 10); math.Abs(lo-(1-upperOf(Wilson(7, 10)))) > 1e-12 || math.Abs(hi-(1-lowerOf(Wilson(7, 10)))) > 1e-12 {
		t.Errorf("Wilson(3, 10) = [%v, %v] is not the mirror of Wilson(7, 10)", lo, hi)
	}

	// Perfect agreement stays perfect in every resample.
	var perfect Agreement
	for i := range 50 {
		l := triage.Level(i%5 + 1)
		perfect.Add(l, l)
	}
	if lo, hi := perfect.KappaInterval(); lo != 1 || hi != 1 {
		t.Errorf("perfect agreement: kappa interval [%v, %v]", lo, hi)
	}
	// The worked example of TestAgreement, 40 times over: a proper interval around its kappa,
	// the same on every call.
	var a Agreement
	for range 40 {
		for i, p := range []triage.Level{2, 2, 3, 4, 4} {
			a.Add(triage.Level(i+1), p)
		}
	}
	lo, hi := a.KappaInterval()
	if k := a.QuadraticKappa(); !(lo < k && k < hi) || hi-lo > 0.2 {
		t.Errorf("kappa %.3f, interval [%.3f, %.3f]", k, lo, hi)
	}
	if lo2, hi2 := a.KappaInterval(); lo2 != lo || hi2 != hi {
		t.Errorf("the bootstrap is not reproducible: [%v, %v] then [%v, %v]", lo, hi, lo2, hi2)
	}
	var empty Agreement
	if lo, hi := empty.KappaInterval(); lo != 0 || hi != 0 {
		t.Errorf("no visits: [%v, %v]", lo, hi)
	}
}

func lowerOf(lo, _ float64) float64 { return lo }
func upperOf(_, hi float64) float64 { return hi }

// dataFile is the KTAS training split beside the repository, or "" when it is absent.
func dataFile(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(d, "..", "shared", "data", "ktas", "train.csv")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func readData(t *testing.T) ([]Visit, []byte) {
	t.Helper()
	p := dataFile(t)
	if p == "" {
		t.Skip("the KTAS training split (../shared/data/ktas/train.csv beside the repository) is absent: clinical figures not measured")
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ReadKTAS(bytes.NewReader(raw), DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	return v, raw
}

// TestFiguresOnTheKTASTrainingSplit asserts the cross-validated figures that
// go run ./scripts/cmd/triagemodel eval prints. The targets are under-triage <= 8 %,
// under-triage among expert levels 1-2 <= 10 %, over-triage <= 35 %, quadratic-weighted kappa
// >= 0.60; the two under-triage targets are met and asserted, the others are not yet
// (docs/clinical-validation.md says why), so those are asserted at the figures reached, to
// fail when they regress.
func TestFiguresOnTheKTASTrainingSplit(t *testing.T) {
	t.Parallel()
	visits, _ := readData(t)
	if len(visits) != 688 {
		t.Fatalf("%d visits, the training split has 688", len(visits))
	}
	r, err := Run(visits, 5)
	if err != nil {
		t.Fatal(err)
	}
	cv := r.CrossValidated
	var b strings.Builder
	r.Write(&b, 5)
	t.Log("\n" + b.String())
	for _, c := range []struct {
		name  string
		got   float64
		limit float64
		upper bool
	}{
		{"under-triage (target <= 8 %)", cv.UnderRate(), 0.08, true},
		{"under-triage among expert levels 1-2 (target <= 10 %)", cv.HighAcuityUnderRate(), 0.10, true},
		{"over-triage (target <= 35 %; reached 45.2 %)", cv.OverRate(), 0.453, true},
		{"quadratic-weighted kappa (target >= 0.60; reached 0.514)", cv.QuadraticKappa(), 0.513, false},
		{"exact agreement (reached 49.1 %)", cv.ExactRate(), 0.490, false},
	} {
		if c.upper && c.got > c.limit || !c.upper && c.got < c.limit {
			t.Errorf("%s: %.4f, limit %.3f", c.name, c.got, c.limit)
		}
	}
	// The 95 % intervals docs/clinical-validation.md gives: the level 1-2 target is met by the
	// estimate, not beyond the sampling uncertainty of 86 patients; the kappa and over-triage
	// targets are outside their intervals.
	percent := func(lo, hi float64) string { return fmt.Sprintf("[%.1f, %.1f]", 100*lo, 100*hi) }
	kappa := func(lo, hi float64) string { return fmt.Sprintf("[%.3f, %.3f]", lo, hi) }
	for _, c := range []struct{ name, got, want string }{
		{"under-triage", percent(Wilson(cv.Under, cv.N)), "[4.2, 7.7]"},
		{"over-triage", percent(Wilson(cv.Over, cv.N)), "[41.5, 48.9]"},
		{"under-triage among expert levels 1-2", percent(Wilson(cv.HighAcuityUnder, cv.HighAcuity)), "[4.0, 15.9]"},
		{"quadratic-weighted kappa", kappa(cv.KappaInterval()), "[0.456, 0.570]"},
	} {
		if c.got != c.want {
			t.Errorf("95 %% interval of %s: %s, documented %s", c.name, c.got, c.want)
		}
	}
	// The learned part improves on the rules alone, and the engine under-triages expert
	// level 1-2 patients less often than the study's nurses did.
	if cv.QuadraticKappa() <= r.Rules.QuadraticKappa() || cv.UnderRate() >= r.Rules.UnderRate() {
		t.Errorf("cross-validated kappa %.3f / under %.3f vs rules alone %.3f / %.3f", cv.QuadraticKappa(), cv.UnderRate(),
			r.Rules.QuadraticKappa(), r.Rules.UnderRate())
	}
	if cv.HighAcuityUnderRate() >= r.Nurses.HighAcuityUnderRate() {
		t.Errorf("under-triage among expert 1-2 %.3f, nurses %.3f", cv.HighAcuityUnderRate(), r.Nurses.HighAcuityUnderRate())
	}
	// The tables of docs/clinical-validation.md: where the levels come from, and what made
	// point B fire (counts by the experts' level 1-5).
	for _, c := range []struct {
		o     Origins
		label string
		want  [5]int
	}{
		{r.Points, "A -> 1", [5]int{12, 11, 2, 2, 0}},
		{r.Points, "B -> 2", [5]int{1, 40, 69, 36, 6}},
		{r.Points, "P -> 2", [5]int{1, 4, 3, 1, 2}},
		{r.Points, "D -> 2", [5]int{0, 1, 25, 13, 1}},
		{r.Points, "L -> 2", [5]int{0, 11, 51, 8, 1}},
		{r.Points, "L -> 3", [5]int{0, 3, 89, 32, 3}},
		{r.Points, "L -> 4", [5]int{0, 2, 27, 173, 34}},
		{r.Points, "L -> 5", [5]int{0, 0, 2, 3, 6}},
		{r.Points, "M -> 3", [5]int{0, 0, 2, 8, 3}},
		{r.PointB, "severe_pain/observed", [5]int{0, 4, 23, 11, 0}},
		{r.PointB, "high_risk_complaint/not_recorded", [5]int{0, 2, 3, 13, 2}},
		{r.PointB, "high_risk_complaint/complaint stroke", [5]int{0, 3, 15, 0, 0}},
		{r.PointB, "high_risk_complaint/complaint chest_pain_cardiac", [5]int{0, 13, 7, 3, 0}},
		{r.PointB, "altered_mental_status/observed", [5]int{0, 4, 4, 6, 4}},
	} {
		var got [5]int
		for l := triage.Level1; l <= triage.Level5; l++ {
			got[l-1] = c.o.Count(c.label, l)
		}
		if got != c.want {
			t.Errorf("%s: %v, documented %v", c.label, got, c.want)
		}
	}
}

// TestModelFileIsReproducible: the committed model is what training on the data makes, bit
// for bit (go run ./scripts/cmd/triagemodel train).
func TestModelFileIsReproducible(t *testing.T) {
	t.Parallel()
	visits, raw := readData(t)
	opt := learn.DefaultOptions
	opt.Version = "ktas-ordinal/" + learn.DataHash(raw)[:12]
	m, rep, err := learn.Train(Examples(visits), opt)
	if err != nil {
		t.Fatal(err)
	}
	got := learn.Encode(m, learn.FileInfo{Data: "ktas/train.csv", DataSHA256: learn.DataHash(raw), Rows: len(visits),
		Command: "go run ./scripts/cmd/triagemodel train -data ../shared/data/ktas/train.csv"}, opt, rep)
	want, err := os.ReadFile(filepath.Join("..", "data", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("shared/triage/data/model.json is not what training on ../shared/data/ktas/train.csv makes; run go run ./scripts/cmd/triagemodel train")
	}
}
