package notes

import (
	"encoding/json"
	"testing"
)

// TestEmptySectionsAreEmptyArrays: the API's note content always has four arrays, also
// for a section the draft left empty (nil after a Firestore round trip).
func TestEmptySectionsAreEmptyArrays(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Content{Plan: []Sentence{{ID: "P1", Text: "Rest.", Evidence: []string{"s1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"subjective":[],"objective":[],"assessment":[],"plan":[{"id":"P1","text":"Rest.","evidence":["s1"]}]}`
	if got := string(b); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}
