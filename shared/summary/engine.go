package summary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/medi-os/medi/shared/llm"
	"github.com/medi-os/medi/shared/logging"
)

// Engine names.
const (
	EngineDeterministic = "deterministic"
	EngineGemini        = "gemini"
)

// Fallback reasons recorded when the configured model engine was not used: llm's
// (budget_exceeded, budget_unavailable, rate_limited, model_unavailable, timeout,
// model_error, invalid_answer) and the summary's own.
const (
	ReasonBudgetExceeded   = llm.ReasonBudgetExceeded
	ReasonModelError       = llm.ReasonModelError
	ReasonInvalidCitations = "invalid_citations"
)

// ErrInvalidCitations is wrapped by the error of a narrative that cites an id that is
// not among the facts' sources, or has a sentence without a citation.
var ErrInvalidCitations = errors.New("summary: narrative citations invalid")

// Written is what an engine adds to the facts.
type Written struct {
	Narrative []Item
	Model     string
	Usage     *Usage
}

// Engine writes a summary's narrative from the extracted facts only; id are the
// patient's identifiers a model engine must not send.
type Engine interface {
	Name() string
	Write(ctx context.Context, clinicID string, facts Facts, id llm.Identifiers) (Written, error)
}

// Deterministic is the extractive engine: the narrative is the synopsis.
type Deterministic struct{}

// Name implements Engine.
func (Deterministic) Name() string { return EngineDeterministic }

// Write implements Engine.
func (Deterministic) Write(_ context.Context, _ string, f Facts, _ llm.Identifiers) (Written, error) {
	return Written{Narrative: []Item{f.Synopsis}}, nil
}

// Builder builds a stored summary from sources.
type Builder struct {
	// Engine is the configured engine; nil means Deterministic. A model engine falls
	// back to Deterministic when it fails (its llm.Client keeps the budget and the usage).
	Engine Engine
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

func (b *Builder) now() time.Time {
	if b.Now != nil {
		return b.Now().UTC()
	}
	return time.Now().UTC()
}

// Build extracts the facts of src and has the engine write the summary. It does not
// fail: a model engine that cannot be used gives the deterministic summary with the
// reason in FallbackReason.
func (b *Builder) Build(ctx context.Context, clinicID string, src Sources) Stored {
	now := b.now()
	facts := Extract(src, now)
	out := Stored{
		PatientID:  src.Patient.ID,
		Citations:  Citations(src),
		SourceHash: SourceHash(src),
		Engine:     EngineDeterministic,
		BuiltAt:    now,
	}
	w, _ := Deterministic{}.Write(ctx, clinicID, facts, llm.Identifiers{})
	if eng := b.Engine; eng != nil && eng.Name() != EngineDeterministic {
		p := src.Patient
		id := llm.Identifiers{GivenName: p.GivenName, FamilyName: p.FamilyName, MRN: p.MRN, BirthDate: p.BirthDate, Phone: p.Phone}
		mw, reason := b.tryModel(ctx, clinicID, eng, facts, id)
		if reason == "" {
			w, out.Engine = mw, eng.Name()
		} else {
			out.FallbackReason = reason
			out.Usage = mw.Usage // a call that was made and rejected still cost
			out.Model = mw.Model
		}
	}
	if out.Engine != EngineDeterministic {
		out.Model, out.Usage = w.Model, w.Usage
	}
	out.Summary = Summary{Facts: facts, Narrative: w.Narrative}
	return out
}

func (b *Builder) tryModel(ctx context.Context, clinicID string, eng Engine, facts Facts, id llm.Identifiers) (Written, string) {
	w, err := eng.Write(ctx, clinicID, facts, id)
	if err == nil {
		return w, ""
	}
	reason := llm.ReasonOf(err)
	logging.FromContext(ctx).LogAttrs(ctx, slog.LevelWarn, "model narrative not used; deterministic engine used",
		slog.String("reason", reason), slog.String("error", err.Error()))
	return w, reason
}

// SourceIDs lists every source id the facts cite.
func SourceIDs(f Facts) map[string]bool {
	ids := map[string]bool{}
	add := func(ss []string) {
		for _, s := range ss {
			ids[s] = true
		}
	}
	add(f.Synopsis.Sources)
	for _, l := range [][]Item{f.Problems, f.Medications, f.Allergies, f.OpenItems} {
		for _, it := range l {
			add(it.Sources)
		}
	}
	for _, e := range f.Encounters {
		add(e.Sources)
	}
	for _, v := range f.Vitals {
		add(v.Sources)
	}
	return ids
}

// ValidateNarrative checks that every sentence cites at least one source and only ids
// the facts cite. Errors name the sentence's position and never its text or the id.
func ValidateNarrative(narrative []Item, f Facts) error {
	if len(narrative) == 0 {
		return fmt.Errorf("%w: empty narrative", ErrInvalidCitations)
	}
	ids := SourceIDs(f)
	for i, it := range narrative {
		if len(it.Sources) == 0 || strings.TrimSpace(it.Text) == "" {
			return fmt.Errorf("%w: sentence %d is empty or cites nothing", ErrInvalidCitations, i+1)
		}
		for _, s := range it.Sources {
			if !ids[s] {
				return fmt.Errorf("%w: sentence %d cites an id that is not a source", ErrInvalidCitations, i+1)
			}
		}
	}
	return nil
}
