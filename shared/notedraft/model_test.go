package notedraft

import (
	"context"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/llm/llmtest"
)

const visit = "Doctor: What brings you in, Mrs Collins?\nPatient: I've had a cough for three days and my left knee hurts.\n" +
	"Doctor: Your temperature is 38.4. I'll start amoxicillin 500 mg three times a day.\n"

func modelDraft(t *testing.T, answer string) (Draft, *llmtest.Vertex, error) {
	t.Helper()
	fake, gc := llmtest.New(t, llmtest.Reply{Text: answer})
	m := &Model{LLM: &llm.Client{GenAI: gc, Model: "gemini-test", Attempts: 1}}
	d, err := m.DraftFor(context.Background(), "c1", Input{Transcript: parse(t, visit), Patient: Patient{Sex: "female", FamilyName: "Collins"}})
	return d, fake, err
}

func TestModelDraftLocatesQuotesAsSpans(t *testing.T) {
	t.Parallel()
	d, fake, err := modelDraft(t, `{"subjective":[{"text":"[PATIENT_FAMILY_NAME] reports a cough for three days and left knee pain.","heading":"History of present illness",
		"evidence":[{"segmentId":"s2","quote":"I've had a cough for three days and my left knee hurts"}]}],
		"objective":[{"text":"Temperature 38.4 °C.","heading":"Vital signs","evidence":[{"segmentId":"s3","quote":"Your temperature is 38.4"}]}],
		"assessment":[],
		"plan":[{"text":"Amoxicillin 500 mg three times daily.","heading":"Plan","evidence":[{"segmentId":"s3","quote":"amoxicillin 500 mg three times a day"}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fake.Sent(), "Collins") {
		t.Error("the family name was sent to the model")
	}
	if d.Engine != "gemini:gemini-test" || d.Usage == nil || d.Usage.InputTokens != 1000 {
		t.Errorf("engine %q usage %+v", d.Engine, d.Usage)
	}
	s := d.Content.Subjective[0]
	if !strings.HasPrefix(s.Text, "Collins reports") || len(s.Spans) != 1 || s.Spans[0].Quote != "I've had a cough for three days and my left knee hurts" || s.Unsupported() {
		t.Errorf("sentence %+v", s)
	}
	if p := d.Content.Plan[0]; p.Spans[0].Start != 37 || p.Spans[0].Quote != "amoxicillin 500 mg three times a day" {
		t.Errorf("plan span %+v", p.Spans)
	}
}

func TestModelSentencesTheSpansDoNotSupportAreFlagged(t *testing.T) {
	t.Parallel()
	// One of four sentences unsupported: kept, flagged for the doctor.
	d, _, err := modelDraft(t, `{"subjective":[{"text":"Cough for three days.","heading":"HPI","evidence":[{"segmentId":"s2","quote":"I've had a cough for three days"}]},
		{"text":"Right knee pain.","heading":"HPI","evidence":[{"segmentId":"s2","quote":"my left knee hurts"}]}],
		"objective":[{"text":"Temperature 38.4.","heading":"Vital signs","evidence":[{"segmentId":"s3","quote":"Your temperature is 38.4"}]}],
		"assessment":[],
		"plan":[{"text":"Amoxicillin 500 mg.","heading":"Plan","evidence":[{"segmentId":"s3","quote":"amoxicillin 500 mg"}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	knee := d.Content.Subjective[1]
	if !knee.Unsupported() || knee.Flags[0].Claim != "laterality" {
		t.Errorf("right knee for a left knee: %+v", knee)
	}
	if d.Content.Subjective[0].Unsupported() || d.Content.Plan[0].Unsupported() {
		t.Error("supported sentences flagged")
	}
}

func TestUngroundedModelDraftIsRejected(t *testing.T) {
	t.Parallel()
	// "Acute myocardial infarction" citing "I've had a cough for three days", and a dose
	// the transcript never says: the draft is rejected for the deterministic one.
	_, _, err := modelDraft(t, `{"subjective":[{"text":"Acute myocardial infarction.","heading":"HPI","evidence":[{"segmentId":"s2","quote":"I've had a cough for three days"}]}],
		"objective":[],"assessment":[],
		"plan":[{"text":"Amoxicillin 875 mg.","heading":"Plan","evidence":[{"segmentId":"s3","quote":"amoxicillin 500 mg"}]}]}`)
	if llm.ReasonOf(err) != ReasonUngrounded {
		t.Fatalf("err = %v", err)
	}
}

func TestModelQuotesNotInTheTranscript(t *testing.T) {
	t.Parallel()
	d, _, err := modelDraft(t, `{"subjective":[{"text":"Cough for three days.","heading":"HPI","evidence":[{"segmentId":"s2","quote":"I've had a cough for three days"}]},
		{"text":"Cough.","heading":"HPI","evidence":[{"segmentId":"s2","quote":"coughing all night"}]},
		{"text":"Knee pain.","heading":"HPI","evidence":[{"segmentId":"s2","quote":"my left knee hurts"}]},
		{"text":"Three days.","heading":"HPI","evidence":[{"segmentId":"s9","quote":"x"},{"segmentId":"s2","quote":"three days"}]}],
		"objective":[],"assessment":[],"plan":[]}`)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Content.Subjective[1]
	if !s.Unsupported() || s.Flags[0].Claim != "quote" || s.Spans[0].Start != 0 {
		t.Errorf("a quote not in the segment: %+v", s)
	}
	if last := d.Content.Subjective[3]; len(last.Evidence) != 1 || last.Evidence[0] != "s2" {
		t.Errorf("an unknown segment id became evidence: %+v", last)
	}
}

func TestModelAnswersWithoutEvidenceAreInvalid(t *testing.T) {
	t.Parallel()
	_, _, err := modelDraft(t, `{"subjective":[{"text":"Cough.","heading":"HPI","evidence":[]}],"objective":[],"assessment":[],"plan":[]}`)
	if llm.ReasonOf(err) != llm.ReasonInvalidAnswer {
		t.Fatalf("err = %v", err)
	}
}
