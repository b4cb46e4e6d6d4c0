package triage

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var cmpAssessment = cmp.AllowUnexported(Reasons{}, MissingInputs{}, ComplaintSummary{})

func TestAssessmentJSONRoundTrip(t *testing.T) {
	t.Parallel()
	inputs := map[string]Input{
		"typical":   benchInput(),
		"level 1":   with(normalAdult(), func(in *Input) { in.Flags.Intubated = true; in.Vitals.SpO2 = ip(85) }),
		"level 2 B": with(normalAdult(), func(in *Input) { in.ChiefComplaint = "chest pain, no fever"; in.PainScore = nil }),
		"level 5":   with(normalAdult(), func(in *Input) { in.ExpectedResources = rs(NotResourceOralMedication) }),
		"child": with(childToD(300), func(in *Input) {
			in.Vitals.TemperatureC = fp(39.4)
			in.ExpectedResources = nil
			in.ComplaintCategory = CategoryFever
		}),
		"empty": {},
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := Assess(in)
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var back Assessment
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal %s: %v", b, err)
			}
			if diff := cmp.Diff(a, back, cmpAssessment); diff != "" {
				t.Errorf("round trip (-want +got):\n%s\nJSON: %s", diff, b)
			}
		})
	}
}

func TestAssessmentJSONShape(t *testing.T) {
	t.Parallel()
	a := Assess(with(normalAdult(), func(in *Input) { in.PainScore = ip(8) }))
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		EngineVersion string `json:"engineVersion"`
		Level         int    `json:"level"`
		DecisionPoint string `json:"decisionPoint"`
		Reasons       []map[string]any
		Missing       []MissingInput
		NEWS2         struct {
			Aggregate int `json:"aggregate"`
			Items     []map[string]any
		} `json:"news2"`
		QSOFA struct {
			Score int `json:"score"`
		} `json:"qsofa"`
		TargetMinutes int `json:"targetMinutes"`
		Complaint     struct {
			Status     string           `json:"status"`
			Recognised []map[string]any `json:"recognised"`
			Negated    []string         `json:"negated"`
		} `json:"complaint"`
		Model struct {
			Applicable    bool          `json:"applicable"`
			Level         int           `json:"level"`
			Probabilities []float64     `json:"probabilities"`
			Score         float64       `json:"score"`
			Attributions  []Attribution `json:"attributions"`
		} `json:"model"`
		Resources struct {
			Types []string `json:"types"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	wantReason := map[string]any{
		"point": "B", "code": "severe_pain", "evidence": "observed", "field": "painScore",
		"value": 8.0, "limit": 7.0, "text": "B: pain 8/10 >= 7",
	}
	if diff := cmp.Diff([]map[string]any{wantReason}, got.Reasons); diff != "" {
		t.Errorf("reasons JSON (-want +got):\n%s\n%s", diff, b)
	}
	if got.EngineVersion != EngineVersion || got.Level != 2 || got.DecisionPoint != "B" || got.TargetMinutes != 15 {
		t.Errorf("header fields: %+v", got)
	}
	if got.Missing == nil || len(got.Missing) != 0 || got.Complaint.Negated == nil || len(got.Complaint.Negated) != 0 {
		t.Errorf("empty lists must be [] in JSON: %s", b)
	}
	if got.Complaint.Status != "recognised" || len(got.Complaint.Recognised) != 1 ||
		got.Complaint.Recognised[0]["code"] != "lower_limb_injury" || got.Complaint.Recognised[0]["laterality"] != "left" {
		t.Errorf("complaint JSON: %+v", got.Complaint)
	}
	// The model's opinion: probabilities of levels 1-5 summing to 1, attributions summing to
	// the score.
	sumP, sumA := 0.0, 0.0
	for _, p := range got.Model.Probabilities {
		sumP += p
	}
	for _, at := range got.Model.Attributions {
		sumA += at.Contribution
	}
	if !got.Model.Applicable || len(got.Model.Probabilities) != 5 || math.Abs(sumP-1) > 1e-5 ||
		len(got.Model.Attributions) != NumAttributions || math.Abs(sumA-got.Model.Score) > 1e-4 {
		t.Errorf("model JSON: %+v (sum p %v, sum attributions %v)", got.Model, sumP, sumA)
	}
	if diff := cmp.Diff([]string{"ecg_xray"}, got.Resources.Types); diff != "" {
		t.Errorf("resources JSON (-want +got):\n%s", diff)
	}
	if len(got.NEWS2.Items) != 7 || got.NEWS2.Items[4]["parameter"] != "pulse" || got.NEWS2.Items[4]["value"] != 80.0 {
		t.Errorf("NEWS2 items JSON: %v", got.NEWS2.Items)
	}
	if _, ok := got.NEWS2.Items[2]["value"]; ok || got.NEWS2.Items[2]["observation"] != "air" {
		t.Errorf("air-or-oxygen item JSON: %v", got.NEWS2.Items[2])
	}

	// NEWS2 for a child says only that it does not apply.
	c, err := json.Marshal(Assess(childToD(300)).NEWS2)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"applicable":false,"notApplicable":"` + notApplicableUnder16 + `"}`; string(c) != want {
		t.Errorf("child NEWS2 JSON = %s, want %s", c, want)
	}
}

func TestReasonValueZeroIsKept(t *testing.T) {
	t.Parallel()
	a := Assess(with(normalAdult(), func(in *Input) { in.Vitals.HeartRate = ip(0) }))
	b, err := json.Marshal(a.Reasons)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"point":"A","code":"pulseless","evidence":"observed","field":"vitals.heartRate","value":0,"text":"A: pulseless (heart rate 0)"}]`
	if string(b) != want {
		t.Errorf("reasons JSON = %s, want %s", b, want)
	}
}

func TestInputJSONKeepsNilAndEmptyResourcesApart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json string
		nil_ bool
	}{
		{`{"chiefComplaint":"x","ageYears":3}`, true},
		{`{"chiefComplaint":"x","ageYears":3,"expectedResources":null}`, true},
		{`{"chiefComplaint":"x","ageYears":3,"expectedResources":[]}`, false},
	} {
		var in Input
		if err := json.Unmarshal([]byte(tc.json), &in); err != nil {
			t.Fatal(err)
		}
		if (in.ExpectedResources == nil) != tc.nil_ {
			t.Errorf("%s: expectedResources nil = %v, want %v", tc.json, in.ExpectedResources == nil, tc.nil_)
		}
		// And back: the distinction survives a round trip (replay).
		b, _ := json.Marshal(in)
		var again Input
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatal(err)
		}
		if (again.ExpectedResources == nil) != tc.nil_ {
			t.Errorf("%s: lost after round trip %s", tc.json, b)
		}
	}
}

func TestSetJSONRejectsUnknownValues(t *testing.T) {
	t.Parallel()
	var cs ComplaintSet
	if err := json.Unmarshal([]byte(`["chest_pain_cardiac","nonsense"]`), &cs); err == nil {
		t.Error("ComplaintSet accepted an unknown complaint")
	}
	var r ResourceSet
	if err := json.Unmarshal([]byte(`["labs","x"]`), &r); err == nil {
		t.Error("ResourceSet accepted an unknown type")
	}
	var reasons Reasons
	if err := json.Unmarshal([]byte(`[`+`{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}`+`]`), &reasons); err == nil {
		t.Error("Reasons accepted more than it can hold")
	}
}
