package notes

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"time"
)

// LOINC codes of the export.
const (
	loincProgressNote = "11506-3" // Progress note
	loincSubjective   = "61150-9"
	loincObjective    = "61149-1"
	loincAssessment   = "51848-0"
	loincPlan         = "18776-5"
)

// FHIRMediaType is the media type of a FHIR JSON resource (FHIR R4, http.html#mime).
const FHIRMediaType = "application/fhir+json"

// FHIRExport is the FHIR R4 export of a note version: a Bundle (type collection) with a
// Composition (one section per SOAP part that has sentences) and a DocumentReference
// whose attachment is that Composition as application/fhir+json. It states only what the
// note holds: a SOAP part without sentences is left out rather than given an empty
// narrative (invariant txt-2) or an emptyReason (which would be a clinical claim such as
// "nil known"), and the content hash identifier only when the version has one.
func FHIRExport(n Note, v Version) map[string]any {
	comp := composition(n, v)
	compJSON, _ := json.Marshal(comp)
	docStatus := "preliminary"
	switch {
	case v.Approval != nil:
		docStatus = "final"
	case n.Status == StatusAmended:
		docStatus = "amended"
	}
	docRef := map[string]any{
		"resourceType": "DocumentReference",
		"id":           n.ID + "-v" + itoa(v.Number),
		"status":       "current",
		"docStatus":    docStatus,
		"type":         codeable("http://loinc.org", loincProgressNote, "Progress note"),
		"subject":      map[string]any{"reference": "Patient/" + n.PatientID},
		"date":         v.CreatedAt.UTC().Format(time.RFC3339),
		"context":      map[string]any{"encounter": []any{map[string]any{"reference": "Encounter/" + n.EncounterID}}},
		"content": []any{map[string]any{"attachment": map[string]any{
			"contentType": FHIRMediaType,
			"data":        base64.StdEncoding.EncodeToString(compJSON),
			"title":       "SOAP note v" + itoa(v.Number),
		}}},
	}
	if v.SHA256 != "" {
		// R4 attachment.hash is SHA-1; the SHA-256 of the canonical content is an identifier.
		docRef["identifier"] = []any{map[string]any{"system": "urn:medi-os:note-content-sha256", "value": v.SHA256}}
	}
	if v.Approval != nil {
		docRef["authenticator"] = map[string]any{"reference": "Practitioner/" + v.Approval.SignerUID}
	}
	return map[string]any{
		"resourceType": "Bundle",
		"type":         "collection",
		"entry":        []any{map[string]any{"resource": docRef}, map[string]any{"resource": comp}},
	}
}

func composition(n Note, v Version) map[string]any {
	status := "preliminary"
	if v.Approval != nil {
		status = "final"
	} else if v.Kind == KindAmendment {
		status = "amended"
	}
	c := v.Content
	var secs []any
	for _, s := range []struct {
		title, code string
		ss          []Sentence
	}{{"Subjective", loincSubjective, c.Subjective}, {"Objective", loincObjective, c.Objective},
		{"Assessment", loincAssessment, c.Assessment}, {"Plan", loincPlan, c.Plan}} {
		var b strings.Builder
		for _, x := range s.ss {
			if t := strings.TrimSpace(x.Text); t != "" {
				b.WriteString("<p>" + html.EscapeString(t) + "</p>")
			}
		}
		if b.Len() == 0 {
			continue // nothing is known of this part: no section (cmp-1, txt-2)
		}
		sec := map[string]any{"title": s.title, "code": codeable("http://loinc.org", s.code, s.title),
			"text": map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">` + b.String() + "</div>"}}
		secs = append(secs, sec)
	}
	comp := map[string]any{
		"resourceType": "Composition",
		"id":           n.ID + "-v" + itoa(v.Number),
		"status":       status,
		"type":         codeable("http://loinc.org", loincProgressNote, "Progress note"),
		"subject":      map[string]any{"reference": "Patient/" + n.PatientID},
		"encounter":    map[string]any{"reference": "Encounter/" + n.EncounterID},
		"date":         v.CreatedAt.UTC().Format(time.RFC3339),
		"author":       []any{map[string]any{"reference": "Practitioner/" + v.AuthorUID}},
		"title":        "SOAP note",
	}
	if len(secs) > 0 {
		comp["section"] = secs // an empty array is not valid FHIR JSON
	}
	if v.Approval != nil {
		comp["attester"] = []any{map[string]any{"mode": "legal", "time": v.Approval.SignedAt.UTC().Format(time.RFC3339),
			"party": map[string]any{"reference": "Practitioner/" + v.Approval.SignerUID}}}
	}
	return comp
}

func codeable(system, code, display string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code, "display": display}}}
}

func itoa(n int) string { return strconv.Itoa(n) }
