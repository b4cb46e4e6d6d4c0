package transcript

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzFormats are the formats FuzzParseTranscript picks from; the last one is not a
// transcript format.
var fuzzFormats = []string{"text", "vtt", "json", "srt"}

// FuzzParseTranscript checks the transcript parsers' contract on arbitrary uploads:
//   - input that is not UTF-8, and any format but text, vtt and json, is an error;
//   - every error wraps ErrTranscript and has a short message that quotes no input;
//   - a parsed transcript has 1..MaxSegments segments numbered s1, s2, ... whose text is
//     non-empty, valid UTF-8 and white-space normalised, whose role is clinician, patient
//     or other, and whose offsets satisfy 0 <= startMs <= endMs <= MaxOffsetMs;
//   - RolesInferred is true exactly when some segment's role was inferred.
func FuzzParseTranscript(f *testing.F) {
	f.Add(uint8(0), []byte("[00:00:01] Doctor: What brings you in?\n[00:00:04] Patient: A cough.\n  Worse at night.\n"))
	f.Add(uint8(1), []byte("WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n<v Dr Patel>How are you?</v>\n\n00:00:04.000 --> 00:00:06.000\nPatient: Tired.\n"))
	f.Add(uint8(2), []byte(`{"segments":[{"speaker":"Doctor","start":1.5,"end":2,"text":"Hello"},{"role":"patient","start":3,"text":"Hi"}]}`))
	f.Add(uint8(2), []byte(`[{"text":"no times"}]`))
	f.Add(uint8(3), []byte("1\n00:00:01,000 --> 00:00:02,000\nHello\n"))
	f.Fuzz(func(t *testing.T, formatArg uint8, data []byte) {
		format := fuzzFormats[int(formatArg)%len(fuzzFormats)]
		tr, err := ParseTranscript(format, data)
		if err != nil {
			if !errors.Is(err, ErrTranscript) {
				t.Fatalf("error does not wrap ErrTranscript: %v", err)
			}
			msg := err.Error()
			if len(msg) > 200 {
				t.Fatalf("error message of %d bytes", len(msg))
			}
			for _, line := range strings.Split(string(data), "\n") {
				if line = strings.TrimSpace(line); len(line) >= 12 && strings.Contains(msg, line) {
					t.Fatalf("error message quotes the input: %q", msg)
				}
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatal("parsed input that is not UTF-8")
		}
		if format == "srt" {
			t.Fatal("parsed a format that is not a transcript format")
		}
		if tr.Source != format {
			t.Fatalf("source %q, want %q", tr.Source, format)
		}
		if n := len(tr.Segments); n == 0 || n > MaxSegments {
			t.Fatalf("%d segments", n)
		}
		inferred := false
		for i, s := range tr.Segments {
			if want := "s" + strconv.Itoa(i+1); s.ID != want {
				t.Fatalf("segment %d has id %q, want %q", i, s.ID, want)
			}
			if s.Text == "" || !utf8.ValidString(s.Text) || s.Text != strings.Join(strings.Fields(s.Text), " ") {
				t.Fatalf("segment %s: text %q is empty, not UTF-8 or not normalised", s.ID, s.Text)
			}
			switch s.Role {
			case RoleClinician, RolePatient, RoleOther:
			default:
				t.Fatalf("segment %s: role %q", s.ID, s.Role)
			}
			if s.StartMs < 0 || s.EndMs < s.StartMs || s.EndMs > MaxOffsetMs {
				t.Fatalf("segment %s: offsets %d..%d out of range 0..%d", s.ID, s.StartMs, s.EndMs, MaxOffsetMs)
			}
			if !utf8.ValidString(s.Speaker) || s.Speaker != strings.TrimSpace(s.Speaker) {
				t.Fatalf("segment %s: speaker %q", s.ID, s.Speaker)
			}
			inferred = inferred || s.RoleInferred
		}
		if tr.RolesInferred != inferred {
			t.Fatalf("RolesInferred %v, segments inferred %v", tr.RolesInferred, inferred)
		}
	})
}
