package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// patientsClinic is a clinic of the test's own with one signed-in member per role, and
// an admin of another clinic.
type patientsClinic struct {
	id     string
	tokens map[string]string
}

func newPatientsClinic(t *testing.T) patientsClinic {
	t.Helper()
	pc := patientsClinic{id: "clinic-pat-" + randomSuffix(), tokens: map[string]string{}}
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		pc.tokens[role] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": role, "clinicId": pc.id}))
	}
	pc.tokens["other-clinic"] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "admin", "clinicId": pc.id + "-other"}))
	return pc
}

type e2ePatient struct {
	ID          string `json:"id"`
	MRN         string `json:"mrn"`
	GivenName   string `json:"givenName"`
	FamilyName  string `json:"familyName"`
	BirthDate   string `json:"birthDate"`
	Phone       string `json:"phone"`
	Version     int64  `json:"version"`
	Allergies   []any  `json:"allergies"`
	Medications []any  `json:"medications"`
}

type e2ePatientPage struct {
	Items []struct {
		ID        string `json:"id"`
		GivenName string `json:"givenName"`
	} `json:"items"`
	NextPageToken string `json:"nextPageToken"`
}

func (p e2ePatientPage) ids() []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestPatientLifecycleThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	pc := newPatientsClinic(t)
	// A family name unique to this test keeps other tests' patients out of its searches.
	family := "Núñez-" + randomSuffix()

	created := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: pc.tokens["receptionist"],
		Header: map[string]string{"Idempotency-Key": "e2e-" + randomSuffix()},
		Body: map[string]any{
			"givenName": "José", "familyName": family, "birthDate": "1972-03-04", "sex": "male",
			"phone":     "+34 600 000 000",
			"address":   map[string]any{"line1": "Calle Mayor 1", "city": "Madrid", "postalCode": "28013", "country": "es"},
			"allergies": []any{map[string]any{"substance": "Penicillin", "severity": "severe"}},
		}})
	if created.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", created.Status, created.Body)
	}
	var p e2ePatient
	created.Decode(t, &p)
	if p.MRN != "MRN-000001" || p.Version != 1 || created.Header.Get("ETag") != `"1"` ||
		created.Header.Get("Location") != "/v1/patients/"+p.ID {
		t.Errorf("registered %+v, ETag %q, Location %q", p, created.Header.Get("ETag"), created.Header.Get("Location"))
	}

	// A doctor finds the patient by folded name, by MRN and by birth date.
	folded := strings.ToLower(strings.Replace(family, "Núñez", "nunez", 1))
	for name, criteria := range map[string]map[string]any{
		"name without accents": {"name": folded + " jo"},
		"mrn in lower case":    {"mrn": "mrn-000001"},
		"birth date and name":  {"birthDate": "1972-03-04", "name": strings.ToUpper(family)},
	} {
		resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients/search", Token: pc.tokens["doctor"], Body: criteria})
		var page e2ePatientPage
		resp.Decode(t, &page)
		if resp.Status != http.StatusOK || !cmp.Equal(page.ids(), []string{p.ID}) {
			t.Errorf("search %s: %d %v, want [%s]", name, resp.Status, page.ids(), p.ID)
		}
	}

	got := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/patients/" + p.ID, Token: pc.tokens["doctor"]})
	if got.Status != http.StatusOK || got.Header.Get("ETag") != `"1"` {
		t.Fatalf("get: %d ETag %q", got.Status, got.Header.Get("ETag"))
	}

	// The doctor records a new medication; a receptionist's change based on version 1 is stale.
	patched := c.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/v1/patients/" + p.ID, Token: pc.tokens["doctor"],
		Header: map[string]string{"If-Match": `"1"`},
		Body:   map[string]any{"medications": []any{map[string]any{"name": "Amoxicillin", "dose": "500 mg"}}, "phone": nil}})
	var up e2ePatient
	patched.Decode(t, &up)
	if patched.Status != http.StatusOK || up.Version != 2 || len(up.Medications) != 1 || up.Phone != "" || len(up.Allergies) != 1 {
		t.Errorf("patch: %d %s", patched.Status, patched.Body)
	}
	stale := c.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/v1/patients/" + p.ID, Token: pc.tokens["receptionist"],
		Header: map[string]string{"If-Match": `"1"`}, Body: map[string]any{"phone": "+34 600 111 222"}})
	if stale.Status != http.StatusPreconditionFailed || stale.Envelope.Code() != "failed_precondition" || stale.Header.Get("ETag") != `"2"` {
		t.Errorf("stale patch: %d %q ETag %q", stale.Status, stale.Envelope.Code(), stale.Header.Get("ETag"))
	}
	noIfMatch := c.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/v1/patients/" + p.ID, Token: pc.tokens["nurse"],
		Body: map[string]any{"phone": "+34 600 111 222"}})
	if noIfMatch.Status != http.StatusPreconditionRequired || noIfMatch.Envelope.Code() != "precondition_required" {
		t.Errorf("patch without If-Match: %d %q", noIfMatch.Status, noIfMatch.Envelope.Code())
	}

	// A duplicate MRN names the patient that has it.
	dup := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: pc.tokens["nurse"], Body: map[string]any{
		"givenName": "Ana", "familyName": family, "birthDate": "1980-01-01", "sex": "female", "mrn": "mrn-000001"}})
	var details map[string]string
	if dup.Status != http.StatusConflict || dup.Envelope.Error == nil || json.Unmarshal(dup.Envelope.Error.Details, &details) != nil ||
		details["patientId"] != p.ID {
		t.Errorf("duplicate MRN: %d %s", dup.Status, dup.Body)
	}

	// The patient's encounters: empty, then the check-in appears.
	list := func() []string {
		t.Helper()
		resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/patients/" + p.ID + "/encounters?pageSize=10", Token: pc.tokens["nurse"]})
		if resp.Status != http.StatusOK {
			t.Fatalf("encounters: %d %s", resp.Status, resp.Body)
		}
		var page struct {
			Items []struct {
				ID        string `json:"id"`
				PatientID string `json:"patientId"`
			} `json:"items"`
		}
		resp.Decode(t, &page)
		var ids []string
		for _, e := range page.Items {
			if e.PatientID != p.ID {
				t.Errorf("encounter %s is patient %s's", e.ID, e.PatientID)
			}
			ids = append(ids, e.ID)
		}
		return ids
	}
	if ids := list(); len(ids) != 0 {
		t.Errorf("new patient has encounters %v", ids)
	}
	if item := apitest.Spec(t).Paths.Find("/v1/encounters"); item != nil && item.Post != nil {
		in := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/encounters", Token: pc.tokens["receptionist"],
			Body: map[string]any{"patientId": p.ID, "chiefComplaint": "cough for five days", "arrivalMode": "walk_in"}})
		if in.Status != http.StatusCreated {
			t.Fatalf("check-in: %d %s", in.Status, in.Body)
		}
		var enc struct{ ID string }
		in.Decode(t, &enc)
		if ids := list(); !cmp.Equal(ids, []string{enc.ID}) {
			t.Errorf("encounters after check-in = %v, want [%s]", ids, enc.ID)
		}
	}
}

func TestPatientsRolesAndClinicsThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	pc := newPatientsClinic(t)
	family := "Lovelace-" + randomSuffix()
	reg := map[string]any{"givenName": "Ada", "familyName": family, "birthDate": "1985-12-10", "sex": "female"}
	created := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: pc.tokens["admin"], Body: reg})
	if created.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", created.Status, created.Body)
	}
	var p e2ePatient
	created.Decode(t, &p)

	for _, tc := range []struct {
		name   string
		req    apitest.Request
		status int
		code   string
	}{
		{"doctor may not register", apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: pc.tokens["doctor"], Body: reg}, 403, "permission_denied"},
		{"no token", apitest.Request{Method: http.MethodGet, Path: "/v1/patients/" + p.ID}, 401, "unauthenticated"},
		{"other clinic reads", apitest.Request{Method: http.MethodGet, Path: "/v1/patients/" + p.ID, Token: pc.tokens["other-clinic"]}, 404, "not_found"},
		{"other clinic patches", apitest.Request{Method: http.MethodPatch, Path: "/v1/patients/" + p.ID, Token: pc.tokens["other-clinic"],
			Header: map[string]string{"If-Match": `"1"`}, Body: map[string]any{"givenName": "Eve"}}, 404, "not_found"},
		{"other clinic lists encounters", apitest.Request{Method: http.MethodGet, Path: "/v1/patients/" + p.ID + "/encounters", Token: pc.tokens["other-clinic"]}, 404, "not_found"},
		{"wrong content type", apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: pc.tokens["receptionist"],
			RawBody: []byte(`{}`), Header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported_media_type"},
		{"unknown field", apitest.Request{Method: http.MethodPost, Path: "/v1/patients/search", Token: pc.tokens["nurse"],
			Body: map[string]any{"name": "love", "ssn": "1"}}, 400, "invalid_argument"},
		{"tampered page token", apitest.Request{Method: http.MethodPost, Path: "/v1/patients/search", Token: pc.tokens["nurse"],
			Body: map[string]any{"name": "love", "pageToken": "eyJ2IjoxfQ"}}, 400, "invalid_argument"},
		{"body too large", apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: pc.tokens["receptionist"],
			RawBody: []byte(`{"givenName":"` + strings.Repeat("a", 70<<10) + `"}`), Header: map[string]string{"Content-Type": "application/json"}}, 413, "payload_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := c.Do(t, tc.req)
			if resp.Status != tc.status || resp.Envelope.Code() != tc.code {
				t.Errorf("%d %q, want %d %q: %s", resp.Status, resp.Envelope.Code(), tc.status, tc.code, resp.Body)
			}
			if strings.Contains(string(resp.Body), family) {
				t.Errorf("error response carries the patient's name: %s", resp.Body)
			}
		})
	}

	// Another clinic's search does not see the patient; the own clinic's pages through two.
	other := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients/search", Token: pc.tokens["other-clinic"], Body: map[string]any{"name": family}})
	var none e2ePatientPage
	other.Decode(t, &none)
	if other.Status != http.StatusOK || len(none.Items) != 0 {
		t.Errorf("other clinic's search: %d %v", other.Status, none.ids())
	}
	reg["givenName"] = "Byron"
	if resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients", Token: pc.tokens["receptionist"], Body: reg}); resp.Status != http.StatusCreated {
		t.Fatalf("second register: %d %s", resp.Status, resp.Body)
	}
	var seen []string
	criteria := map[string]any{"name": family, "pageSize": 1}
	for range 3 {
		resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/patients/search", Token: pc.tokens["nurse"], Body: criteria})
		var page e2ePatientPage
		resp.Decode(t, &page)
		for _, it := range page.Items {
			seen = append(seen, it.GivenName)
		}
		if page.NextPageToken == "" {
			break
		}
		criteria["pageToken"] = page.NextPageToken
	}
	if !cmp.Equal(seen, []string{"Ada", "Byron"}) {
		t.Errorf("paged search saw %v, want [Ada Byron]", seen)
	}
}
