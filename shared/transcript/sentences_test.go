package transcript

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokenize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"BP 120/80, temp 38.4.", []string{"BP", "120/80", ",", "temp", "38.4", "."}},
		{"i do n't know , it 's fine", []string{"i", "don't", "know", ",", "it's", "fine"}},
		{"I'm gon na start 1,000 mg", []string{"I'm", "going to", "start", "1000", "mg"}},
		{"x-ray at 10:30 today", []string{"x-ray", "at", "10:30", "today"}},
		{"grade 3/6 murmur, 5/5 strength", []string{"grade", "3/6", "murmur", ",", "5/5", "strength"}},
	} {
		var got []string
		for _, tk := range Tokenize(tc.in) {
			got = append(got, tk.Text)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestTokenOffsetsPointIntoTheText(t *testing.T) {
	t.Parallel()
	text := "Temperature is 101.3 °F — she isn't well"
	rs := []rune(text)
	for _, tk := range Tokenize(text) {
		if got := string(rs[tk.Start:tk.End]); got != tk.Text && tk.Text != "isn't" {
			t.Errorf("token %q at %d..%d reads %q", tk.Text, tk.Start, tk.End, got)
		}
	}
}

func sentences(t *testing.T, lines string) []Sentence {
	t.Helper()
	tr, err := ParseTranscript("text", []byte(lines))
	if err != nil {
		t.Fatal(err)
	}
	return tr.Sentences()
}

func TestSentences(t *testing.T) {
	t.Parallel()
	type sent struct {
		Clean    string
		Question bool
		Answer   string
	}
	for _, tc := range []struct {
		name, in string
		want     []sent
	}{
		{
			name: "abbreviations and spoken decimals do not end sentences",
			in:   "[doctor] you saw dr . alice davis, mr. smith ? your temperature is a hundred . four today . okay .\n",
			want: []sent{{"you saw dr. alice davis, mr. smith?", true, ""}, {"your temperature is a hundred. four today.", false, ""}, {"okay.", false, ""}},
		},
		{
			name: "fillers, repeats, false starts and openers go",
			in:   "Patient: Um, so, I, I've been, you know, feeling tired for like four days. My, my knee hurts or- it aches.\n",
			want: []sent{{"I've been, feeling tired for four days.", false, ""}, {"My knee hurts it aches.", false, ""}},
		},
		{
			name: "tag questions are statements; short replies are answers",
			in:   "Doctor: We'll start lisinopril, okay?\nPatient: Yeah.\nDoctor: Any chest pain?\nPatient: No, not that I've noticed.\n",
			want: []sent{{"We'll start lisinopril.", false, ""}, {"Yeah.", false, "yes"}, {"Any chest pain?", true, ""}, {"not that I've noticed.", false, "no"}},
		},
		{
			name: "unpunctuated speech splits at markers and question openings",
			in:   "[doctor] okay so four days ago you started feeling badly okay now were you having chills and do you have pain every time you swallow\n",
			want: []sent{{"four days ago you started feeling badly", false, ""}, {"were you having chills and", true, ""}, {"do you have pain every time you swallow", true, ""}},
		},
		{
			name: "a narrative starting with when is not a question",
			in:   "[patient] when i was a kid i had strep throat but i haven't had anything like that as an adult\n",
			want: []sent{{"when i was a kid i had strep throat but i haven't had anything like that as an adult", false, ""}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []sent
			for _, s := range sentences(t, tc.in) {
				got = append(got, sent{s.Clean(), s.Question, s.Answer})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSentenceSpansQuoteTheSegment(t *testing.T) {
	t.Parallel()
	tr, err := ParseTranscript("text", []byte("Doctor: How are you? I'm Dr. Ngũgĩ.\nPatient: Très bien. Um, my knee hurts — a lot.\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range tr.Sentences() {
		seg, _ := tr.Segment(s.SegmentID)
		if sp := s.Span(); !CheckSpan(seg, sp) {
			t.Errorf("sentence span %+v does not quote segment %q", sp, seg.Text)
		}
		if len(s.Tokens) > 1 {
			if sp := s.TokenSpan(1, len(s.Tokens)); !CheckSpan(seg, sp) {
				t.Errorf("token span %+v does not quote segment %q", sp, seg.Text)
			}
		}
	}
	seg := tr.Segments[0]
	for _, bad := range []Span{
		{SegmentID: "s2", Start: 0, End: 3, Quote: "How"},
		{SegmentID: "s1", Start: 0, End: 3, Quote: "Who"},
		{SegmentID: "s1", Start: 3, End: 3, Quote: ""},
		{SegmentID: "s1", Start: 30, End: 90, Quote: "x"},
	} {
		if CheckSpan(seg, bad) {
			t.Errorf("CheckSpan accepted %+v", bad)
		}
	}
}

func TestBracketLabelsAndCompanions(t *testing.T) {
	t.Parallel()
	tr, err := ParseTranscript("text", []byte("[doctor] hi\n[patient] hello\n[patient_guest] i'm her husband\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []Role
	for _, s := range tr.Segments {
		got = append(got, s.Role)
	}
	if diff := cmp.Diff([]Role{RoleClinician, RolePatient, RoleOther}, got); diff != "" || tr.RolesInferred {
		t.Errorf("roles (-want +got):\n%s (inferred %v)", diff, tr.RolesInferred)
	}
}
