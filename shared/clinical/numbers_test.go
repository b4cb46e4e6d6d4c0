package clinical

import (
	"testing"

	"github.com/medi-os/medi/shared/transcript"
)

func TestNumbers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []float64
	}{
		{"a hundred and thirty two", []float64{132}},
		{"one twenty over eighty", []float64{120, 80}},
		{"one thirty two over eighty", []float64{132, 80}},
		{"ninety eight point six", []float64{98.6}},
		{"a hundred . four", []float64{100.4}},
		{"one oh one point three", []float64{101.3}},
		{"twenty-five milligrams", []float64{25}},
		{"25mg and 81 mg", []float64{25, 81}},
		{"a thousand milligrams twice a day", []float64{1000}},
		{"zero point four milligrams", []float64{0.4}},
		{"120/80", []float64{120, 80}},
		{"1,000 units", []float64{1000}},
		{"twenty twenty", []float64{2020}},
		{"a cough", nil},
	} {
		var got []float64
		for _, n := range Numbers(transcript.Tokenize(tc.in)) {
			got = append(got, n.Value)
			if n.HasSecond {
				got = append(got, n.Second)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
				break
			}
		}
	}
}
