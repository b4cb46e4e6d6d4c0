package notedraft

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/transcript"
)

// Input is what a drafter reads: the transcript and what the patient record says of the
// patient (pronouns for the deterministic builder; the identifiers the model path
// replaces before any text leaves).
type Input struct {
	Transcript transcript.Transcript
	Patient    Patient
}

// Draft is a drafter's output.
type Draft struct {
	Content notes.Content
	// Engine names what wrote the draft: "deterministic-v2" or "gemini:<model>".
	Engine string
	// Usage is set by model-based drafters.
	Usage *notes.Usage
	// FallbackReason says why the configured model's draft was not used.
	FallbackReason string
}

// Drafter writes a SOAP draft. Every sentence must cite spans of the transcript that lie
// inside the segments it cites (checked by Validate before anything is stored).
type Drafter interface {
	Draft(ctx context.Context, in Input) (Draft, error)
}

// ErrInvalidDraft is wrapped by Validate's errors.
var ErrInvalidDraft = errors.New("invalid draft")

// Validate checks a draft against its transcript: every sentence has text and cites at
// least one span; every span lies inside a segment of the transcript, quotes it exactly
// and its segment is among the sentence's evidence ids, every evidence id exists. It
// numbers sentence ids ("S1", "O2", ...) when missing.
func Validate(d *Draft, t transcript.Transcript) error {
	total := 0
	for _, sec := range d.Content.Sections() {
		for i := range *sec.Sentences {
			s := &(*sec.Sentences)[i]
			where := fmt.Sprintf("%s sentence %d", sec.Name, i+1)
			if strings.TrimSpace(s.Text) == "" {
				return fmt.Errorf("%w: %s is empty", ErrInvalidDraft, where)
			}
			if len(s.Spans) == 0 || len(s.Evidence) == 0 {
				return fmt.Errorf("%w: %s cites nothing", ErrInvalidDraft, where)
			}
			for _, id := range s.Evidence {
				if _, ok := t.Segment(id); !ok {
					return fmt.Errorf("%w: %s cites unknown segment %q", ErrInvalidDraft, where, id)
				}
			}
			for k, sp := range s.Spans {
				seg, ok := t.Segment(sp.SegmentID)
				if !ok || !slices.Contains(s.Evidence, sp.SegmentID) || !transcript.CheckSpan(seg, sp) {
					return fmt.Errorf("%w: %s span %d does not lie inside a cited segment", ErrInvalidDraft, where, k+1)
				}
			}
			if s.ID == "" {
				s.ID = fmt.Sprintf("%c%d", strings.ToUpper(sec.Name[:1])[0], i+1)
			}
			total++
		}
	}
	if total == 0 {
		return fmt.Errorf("%w: no sentences", ErrInvalidDraft)
	}
	return nil
}

// Check runs the grounding check on every sentence of a draft and adds an unsupported
// flag for each claim its spans do not support (estimated flags, and a quote that was
// not found in its segment, are kept). It returns how many sentences are flagged
// unsupported.
func Check(c *notes.Content) int {
	n := 0
	for _, sec := range c.Sections() {
		for i := range *sec.Sentences {
			s := &(*sec.Sentences)[i]
			kept := s.Flags[:0:0]
			for _, f := range s.Flags {
				if f.Kind != notes.FlagUnsupported || f.Claim == "quote" { // Ground's own flags are recomputed
					kept = append(kept, f)
				}
			}
			s.Flags = append(kept, Ground(s.Text, s.Spans)...)
			if s.Unsupported() {
				n++
			}
		}
	}
	return n
}

// Deterministic drafts with the builder: it never calls out and always gives the same
// draft for the same input.
type Deterministic struct{ Builder Builder }

var _ Drafter = Deterministic{}

// Draft implements Drafter.
func (d Deterministic) Draft(_ context.Context, in Input) (Draft, error) {
	c, err := d.Builder.Build(in.Transcript, in.Patient)
	if err != nil {
		return Draft{}, err
	}
	out := Draft{Content: c, Engine: Engine}
	if err := Validate(&out, in.Transcript); err != nil {
		return Draft{}, err
	}
	Check(&out.Content)
	return out, nil
}
