package triagerecord

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/triage"
)

// engineJSON is the parts of the engine's own JSON that Result must agree with.
type engineJSON struct {
	Level   int `json:"level"`
	Reasons []struct {
		Code string `json:"code"`
		Text string `json:"text"`
	} `json:"reasons"`
	Missing []MissingInput `json:"missing"`
	NEWS2   struct {
		Aggregate int `json:"aggregate"`
		Items     []struct {
			Parameter string   `json:"parameter"`
			Value     *float64 `json:"value"`
			Points    int      `json:"points"`
		} `json:"items"`
	} `json:"news2"`
	QSOFA struct {
		Score int `json:"score"`
		Items []struct {
			Criterion string `json:"criterion"`
			Points    int    `json:"points"`
		} `json:"items"`
	} `json:"qsofa"`
}

func TestNewResultAgreesWithTheEngineAndHasNoEmptyEntries(t *testing.T) {
	t.Parallel()
	child := adultInput()
	child.AgeYears = ip(5)
	child.Vitals.SystolicBP = nil
	incomplete := adultInput()
	incomplete.Vitals = triage.Vitals{}
	incomplete.MentalStatus = ""
	incomplete.PainScore = nil
	for name, in := range map[string]triage.Input{
		"adult level 3": adultInput(),
		"pain 8":        withPain(8),
		"child":         child,
		"incomplete":    incomplete,
		"point A":       {AgeYears: ip(70), ChiefComplaint: "collapse", Flags: triage.Flags{Apnoeic: true}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := triage.Assess(in)
			r := NewResult(a)
			raw, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var e engineJSON
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			if r.Level != e.Level || r.EngineVersion != triage.EngineVersion {
				t.Errorf("level %d version %s, engine %d", r.Level, r.EngineVersion, e.Level)
			}
			var texts, detailTexts, codes, engineTexts, engineCodes []string
			for _, x := range e.Reasons {
				engineTexts, engineCodes = append(engineTexts, x.Text), append(engineCodes, x.Code)
			}
			for _, d := range r.ReasonDetails {
				detailTexts, codes = append(detailTexts, d.Text), append(codes, d.Code)
			}
			texts = r.Reasons
			if diff := cmp.Diff(engineTexts, texts); diff != "" || len(texts) == 0 {
				t.Errorf("reasons (-engine +result):\n%s", diff)
			}
			if diff := cmp.Diff(engineTexts, detailTexts); diff != "" {
				t.Errorf("reason detail texts (-engine +result):\n%s", diff)
			}
			if diff := cmp.Diff(engineCodes, codes); diff != "" {
				t.Errorf("reason codes (-engine +result):\n%s", diff)
			}
			if diff := cmp.Diff(e.Missing, r.Missing, cmp.Comparer(func(a, b []MissingInput) bool {
				return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b)
			})); diff != "" {
				t.Errorf("missing (-engine +result):\n%s", diff)
			}
			if r.NEWS2.Applicable {
				if len(r.NEWS2.Items) != 7 {
					t.Errorf("%d NEWS2 items, want 7", len(r.NEWS2.Items))
				}
				sum := 0
				for i, it := range r.NEWS2.Items {
					sum += it.Points
					ei := e.NEWS2.Items[i]
					if it.Parameter != ei.Parameter || it.Points != ei.Points || !cmp.Equal(it.Value, ei.Value) {
						t.Errorf("NEWS2 item %d = %+v, engine %+v", i, it, ei)
					}
				}
				if sum != r.NEWS2.Aggregate || r.NEWS2.Aggregate != e.NEWS2.Aggregate {
					t.Errorf("NEWS2 points sum %d, aggregate %d, engine %d", sum, r.NEWS2.Aggregate, e.NEWS2.Aggregate)
				}
			} else if r.NEWS2.Items == nil || len(r.NEWS2.Items) != 0 || r.NEWS2.NotApplicable == "" {
				t.Errorf("NEWS2 not applicable: items %v (want empty, not nil), reason %q", r.NEWS2.Items, r.NEWS2.NotApplicable)
			}
			if len(r.QSOFA.Items) != 3 || r.QSOFA.Score != e.QSOFA.Score {
				t.Errorf("qSOFA %+v, engine score %d", r.QSOFA, e.QSOFA.Score)
			}
			// JSON lists are lists, never null.
			out, _ := json.Marshal(r)
			var generic map[string]any
			_ = json.Unmarshal(out, &generic)
			for _, k := range []string{"reasons", "reasonDetails", "missing", "missingVitals"} {
				if _, ok := generic[k].([]any); !ok {
					t.Errorf("%s is %v in JSON, want a list", k, generic[k])
				}
			}
			complaint, _ := generic["complaint"].(map[string]any)
			model, _ := generic["model"].(map[string]any)
			for k, v := range map[string]any{"complaint.recognised": complaint["recognised"], "complaint.negated": complaint["negated"],
				"model.probabilities": model["probabilities"], "model.attributions": model["attributions"]} {
				if _, ok := v.([]any); !ok {
					t.Errorf("%s is %v in JSON, want a list", k, v)
				}
			}
			// The model's attributions sum to its score; its probabilities to 1.
			if r.Model.Applicable {
				sum, ps := 0.0, 0.0
				for _, a := range r.Model.Attributions {
					sum += a.Contribution
				}
				for _, p := range r.Model.Probabilities {
					ps += p
				}
				if math.Abs(sum-r.Model.Score) > 1e-9 || math.Abs(ps-1) > 1e-9 || len(r.Model.Probabilities) != 5 {
					t.Errorf("model: attributions sum %v, score %v, probabilities %v", sum, r.Model.Score, r.Model.Probabilities)
				}
			}
		})
	}
}

