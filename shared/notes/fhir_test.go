package notes_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/notes"
	"github.com/medi-os/medi/shared/notes/fhirtest"
)

// The parts of the export the tests read, decoded from its JSON as a FHIR client would.
type coding struct {
	Coding []struct{ System, Code, Display string } `json:"coding"`
}

type reference struct {
	Reference string `json:"reference"`
}

type composition struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id"`
	Status       string      `json:"status"`
	Subject      reference   `json:"subject"`
	Encounter    reference   `json:"encounter"`
	Author       []reference `json:"author"`
	Date         string      `json:"date"`
	Attester     []struct {
		Mode  string    `json:"mode"`
		Time  string    `json:"time"`
		Party reference `json:"party"`
	} `json:"attester"`
	Section []struct {
		Title       string `json:"title"`
		Code        coding `json:"code"`
		Text        struct{ Status, Div string }
		EmptyReason *coding `json:"emptyReason"`
	} `json:"section"`
}

type bundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type documentReference struct {
	ResourceType  string                           `json:"resourceType"`
	ID            string                           `json:"id"`
	DocStatus     string                           `json:"docStatus"`
	Identifier    []struct{ System, Value string } `json:"identifier"`
	Subject       reference                        `json:"subject"`
	Authenticator *reference                       `json:"authenticator"`
	Content       []struct {
		Attachment struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
			Title       string `json:"title"`
		} `json:"attachment"`
	} `json:"content"`
}

// export renders the export of v, checks it with the FHIR R4 validator (HL7's schema and
// the invariants of the elements used) and decodes its two resources.
func export(t *testing.T, n notes.Note, v notes.Version) (documentReference, composition, []byte) {
	t.Helper()
	raw, err := json.Marshal(notes.FHIRExport(n, v))
	if err != nil {
		t.Fatal(err)
	}
	if err := fhirtest.Validate(raw); err != nil {
		t.Errorf("the export is not valid FHIR R4: %v\n%s", err, raw)
	}
	var b bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.ResourceType != "Bundle" || b.Type != "collection" || len(b.Entry) != 2 {
		t.Fatalf("bundle %s/%s with %d entries, want a collection of 2", b.ResourceType, b.Type, len(b.Entry))
	}
	var d documentReference
	var c composition
	if err := json.Unmarshal(b.Entry[0].Resource, &d); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Entry[1].Resource, &c); err != nil {
		t.Fatal(err)
	}
	return d, c, b.Entry[1].Resource
}

var (
	created = time.Date(2026, 12, 7, 9, 15, 0, 0, time.FixedZone("CET", 3600))
	note    = notes.Note{ID: "3f2b8c1e-9d4a-4e7b-a0c5-1b2d3e4f5a6b", ClinicID: "c1", EncounterID: "e1", PatientID: "p1", Status: notes.StatusPendingReview}
	content = notes.Content{
		Subjective: []notes.Sentence{{ID: "s1", Text: "Cough for 3 days, worse at night."}},
		Assessment: []notes.Sentence{{ID: "a1", Text: "Likely bronchitis <not pneumonia> & no wheeze."}},
		Plan:       []notes.Sentence{{ID: "p1", Text: "Fluids."}, {ID: "p2", Text: "Review in 1 week."}},
	}
)

