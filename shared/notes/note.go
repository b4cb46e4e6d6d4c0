// Package notes holds clinical notes (SOAP) and their versions: the draft the scribe
// writes, clinicians' edits, submission, a doctor's approval with a content hash, rejection
// and amendment, and the FHIR R4 export.
//
// Notes live at clinics/{clinicId}/notes/{noteId}; versions at .../versions/{n}. A version
// is written once and never changed, except that approval stamps the version it approves
// (signer, time, hash) exactly once; after that nothing in it changes.
package notes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/transcript"
)

// Status of a note.
type Status string

// Note statuses.
const (
	StatusDraft         Status = "draft"
	StatusPendingReview Status = "pending_review"
	StatusApproved      Status = "approved"
	StatusAmended       Status = "amended"
)

// Sentence is one sentence of a section with the transcript segments it came from.
type Sentence struct {
	ID       string   `firestore:"id" json:"id"`
	Text     string   `firestore:"text" json:"text"`
	Evidence []string `firestore:"evidence" json:"evidence"`
	// Spans are the exact stretches of the cited segments the sentence rests on (segment
	// id, code-point offsets into the segment's text, and the quoted words), so the doctor
	// can check each sentence against the transcript. Every span's segment is in Evidence.
	Spans []transcript.Span `firestore:"spans,omitempty" json:"spans,omitempty"`
	// Heading groups sentences under a sub-heading of their section ("History of present
	// illness", "Vital signs", a problem's name in the assessment).
	Heading string `firestore:"heading,omitempty" json:"heading,omitempty"`
	// Flags mark what the doctor must check before signing: claims the grounding check
	// found unsupported by the cited spans, and values the drafter estimated (a unit
	// inferred from the value). Server-set: ignored in edits, dropped when the text changes.
	Flags []Flag `firestore:"flags,omitempty" json:"flags,omitempty"`
	// Edited is true when a clinician changed the text after the draft.
	Edited bool `firestore:"edited,omitempty" json:"edited,omitempty"`
}

// Flag kinds.
const (
	FlagUnsupported = "unsupported"
	FlagEstimated   = "estimated"
)

// Flag is something about a sentence the doctor must check.
type Flag struct {
	// Kind is unsupported (the cited spans do not support the claim) or estimated (the
	// drafter inferred it).
	Kind string `firestore:"kind" json:"kind"`
	// Claim names what: number, dose, drug, laterality, negation, diagnosis, quote (the
	// quoted words are not in the segment), unit.
	Claim string `firestore:"claim" json:"claim"`
	// Detail says it in words for the doctor ("40 mg is not in the cited words").
	Detail string `firestore:"detail" json:"detail"`
}

// Unsupported reports whether the sentence has an unsupported flag.
func (s Sentence) Unsupported() bool {
	for _, f := range s.Flags {
		if f.Kind == FlagUnsupported {
			return true
		}
	}
	return false
}

// Content is a SOAP note.
type Content struct {
	Subjective []Sentence `firestore:"subjective" json:"subjective"`
	Objective  []Sentence `firestore:"objective" json:"objective"`
	Assessment []Sentence `firestore:"assessment" json:"assessment"`
	Plan       []Sentence `firestore:"plan" json:"plan"`
}

// MarshalJSON writes an empty section as [] (never null), as the API promises: Firestore
// gives back an empty list as nil.
func (c Content) MarshalJSON() ([]byte, error) {
	type plain Content
	for _, s := range c.Sections() {
		if *s.Sentences == nil {
			*s.Sentences = []Sentence{}
		}
	}
	return json.Marshal(plain(c))
}

// Sections returns the sections in SOAP order with their names.
func (c *Content) Sections() []struct {
	Name      string
	Sentences *[]Sentence
} {
	return []struct {
		Name      string
		Sentences *[]Sentence
	}{{"subjective", &c.Subjective}, {"objective", &c.Objective}, {"assessment", &c.Assessment}, {"plan", &c.Plan}}
}

// SentenceCount returns the number of sentences and how many cite evidence.
func (c Content) SentenceCount() (total, withEvidence int) {
	for _, s := range c.Sections() {
		for _, x := range *s.Sentences {
			total++
			if len(x.Evidence) > 0 {
				withEvidence++
			}
		}
	}
	return total, withEvidence
}

// Usage is what a model-written draft cost.
type Usage = llm.Usage

// Approval is a doctor's signature on a version.
type Approval struct {
	SignerUID string    `firestore:"signerUid" json:"signerUid"`
	SignedAt  time.Time `firestore:"signedAt" json:"signedAt"`
	// SHA256 is the hex SHA-256 of the version's canonical content (CanonicalHash).
	SHA256 string `firestore:"sha256" json:"sha256"`
}

