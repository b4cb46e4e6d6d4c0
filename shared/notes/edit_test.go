package notes

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/httpx"
	"github.com/medi-os/medi/shared/transcript"
)

func base() Content {
	return Content{
		Subjective: []Sentence{{ID: "S1", Text: "Cough for three days.", Evidence: []string{"s2", "s3"}}},
		Objective:  []Sentence{{ID: "O1", Text: "Temperature 38.4 C.", Evidence: []string{"s6"}}},
		Plan:       []Sentence{{ID: "P1", Text: "Chest x-ray.", Evidence: []string{"s10"}}},
	}
}

func TestMergeEdit(t *testing.T) {
	t.Parallel()
	edit := Content{
		Subjective: []Sentence{
			{ID: "S1", Text: "Productive cough for three days."}, // edited, evidence absent: kept
			{Text: "Smoker, 20 pack-years."},                     // new: no evidence
		},
		Objective:  []Sentence{{ID: "O1", Text: "Temperature 38.4 C.", Evidence: []string{}}}, // links dropped
		Assessment: []Sentence{{ID: "P1", Text: "Chest x-ray.", Evidence: []string{"s10"}}},   // moved, kept
	}
	got, err := MergeEdit(base(), edit)
	if err != nil {
		t.Fatal(err)
	}
	want := Content{
		Subjective: []Sentence{
			{ID: "S1", Text: "Productive cough for three days.", Evidence: []string{"s2", "s3"}, Edited: true},
			{ID: "N2", Text: "Smoker, 20 pack-years.", Evidence: []string{}, Edited: true},
		},
		Objective:  []Sentence{{ID: "O1", Text: "Temperature 38.4 C.", Evidence: []string{}}},
		Assessment: []Sentence{{ID: "P1", Text: "Chest x-ray.", Evidence: []string{"s10"}}},
		Plan:       []Sentence{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
}

func TestMergeEditNeverInventsEvidence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  Content
		field string
	}{
		{"new sentence with evidence", Content{Plan: []Sentence{{Text: "Rest.", Evidence: []string{"s1"}}}}, "content.plan[0].evidence"},
		{"added link", Content{Subjective: []Sentence{{ID: "S1", Text: "x", Evidence: []string{"s2", "s6"}}}}, "content.subjective[0].evidence"},
		{"unknown id", Content{Plan: []Sentence{{ID: "P9", Text: "x"}}}, "content.plan[0].id"},
		{"repeated id", Content{Plan: []Sentence{{ID: "P1", Text: "x"}, {ID: "P1", Text: "y"}}}, "content.plan[1].id"},
		{"empty text", Content{Plan: []Sentence{{ID: "P1", Text: "  "}}}, "content.plan[0].text"},
	} {
		_, err := MergeEdit(base(), tc.edit)
		var he *apierr.Error
		if !errors.As(err, &he) || httpx.FromAPI(he).Status != 400 {
			t.Errorf("%s: err = %v, want a 400", tc.name, err)
			continue
		}
		if !containsField(he, tc.field) {
			t.Errorf("%s: details %v do not name %s", tc.name, he.Details, tc.field)
		}
	}
}