// An unapproved draft is exported as preliminary, with one section per SOAP part that has
// sentences, in order, its sentences escaped as XHTML, an empty part left out (no empty
// narrative, no "nil known" claim), and the attachment carrying exactly the Composition of
// the bundle.
func TestFHIRExportOfADraft(t *testing.T) {
	t.Parallel()
	v := notes.Version{Number: 2, Kind: notes.KindEdit, Content: content, AuthorUID: "doc-1", SHA256: "abc123", CreatedAt: created}
	d, c, compJSON := export(t, note, v)

	const id = "3f2b8c1e-9d4a-4e7b-a0c5-1b2d3e4f5a6b-v2"
	if d.ID != id || c.ID != id || d.DocStatus != "preliminary" || c.Status != "preliminary" {
		t.Errorf("ids %s/%s, statuses %s/%s; want %s and preliminary", d.ID, c.ID, d.DocStatus, c.Status, id)
	}
	if d.Authenticator != nil || len(c.Attester) != 0 {
		t.Errorf("an unapproved version has an authenticator %v or attesters %v", d.Authenticator, c.Attester)
	}
	if len(d.Identifier) != 1 || d.Identifier[0].Value != "abc123" || d.Identifier[0].System != "urn:medi-os:note-content-sha256" {
		t.Errorf("identifier %+v, want the content hash", d.Identifier)
	}
	if d.Subject.Reference != "Patient/p1" || c.Subject.Reference != "Patient/p1" || c.Encounter.Reference != "Encounter/e1" {
		t.Errorf("subject %s/%s, encounter %s", d.Subject.Reference, c.Subject.Reference, c.Encounter.Reference)
	}
	if len(c.Author) != 1 || c.Author[0].Reference != "Practitioner/doc-1" || c.Date != "2026-12-07T08:15:00Z" {
		t.Errorf("author %v date %s, want Practitioner/doc-1 at the UTC time", c.Author, c.Date)
	}

	type section struct{ Title, Code, Div, Empty string }
	var got []section
	for _, s := range c.Section {
		sec := section{Title: s.Title, Code: s.Code.Coding[0].Code, Div: s.Text.Div}
		if s.EmptyReason != nil {
			sec.Empty = s.EmptyReason.Coding[0].Code
		}
		got = append(got, sec)
	}
	const div = `<div xmlns="http://www.w3.org/1999/xhtml">`
	want := []section{
		{"Subjective", "61150-9", div + "<p>Cough for 3 days, worse at night.</p></div>", ""},
		{"Assessment", "51848-0", div + "<p>Likely bronchitis &lt;not pneumonia&gt; &amp; no wheeze.</p></div>", ""},
		{"Plan", "18776-5", div + "<p>Fluids.</p><p>Review in 1 week.</p></div>", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sections (-want +got):\n%s", diff)
	}

	if len(d.Content) != 1 || d.Content[0].Attachment.ContentType != "application/fhir+json" || d.Content[0].Attachment.Title != "SOAP note v2" {
		t.Fatalf("attachment %+v", d.Content)
	}
	data, err := base64.StdEncoding.DecodeString(d.Content[0].Attachment.Data)
	if err != nil {
		t.Fatal(err)
	}
	var fromAttachment, fromBundle any
	if err := json.Unmarshal(data, &fromAttachment); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(compJSON, &fromBundle); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromBundle, fromAttachment); diff != "" {
		t.Errorf("the attachment is not the bundle's Composition (-bundle +attachment):\n%s", diff)
	}
}

// An approved version is final and names its signer as legal attester and
// authenticator; an amendment not yet approved is exported as amended.
func TestFHIRExportStatuses(t *testing.T) {
	t.Parallel()
	signed := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	approved := notes.Version{Number: 1, Kind: notes.KindDraft, Content: content, AuthorUID: "scribe", CreatedAt: created,
		Approval: &notes.Approval{SignerUID: "doc-9", SignedAt: signed, SHA256: "h"}}
	approvedNote := note
	approvedNote.Status = notes.StatusApproved
	d, c, _ := export(t, approvedNote, approved)
	if d.DocStatus != "final" || c.Status != "final" {
		t.Errorf("approved: statuses %s/%s, want final", d.DocStatus, c.Status)
	}
	if d.Authenticator == nil || d.Authenticator.Reference != "Practitioner/doc-9" {
		t.Errorf("authenticator %v, want Practitioner/doc-9", d.Authenticator)
	}
	if len(c.Attester) != 1 || c.Attester[0].Mode != "legal" || c.Attester[0].Party.Reference != "Practitioner/doc-9" ||
		c.Attester[0].Time != "2026-12-07T10:00:00Z" {
		t.Errorf("attester %+v, want doc-9 as legal attester at the signing time", c.Attester)
	}

	amendedNote := note
	amendedNote.Status = notes.StatusAmended
	amendment := notes.Version{Number: 3, Kind: notes.KindAmendment, Content: content, AuthorUID: "doc-9", CreatedAt: created}
	d, c, _ = export(t, amendedNote, amendment)
	if d.DocStatus != "amended" || c.Status != "amended" {
		t.Errorf("amendment: statuses %s/%s, want amended", d.DocStatus, c.Status)
	}
}

// A version of which nothing is known (no sentence, or only blank ones, and no content
// hash) is still valid FHIR: a Composition without sections and a DocumentReference
// without the hash identifier, never an empty narrative or an emptyReason.
func TestFHIRExportStatesOnlyWhatIsKnown(t *testing.T) {
	t.Parallel()
	blank := notes.Content{Plan: []notes.Sentence{{ID: "p1", Text: "  "}}}
	for name, c := range map[string]notes.Content{"no sentences": {}, "blank sentences": blank} {
		v := notes.Version{Number: 1, Kind: notes.KindDraft, Content: c, AuthorUID: "scribe", CreatedAt: created}
		d, comp, raw := export(t, note, v)
		if len(comp.Section) != 0 {
			t.Errorf("%s: sections %+v, want none", name, comp.Section)
		}
		if len(d.Identifier) != 0 {
			t.Errorf("%s: identifier %+v without a content hash", name, d.Identifier)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		if _, ok := fields["section"]; ok {
			t.Errorf("%s: the Composition has a section element: %s", name, raw)
		}
	}
}
