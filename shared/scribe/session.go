// Package scribe is the AI scribe's domain: upload sessions and their life cycle,
// upload checks (content types, limits, magic bytes), transcript parsers (plain text,
// WebVTT, JSON), the drafter interface with its deterministic implementation, and the
// speech-to-text interface. The functions scribe, scribe-ingest and scribe-worker call it;
// notes themselves live in package notes.
//
// Sessions live at clinics/{clinicId}/scribeSessions/{sessionId}; the upload is the object
// uploads/{clinicId}/{sessionId} of the uploads bucket. Object names hold ids only.
package scribe

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/medi-os/medi/shared/docid"
	"github.com/medi-os/medi/shared/transcript"
)

// Status of a session.
type Status string

// Session statuses: awaiting_upload -> uploaded -> transcribing -> drafting -> drafted,
// or failed from any state before drafted.
const (
	StatusAwaitingUpload Status = "awaiting_upload"
	StatusUploaded       Status = "uploaded"
	StatusTranscribing   Status = "transcribing"
	StatusDrafting       Status = "drafting"
	StatusDrafted        Status = "drafted"
	StatusFailed         Status = "failed"
)

// Terminal reports whether no further move is possible.
func (s Status) Terminal() bool { return s == StatusDrafted || s == StatusFailed }

// Kind is what an upload holds.
type Kind string

// Upload kinds.
const (
	KindAudio      Kind = "audio"
	KindTranscript Kind = "transcript"
)

// Upload limits (bytes).
const (
	MaxAudioBytes      int64 = 200 << 20
	MaxTranscriptBytes       = transcript.MaxBytes
)

// Format is an accepted upload format.
type Format struct {
	Name     string // wav, mp3, m4a, webm, ogg, flac, text, vtt, json
	Kind     Kind
	MaxBytes int64
}

// formats maps accepted media types (without parameters) to formats.
var formats = map[string]Format{
	"audio/wav":        {"wav", KindAudio, MaxAudioBytes},
	"audio/x-wav":      {"wav", KindAudio, MaxAudioBytes},
	"audio/wave":       {"wav", KindAudio, MaxAudioBytes},
	"audio/mpeg":       {"mp3", KindAudio, MaxAudioBytes},
	"audio/mp3":        {"mp3", KindAudio, MaxAudioBytes},
	"audio/mp4":        {"m4a", KindAudio, MaxAudioBytes},
	"audio/x-m4a":      {"m4a", KindAudio, MaxAudioBytes},
	"audio/m4a":        {"m4a", KindAudio, MaxAudioBytes},
	"audio/webm":       {"webm", KindAudio, MaxAudioBytes},
	"audio/ogg":        {"ogg", KindAudio, MaxAudioBytes},
	"audio/flac":       {"flac", KindAudio, MaxAudioBytes},
	"audio/x-flac":     {"flac", KindAudio, MaxAudioBytes},
	"text/plain":       {"text", KindTranscript, MaxTranscriptBytes},
	"text/vtt":         {"vtt", KindTranscript, MaxTranscriptBytes},
	"application/json": {"json", KindTranscript, MaxTranscriptBytes},
}

// AcceptedContentTypes lists the accepted media types, for error messages and docs.
func AcceptedContentTypes() []string {
	return []string{"audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3", "audio/mp4", "audio/x-m4a",
		"audio/m4a", "audio/webm", "audio/ogg", "audio/flac", "audio/x-flac", "text/plain", "text/vtt", "application/json"}
}

// FormatOf returns the format of a content type. Parameters are ignored except that a
// charset, when present, must be UTF-8.
func FormatOf(contentType string) (Format, bool) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return Format{}, false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return Format{}, false
	}
	f, ok := formats[mt]
	return f, ok
}

// Failure is why a session failed, for the app to show. Code is stable.
type Failure struct {
	Code    string `firestore:"code" json:"code"`
	Message string `firestore:"message" json:"message"`
}

// Failure codes.
const (
	FailEmpty            = "empty_upload"
	FailTooLarge         = "upload_too_large"
	FailContentType      = "content_type_mismatch"
	FailUnrecognized     = "unrecognized_content"
	FailTranscript       = "invalid_transcript"
	FailNoSpeechProvider = "speech_not_configured"
	FailSpeech           = "transcription_failed"
	FailDraft            = "draft_failed"
	FailObjectMissing    = "upload_missing"
)

