package triage

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func plainWordRows(t *testing.T) []string {
	t.Helper()
	data, err := fs.ReadFile(dataFiles, plainWordsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			rows = append(rows, line)
		}
	}
	return rows
}

// TestPlainWordsRowsHold: every row of data/plainwords.txt is a word the rules of PlainWords
// still list (the corrector would change it into one vocabulary word, not by an inflection);
// a row the vocabulary made ambiguous or an inflection fails here, a row it now knows fails
// the loading. The rows missing after a vocabulary change are found by regenerating the list
// from the dictionary (scripts/cmd/triagewords, whose test does it where the dictionary is).
func TestPlainWordsRowsHold(t *testing.T) {
	t.Parallel()
	rows := plainWordRows(t)
	if len(rows) < 1000 {
		t.Fatalf("only %d rows", len(rows))
	}
	got, err := PlainWords(strings.NewReader(strings.Join(rows, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rows, got); diff != "" {
		t.Errorf("rows the rules no longer list (-file +rules):\n%s", diff)
	}
}

func TestIsInflection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"anemic", "anemia", true},
		{"bruised", "bruise", true},
		{"fingers", "finger", true},
		{"psychoses", "psychosis", true},
		{"insomniac", "insomnia", true},
		{"sleepy", "sleep", true},
		{"arthritic", "arthritis", true},
		{"patellae", "patella", true},
		{"child", "chill", false},
		{"worse", "worst", false},
		{"turned", "burned", false},
		{"sitting", "spitting", false},
		{"fewer", "fever", false},
		{"bladder", "ladder", false},
	} {
		if got := isInflection(tc.a, tc.b); got != tc.want {
			t.Errorf("isInflection(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := isInflection(tc.b, tc.a); got != tc.want {
			t.Errorf("isInflection(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

// TestReadingPlainWords: an ordinary word is kept as written, not read as the vocabulary word
// one letter away; an inflection still is.
func TestReadingPlainWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []readCase{
		// "worse" is not "worst": a headache getting worse is not the worst headache (B).
		{text: "headache worse", present: []string{"headache"}, unknown: 1},
		// "turned" is not "burned" (it is the lexicon's variant of "turning").
		{text: "turned blue", present: []string{"dyspnea_sudden"}},
		// "spell" is not "swell".
		{text: "dizzy spell", present: []string{"dizziness"}, unknown: 1},
		// "peptic" is not "septic"; "trunk" is not "drunk"; "sitting" is not "spitting".
		{text: "peptic ulcer", unknown: 1},
		{text: "trunk pain", unknown: 1},
		{text: "sitting", unknown: 1},
		// "smell" is not "swell", "fewer" not "fever".
		{text: "knee smell", unknown: 1},
		{text: "fewer", unknown: 1},
		// "could" is not "cold", "sling" not "sting", "truck" not "struck".
		{text: "could not breathe", present: []string{"dyspnea"}},
		{text: "arm sling", unknown: 1},
		{text: "hit by truck", present: []string{"major_trauma"}},
		{text: "near drown", present: []string{"drowning"}},
		// An inflection is still read as its word.
		{text: "bruised knee", present: []string{"lower_limb_injury"}, corrected: 1},
		// Medical homographs the lexicon lists as variants are read as meant.
		{text: "lumber pain", present: []string{"back_pain"}},
		{text: "drowned", present: []string{"drowning"}},
		{text: "abdominal distention", present: []string{"abdominal_distension"}},
	} {
		checkReading(t, tc)
	}
}

// TestPlainWordsFileIsChecked: a malformed, unordered or out-of-date list fails loading.
func TestPlainWordsFileIsChecked(t *testing.T) {
	t.Parallel()
	lex, _ := fs.ReadFile(dataFiles, lexiconFile)
	comp, _ := fs.ReadFile(dataFiles, complaintsFile)
	for _, tc := range []struct{ name, list, want string }{
		{"not a word", "# header\nSitting\n", `"Sitting" is not a lowercase ASCII word`},
		{"out of order", "worse\nsitting\n", `"sitting" is out of order or repeated`},
		{"repeated", "sitting\nsitting\n", `"sitting" is out of order or repeated`},
		{"known now", "chest\n", `"chest" is a word the reader knows now`},
	} {
		_, err := loadVocabulary(fstest.MapFS{
			lexiconFile:    {Data: lex},
			complaintsFile: {Data: comp},
			plainWordsFile: {Data: []byte(tc.list)},
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := loadVocabulary(fstest.MapFS{
		lexiconFile:    {Data: lex},
		complaintsFile: {Data: comp},
		plainWordsFile: {Data: []byte("# header\nsitting\nworse\n")},
	}); err != nil {
		t.Errorf("a well-formed list: %v", err)
	}
}
