package notes

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/httpx"
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
		var he *httpx.Error
		if !errors.As(err, &he) || he.Status != 400 {
			t.Errorf("%s: err = %v, want a 400", tc.name, err)
			continue
		}
		if !containsField(he, tc.field) {
			t.Errorf("%s: details %v do not name %s", tc.name, he.Details, tc.field)
		}
	}
}

func containsField(he *httpx.Error, field string) bool {
	d, _ := he.Details.(map[string]any)
	fs, _ := d["fields"].([]httpx.FieldError)
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
