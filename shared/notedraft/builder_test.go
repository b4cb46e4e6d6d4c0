package notedraft

import (
	"context"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/transcript"
	"github.com/medi-os/medi/tests/fixtures"
)

func parse(t *testing.T, text string) transcript.Transcript {
	t.Helper()
	tr, err := transcript.ParseTranscript("text", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

const consultation = `Doctor: What brings you in today?
Patient: Um, I've had a cough and, you know, a fever for three days. My chest hurts when I cough.
Doctor: Any shortness of breath?
Patient: No, not really.
Doctor: Are you allergic to any medications?
Patient: I'm allergic to penicillin, it gives me hives.
Doctor: What medications do you take?
Patient: I take lisinopril 20 milligrams once a day and I used to take ibuprofen but I stopped it.
Doctor: Your temperature is 101.3 and your blood pressure is one forty over ninety. Oxygen saturation 95 percent.
Doctor: On your lung exam, I hear crackles at the right base.
Doctor: I think this is community acquired pneumonia.
Doctor: I'm going to start you on azithromycin 500 milligrams today, then 250 milligrams daily for four days.
Doctor: Stop the ibuprofen. We'll increase your lisinopril to 40 milligrams daily and follow up in one week.
`

func TestBuildWritesANoteFromFacts(t *testing.T) {
	t.Parallel()
	tr := parse(t, consultation)
	d, err := Deterministic{}.Draft(context.Background(), Input{Transcript: tr, Patient: Patient{Sex: "female"}})
	if err != nil {
		t.Fatal(err)
	}
	text := d.Content.Text()
	for _, want := range []string{
		"Vital signs: temperature 101.3 °F (38.5 °C), blood pressure 140/90 mmHg, oxygen saturation 95 %.",
		"Allergies: penicillin (hives).",
		"Current medications: lisinopril 20 mg daily.",
		"Denies shortness of breath.",
		"Start azithromycin 500 mg",
		"Increase lisinopril to 40 mg daily.",
		"Pneumonia.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("draft lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"10 °C", "Um", "you know", "Current medications: lisinopril 20 mg daily; ibuprofen", "penicillin 1"} {
		if strings.Contains(text, bad) {
			t.Errorf("draft has %q:\n%s", bad, text)
		}
	}
	if len(d.Content.Assessment) == 0 {
		t.Error("no assessment")
	}
	// Every sentence: spans inside cited segments, quoting them; the inferred unit flagged.
	estimated := false
	for _, sec := range d.Content.Sections() {
		for _, s := range *sec.Sentences {
			if s.ID == "" || len(s.Spans) == 0 {
				t.Errorf("sentence %+v has no id or span", s)
			}
			for _, sp := range s.Spans {
				seg, ok := tr.Segment(sp.SegmentID)
				if !ok || !transcript.CheckSpan(seg, sp) {
					t.Errorf("span %+v not in the transcript", sp)
				}
			}
			if s.Unsupported() {
				t.Errorf("deterministic sentence flagged: %+v", s)
			}
			for _, f := range s.Flags {
				if f.Kind == notes.FlagEstimated && f.Claim == "unit" {
					estimated = true
				}
			}
		}
	}
	if !estimated {
		t.Error("the temperature's inferred unit is not flagged as estimated")
	}
	// Deterministic.
	again, _ := Deterministic{}.Draft(context.Background(), Input{Transcript: tr, Patient: Patient{Sex: "female"}})
	if again.Content.Text() != text {
		t.Error("two drafts of one transcript differ")
	}
}

func TestThirdPerson(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line, sex, want string
	}{
		{"Patient: I've been traveling a lot and my knee hurts.", "female", "She has been traveling a lot and her knee hurts."},
		{"Patient: I feel tired and I don't sleep well.", "male", "He feels tired and he does not sleep well."},
		{"Doctor: You have some fluid in your legs.", "female", "She has some fluid in her legs."},
		{"Doctor: I'm going to order an x-ray of your knee.", "male", "We will order an x-ray of his knee."},
		{"Patient: It started on Monday.", "", "The patient reports that it started on Monday."},
	} {
		tr := parse(t, tc.line)
		s := tr.Sentences()[0]
		d := &draft{ss: []transcript.Sentence{s}, p: Patient{Sex: tc.sex}, used: map[int]bool{}}
		it, ok := d.statement(0, "")
		if !ok || it.text != tc.want {
			t.Errorf("%q -> %q, want %q", tc.line, it.text, tc.want)
		}
	}
}

func TestQuestionAndAnswerBecomeAStatement(t *testing.T) {
	t.Parallel()
	tr := parse(t, "Doctor: Any chest pain or swelling in your legs?\nPatient: No, not that I've noticed.\n")
	ss := tr.Sentences()
	d := &draft{ss: ss, p: Patient{Sex: "male"}, used: map[int]bool{}}
	it, ok := d.questionAnswer(0)
	if !ok || it.text != "He denies chest pain or swelling in his legs." || len(it.spans) != 2 {
		t.Errorf("got %q (%d spans)", it.text, len(it.spans))
	}
}

func TestValidateRejectsSpansOutsideTheirSegment(t *testing.T) {
	t.Parallel()
	tr := parse(t, "Doctor: Hello there.\nPatient: A cough for three days.\n")
	good := transcript.Span{SegmentID: "s2", Start: 0, End: 7, Quote: "A cough"}
	for _, tc := range []struct {
		name string
		s    notes.Sentence
		ok   bool
	}{
		{"valid", notes.Sentence{Text: "Cough.", Evidence: []string{"s2"}, Spans: []transcript.Span{good}}, true},
		{"no span", notes.Sentence{Text: "Cough.", Evidence: []string{"s2"}}, false},
		{"span of an uncited segment", notes.Sentence{Text: "Cough.", Evidence: []string{"s1"}, Spans: []transcript.Span{good}}, false},
		{"quote differs", notes.Sentence{Text: "Cough.", Evidence: []string{"s2"}, Spans: []transcript.Span{{SegmentID: "s2", Start: 0, End: 7, Quote: "A fever"}}}, false},
		{"beyond the segment", notes.Sentence{Text: "Cough.", Evidence: []string{"s2"}, Spans: []transcript.Span{{SegmentID: "s2", Start: 20, End: 99, Quote: "x"}}}, false},
		{"unknown segment", notes.Sentence{Text: "Cough.", Evidence: []string{"s9"}, Spans: []transcript.Span{{SegmentID: "s9", Start: 0, End: 1, Quote: "x"}}}, false},
	} {
		d := Draft{Content: notes.Content{Subjective: []notes.Sentence{tc.s}}}
		if err := Validate(&d, tr); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

// BenchmarkDraft15Minutes drafts a synthetic 15-minute consultation (about 2250 words):
//
//	go test -run XXX -bench Draft15 -benchmem ./shared/notedraft/
func BenchmarkDraft15Minutes(b *testing.B) {
	tr, err := transcript.ParseTranscript("text", []byte(fixtures.Consultation(15)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := (Deterministic{}).Draft(context.Background(), Input{Transcript: tr, Patient: Patient{Sex: "female"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFifteenMinuteConsultation(t *testing.T) {
	t.Parallel()
	text := fixtures.Consultation(15)
	if n := len(strings.Fields(text)); n < 2100 || n > 2700 {
		t.Fatalf("%d words, want about 2250", n)
	}
	d, err := Deterministic{}.Draft(context.Background(), Input{Transcript: parse(t, text), Patient: Patient{Sex: "female"}})
	if err != nil {
		t.Fatal(err)
	}
	note := d.Content.Text()
	for _, want := range []string{"Increase lisinopril to 40 mg daily.", "Stop ibuprofen.", "Start doxycycline 100 mg", "Allergies: penicillin (hives).",
		"temperature 99.1 °F", "blood pressure 148/92 mmHg"} {
		if !strings.Contains(note, want) {
			t.Errorf("draft lacks %q", want)
		}
	}
	if strings.Contains(note, "Current medications: lisinopril 20 mg daily; metformin 500 mg twice daily; aspirin; ibuprofen") {
		t.Error("the stopped ibuprofen is listed as current")
	}
}
