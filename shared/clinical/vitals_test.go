package clinical

import (
	"testing"

	"github.com/medi-os/medi/shared/transcript"
)

func vitalsOf(t *testing.T, text string) []Vital {
	t.Helper()
	tr, err := transcript.ParseTranscript("text", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return Extract(tr).Vitals
}

func TestVitals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []Vital
	}{
		{"[doctor] your blood pressure is great it's like one twenty seven over eighty and your heart rate is nice and slow in the sixties\n",
			[]Vital{{Kind: VitalBloodPressure, Value: 127, Value2: 80, Unit: "mmHg"}}},
		{"[doctor] your blood pressure's a little elevated today , 156 over 94 .\n",
			[]Vital{{Kind: VitalBloodPressure, Value: 156, Value2: 94, Unit: "mmHg"}}},
		{"[doctor] i see here that it was about 180 over 95 when you went into the emergency room .\n",
			[]Vital{{Kind: VitalBloodPressure, Value: 180, Value2: 95, Unit: "mmHg"}}},
		{"[doctor] Temperature is 101.3. Temp 98.6 this morning.\n",
			[]Vital{{Kind: VitalTemperature, Value: 101.3, Unit: "°F", UnitInferred: true}, {Kind: VitalTemperature, Value: 98.6, Unit: "°F", UnitInferred: true}}},
		{"[doctor] you have a low-grade fever of about a hundred . four right now\n",
			[]Vital{{Kind: VitalTemperature, Value: 100.4, Unit: "°F", UnitInferred: true}}},
		{"[doctor] temperature 38.5 degrees celsius, sats 97 % on air, respiratory rate of eighteen, pulse ninety eight\n",
			[]Vital{{Kind: VitalTemperature, Value: 38.5, Unit: "°C"}, {Kind: VitalSpO2, Value: 97, Unit: "%"}, {Kind: VitalRespRate, Value: 18, Unit: "breaths/min"}, {Kind: VitalHeartRate, Value: 98, Unit: "bpm"}}},
		{"[doctor] your oxygen level here is like ninety two right now in the office\n", []Vital{{Kind: VitalSpO2, Value: 92, Unit: "%"}}},
		{"[doctor] grade 3/6 systolic murmur, strength 5/5\n", nil},
		{"[doctor] temperature was ten today\n", nil}, // implausible: left out, not written as 10 °C
		{"[patient] i weigh about a hundred and eighty pounds\n", []Vital{{Kind: VitalWeight, Value: 180, Unit: "lb"}}},
	} {
		got := vitalsOf(t, tc.in)
		for i := range got {
			got[i].Evidence = nil
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i].Kind != tc.want[i].Kind || got[i].Value != tc.want[i].Value || got[i].Value2 != tc.want[i].Value2 ||
				got[i].Unit != tc.want[i].Unit || got[i].UnitInferred != tc.want[i].UnitInferred {
				t.Errorf("%q: vital %d = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}
