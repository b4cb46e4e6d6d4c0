package patients_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/patients"
	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx/httpxtest"
	"github.com/medi-os/medi/shared/httpx/idempotency"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/testenv"
)

// server is the patients function built in-process against the emulators: Firestore
// in a project of the test's own, tokens from the Auth emulator for a clinic of its own.
type server struct {
	t      *testing.T
	h      http.Handler
	fs     *firestore.Client
	clinic string
	tokens map[string]string // role (or "other-clinic") -> ID token
}

func newServer(t *testing.T) *server {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	h, err := patients.Function.Handler(ctx, &patients.Config{
		Base: config.Base{ProjectID: project, Tier: config.Dev, Version: "test", AuthProjectID: testenv.AuthProject()},
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	s := &server{t: t, h: h, fs: fs, clinic: "clinic-" + randomHex(4), tokens: map[string]string{}}
	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		s.tokens[role] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": role, "clinicId": s.clinic}))
	}
	s.tokens["other-clinic"] = testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "admin", "clinicId": "other-" + s.clinic}))
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// envelope is a decoded response body.
type envelope struct{ httpxtest.Envelope }

func (e envelope) code() string { return e.Code() }

// fields returns the field errors of a 400.
func (e envelope) fields(t *testing.T) []apierr.FieldError {
	t.Helper()
	if e.Error == nil {
		t.Fatal("no error in the envelope")
	}
	var d struct {
		Fields []apierr.FieldError `json:"fields"`
	}
	if err := json.Unmarshal(e.Error.Details, &d); err != nil {
		t.Fatalf("details %s: %v", e.Error.Details, err)
	}
	return d.Fields
}

type request struct {
	method, path, role string
	body               any    // marshalled as JSON
	raw                string // sent as is when set
	header             map[string]string
}

type response struct {
	status int
	header http.Header
	env    envelope
	body   string
}

func (s *server) do(req request) response {
	s.t.Helper()
	var body []byte
	switch {
	case req.raw != "":
		body = []byte(req.raw)
	case req.body != nil:
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			s.t.Fatal(err)
		}
	}
	r := httptest.NewRequest(req.method, req.path, bytes.NewReader(body))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if tok := s.tokens[req.role]; tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r)
	out := response{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &out.env); err != nil {
		s.t.Fatalf("%s %s: body is not the envelope: %v: %s", req.method, req.path, err, rec.Body)
	}
	return out
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.env.Data, v); err != nil {
		t.Fatalf("decoding data: %v: %s", err, r.body)
	}
}

func registration() map[string]any {
	return map[string]any{
		"givenName": "José", "familyName": "Núñez", "birthDate": "1972-03-04", "sex": "male",
		"phone":     "+34 600 000 000",
		"address":   map[string]any{"line1": "Calle Mayor 1", "city": "Madrid", "postalCode": "28013", "country": "ES"},
		"allergies": []any{map[string]any{"substance": "Penicillin", "reaction": "Hives", "severity": "moderate"}},
	}
}

// register creates a patient as the receptionist.
func (s *server) register(body map[string]any) patient.Patient {
	s.t.Helper()
	resp := s.do(request{method: http.MethodPost, path: "/v1/patients", role: "receptionist", body: body})
	if resp.status != http.StatusCreated {
		s.t.Fatalf("register: %d %s", resp.status, resp.body)
	}
	var p patient.Patient
	resp.decode(s.t, &p)
	return p
}