func containsField(he *apierr.Error, field string) bool {
	d, _ := he.Details.(map[string]any)
	fs, _ := d["fields"].([]apierr.FieldError)
	for _, f := range fs {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestCanonicalHash(t *testing.T) {
	t.Parallel()
	a := CanonicalHash("n1", 1, base())
	if a != CanonicalHash("n1", 1, base()) {
		t.Error("hash not stable")
	}
	c := base()
	c.Plan[0].Text = "Chest x-ray today."
	for name, h := range map[string]string{
		"text": CanonicalHash("n1", 1, c), "version": CanonicalHash("n1", 2, base()), "note": CanonicalHash("n2", 1, base()),
	} {
		if h == a {
			t.Errorf("changing the %s did not change the hash", name)
		}
	}
	if CanonicalHash("n1", 1, Content{}) != CanonicalHash("n1", 1, Content{Plan: []Sentence{}}) {
		t.Error("nil and empty sections hash differently")
	}
	if len(a) != 64 {
		t.Errorf("hash %q is not hex SHA-256", a)
	}
}

func TestAllowed(t *testing.T) {
	t.Parallel()
	statuses := []Status{StatusDraft, StatusPendingReview, StatusApproved, StatusAmended}
	want := map[Action][]bool{
		ActionEdit:    {true, false, false, true},
		ActionSubmit:  {true, false, false, true},
		ActionApprove: {false, true, false, false},
		ActionReject:  {false, true, false, false},
		ActionAmend:   {false, false, true, false},
	}
	for a, w := range want {
		for i, st := range statuses {
			if got := Allowed(a, st); got != w[i] {
				t.Errorf("Allowed(%s, %s) = %v, want %v", a, st, got, w[i])
			}
		}
	}
}

func TestMergeEditKeepsSpansFlagsAndHeadings(t *testing.T) {
	t.Parallel()
	sp := func(seg string, start, end int, q string) transcript.Span {
		return transcript.Span{SegmentID: seg, Start: start, End: end, Quote: q}
	}
	est := Flag{Kind: FlagEstimated, Claim: "unit", Detail: "°F inferred from the value"}
	unsup := Flag{Kind: FlagUnsupported, Claim: "dose", Detail: "40 mg is not in the cited words"}
	b := Content{
		Subjective: []Sentence{{ID: "S1", Text: "Cough for three days.", Heading: "History of present illness", Evidence: []string{"s2", "s3"},
			Spans: []transcript.Span{sp("s2", 0, 10, "a cough th"), sp("s3", 4, 9, "three")}}},
		Objective: []Sentence{{ID: "O1", Text: "Temperature 101.3 °F (38.5 °C).", Heading: "Vital signs", Evidence: []string{"s6"},
			Spans: []transcript.Span{sp("s6", 0, 20, "temperature is 101.3")}, Flags: []Flag{est}}},
		Plan: []Sentence{{ID: "P1", Text: "Lisinopril 40 mg daily.", Evidence: []string{"s9"}, Spans: []transcript.Span{sp("s9", 0, 10, "lisinopril")},
			Flags: []Flag{unsup}}},
	}
	edit := Content{
		Subjective: []Sentence{{ID: "S1", Text: "Cough for three days.", Evidence: []string{"s3"}, // link dropped: its span goes too
			Spans: []transcript.Span{sp("s9", 0, 3, "xyz")}}}, // spans given are ignored
		Objective: []Sentence{{ID: "O1", Text: "Temperature 101.3 °F (38.5 °C).", Heading: "Vitals"}},                               // unchanged text keeps its flag
		Plan:      []Sentence{{ID: "P1", Text: "Lisinopril 20 mg daily.", Flags: []Flag{est}}, {Text: "Review", Heading: " Plan "}}, // changed: flags dropped
	}
	got, err := MergeEdit(b, edit)
	if err != nil {
		t.Fatal(err)
	}
	want := Content{
		Subjective: []Sentence{{ID: "S1", Text: "Cough for three days.", Heading: "History of present illness", Evidence: []string{"s3"},
			Spans: []transcript.Span{sp("s3", 4, 9, "three")}}},
		Objective: []Sentence{{ID: "O1", Text: "Temperature 101.3 °F (38.5 °C).", Heading: "Vitals", Evidence: []string{"s6"},
			Spans: []transcript.Span{sp("s6", 0, 20, "temperature is 101.3")}, Flags: []Flag{est}}},
		Assessment: []Sentence{},
		Plan: []Sentence{
			{ID: "P1", Text: "Lisinopril 20 mg daily.", Evidence: []string{"s9"}, Spans: []transcript.Span{sp("s9", 0, 10, "lisinopril")}, Edited: true},
			{ID: "N2", Text: "Review", Heading: "Plan", Evidence: []string{}, Edited: true},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCanonicalFormOfContentWithoutSpans(t *testing.T) {
	t.Parallel()
	// Versions stored before spans, headings and flags existed hash as they did: the new
	// fields are left out of the canonical JSON when empty.
	b, err := json.Marshal(canonical{NoteID: "n", Version: 1, Content: normalize(Content{Subjective: []Sentence{{ID: "S1", Text: "x", Evidence: []string{"s1"}}}})})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"noteId":"n","version":1,"content":{"subjective":[{"id":"S1","text":"x","evidence":["s1"]}],"objective":[],"assessment":[],"plan":[]}}`
	if string(b) != want {
		t.Errorf("canonical form\n got %s\nwant %s", b, want)
	}
}
