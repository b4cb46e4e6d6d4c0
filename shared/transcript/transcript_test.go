package transcript

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTranscript(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, format, in string
		want             []Segment
		inferred         bool
	}{
		{
			name: "labelled text with times", format: "text",
			in: "[00:00:01] Doctor: What brings you in?\n[00:00:04] Patient: I've had a cough for three days.\n  It is worse at night.\n",
			want: []Segment{
				{ID: "s1", StartMs: 1000, EndMs: 1000, Speaker: "Doctor", Role: RoleClinician, Text: "What brings you in?"},
				{ID: "s2", StartMs: 4000, EndMs: 4000, Speaker: "Patient", Role: RolePatient, Text: "I've had a cough for three days. It is worse at night."},
			},
		},
		{
			name: "unlabeled text is inferred", format: "text",
			in: "How long have you had the pain?\nI've been aching since Monday.\nOkay.\n",
			want: []Segment{
				{ID: "s1", Role: RoleClinician, RoleInferred: true, Text: "How long have you had the pain?"},
				{ID: "s2", Role: RolePatient, RoleInferred: true, Text: "I've been aching since Monday."},
				{ID: "s3", Role: RoleClinician, RoleInferred: true, Text: "Okay."},
			},
			inferred: true,
		},
		{
			name: "dr name and relative labels", format: "text",
			in: "Dr Patel: Any allergies?\nMother: She is allergic to penicillin.\nSpeaker 2: my throat hurts",
			want: []Segment{
				{ID: "s1", Speaker: "Dr Patel", Role: RoleClinician, Text: "Any allergies?"},
				{ID: "s2", Speaker: "Mother", Role: RoleOther, Text: "She is allergic to penicillin."},
				{ID: "s3", Speaker: "Speaker 2", Role: RolePatient, RoleInferred: true, Text: "my throat hurts"},
			},
			inferred: true,
		},
		{
			name: "webvtt with voice spans and prefixes", format: "vtt",
			in: "WEBVTT\n\n1\n00:00:01.000 --> 00:00:03.500\n<v Doctor>Your blood pressure is 142/90.</v>\n\n00:00:04.000 --> 00:00:06.000\nPatient: <i>Is that</i> high?\n\n00:01:00.000 --> 00:01:02.250\nokay then\n",
			want: []Segment{
				{ID: "s1", StartMs: 1000, EndMs: 3500, Speaker: "Doctor", Role: RoleClinician, Text: "Your blood pressure is 142/90."},
				{ID: "s2", StartMs: 4000, EndMs: 6000, Speaker: "Patient", Role: RolePatient, Text: "Is that high?"},
				{ID: "s3", StartMs: 60000, EndMs: 62250, Role: RoleClinician, RoleInferred: true, Text: "okay then"},
			},
			inferred: true,
		},
		{
			name: "json object with roles and seconds", format: "json",
			in: `{"segments":[{"speaker":"A","role":"clinician","start":0.5,"end":2,"text":"Temp 38.4."},{"speaker":"Nurse","start":2,"end":3.25,"text":"Sats 93 %"}]}`,
			want: []Segment{
				{ID: "s1", StartMs: 500, EndMs: 2000, Speaker: "A", Role: RoleClinician, Text: "Temp 38.4."},
				{ID: "s2", StartMs: 2000, EndMs: 3250, Speaker: "Nurse", Role: RoleClinician, Text: "Sats 93 %"},
			},
		},
		{
			name: "json bare array skips empty text", format: "json",
			in:   `[{"speaker":"patient","text":"I feel dizzy"},{"speaker":"doctor","text":"   "}]`,
			want: []Segment{{ID: "s1", Speaker: "patient", Role: RolePatient, Text: "I feel dizzy"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTranscript(tc.format, []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Segments); diff != "" {
				t.Errorf("segments (-want +got):\n%s", diff)
			}
			if got.RolesInferred != tc.inferred {
				t.Errorf("RolesInferred = %v, want %v", got.RolesInferred, tc.inferred)
			}
		})
	}
}

func TestParseTranscriptRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, format, in string }{
		{"empty text", "text", "  \n\n"},
		{"not utf8", "text", "\xff\xfe"},
		{"vtt without header", "vtt", "00:00:01.000 --> 00:00:02.000\nhi"},
		{"vtt end before start", "vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nhi"},
		{"json syntax", "json", `{"segments":[`},
		{"json wrong shape", "json", `{"segments":"x"}`},
		{"json bad role", "json", `[{"role":"surgeon","text":"hi"}]`},
		{"json negative time", "json", `[{"start":-1,"text":"hi"}]`},
		{"unknown format", "wav", "RIFF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseTranscript(tc.format, []byte(tc.in)); !errors.Is(err, ErrTranscript) {
				t.Errorf("err = %v, want ErrTranscript", err)
			}
		})
	}
}