func TestRolesAndClinics(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(registration())
	if p.MRN != "MRN-000001" || p.Version != 1 || p.ClinicID != s.clinic {
		t.Errorf("registered = %+v", p)
	}
	search := map[string]any{"name": "nunez"}
	for _, tc := range []struct {
		name       string
		req        request
		wantStatus int
		wantCode   string
	}{
		{"nurse registers", request{method: "POST", path: "/v1/patients", role: "nurse", body: registration()}, 201, ""},
		{"admin registers", request{method: "POST", path: "/v1/patients", role: "admin", body: registration()}, 201, ""},
		{"doctor may not register", request{method: "POST", path: "/v1/patients", role: "doctor", body: registration()}, 403, "permission_denied"},
		{"no token", request{method: "POST", path: "/v1/patients", body: registration()}, 401, "unauthenticated"},
		{"doctor searches", request{method: "POST", path: "/v1/patients/search", role: "doctor", body: search}, 200, ""},
		{"receptionist searches", request{method: "POST", path: "/v1/patients/search", role: "receptionist", body: search}, 200, ""},
		{"doctor reads", request{method: "GET", path: "/v1/patients/" + p.ID, role: "doctor"}, 200, ""},
		{"doctor lists encounters", request{method: "GET", path: "/v1/patients/" + p.ID + "/encounters", role: "doctor"}, 200, ""},
		{"other clinic reads", request{method: "GET", path: "/v1/patients/" + p.ID, role: "other-clinic"}, 404, "not_found"},
		{"other clinic patches", request{method: "PATCH", path: "/v1/patients/" + p.ID, role: "other-clinic",
			body: map[string]any{"phone": "0123 45678"}, header: map[string]string{"If-Match": `"1"`}}, 404, "not_found"},
		{"other clinic lists encounters", request{method: "GET", path: "/v1/patients/" + p.ID + "/encounters", role: "other-clinic"}, 404, "not_found"},
		{"missing patient", request{method: "GET", path: "/v1/patients/does-not-exist", role: "nurse"}, 404, "not_found"},
		{"wrong method", request{method: "DELETE", path: "/v1/patients/" + p.ID, role: "admin"}, 405, "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(tc.req)
			if resp.status != tc.wantStatus || resp.env.code() != tc.wantCode {
				t.Errorf("%d %q, want %d %q: %s", resp.status, resp.env.code(), tc.wantStatus, tc.wantCode, resp.body)
			}
			if tc.wantStatus == 404 && strings.Contains(resp.body, "Núñez") {
				t.Errorf("404 leaks patient data: %s", resp.body)
			}
		})
	}

	// Another clinic's search finds nothing; the own clinic's finds the patient.
	var page patient.SearchPage
	s.do(request{method: "POST", path: "/v1/patients/search", role: "other-clinic", body: search}).decode(t, &page)
	if len(page.Items) != 0 {
		t.Errorf("another clinic's search found %d patients", len(page.Items))
	}
	resp := s.do(request{method: "GET", path: "/v1/patients/" + p.ID, role: "doctor"})
	var got patient.Patient
	resp.decode(t, &got)
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("GET differs from POST (-post +get):\n%s", diff)
	}
	if resp.header.Get("ETag") != `"1"` {
		t.Errorf("ETag = %q, want \"1\"", resp.header.Get("ETag"))
	}
}

func TestCreateResponse(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	body := registration()
	body["mrn"] = "h-100"
	resp := s.do(request{method: "POST", path: "/v1/patients", role: "receptionist", body: body})
	if resp.status != http.StatusCreated {
		t.Fatalf("%d %s", resp.status, resp.body)
	}
	var p patient.Patient
	resp.decode(t, &p)
	if got, want := resp.header.Get("Location"), "/v1/patients/"+p.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if resp.header.Get("ETag") != `"1"` || p.MRN != "h-100" {
		t.Errorf("ETag %q, MRN %q", resp.header.Get("ETag"), p.MRN)
	}
	for _, absent := range []string{"nameKey", "mrnKey"} {
		if strings.Contains(resp.body, absent) {
			t.Errorf("response exposes the internal %s", absent)
		}
	}

	// The same MRN again (any case) is a conflict naming the patient that has it.
	body["mrn"] = "H-100"
	dup := s.do(request{method: "POST", path: "/v1/patients", role: "nurse", body: body})
	if dup.status != http.StatusConflict || dup.env.code() != "conflict" {
		t.Fatalf("duplicate: %d %s", dup.status, dup.body)
	}
	var details map[string]string
	if err := json.Unmarshal(dup.env.Error.Details, &details); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"reason": "duplicate_mrn", "patientId": p.ID}, details); diff != "" {
		t.Errorf("details (-want +got):\n%s", diff)
	}
	if strings.Contains(dup.env.Error.Message, "H-100") || strings.Contains(dup.env.Error.Message, "Núñez") {
		t.Errorf("conflict message carries patient data: %q", dup.env.Error.Message)
	}
}

