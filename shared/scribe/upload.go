package scribe

import (
	"bytes"
	"unicode/utf8"
)

// SniffBytes is how many leading bytes CheckUpload needs.
const SniffBytes = 512

// CheckUpload checks an uploaded object against its session: size within the format's
// limit (and not empty), the object's content type equal to the declared one, and the
// leading bytes (head, up to SniffBytes) looking like the declared format. It returns
// nil or the Failure to record.
func CheckUpload(s Session, objectContentType string, size int64, head []byte) *Failure {
	f, ok := FormatOf(s.ContentType)
	if !ok {
		return Fail(FailContentType, "the session's content type is not accepted")
	}
	switch {
	case size <= 0:
		return Fail(FailEmpty, "the upload is empty")
	case size > f.MaxBytes:
		return Fail(FailTooLarge, "the upload has %d bytes; %s uploads may have at most %d", size, f.Kind, f.MaxBytes)
	case s.SizeBytes > 0 && size > s.SizeBytes:
		return Fail(FailTooLarge, "the upload has %d bytes, more than the %d declared for the session", size, s.SizeBytes)
	}
	if of, ok := FormatOf(objectContentType); !ok || of.Name != f.Name {
		return Fail(FailContentType, "the upload's content type does not match the session's (%s)", s.ContentType)
	}
	if !LooksLike(f.Name, head) {
		return Fail(FailUnrecognized, "the upload's content is not %s", f.Name)
	}
	return nil
}

// LooksLike reports whether head, the first bytes of a file, is plausible for format.
// Audio formats are checked by their signatures; text formats must be UTF-8 without
// NUL bytes (a cut multi-byte character at the end of head is allowed), WebVTT must
// start with "WEBVTT" and JSON with '{' or '['.
func LooksLike(format string, head []byte) bool {
	switch format {
	case "wav":
		return len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WAVE"))
	case "mp3":
		return bytes.HasPrefix(head, []byte("ID3")) || (len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0)
	case "m4a":
		return len(head) >= 8 && bytes.Equal(head[4:8], []byte("ftyp"))
	case "webm":
		return bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3})
	case "ogg":
		return bytes.HasPrefix(head, []byte("OggS"))
	case "flac":
		return bytes.HasPrefix(head, []byte("fLaC"))
	}
	if !isText(head) {
		return false
	}
	t := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	switch format {
	case "text":
		return len(bytes.TrimSpace(t)) > 0
	case "vtt":
		return bytes.HasPrefix(t, []byte("WEBVTT"))
	case "json":
		t = bytes.TrimLeft(t, " \t\r\n")
		return len(t) > 0 && (t[0] == '{' || t[0] == '[')
	}
	return false
}

func isText(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	// Allow a multi-byte character cut by the sniff window.
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}