// Note is the current state of a clinical note.
type Note struct {
	ID              string    `firestore:"id" json:"id"`
	ClinicID        string    `firestore:"clinicId" json:"clinicId"`
	EncounterID     string    `firestore:"encounterId" json:"encounterId"`
	PatientID       string    `firestore:"patientId" json:"patientId"`
	SessionID       string    `firestore:"sessionId,omitempty" json:"sessionId,omitempty"`
	Status          Status    `firestore:"status" json:"status"`
	CurrentVersion  int       `firestore:"currentVersion" json:"currentVersion"`
	ApprovedVersion int       `firestore:"approvedVersion,omitempty" json:"approvedVersion,omitempty"`
	Approval        *Approval `firestore:"approval,omitempty" json:"approval,omitempty"`
	// ApprovedAt repeats Approval.SignedAt for retention queries.
	ApprovedAt time.Time `firestore:"approvedAt,omitempty" json:"-"`
	// RejectionReason is the last reviewer's reason, cleared on the next submission.
	RejectionReason string `firestore:"rejectionReason,omitempty" json:"rejectionReason,omitempty"`
	Engine          string `firestore:"engine" json:"engine"`
	// FallbackReason says why the configured model's draft was not used and the
	// deterministic drafter wrote it instead (model_error, timeout, rate_limited,
	// budget_exceeded, invalid_answer, ungrounded, ...); empty otherwise.
	FallbackReason string    `firestore:"fallbackReason,omitempty" json:"fallbackReason,omitempty"`
	Content        Content   `firestore:"content" json:"content"`
	CreatedAt      time.Time `firestore:"createdAt" json:"createdAt"`
	UpdatedAt      time.Time `firestore:"updatedAt" json:"updatedAt"`
}

// Version is one immutable revision of a note.
type Version struct {
	Number int `firestore:"number" json:"number"`
	// Kind says how the version came about: draft (the scribe), edit, amendment.
	Kind       string  `firestore:"kind" json:"kind"`
	Content    Content `firestore:"content" json:"content"`
	AuthorUID  string  `firestore:"authorUid" json:"authorUid"`
	AuthorRole string  `firestore:"authorRole" json:"authorRole"`
	Engine     string  `firestore:"engine,omitempty" json:"engine,omitempty"`
	// FallbackReason is the note's, for the draft version.
	FallbackReason string    `firestore:"fallbackReason,omitempty" json:"fallbackReason,omitempty"`
	Usage          *Usage    `firestore:"usage,omitempty" json:"usage,omitempty"`
	SHA256         string    `firestore:"sha256" json:"sha256"`
	Approval       *Approval `firestore:"approval,omitempty" json:"approval,omitempty"`
	CreatedAt      time.Time `firestore:"createdAt" json:"createdAt"`
}

// Version kinds.
const (
	KindDraft     = "draft"
	KindEdit      = "edit"
	KindAmendment = "amendment"
)

// canonical is the hashed form: fixed field order, sections in SOAP order, sentence ids,
// texts and evidence in order. Encoding/json writes struct fields in declaration order
// and escapes consistently, so equal content gives equal bytes.
type canonical struct {
	NoteID  string  `json:"noteId"`
	Version int     `json:"version"`
	Content Content `json:"content"`
}

// CanonicalHash is the hex SHA-256 of a version's canonical content (note id, version
// number, and the content with empty lists as []).
func CanonicalHash(noteID string, version int, c Content) string {
	c = normalize(c)
	b, _ := json.Marshal(canonical{NoteID: noteID, Version: version, Content: c})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// normalize replaces nil slices with empty ones so that stored and fresh content hash alike.
func normalize(c Content) Content {
	for _, s := range c.Sections() {
		if *s.Sentences == nil {
			*s.Sentences = []Sentence{}
		}
		for i := range *s.Sentences {
			if (*s.Sentences)[i].Evidence == nil {
				(*s.Sentences)[i].Evidence = []string{}
			}
		}
	}
	return c
}

// Text writes the note as a reader sees it: each section's name, then its sentences
// grouped under their headings, one paragraph per heading (a heading the paragraph's
// first sentence starts with is not repeated).
func (c Content) Text() string {
	var b strings.Builder
	for _, sec := range c.Sections() {
		if len(*sec.Sentences) == 0 {
			continue
		}
		b.WriteString(strings.ToUpper(sec.Name))
		b.WriteString("\n")
		heading := ""
		for i, s := range *sec.Sentences {
			if s.Heading != heading || i == 0 {
				if i > 0 {
					b.WriteString("\n")
				}
				if s.Heading != "" && !strings.HasPrefix(strings.ToLower(s.Text), strings.ToLower(s.Heading)) {
					b.WriteString(s.Heading)
					b.WriteString(": ")
				}
				heading = s.Heading
			} else {
				b.WriteString(" ")
			}
			b.WriteString(s.Text)
		}
		b.WriteString("\n\n")
	}
	return strings.TrimSpace(b.String())
}