func TestMissingVitals(t *testing.T) {
	t.Parallel()
	adultNoSBP := adultInput()
	adultNoSBP.Vitals.SystolicBP = nil
	childNoSBP := adultNoSBP
	childNoSBP.AgeYears = ip(10)
	childNoTemp := childNoSBP
	childNoTemp.Vitals.TemperatureC = nil
	noneAtAll := adultInput()
	noneAtAll.Vitals = triage.Vitals{}
	pointA := noneAtAll
	pointA.Flags.Intubated = true
	for _, tc := range []struct {
		name     string
		in       triage.Input
		required bool
		want     []string
	}{
		{"complete", adultInput(), false, []string{}},
		{"adult without systolic BP", adultNoSBP, true, []string{triage.FieldSystolicBP}},
		{"child without systolic BP", childNoSBP, false, []string{}},
		{"child without temperature", childNoTemp, true, []string{triage.FieldTemperature}},
		{"adult without any", noneAtAll, true, []string{triage.FieldHeartRate, triage.FieldRespiratoryRate, triage.FieldSpO2, triage.FieldTemperature, triage.FieldSystolicBP}},
		{"point A without any", pointA, false, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := triage.Assess(tc.in)
			if a.VitalsRequired != tc.required {
				t.Fatalf("VitalsRequired = %v, want %v", a.VitalsRequired, tc.required)
			}
			if diff := cmp.Diff(tc.want, MissingVitals(a)); diff != "" {
				t.Errorf("MissingVitals (-want +got):\n%s", diff)
			}
			if tc.required {
				he := VitalsRequiredError(a)
				if httpx.FromAPI(he).Status != 400 || he.Code != apierr.CodeInvalidArgument {
					t.Errorf("VitalsRequiredError = %d %s", httpx.FromAPI(he).Status, he.Code)
				}
				if diff := cmp.Diff(tc.want, fieldNames(he)); diff != "" {
					t.Errorf("error fields (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestAssessValidation(t *testing.T) {
	t.Parallel()
	in := adultInput()
	in.AgeYears = ip(121)
	in.PainScore = ip(11)
	in.Vitals.HeartRate = ip(301)
	in.Vitals.RespiratoryRate = ip(81)
	in.Vitals.SystolicBP = ip(301)
	in.Vitals.SpO2 = ip(101)
	in.Vitals.TemperatureC = fp(24.9)
	_, err := Assess(in)
	var he *apierr.Error
	if !errors.As(err, &he) || httpx.FromAPI(he).Status != 400 {
		t.Fatalf("Assess = %v, want 400", err)
	}
	want := []string{"ageYears", "painScore", triage.FieldHeartRate, triage.FieldRespiratoryRate, triage.FieldSystolicBP,
		triage.FieldSpO2, triage.FieldTemperature}
	if diff := cmp.Diff(want, fieldNames(he)); diff != "" {
		t.Errorf("one error per field (-want +got):\n%s", diff)
	}
	if _, err := Assess(adultInput()); err != nil {
		t.Errorf("valid input: %v", err)
	}
}