// TestRegistrationNamesLikelyDuplicates: a second registration with the same name (any case
// and accents) and birth date is made, and its answer names the patient the clinic already
// had, audited as a search result; a different birth date or name is not a duplicate.
func TestRegistrationNamesLikelyDuplicates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	r1 := s.do(request{method: "POST", path: "/v1/patients", role: "receptionist", body: registration()})
	if r1.status != http.StatusCreated || strings.Contains(r1.body, "possibleDuplicates") {
		t.Fatalf("first registration: %d %s", r1.status, r1.body)
	}
	var first patient.Patient
	r1.decode(t, &first)

	again := registration()
	again["givenName"], again["familyName"] = "JOSE", "nunez"
	resp := s.do(request{method: "POST", path: "/v1/patients", role: "receptionist", body: again})
	if resp.status != http.StatusCreated {
		t.Fatalf("%d %s", resp.status, resp.body)
	}
	var got struct {
		patient.Patient
		PossibleDuplicates []patient.Summary `json:"possibleDuplicates"`
	}
	resp.decode(t, &got)
	if got.ID == first.ID || len(got.PossibleDuplicates) != 1 || got.PossibleDuplicates[0].ID != first.ID || got.PossibleDuplicates[0].MRN != first.MRN {
		t.Fatalf("second registration: id %s, possibleDuplicates %+v (first %s)", got.ID, got.PossibleDuplicates, first.ID)
	}
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(audit.Collection).
		Where("action", "==", patient.ActionSearch).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	var searched []string
	for _, d := range docs {
		var rec audit.Record
		if err := d.DataTo(&rec); err != nil {
			t.Fatal(err)
		}
		searched = append(searched, rec.PatientID)
	}
	if len(searched) != 1 || searched[0] != first.ID {
		t.Errorf("search audit records for %v, want one for %s", searched, first.ID)
	}

	for name, change := range map[string]func(map[string]any){
		"birth date": func(b map[string]any) { b["birthDate"] = "1972-03-05" },
		"given name": func(b map[string]any) { b["givenName"] = "Josefa" },
	} {
		b := registration()
		change(b)
		r := s.do(request{method: "POST", path: "/v1/patients", role: "receptionist", body: b})
		if r.status != http.StatusCreated || strings.Contains(r.body, "possibleDuplicates") {
			t.Errorf("another %s: %d %s", name, r.status, r.body)
		}
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, tc := range []struct {
		name       string
		req        request
		wantStatus int
		wantCode   string
		wantFields []apierr.FieldError
	}{
		{"wrong content type", request{method: "POST", path: "/v1/patients", role: "receptionist",
			raw: `{}`, header: map[string]string{"Content-Type": "text/plain"}}, 415, "unsupported_media_type", nil},
		{"body too large", request{method: "POST", path: "/v1/patients", role: "receptionist",
			raw: `{"givenName":"` + strings.Repeat("a", 70<<10) + `"}`}, 413, "payload_too_large", nil},
		{"unknown field", request{method: "POST", path: "/v1/patients", role: "receptionist",
			raw: `{"givenName":"A","ssn":"123"}`}, 400, "invalid_argument", []apierr.FieldError{{Field: "ssn", Message: "unknown field"}}},
		{"malformed JSON", request{method: "POST", path: "/v1/patients", role: "receptionist", raw: `{"givenName":`}, 400, "invalid_argument", nil},
		{"invalid values, one error per field", request{method: "POST", path: "/v1/patients", role: "receptionist",
			body: map[string]any{"givenName": "Ann", "birthDate": "2999-01-01", "sex": "F", "address": map[string]any{"line1": "x", "city": "y", "country": "gb1"}}},
			400, "invalid_argument", []apierr.FieldError{
				{Field: "familyName", Message: "is required"},
				{Field: "birthDate", Message: "must not be in the future"},
				{Field: "sex", Message: "must be one of female, male, other, unknown"},
				{Field: "address.country", Message: "must be an ISO 3166-1 alpha-2 code such as GB or DE"},
			}},
		{"search without criteria", request{method: "POST", path: "/v1/patients/search", role: "doctor", body: map[string]any{"pageSize": 10}},
			400, "invalid_argument", []apierr.FieldError{{Field: "body", Message: "give at least one of mrn, name and birthDate"}}},
		{"search page too big", request{method: "POST", path: "/v1/patients/search", role: "doctor", body: map[string]any{"name": "a", "pageSize": 51}},
			400, "invalid_argument", []apierr.FieldError{{Field: "pageSize", Message: "must be between 1 and 50"}}},
		{"search tampered token", request{method: "POST", path: "/v1/patients/search", role: "doctor", body: map[string]any{"name": "a", "pageToken": "eyJ2IjoxfQ"}},
			400, "invalid_argument", []apierr.FieldError{{Field: "pageToken", Message: "is invalid or belongs to another query; start again without it"}}},
		{"search criteria in the query string are not accepted", request{method: "GET", path: "/v1/patients/search?name=nunez", role: "doctor"},
			405, "method_not_allowed", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := s.do(tc.req)
			if resp.status != tc.wantStatus || resp.env.code() != tc.wantCode {
				t.Fatalf("%d %q, want %d %q: %s", resp.status, resp.env.code(), tc.wantStatus, tc.wantCode, resp.body)
			}
			if tc.wantFields != nil {
				if diff := cmp.Diff(tc.wantFields, resp.env.fields(t)); diff != "" {
					t.Errorf("field errors (-want +got):\n%s", diff)
				}
			}
		})
	}
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(patient.Collection).Documents(context.Background()).GetAll()
	if err != nil || len(docs) != 0 {
		t.Errorf("bad requests stored %d patients (%v)", len(docs), err)
	}
}

func TestCreateHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	req := request{method: "POST", path: "/v1/patients", role: "receptionist", body: registration(),
		header: map[string]string{"Idempotency-Key": "reg-" + randomHex(8)}}
	first := s.do(req)
	again := s.do(req)
	if first.status != http.StatusCreated || again.status != http.StatusCreated {
		t.Fatalf("statuses %d, %d", first.status, again.status)
	}
	if again.header.Get("Idempotent-Replayed") != "true" || again.body != first.body || again.header.Get("ETag") != `"1"` {
		t.Errorf("retry was not a replay: %v %s", again.header, again.body)
	}
	// The replay disclosed the patient again: audited, with the replay's request id.
	var p patient.Patient
	first.decode(t, &p)
	wantReplayAudit(t, s, again.header.Get("X-Request-Id"), p.ID)
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(patient.Collection).Documents(context.Background()).GetAll()
	if err != nil || len(docs) != 1 {
		t.Errorf("%d patients stored (%v), want 1", len(docs), err)
	}
	// Another body with the same key is refused.
	other := req
	other.body = map[string]any{"givenName": "Ann", "familyName": "Lee", "birthDate": "1990-01-01", "sex": "female"}
	if resp := s.do(other); resp.status != http.StatusConflict {
		t.Errorf("key reused with another body: %d %s", resp.status, resp.body)
	}
}

// wantReplayAudit fails t unless the clinic's audit holds one patient.create.replay
// record of patientID written by the request requestID.
func wantReplayAudit(t *testing.T, s *server, requestID, patientID string) {
	t.Helper()
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(audit.Collection).
		Where("requestId", "==", requestID).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Action+" "+r.PatientID+" "+r.Outcome)
	}
	if want := []string{"patient.create.replay " + patientID + " success"}; !cmp.Equal(want, got) || requestID == "" {
		t.Errorf("audit of the replay (request %q): %q, want %q", requestID, got, want)
	}
}

