package scribe

import (
	"context"
	"errors"
	"github.com/medi-os/medi/shared/transcript"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/notes"
)

const consultation = `Doctor: Good morning, take a seat.
Patient: I've had a cough and fever for three days.
Doctor: Any allergies?
Patient: I'm allergic to penicillin.
Patient: I take metformin 500 mg by mouth twice a day.
Nurse: BP 142/90, temp 38.4, sats 93 %.
Doctor: On examination there are crackles at the right base.
Doctor: I think this is most likely a community acquired pneumonia.
Doctor: I'll prescribe clarithromycin 500 mg orally twice daily.
Doctor: We'll get a chest x-ray and review you in two days.
Patient: Thank you.`

func mustParse(t *testing.T, format, in string) transcript.Transcript {
	t.Helper()
	tr, err := transcript.ParseTranscript(format, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestDeterministicDraft(t *testing.T) {
	t.Parallel()
	tr := mustParse(t, "text", consultation)
	d, err := Deterministic{}.Draft(context.Background(), tr)
	if err != nil {
		t.Fatal(err)
	}
	want := notes.Content{
		Subjective: []notes.Sentence{
			{ID: "S1", Text: "Patient reports: \u201cI've had a cough and fever for three days.\u201d", Evidence: []string{"s2"}},
			{ID: "S2", Text: "Allergy: penicillin.", Evidence: []string{"s4"}},
			{ID: "S3", Text: "Current medication: metformin 500 mg orally.", Evidence: []string{"s5"}},
		},
		Objective: []notes.Sentence{
			{ID: "O1", Text: "Blood pressure 142/90 mmHg.", Evidence: []string{"s6"}},
			{ID: "O2", Text: "Temperature 38.4 \u00b0C.", Evidence: []string{"s6"}},
			{ID: "O3", Text: "Oxygen saturation 93 %.", Evidence: []string{"s6"}},
			{ID: "O4", Text: "On examination there are crackles at the right base.", Evidence: []string{"s7"}},
		},
		Assessment: []notes.Sentence{
			{ID: "A1", Text: "I think this is most likely a community acquired pneumonia.", Evidence: []string{"s8"}},
		},
		Plan: []notes.Sentence{
			{ID: "P1", Text: "Medication: clarithromycin 500 mg orally.", Evidence: []string{"s9"}},
			{ID: "P2", Text: "We'll get a chest x-ray and review you in two days.", Evidence: []string{"s10"}},
		},
	}
	if diff := cmp.Diff(want, d.Content); diff != "" {
		t.Errorf("draft (-want +got):\n%s", diff)
	}
	if d.Engine != DeterministicEngine {
		t.Errorf("engine = %q", d.Engine)
	}
	total, cited := d.Content.SentenceCount()
	if total == 0 || cited != total {
		t.Errorf("%d of %d sentences cite evidence, want all", cited, total)
	}
	// Same input, same draft.
	again, _ := Deterministic{}.Draft(context.Background(), tr)
	if diff := cmp.Diff(d, again); diff != "" {
		t.Errorf("not deterministic:\n%s", diff)
	}
}

func TestExtractVariants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		role transcript.Role
		in   string
		want []extraction
	}{
		{transcript.RoleClinician, "Blood pressure was 120 over 80 and pulse 96", []extraction{
			{"objective", "Blood pressure 120/80 mmHg."}, {"objective", "Heart rate 96 /min."}}},
		{transcript.RoleClinician, "SpO2 of 97% on air, RR 18", []extraction{
			{"objective", "Oxygen saturation 97 %."}, {"objective", "Respiratory rate 18 /min."}}},
		{transcript.RolePatient, "No known allergies", []extraction{{"subjective", "No known drug allergies."}}},
		{transcript.RolePatient, "I'm allergic to amoxicillin and cats", []extraction{{"subjective", "Allergy: amoxicillin."}}},
		{transcript.RoleClinician, "Give ceftriaxone 2 g IV now", []extraction{{"plan", "Medication: ceftriaxone 2 g intravenously."}}},
		{transcript.RoleClinician, "start salbutamol 2 puffs inhaled as needed", []extraction{{"plan", "Medication: salbutamol 2 puffs inhaled."}}},
		{transcript.RolePatient, "I use paracetamolol", nil},
	} {
		got := extract(tc.in, tc.role)
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(extraction{})); diff != "" {
			t.Errorf("extract(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestValidateDraft(t *testing.T) {
	t.Parallel()
	tr := mustParse(t, "text", "Doctor: hi there\nPatient: my head hurts")
	for _, tc := range []struct {
		name string
		c    notes.Content
		ok   bool
	}{
		{"valid", notes.Content{Subjective: []notes.Sentence{{Text: "Headache.", Evidence: []string{"s2"}}}}, true},
		{"unknown id", notes.Content{Subjective: []notes.Sentence{{Text: "Headache.", Evidence: []string{"s9"}}}}, false},
		{"no evidence", notes.Content{Plan: []notes.Sentence{{Text: "Rest."}}}, false},
		{"empty text", notes.Content{Plan: []notes.Sentence{{Text: " ", Evidence: []string{"s1"}}}}, false},
		{"no sentences", notes.Content{}, false},
	} {
		d := Draft{Content: tc.c}
		err := ValidateDraft(&d, tr)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidDraft)) {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if tc.ok && d.Content.Subjective[0].ID != "S1" {
			t.Errorf("%s: sentence id not assigned: %+v", tc.name, d.Content.Subjective[0])
		}
	}
}
