package scribe

import (
	"testing"
)

func TestParseObjectName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in           string
		clinic, sess string
		ok           bool
	}{
		{"uploads/c1/s-1", "c1", "s-1", true},
		{"uploads/c1", "", "", false},
		{"uploads/c1/s1/x", "", "", false},
		{"other/c1/s1", "", "", false},
		{"uploads/../s1", "", "", false},
		{"uploads/c1/", "", "", false},
	} {
		c, s, ok := ParseObjectName(tc.in)
		if c != tc.clinic || s != tc.sess || ok != tc.ok {
			t.Errorf("ParseObjectName(%q) = %q %q %v, want %q %q %v", tc.in, c, s, ok, tc.clinic, tc.sess, tc.ok)
		}
	}
	if got := ObjectName("c1", "s1"); got != "uploads/c1/s1" {
		t.Errorf("ObjectName = %q", got)
	}
}

func TestCheckUpload(t *testing.T) {
	t.Parallel()
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 20)...)
	for _, tc := range []struct {
		name        string
		sessionType string
		declared    int64
		objectType  string
		size        int64
		head        []byte
		want        string // failure code, "" for accepted
	}{
		{"text ok", "text/plain", 100, "text/plain; charset=utf-8", 20, []byte("Doctor: hello there."), ""},
		{"vtt ok with bom", "text/vtt", 100, "text/vtt", 30, []byte("\xEF\xBB\xBFWEBVTT\n\n"), ""},
		{"json ok", "application/json", 100, "application/json", 10, []byte(" {\"segments\":[]}"), ""},
		{"wav ok", "audio/wav", 1000, "audio/x-wav", 32, wav, ""},
		{"mp3 id3", "audio/mpeg", 1000, "audio/mpeg", 10, []byte("ID3\x04\x00"), ""},
		{"mp3 frame sync", "audio/mpeg", 1000, "audio/mpeg", 10, []byte{0xFF, 0xFB, 0x90}, ""},
		{"m4a", "audio/mp4", 1000, "audio/m4a", 12, []byte("\x00\x00\x00\x20ftypM4A "), ""},
		{"webm", "audio/webm", 1000, "audio/webm", 4, []byte{0x1A, 0x45, 0xDF, 0xA3}, ""},
		{"ogg", "audio/ogg", 1000, "audio/ogg", 4, []byte("OggS"), ""},
		{"flac", "audio/flac", 1000, "audio/flac", 4, []byte("fLaC"), ""},
		{"empty", "text/plain", 100, "text/plain", 0, nil, FailEmpty},
		{"over transcript limit", "text/plain", MaxTranscriptBytes, "text/plain", MaxTranscriptBytes + 1, []byte("x"), FailTooLarge},
		{"over declared size", "text/plain", 10, "text/plain", 11, []byte("Doctor: hi"), FailTooLarge},
		{"type mismatch", "text/plain", 100, "application/json", 10, []byte("{}"), FailContentType},
		{"wav claimed, text sent", "audio/wav", 1000, "audio/wav", 10, []byte("hello world"), FailUnrecognized},
		{"binary as text", "text/plain", 100, "text/plain", 10, []byte("ab\x00cd"), FailUnrecognized},
		{"vtt without header", "text/vtt", 100, "text/vtt", 10, []byte("hello"), FailUnrecognized},
		{"json not json", "application/json", 100, "application/json", 10, []byte("hello"), FailUnrecognized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := CheckUpload(Session{ContentType: tc.sessionType, SizeBytes: tc.declared}, tc.objectType, tc.size, tc.head)
			got := ""
			if f != nil {
				got = f.Code
				if f.Message == "" {
					t.Error("failure without message")
				}
			}
			if got != tc.want {
				t.Errorf("CheckUpload = %q (%v), want %q", got, f, tc.want)
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	t.Parallel()
	for _, ct := range AcceptedContentTypes() {
		if _, ok := FormatOf(ct); !ok {
			t.Errorf("FormatOf(%q) not accepted", ct)
		}
	}
	for _, ct := range []string{"", "video/mp4", "text/plain; charset=latin1", "application/pdf", "text/html"} {
		if _, ok := FormatOf(ct); ok {
			t.Errorf("FormatOf(%q) accepted", ct)
		}
	}
}