// A registration whose commit succeeded but whose answer was lost to a 5xx (which
// releases the key's record) is retried: the retry must answer with the patient it
// registered, not register a second one under a new MRN.
func TestCreateRetryAfterALostAnswer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ctx := context.Background()
	req := request{method: "POST", path: "/v1/patients", role: "receptionist", body: registration(),
		header: map[string]string{"Idempotency-Key": "reg-" + randomHex(8)}}
	first := s.do(req)
	if first.status != http.StatusCreated {
		t.Fatalf("register: %d %s", first.status, first.body)
	}
	var p patient.Patient
	first.decode(t, &p)
	releaseIdempotencyRecords(t, s.fs)
	again := s.do(req)
	if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") == "true" {
		t.Fatalf("retry after the lost answer: %d replayed=%q %s", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
	var q patient.Patient
	again.decode(t, &q)
	if q.ID != p.ID || q.MRN != p.MRN || q.Version != 1 {
		t.Errorf("retry answered patient %s (MRN %s, v%d), want %s (MRN %s, v1)", q.ID, q.MRN, q.Version, p.ID, p.MRN)
	}
	// The retry answered from the first attempt's commit, disclosing the patient again:
	// audited as a replay in the same transaction.
	wantReplayAudit(t, s, again.header.Get("X-Request-Id"), p.ID)
	docs, err := s.fs.Collection("clinics").Doc(s.clinic).Collection(patient.Collection).Documents(ctx).GetAll()
	if err != nil || len(docs) != 1 {
		t.Errorf("%d patients stored (%v), want 1", len(docs), err)
	}
	// Another registration under the same key, retried the same way, is a new patient.
	releaseIdempotencyRecords(t, s.fs)
	other := req
	other.body = map[string]any{"givenName": "Ann", "familyName": "Lee", "birthDate": "1990-01-01", "sex": "female"}
	if resp := s.do(other); resp.status != http.StatusCreated {
		t.Errorf("another body under the released key: %d %s", resp.status, resp.body)
	}
}

