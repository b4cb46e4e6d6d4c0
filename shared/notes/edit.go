package notes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/medi-os/medi/shared/apierr"
)

// Limits of edited content.
const (
	MaxSentencesPerSection = 200
	MaxSentenceRunes       = 2000
	MaxHeadingRunes        = 120
)

// heading trims a heading given in an edit.
func heading(h string) string { return strings.Join(strings.Fields(h), " ") }

// MergeEdit applies an edit to base and returns the content to store. Evidence is never
// invented (spans and flags are the server's: ignored in the edit; a kept sentence keeps
// the base's spans of the segments it still cites, and its flags while its text is
// unchanged; its heading is the base's unless the edit gives one):
//   - a sentence with the id of a base sentence keeps the base's evidence when its
//     evidence is absent (nil), or the given list, which must be a subset of the base's
//     (links may be dropped, not added); it is marked Edited when its text changed;
//   - a sentence without id is new: it gets a new id and no evidence (giving evidence is
//     a 400);
//   - an unknown id is a 400.
func MergeEdit(base, edit Content) (Content, error) {
	baseByID := map[string]Sentence{}
	maxN := 0
	for _, sec := range base.Sections() {
		for _, s := range *sec.Sentences {
			baseByID[s.ID] = s
			if n, err := strconv.Atoi(strings.TrimLeft(s.ID, "SOAPN")); err == nil && n > maxN {
				maxN = n
			}
		}
	}
	var fields []apierr.FieldError
	used := map[string]bool{}
	out := Content{}
	outSecs := out.Sections()
	for si, sec := range edit.Sections() {
		if len(*sec.Sentences) > MaxSentencesPerSection {
			fields = append(fields, apierr.FieldError{Field: "content." + sec.Name, Message: fmt.Sprintf("at most %d sentences", MaxSentencesPerSection)})
			continue
		}
		res := make([]Sentence, 0, len(*sec.Sentences))
		for i, s := range *sec.Sentences {
			f := fmt.Sprintf("content.%s[%d]", sec.Name, i)
			text, fe := sentenceText(s, f)
			if fe != nil {
				fields = append(fields, *fe)
				continue
			}
			if s.ID == "" {
				if len(s.Evidence) > 0 {
					fields = append(fields, apierr.FieldError{Field: f + ".evidence", Message: "a new sentence cannot cite evidence: links are kept or dropped, never added"})
					continue
				}
				maxN++
				res = append(res, Sentence{ID: "N" + strconv.Itoa(maxN), Text: text, Evidence: []string{}, Heading: heading(s.Heading), Edited: true})
				continue
			}
			b, ok := baseByID[s.ID]
			if !ok || used[s.ID] {
				fields = append(fields, apierr.FieldError{Field: f + ".id", Message: "unknown or repeated sentence id"})
				continue
			}
			used[s.ID] = true
			kept, fe := keepSentence(b, s, text, f)
			if fe != nil {
				fields = append(fields, *fe)
			}
			res = append(res, kept)
		}
		*outSecs[si].Sentences = res
	}
	if len(fields) > 0 {
		return Content{}, apierr.InvalidFields(fields)
	}
	return out, nil
}

// sentenceText is the edited sentence's trimmed text, or the field error that refuses it
// (f names the sentence): text required, text and heading within their limits.
func sentenceText(s Sentence, f string) (string, *apierr.FieldError) {
	text := strings.TrimSpace(s.Text)
	switch {
	case text == "":
		return "", &apierr.FieldError{Field: f + ".text", Message: "required"}
	case utf8.RuneCountInString(text) > MaxSentenceRunes:
		return "", &apierr.FieldError{Field: f + ".text", Message: fmt.Sprintf("at most %d characters", MaxSentenceRunes)}
	case utf8.RuneCountInString(s.Heading) > MaxHeadingRunes:
		return "", &apierr.FieldError{Field: f + ".heading", Message: fmt.Sprintf("at most %d characters", MaxHeadingRunes)}
	}
	return text, nil
}

// keepSentence is base sentence b as edited by s (its text already checked): the edit may
// keep or drop b's evidence links, never add one (a field error then); spans follow the
// links kept, flags stay only while the text is unchanged.
func keepSentence(b, s Sentence, text, f string) (Sentence, *apierr.FieldError) {
	var fe *apierr.FieldError
	ev := slices.Clone(b.Evidence)
	if s.Evidence != nil {
		for _, e := range s.Evidence {
			if !slices.Contains(b.Evidence, e) {
				fe = &apierr.FieldError{Field: f + ".evidence", Message: "may only keep or drop the sentence's existing links"}
				break
			}
		}
		ev = slices.Clone(s.Evidence)
	}
	if ev == nil {
		ev = []string{}
	}
	kept := Sentence{ID: s.ID, Text: text, Evidence: ev, Heading: b.Heading, Edited: b.Edited || text != b.Text}
	if h := heading(s.Heading); h != "" {
		kept.Heading = h
	}
	for _, sp := range b.Spans {
		if slices.Contains(ev, sp.SegmentID) {
			kept.Spans = append(kept.Spans, sp)
		}
	}
	if text == b.Text {
		kept.Flags = slices.Clone(b.Flags)
	}
	return kept, fe
}
