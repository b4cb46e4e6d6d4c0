package fhirtest_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/notes/fhirtest"
)

const div = `<div xmlns=\"http://www.w3.org/1999/xhtml\">`

// composition is a minimal Composition with the given section JSON.
func composition(sections string) string {
	return `{"resourceType":"Composition","status":"final","type":{"text":"Progress note"},` +
		`"subject":{"reference":"Patient/p1"},"date":"2026-12-07T08:15:00Z","author":[{"reference":"Practitioner/d1"}],` +
		`"title":"SOAP note"` + sections + `}`
}

// The validator accepts a valid resource and refuses each kind of defect the export
// once had or could have: it is a real check, not our own idea of the format.
func TestResource(t *testing.T) {
	t.Parallel()
	good := composition(`,"section":[{"title":"Plan","text":{"status":"generated","div":"` + div + `<p>Fluids.</p></div>"}}]`)
	attached := base64.StdEncoding.EncodeToString([]byte(good))
	for _, tc := range []struct {
		name, json, want string
	}{
		{"valid composition", good, ""},
		{"valid composition without sections", composition(""), ""},
		{"valid bundle with an attached composition", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` +
			`{"resourceType":"DocumentReference","status":"current","content":[{"attachment":{"contentType":"application/fhir+json","data":"` + attached + `"}}]}}]}`, ""},
		{"empty narrative (txt-2) marked nil known", composition(`,"section":[{"title":"Objective","text":{"status":"generated","div":"` + div + `</div>"},` +
			`"emptyReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/list-empty-reason","code":"nilknown"}]}}]`), "txt-2"},
		{"section with nothing (cmp-1)", composition(`,"section":[{"title":"Objective"}]`), "cmp-1"},
		{"emptyReason with entries (cmp-2)", composition(`,"section":[{"title":"Plan","entry":[{"reference":"CarePlan/1"}],` +
			`"emptyReason":{"text":"none"}}]`), "cmp-2"},
		{"script in the narrative (txt-1)", composition(`,"section":[{"title":"Plan","text":{"status":"generated","div":"` + div + `<script>x()</script></div>"}}]`), "txt-1"},
		{"narrative not an XHTML div (txt-1)", composition(`,"section":[{"title":"Plan","text":{"status":"generated","div":"<div>x</div>"}}]`), "txt-1"},
		{"empty section array (ele-1)", composition(`,"section":[]`), "ele-1"},
		{"null element (ele-1)", composition(`,"section":null`), "ele-1"},
		{"missing required status", strings.Replace(good, `"status":"final",`, "", 1), "Composition.status is required"},
		{"missing required author (schema)", strings.Replace(good, `"author":[{"reference":"Practitioner/d1"}],`, "", 1), "R4 schema"},
		{"missing narrative status", strings.Replace(good, `"status":"generated",`, "", 1), "Narrative.status is required"},
		{"attester without mode", composition(`,"attester":[{"party":{"reference":"Practitioner/d1"}}]`), "attester.mode is required"},
		{"unknown status code (schema)", strings.Replace(good, `"status":"final"`, `"status":"signed"`, 1), "R4 schema"},
		{"unknown element (schema)", strings.Replace(good, `"title":"SOAP note"`, `"title":"SOAP note","clinic":"c1"`, 1), "R4 schema"},
		{"bad date (schema)", strings.Replace(good, `2026-12-07T08:15:00Z`, `07/12/2026`, 1), "R4 schema"},
		{"unknown resource type", `{"resourceType":"SoapNote"}`, "no R4 schema"},
		{"attachment data without contentType (att-1)", `{"resourceType":"DocumentReference","status":"current","content":[{"attachment":{"data":"e30="}}]}`, "att-1"},
		{"invalid attached resource", `{"resourceType":"DocumentReference","status":"current","content":[{"attachment":{"contentType":"application/fhir+json","data":"` +
			base64.StdEncoding.EncodeToString([]byte(composition(`,"section":[{"title":"Objective"}]`))) + `"}}]}`, "the attached resource"},
	} {
		err := fhirtest.Validate([]byte(tc.json))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: accepted, want a %s error", tc.name, tc.want)
		case tc.want != "" && !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: %v, want a %s error", tc.name, err, tc.want)
		}
	}
}