// releaseIdempotencyRecords releases every idempotency record, as a 5xx answer releases
// its own.
func releaseIdempotencyRecords(t *testing.T, fs *firestore.Client) {
	t.Helper()
	ctx := context.Background()
	docs, err := fs.Collection(idempotency.Collection).Documents(ctx).GetAll()
	if err != nil || len(docs) == 0 {
		t.Fatalf("idempotency records: %d, %v", len(docs), err)
	}
	for _, d := range docs {
		if err := idempotency.Release(ctx, d.Ref); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPatch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(registration())
	path := "/v1/patients/" + p.ID
	ifMatch := func(v string) map[string]string { return map[string]string{"If-Match": v} }

	for _, tc := range []struct {
		name       string
		header     map[string]string
		raw        string
		wantStatus int
		wantFields []apierr.FieldError
	}{
		{"missing If-Match", nil, `{"phone":null}`, 428, nil},
		{"weak If-Match never matches", ifMatch(`W/"1"`), `{"phone":null}`, 412, nil},
		{"star", ifMatch(`*`), `{"phone":null}`, 400, []apierr.FieldError{{Field: "If-Match", Message: "must name exactly one version"}}},
		{"unquoted", ifMatch(`1`), `{"phone":null}`, 400, []apierr.FieldError{{Field: "If-Match", Message: `must be a version's ETag, e.g. "3"`}}},
		{"bad patch", ifMatch(`"1"`), `{"givenName":null,"eyeColour":"green","birthDate":"1800-01-01"}`, 400, []apierr.FieldError{
			{Field: "eyeColour", Message: "unknown field"},
			{Field: "givenName", Message: "must not be null: this field is required"},
			{Field: "birthDate", Message: "must not be before 1900-01-01"},
		}},
		{"bad value", ifMatch(`"1"`), `{"birthDate":"1800-01-01"}`, 400, []apierr.FieldError{{Field: "birthDate", Message: "must not be before 1900-01-01"}}},
		{"empty patch", ifMatch(`"1"`), `{}`, 400, []apierr.FieldError{{Field: "body", Message: "must change at least one field"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(request{method: "PATCH", path: path, role: "nurse", raw: tc.raw, header: tc.header})
			if resp.status != tc.wantStatus {
				t.Fatalf("%d, want %d: %s", resp.status, tc.wantStatus, resp.body)
			}
			if tc.wantFields == nil {
				return // 428 and 412 carry no field errors
			}
			if diff := cmp.Diff(tc.wantFields, resp.env.fields(t)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}

	// A doctor updates the allergy list with a merge patch.
	resp := s.do(request{method: "PATCH", path: path, role: "doctor",
		raw:    `{"allergies":[{"substance":"Latex","severity":"severe"}],"phone":null}`,
		header: map[string]string{"If-Match": `"1"`, "Content-Type": "application/merge-patch+json"}})
	if resp.status != http.StatusOK || resp.header.Get("ETag") != `"2"` {
		t.Fatalf("patch: %d ETag %q %s", resp.status, resp.header.Get("ETag"), resp.body)
	}
	var up patient.Patient
	resp.decode(t, &up)
	if diff := cmp.Diff([]patient.Allergy{{Substance: "Latex", Severity: patient.SeveritySevere}}, up.Allergies); diff != "" {
		t.Errorf("allergies (-want +got):\n%s", diff)
	}
	if up.Phone != "" || up.GivenName != "José" || up.Version != 2 {
		t.Errorf("patched = %+v", up)
	}

	// The version it was based on is now stale.
	stale := s.do(request{method: "PATCH", path: path, role: "receptionist", body: map[string]any{"phone": "0123 45678"},
		header: ifMatch(`"1"`)})
	if stale.status != http.StatusPreconditionFailed || stale.env.code() != "failed_precondition" || stale.header.Get("ETag") != `"2"` {
		t.Fatalf("stale: %d %q ETag %q", stale.status, stale.env.code(), stale.header.Get("ETag"))
	}
	var d struct {
		Reason         string `json:"reason"`
		CurrentVersion int64  `json:"currentVersion"`
	}
	if err := json.Unmarshal(stale.env.Error.Details, &d); err != nil || d.Reason != "stale_version" || d.CurrentVersion != 2 {
		t.Errorf("stale details %s (%v)", stale.env.Error.Details, err)
	}
}

func TestEncountersQuery(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(registration())
	for _, tc := range []struct {
		query      string
		wantStatus int
		wantField  string
	}{
		{"", 200, ""},
		{"?pageSize=5", 200, ""},
		{"?pageSize=abc", 400, "pageSize"},
		{"?pageSize=0", 400, "pageSize"},
		{"?pageSize=51", 400, "pageSize"},
		{"?pageToken=bogus", 400, "pageToken"},
	} {
		resp := s.do(request{method: "GET", path: "/v1/patients/" + p.ID + "/encounters" + tc.query, role: "nurse"})
		if resp.status != tc.wantStatus {
			t.Errorf("%q: %d, want %d: %s", tc.query, resp.status, tc.wantStatus, resp.body)
			continue
		}
		if tc.wantField != "" {
			if f := resp.env.fields(t); len(f) != 1 || f[0].Field != tc.wantField {
				t.Errorf("%q: fields %v, want one on %s", tc.query, f, tc.wantField)
			}
			continue
		}
		var page patient.EncounterPage
		resp.decode(t, &page)
		if page.Items == nil || len(page.Items) != 0 || page.NextPageToken != "" {
			t.Errorf("%q: page %s, want an empty list", tc.query, resp.body)
		}
	}
}
