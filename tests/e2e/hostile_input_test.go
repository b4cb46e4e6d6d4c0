package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// hostileEndpoint is a representative POST or PATCH of one HTTP function, with a valid
// body and the string field the hostile cases put their text into.
type hostileEndpoint struct {
	function, method, path string
	role                   string // "" for a public endpoint
	header                 map[string]string
	valid                  string // a valid body; field is its first member
	field                  string
	// name is true when field is a name, which must not carry direction overrides.
	name bool
}

// hostileCase is a body (built from an endpoint) and the answer it must get.
type hostileCase struct {
	name        string
	contentType string
	body        func(e hostileEndpoint) []byte
	status      int
	code        string
}

// withField replaces the value of e's first member (e.field) with raw JSON text.
func withField(e hostileEndpoint, raw string) []byte {
	rest := e.valid[strings.Index(e.valid, ",")+1:]
	if !strings.Contains(e.valid, ",") {
		rest = "}"
	} else {
		rest = "," + rest
	}
	return []byte(`{"` + e.field + `":` + raw + rest)
}

// TestHostileInput sends oversized, deeply nested, wrong-typed, unicode-tricky and
// wrong-content-type bodies to a POST or PATCH of every HTTP function with a request
// body, through the gateway, as a signed-in member of the right role: each is refused
// with the documented 4xx and stable code, never a 5xx. (The summarize function has no
// request body: GET only.)
func TestHostileInput(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	clinic := "clinic-hostile-" + randomSuffix()
	tokens := map[string]string{}
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		tokens[role] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": role, "clinicId": clinic}))
	}
	endpoints := []hostileEndpoint{
		{function: "patients", method: http.MethodPost, path: "/v1/patients", role: "receptionist", field: "givenName", name: true,
			valid: `{"givenName":"Ana","familyName":"Lee","birthDate":"1980-02-29","sex":"female"}`},
		{function: "patients", method: http.MethodPatch, path: "/v1/patients/p-hostile", role: "receptionist", field: "familyName", name: true,
			header: map[string]string{"If-Match": `"1"`}, valid: `{"familyName":"Lee"}`},
		{function: "queue", method: http.MethodPost, path: "/v1/encounters", role: "receptionist", field: "patientId",
			valid: `{"patientId":"p-hostile","chiefComplaint":"cough","arrivalMode":"walk_in"}`},
		{function: "queue", method: http.MethodPost, path: "/v1/encounters/e-hostile/transitions", role: "nurse", field: "to",
			valid: `{"to":"triaged"}`},
		{function: "triage", method: http.MethodPost, path: "/v1/triage/assess", role: "nurse", field: "chiefComplaint",
			valid: `{"chiefComplaint":"chest pain","ageYears":54,"vitals":{"heartRate":96}}`},
		{function: "scribe", method: http.MethodPost, path: "/v1/scribe/sessions", role: "doctor", field: "encounterId",
			valid: `{"encounterId":"e-hostile","contentType":"text/vtt","sizeBytes":2048}`},
		{function: "scribe", method: http.MethodPost, path: "/v1/notes/search", role: "doctor", field: "patientId",
			valid: `{"patientId":"p-hostile"}`},
		{function: "auth", method: http.MethodPost, path: "/v1/staff", role: "admin", field: "displayName", name: true,
			valid: `{"displayName":"Ana Lee","email":"hostile@medi.test","role":"nurse"}`},
		{function: "auth", method: http.MethodPost, path: "/v1/auth/password-reset", field: "email",
			valid: `{"email":"hostile@medi.test"}`},
		{function: "auth", method: http.MethodPost, path: "/v1/access/break-glass", role: "doctor", field: "patientId",
			valid: `{"patientId":"p-hostile","reason":"unconscious patient transferred from clinic B"}`},
	}
	const json = "application/json"
	cases := []hostileCase{
		{"oversized", json, func(e hostileEndpoint) []byte {
			return withField(e, `"`+strings.Repeat("A", 65<<10)+`"`)
		}, http.StatusRequestEntityTooLarge, "payload_too_large"},
		{"10000 nested arrays", json, func(e hostileEndpoint) []byte {
			return withField(e, strings.Repeat("[", 10000)+strings.Repeat("]", 10000))
		}, http.StatusBadRequest, "invalid_argument"},
		{"nested objects", json, func(e hostileEndpoint) []byte {
			return withField(e, strings.Repeat(`{"a":`, 1000)+"1"+strings.Repeat("}", 1000))
		}, http.StatusBadRequest, "invalid_argument"},
		{"wrong type: number for a string", json, func(e hostileEndpoint) []byte { return withField(e, "1e999") }, http.StatusBadRequest, "invalid_argument"},
		{"wrong type: array body", json, func(e hostileEndpoint) []byte { return []byte("[" + e.valid + "]") }, http.StatusBadRequest, "invalid_argument"},
		{"NaN string for a string is not a value", json, func(e hostileEndpoint) []byte { return withField(e, "NaN") }, http.StatusBadRequest, "invalid_argument"},
		{"unknown field", json, func(e hostileEndpoint) []byte { return []byte(`{"isAdmin":true,` + e.valid[1:]) }, http.StatusBadRequest, "invalid_argument"},
		{"trailing data", json, func(e hostileEndpoint) []byte { return []byte(e.valid + `{"role":"admin"}`) }, http.StatusBadRequest, "invalid_argument"},
		{"byte order mark", json, func(e hostileEndpoint) []byte { return []byte("\xEF\xBB\xBF" + e.valid) }, http.StatusBadRequest, "invalid_argument"},
		{"invalid UTF-8", json, func(e hostileEndpoint) []byte { return withField(e, "\"\xff\xfe\xc0\xaf\"") }, http.StatusBadRequest, "invalid_argument"},
		{"raw NUL in a string", json, func(e hostileEndpoint) []byte { return withField(e, "\"a\x00b\"") }, http.StatusBadRequest, "invalid_argument"},
		{"empty body", json, func(hostileEndpoint) []byte { return []byte{} }, http.StatusBadRequest, "invalid_argument"},
		{"wrong content type", "text/plain", func(e hostileEndpoint) []byte { return []byte(e.valid) }, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"form content type", "application/x-www-form-urlencoded", func(e hostileEndpoint) []byte { return []byte(e.field + "=x") }, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	}
	// Names must not carry direction overrides or control characters.
	nameCases := []hostileCase{
		{"right-to-left override in a name", json, func(e hostileEndpoint) []byte { return withField(e, "\"Ana\u202Eeel\"") }, http.StatusBadRequest, "invalid_argument"},
		{"escaped NUL in a name", json, func(e hostileEndpoint) []byte { return withField(e, `"Ana\u0000Lee"`) }, http.StatusBadRequest, "invalid_argument"},
	}
	for _, e := range endpoints {
		all := cases
		if e.name {
			all = append(append([]hostileCase(nil), cases...), nameCases...)
		}
		for _, hc := range all {
			t.Run(e.function+" "+e.method+" "+e.path+"/"+hc.name, func(t *testing.T) {
				header := map[string]string{"Content-Type": hc.contentType}
				for k, v := range e.header {
					header[k] = v
				}
				resp := c.Do(t, apitest.Request{Method: e.method, Path: e.path, Token: tokens[e.role], RawBody: hc.body(e), Header: header})
				if resp.Status >= 500 {
					t.Fatalf("status %d (%s): hostile input must never be a server error\n%s", resp.Status, resp.Envelope.Code(), truncateBody(resp.Body))
				}
				if resp.Status != hc.status || resp.Envelope.Code() != hc.code {
					t.Errorf("status %d code %q, want %d %q\n%s", resp.Status, resp.Envelope.Code(), hc.status, hc.code, truncateBody(resp.Body))
				}
			})
		}
	}
	// Ids that Firestore reserves are refused as invalid, not passed to the database (ids
	// in paths: tests/authz TestMalformedIDsAreNotFound).
	for _, e := range []hostileEndpoint{
		{function: "scribe", method: http.MethodPost, path: "/v1/scribe/sessions", role: "doctor",
			valid: `{"encounterId":"__hostile__","contentType":"text/vtt","sizeBytes":2048}`},
		{function: "auth", method: http.MethodPost, path: "/v1/access/break-glass", role: "doctor",
			valid: `{"patientId":"__hostile__","reason":"unconscious patient transferred from clinic B"}`},
		{function: "auth", method: http.MethodPost, path: "/v1/access/break-glass", role: "doctor",
			valid: `{"patientId":"..","reason":"unconscious patient transferred from clinic B"}`},
		{function: "queue", method: http.MethodPost, path: "/v1/encounters", role: "receptionist",
			valid: `{"patientId":"__name__","chiefComplaint":"cough","arrivalMode":"walk_in"}`},
		{function: "scribe", method: http.MethodPost, path: "/v1/notes/search", role: "doctor",
			valid: `{"patientId":"__name__"}`},
	} {
		t.Run(e.function+" "+e.path+"/reserved id "+e.valid[:20], func(t *testing.T) {
			resp := c.Do(t, apitest.Request{Method: e.method, Path: e.path, Token: tokens[e.role], RawBody: []byte(e.valid),
				Header: map[string]string{"Content-Type": json}})
			if resp.Status != http.StatusBadRequest || resp.Envelope.Code() != "invalid_argument" {
				t.Errorf("status %d code %q, want 400 invalid_argument\n%s", resp.Status, resp.Envelope.Code(), truncateBody(resp.Body))
			}
		})
	}
}

func truncateBody(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "..."
	}
	return string(b)
}