// Fail returns a Failure.
func Fail(code, format string, args ...any) *Failure {
	return &Failure{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error makes a Failure usable as an error (it holds no patient data).
func (f *Failure) Error() string { return f.Code + ": " + f.Message }

// Timings records when each stage was reached and how long the worker's stages took.
type Timings struct {
	UploadedAt     time.Time `firestore:"uploadedAt,omitempty" json:"uploadedAt,omitzero"`
	TranscribingAt time.Time `firestore:"transcribingAt,omitempty" json:"transcribingAt,omitzero"`
	DraftingAt     time.Time `firestore:"draftingAt,omitempty" json:"draftingAt,omitzero"`
	DraftedAt      time.Time `firestore:"draftedAt,omitempty" json:"draftedAt,omitzero"`
	FailedAt       time.Time `firestore:"failedAt,omitempty" json:"failedAt,omitzero"`
	// Milliseconds spent in the worker's stages.
	TranscribeMs int64 `firestore:"transcribeMs,omitempty" json:"transcribeMs,omitempty"`
	DraftMs      int64 `firestore:"draftMs,omitempty" json:"draftMs,omitempty"`
	StoreMs      int64 `firestore:"storeMs,omitempty" json:"storeMs,omitempty"`
}

// Session is one upload and its way to a draft note.
type Session struct {
	ID          string   `firestore:"id" json:"id"`
	ClinicID    string   `firestore:"clinicId" json:"clinicId"`
	EncounterID string   `firestore:"encounterId" json:"encounterId"`
	PatientID   string   `firestore:"patientId" json:"patientId"`
	CreatedBy   string   `firestore:"createdBy" json:"createdBy"`
	ContentType string   `firestore:"contentType" json:"contentType"`
	Format      string   `firestore:"format" json:"format"`
	Kind        Kind     `firestore:"kind" json:"kind"`
	SizeBytes   int64    `firestore:"sizeBytes" json:"sizeBytes"`
	Status      Status   `firestore:"status" json:"status"`
	Bucket      string   `firestore:"bucket" json:"-"`
	Object      string   `firestore:"object" json:"object"`
	Generation  int64    `firestore:"generation,omitempty" json:"generation,omitempty"`
	ObjectSize  int64    `firestore:"objectSize,omitempty" json:"objectSize,omitempty"`
	Failure     *Failure `firestore:"failure,omitempty" json:"failure,omitempty"`
	NoteID      string   `firestore:"noteId,omitempty" json:"noteId,omitempty"`
	Engine      string   `firestore:"engine,omitempty" json:"engine,omitempty"`
	// FallbackReason says why the configured model's draft was not used (the note's).
	FallbackReason string  `firestore:"fallbackReason,omitempty" json:"fallbackReason,omitempty"`
	Timings        Timings `firestore:"timings" json:"timings"`
	// Sweeps counts the jobs the sweeper enqueued again for this session (Sweeper).
	Sweeps    int       `firestore:"sweeps,omitempty" json:"-"`
	CreatedAt time.Time `firestore:"createdAt" json:"createdAt"`
	UpdatedAt time.Time `firestore:"updatedAt" json:"updatedAt"`
	// PurgedAt is when retention deleted the upload and the transcript.
	PurgedAt time.Time `firestore:"purgedAt,omitempty" json:"purgedAt,omitzero"`
	// UploadToken binds the upload to this session: the signed upload URL requires it as
	// the object's metadata (UploadTokenMetadata, a signed x-goog-meta-* header), and
	// ingest refuses an object under the session's name that does not carry it. Made by
	// Store.Create; never a field of an API answer (the client gets it only as a header
	// to send with its upload).
	UploadToken string `firestore:"uploadToken,omitempty" json:"-"`
}

// UploadTokenMetadata is the object metadata key that carries a session's UploadToken;
// the client sends it as the header x-goog-meta-medi-upload-token.
const UploadTokenMetadata = "medi-upload-token"

// NewUploadToken returns a fresh upload token: 32 random bytes, hex.
func NewUploadToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// UploadBound reports whether an object with metadata was uploaded through this
// session's signed URL: it carries the session's upload token (compared in constant
// time). A session without a token binds nothing and accepts no upload.
func (s Session) UploadBound(metadata map[string]string) bool {
	got := metadata[UploadTokenMetadata]
	return s.UploadToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.UploadToken)) == 1
}

// ObjectName is the upload object of a session.
func ObjectName(clinicID, sessionID string) string {
	return "uploads/" + clinicID + "/" + sessionID
}

// ParseObjectName returns clinic and session of an upload object name.
func ParseObjectName(name string) (clinicID, sessionID string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 || parts[0] != "uploads" || !docid.Valid(parts[1]) || !docid.Valid(parts[2]) {
		return "", "", false
	}
	return parts[1], parts[2], true
}
