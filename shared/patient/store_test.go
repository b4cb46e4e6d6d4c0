package patient_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/apierr"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/auth"
	"github.com/medi-os/medi/shared/commitmark"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/logging"
	"github.com/medi-os/medi/shared/patient"
	"github.com/medi-os/medi/shared/testenv"
)

const clinic = "clinic-a"

// env is one test's Firestore project and store.
type env struct {
	fs    *firestore.Client
	store *patient.Store
}

func newEnv(t *testing.T) env {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	fs, err := firestore.NewClient(context.Background(), testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return env{fs: fs, store: patient.NewStore(fs)}
}

// as returns a request context for a staff member of clinicID.
func as(uid string, role auth.Role, clinicID string) context.Context {
	ctx := logging.WithTrace(context.Background(), logging.Trace{TraceID: "0123456789abcdef0123456789abcdef", Request: "fedcba9876543210fedcba9876543210"})
	return auth.WithPrincipal(ctx, auth.Principal{UID: uid, Role: role, ClinicID: clinicID})
}

var reception = as("rec-1", auth.RoleReceptionist, clinic)

func reg(given, family, birth string) patient.Registration {
	return patient.Registration{GivenName: given, FamilyName: family, BirthDate: birth, Sex: patient.SexUnknown}
}

func (e env) create(t *testing.T, r patient.Registration) patient.Patient {
	t.Helper()
	p, err := e.store.Create(reception, clinic, r, commitmark.Marker{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return p
}

func (e env) audits(t *testing.T, clinicID string) []audit.Record {
	t.Helper()
	docs, err := e.fs.Collection("clinics").Doc(clinicID).Collection(audit.Collection).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]audit.Record, 0, len(docs))
	for _, d := range docs {
		var r audit.Record
		if err := d.DataTo(&r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// auditKey is the part of an audit record a test can predict.
type auditKey struct{ Action, Patient, Actor, Outcome string }

func keys(recs []audit.Record) []auditKey {
	out := make([]auditKey, 0, len(recs))
	for _, r := range recs {
		out = append(out, auditKey{r.Action, r.PatientID, r.ActorUID, r.Outcome})
	}
	slices.SortFunc(out, func(a, b auditKey) int {
		if c := cmpStr(a.Action, b.Action); c != 0 {
			return c
		}
		return cmpStr(a.Patient, b.Patient)
	})
	return out
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func fields(t *testing.T, err error) []apierr.FieldError {
	t.Helper()
	var ve *patient.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want a *patient.ValidationError", err)
	}
	return ve.Fields
}

func TestCreateAssignsMRNsAndAudits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	full := patient.Registration{
		GivenName: " José ", FamilyName: "Núñez", BirthDate: "1972-03-04", Sex: patient.SexMale, Phone: "+34 600 000 000",
		Address:     &patient.Address{Line1: "Calle Mayor 1", City: "Madrid", PostalCode: "28013", Country: "es"},
		Allergies:   []patient.Allergy{{Substance: "Penicillin", Severity: patient.SeveritySevere}},
		Medications: []patient.Medication{{Name: "Metformin", Dose: "500 mg"}},
		Problems:    []patient.Problem{{Description: "Type 2 diabetes", Code: "E11.9", Onset: "2015"}},
	}
	p1 := e.create(t, full)
	p2 := e.create(t, reg("Ada", "Lovelace", "1985-12-10"))

	if p1.MRN != "MRN-000001" || p2.MRN != "MRN-000002" {
		t.Errorf("assigned MRNs %q, %q; want MRN-000001, MRN-000002", p1.MRN, p2.MRN)
	}
	if p1.GivenName != "José" || p1.Address.Country != "ES" || p1.Version != 1 || p1.CreatedBy != "rec-1" || p1.ClinicID != clinic {
		t.Errorf("created patient = %+v", p1)
	}
	if p2.Allergies == nil || len(p2.Allergies) != 0 {
		t.Errorf("absent list = %#v, want empty", p2.Allergies)
	}
	got, err := e.store.Get(as("doc-1", auth.RoleDoctor, clinic), clinic, p1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p1, got); diff != "" {
		t.Errorf("read back differs from created (-created +read):\n%s", diff)
	}
	want := []auditKey{
		{patient.ActionCreate, p1.ID, "rec-1", audit.OutcomeSuccess},
		{patient.ActionCreate, p2.ID, "rec-1", audit.OutcomeSuccess},
		{patient.ActionRead, p1.ID, "doc-1", audit.OutcomeSuccess},
	}
	if diff := cmp.Diff(keys(want2recs(want)), keys(e.audits(t, clinic))); diff != "" {
		t.Errorf("audit trail (-want +got):\n%s", diff)
	}
}

func want2recs(ks []auditKey) []audit.Record {
	out := make([]audit.Record, 0, len(ks))
	for _, k := range ks {
		out = append(out, audit.Record{Action: k.Action, PatientID: k.Patient, ActorUID: k.Actor, Outcome: k.Outcome})
	}
	return out
}

func TestCreateRejectsDuplicateMRN(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := reg("Ada", "Lovelace", "1985-12-10")
	r.MRN = "abc-7"
	first := e.create(t, r)

	r2 := reg("Mia", "Okafor", "2019-07-21")
	r2.MRN = " ABC-7 "
	_, err := e.store.Create(reception, clinic, r2, commitmark.Marker{})
	var dup *patient.DuplicateMRNError
	if !errors.As(err, &dup) || dup.PatientID != first.ID {
		t.Fatalf("second create = %v, want DuplicateMRNError naming %s", err, first.ID)
	}
	// The same MRN in another clinic is another record number.
	if _, err := e.store.Create(as("rec-b", auth.RoleReceptionist, "clinic-b"), "clinic-b", r2, commitmark.Marker{}); err != nil {
		t.Errorf("same MRN in another clinic: %v", err)
	}
	// An assigned number skips one a client already used.
	r3 := reg("Grace", "Hopper", "1906-12-09")
	r3.MRN = "MRN-000001"
	e.create(t, r3)
	if p := e.create(t, reg("Alan", "Turing", "1912-06-23")); p.MRN != "MRN-000002" {
		t.Errorf("assigned %q, want MRN-000002 (MRN-000001 was taken)", p.MRN)
	}
	if n := e.count(t, clinic); n != 3 {
		t.Errorf("%d patients, want 3 (the duplicate must not be stored)", n)
	}
}

func (e env) count(t *testing.T, clinicID string) int {
	t.Helper()
	docs, err := e.fs.Collection("clinics").Doc(clinicID).Collection(patient.Collection).Documents(context.Background()).GetAll()
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

func TestCreateSameMRNConcurrently(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 10
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		winner []string
		dups   []string
		others []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := reg(fmt.Sprintf("Twin%d", i), "Race", "2000-01-01")
			r.MRN = "RACE-1"
			p, err := e.store.Create(reception, clinic, r, commitmark.Marker{})
			var dup *patient.DuplicateMRNError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winner = append(winner, p.ID)
			case errors.As(err, &dup):
				dups = append(dups, dup.PatientID)
			default:
				others = append(others, err)
			}
		}()
	}
	wg.Wait()
	if len(others) > 0 {
		t.Fatalf("unexpected errors: %v", others)
	}
	if len(winner) != 1 || len(dups) != n-1 {
		t.Fatalf("%d created, %d duplicates; want exactly 1 and %d", len(winner), len(dups), n-1)
	}
	for _, id := range dups {
		if id != winner[0] {
			t.Errorf("duplicate names %s, want the winner %s", id, winner[0])
		}
	}
	if c := e.count(t, clinic); c != 1 {
		t.Errorf("%d patients stored, want 1", c)
	}
	page, err := e.store.Search(reception, clinic, patient.Criteria{MRN: "race-1"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != winner[0] {
		t.Errorf("MRN search = %+v, %v; want the winner", page, err)
	}
}

func TestCreateAssignsDistinctMRNsConcurrently(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 10
	var wg sync.WaitGroup
	mrns := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := e.store.Create(reception, clinic, reg(fmt.Sprintf("P%d", i), "Rush", "2000-01-01"), commitmark.Marker{})
			mrns[i], errs[i] = p.MRN, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	slices.Sort(mrns)
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("MRN-%06d", i+1)
	}
	if diff := cmp.Diff(want, mrns); diff != "" {
		t.Errorf("assigned MRNs (-want +got):\n%s", diff)
	}
}

func TestCreateInvalidWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.store.Create(reception, clinic, patient.Registration{GivenName: "Ann", BirthDate: "3000-01-01", Sex: "x"}, commitmark.Marker{})
	want := []apierr.FieldError{
		{Field: "familyName", Message: "is required"},
		{Field: "birthDate", Message: "must not be in the future"},
		{Field: "sex", Message: "must be one of female, male, other, unknown"},
	}
	if diff := cmp.Diff(want, fields(t, err)); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
	if n := e.count(t, clinic); n != 0 {
		t.Errorf("%d patients stored", n)
	}
	if recs := e.audits(t, clinic); len(recs) != 0 {
		t.Errorf("audit records for a refused create: %+v", recs)
	}
}

func TestOtherClinicAndBadIDsAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.create(t, reg("Ada", "Lovelace", "1985-12-10"))
	other := as("doc-b", auth.RoleDoctor, "clinic-b")
	if _, err := e.store.Get(other, "clinic-b", p.ID); !errors.Is(err, patient.ErrNotFound) {
		t.Errorf("get from another clinic = %v, want ErrNotFound", err)
	}
	if _, err := e.store.Update(other, "clinic-b", p.ID, 1, patient.Patch{Phone: patient.To("01234 5678")}); !errors.Is(err, patient.ErrNotFound) {
		t.Errorf("update from another clinic = %v, want ErrNotFound", err)
	}
	if _, err := e.store.ListEncounters(other, "clinic-b", p.ID, 0, ""); !errors.Is(err, patient.ErrNotFound) {
		t.Errorf("encounters from another clinic = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"", "a/b", "..", "nope"} {
		if _, err := e.store.Get(reception, clinic, id); !errors.Is(err, patient.ErrNotFound) {
			t.Errorf("get %q = %v, want ErrNotFound", id, err)
		}
	}
	if recs := e.audits(t, "clinic-b"); len(recs) != 0 {
		t.Errorf("clinic-b audit has records of reads that returned nothing: %+v", recs)
	}
	page, err := e.store.Search(other, "clinic-b", patient.Criteria{Name: "lovelace"})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("search in another clinic = %+v, %v; want nothing", page, err)
	}
}

func TestReadsFailClosedWhenAuditFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.create(t, reg("Ada", "Lovelace", "1985-12-10"))
	failing := patient.NewStore(e.fs)
	failing.FailReadAudits(errors.New("audit backend down"))

	got, err := failing.Get(reception, clinic, p.ID)
	if !errors.Is(err, patient.ErrAudit) || got.ID != "" || got.GivenName != "" {
		t.Errorf("Get = %+v, %v; want nothing and ErrAudit", got, err)
	}
	page, err := failing.Search(reception, clinic, patient.Criteria{Name: "love"})
	if !errors.Is(err, patient.ErrAudit) || len(page.Items) != 0 {
		t.Errorf("Search = %+v, %v; want nothing and ErrAudit", page, err)
	}
	encs, err := failing.ListEncounters(reception, clinic, p.ID, 0, "")
	if !errors.Is(err, patient.ErrAudit) || len(encs.Items) != 0 {
		t.Errorf("ListEncounters = %+v, %v; want nothing and ErrAudit", encs, err)
	}
}

// searchFixture registers patients whose names need folding.
func searchFixture(t *testing.T, e env) map[string]patient.Patient {
	t.Helper()
	out := map[string]patient.Patient{}
	for _, r := range []struct{ key, given, family, birth, mrn string }{
		{"jose", "José", "Núñez", "1972-03-04", "H-100"},
		{"ana", "Ana", "NUNEZ", "1980-01-01", ""},
		{"luis", "Luis", "Núñez-Ortega", "1972-03-04", ""},
		{"ada", "Ada", "Lovelace", "1985-12-10", ""},
		{"nils", "Nils", "Øster", "1972-03-04", ""},
	} {
		rr := reg(r.given, r.family, r.birth)
		rr.MRN = r.mrn
		out[r.key] = e.create(t, rr)
	}
	return out
}

func TestSearchCriteria(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ps := searchFixture(t, e)
	for _, tc := range []struct {
		name string
		c    patient.Criteria
		want []string // fixture keys, in result order
	}{
		{"name prefix folds accents and case", patient.Criteria{Name: "nunez"}, []string{"ana", "jose", "luis"}},
		{"accented query", patient.Criteria{Name: "NÚÑEZ"}, []string{"ana", "jose", "luis"}},
		{"family, given prefix", patient.Criteria{Name: "Núñez, J"}, []string{"jose"}},
		{"hyphenated family name", patient.Criteria{Name: "nunez-ort"}, []string{"luis"}},
		{"trailing space ends the family name", patient.Criteria{Name: "lovelace "}, []string{"ada"}},
		{"special letter", patient.Criteria{Name: "oster"}, []string{"nils"}},
		{"birth date", patient.Criteria{BirthDate: "1972-03-04"}, []string{"jose", "luis", "nils"}},
		{"name and birth date", patient.Criteria{Name: "nu", BirthDate: "1972-03-04"}, []string{"jose", "luis"}},
		{"mrn exact, any case", patient.Criteria{MRN: "h-100"}, []string{"jose"}},
		{"assigned mrn", patient.Criteria{MRN: ps["ada"].MRN}, []string{"ada"}},
		{"mrn and matching criteria", patient.Criteria{MRN: "H-100", Name: "nunez j", BirthDate: "1972-03-04"}, []string{"jose"}},
		{"mrn and other birth date", patient.Criteria{MRN: "H-100", BirthDate: "1980-01-01"}, nil},
		{"mrn and other name", patient.Criteria{MRN: "H-100", Name: "ana"}, nil},
		{"unknown mrn", patient.Criteria{MRN: "H-999"}, nil},
		{"mrn prefix is not a match", patient.Criteria{MRN: "H-10"}, nil},
		{"no such name", patient.Criteria{Name: "zz"}, nil},
		{"given name alone does not match", patient.Criteria{Name: "jose"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			page, err := e.store.Search(reception, clinic, tc.c)
			if err != nil {
				t.Fatal(err)
			}
			want := []patient.Summary{}
			for _, k := range tc.want {
				want = append(want, ps[k].Summary())
			}
			if diff := cmp.Diff(want, page.Items); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if page.NextPageToken != "" {
				t.Errorf("a single page has a next cursor")
			}
		})
	}
}

func TestSearchRejectsBadCriteria(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		c    patient.Criteria
		want []apierr.FieldError
	}{
		{"nothing", patient.Criteria{PageSize: 5}, []apierr.FieldError{{Field: "body", Message: "give at least one of mrn, name and birthDate"}}},
		{"punctuation only", patient.Criteria{Name: " -, "}, []apierr.FieldError{{Field: "name", Message: "must contain a letter or digit"}}},
		{"bad date and mrn", patient.Criteria{BirthDate: "04/03/1972", MRN: "a b"}, []apierr.FieldError{
			{Field: "mrn", Message: "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'"},
			{Field: "birthDate", Message: "must be a date YYYY-MM-DD"},
		}},
		{"page size too big", patient.Criteria{Name: "a", PageSize: 51}, []apierr.FieldError{{Field: "pageSize", Message: "must be between 1 and 50"}}},
		{"negative page size", patient.Criteria{Name: "a", PageSize: -1}, []apierr.FieldError{{Field: "pageSize", Message: "must be between 1 and 50"}}},
		{"ids with a name", patient.Criteria{IDs: []string{"abc"}, Name: "a"}, []apierr.FieldError{{Field: "ids", Message: "cannot be combined with mrn, name, birthDate or pageToken"}}},
		{"no ids", patient.Criteria{IDs: []string{}}, []apierr.FieldError{{Field: "ids", Message: "give 1 to 50 patient ids"}}},
		{"too many ids", patient.Criteria{IDs: make([]string, 51)}, []apierr.FieldError{{Field: "ids", Message: "give 1 to 50 patient ids"}}},
		{"garbage page token", patient.Criteria{Name: "a", PageToken: "bm90IGEgY3Vyc29y"}, []apierr.FieldError{
			{Field: "pageToken", Message: "is invalid or belongs to another query; start again without it"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.store.Search(reception, clinic, tc.c)
			if diff := cmp.Diff(tc.want, fields(t, err)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSearchByIDs: the summaries of patients by id, in the order asked, in one request;
// unknown, repeated and malformed ids are left out; each patient returned is audited as
// a search result, and nothing else is.
func TestSearchByIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cl := fmt.Sprintf("clinic-ids-%d", time.Now().UnixNano())
	ctx := as("rec-ids", auth.RoleReceptionist, cl)
	var ps []patient.Patient
	for _, given := range []string{"Ada", "Bo", "Cy"} {
		p, err := e.store.Create(ctx, cl, reg(given, "Idtest", "1990-01-01"), commitmark.Marker{})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	page, err := e.store.Search(ctx, cl, patient.Criteria{IDs: []string{ps[2].ID, "unknownPatient1", ps[0].ID, ps[2].ID, "a/b", ".."}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]patient.Summary{ps[2].Summary(), ps[0].Summary()}, page.Items); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if page.NextPageToken != "" {
		t.Errorf("next page token %q for a search by ids", page.NextPageToken)
	}
	var got []auditKey
	for _, k := range keys(e.audits(t, cl)) {
		if k.Action == patient.ActionSearch {
			got = append(got, k)
		}
	}
	want := keys(want2recs([]auditKey{{patient.ActionSearch, ps[0].ID, "rec-ids", audit.OutcomeSuccess}, {patient.ActionSearch, ps[2].ID, "rec-ids", audit.OutcomeSuccess}}))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit records (-want +got):\n%s", diff)
	}
	// Another clinic's patients are not found by their ids.
	if page, err := e.store.Search(as("rec-1", auth.RoleReceptionist, "clinic-b"), "clinic-b", patient.Criteria{IDs: []string{ps[0].ID}}); err != nil || len(page.Items) != 0 {
		t.Errorf("search by id in another clinic = %+v, %v; want nothing", page, err)
	}
}

func TestSearchPaginatesWithCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []string
	for _, given := range []string{"Gil", "Ana", "Émile", "Bea", "Finn", "Cai", "Dov"} {
		want = append(want, e.create(t, reg(given, "Pagé", "1990-05-05")).ID)
	}
	e.create(t, reg("Zed", "Paget", "1990-05-05")) // shares the prefix "page" but not "page "
	all, err := e.store.Search(reception, clinic, patient.Criteria{Name: "page ", PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(items []patient.Summary) []string {
		var out []string
		for _, s := range items {
			out = append(out, s.ID)
		}
		return out
	}
	if len(all.Items) != 7 {
		t.Fatalf("one big page has %d items, want 7", len(all.Items))
	}
	if got := all.Items[0].GivenName + "," + all.Items[2].GivenName; got != "Ana,Cai" {
		t.Errorf("order starts %s; want by given name Ana, Bea, Cai", got)
	}

	var paged []string
	var sizes []int
	c := patient.Criteria{Name: "page ", PageSize: 3}
	for range 5 {
		page, err := e.store.Search(reception, clinic, c)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(page.Items)...)
		sizes = append(sizes, len(page.Items))
		if page.NextPageToken == "" {
			break
		}
		c.PageToken = page.NextPageToken
	}
	if diff := cmp.Diff([]int{3, 3, 1}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ids(all.Items), paged); diff != "" {
		t.Errorf("pages joined differ from one big page (-want +got):\n%s", diff)
	}
	slices.Sort(want)
	slices.Sort(paged)
	if diff := cmp.Diff(want, paged); diff != "" {
		t.Errorf("not every patient exactly once (-want +got):\n%s", diff)
	}

	first, err := e.store.Search(reception, clinic, patient.Criteria{Name: "page ", PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	// The cursor belongs to its criteria, and a tampered one is refused.
	tampered := []byte(first.NextPageToken)
	tampered[len(tampered)/2] ^= 0x02
	for name, crit := range map[string]patient.Criteria{
		"other criteria":   {Name: "pag", PageToken: first.NextPageToken},
		"tampered":         {Name: "page ", PageToken: string(tampered)},
		"with a birthdate": {Name: "page ", BirthDate: "1990-05-05", PageToken: first.NextPageToken},
	} {
		_, err := e.store.Search(reception, clinic, crit)
		if diff := cmp.Diff([]apierr.FieldError{{Field: "pageToken", Message: "is invalid or belongs to another query; start again without it"}}, fields(t, err)); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
	}
}

func TestSearchAuditsEveryPatientReturned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ps := searchFixture(t, e)
	nurse := as("nurse-1", auth.RoleNurse, clinic)
	if _, err := e.store.Search(nurse, clinic, patient.Criteria{Name: "nunez", BirthDate: "1972-03-04"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Search(nurse, clinic, patient.Criteria{Name: "nobody"}); err != nil {
		t.Fatal(err)
	}
	var got []auditKey
	for _, k := range keys(e.audits(t, clinic)) {
		if k.Action == patient.ActionSearch {
			got = append(got, k)
		}
	}
	want := keys(want2recs([]auditKey{
		{patient.ActionSearch, ps["jose"].ID, "nurse-1", audit.OutcomeSuccess},
		{patient.ActionSearch, ps["luis"].ID, "nurse-1", audit.OutcomeSuccess},
	}))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("search audit (-want +got):\n%s", diff)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := reg("José", "Núñez", "1972-03-04")
	r.Phone = "0123 45678"
	r.Allergies = []patient.Allergy{{Substance: "Latex"}}
	p := e.create(t, r)
	clock := time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)
	e.store.SetNow(func() time.Time { return clock })
	doctor := as("doc-1", auth.RoleDoctor, clinic)

	up, err := e.store.Update(doctor, clinic, p.ID, 1, patient.Patch{
		FamilyName: patient.To("Ibáñez"),
		Phone:      patient.Change[string]{Set: true},
		Allergies:  patient.To([]patient.Allergy{{Substance: "Penicillin", Severity: patient.SeveritySevere}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := p
	want.FamilyName, want.Phone = "Ibáñez", ""
	want.Allergies = []patient.Allergy{{Substance: "Penicillin", Severity: patient.SeveritySevere}}
	want.Version, want.UpdatedAt, want.UpdatedBy = 2, clock, "doc-1"
	want.NameKey = "ibanez jose"
	if diff := cmp.Diff(want, up); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	read, err := e.store.Get(doctor, clinic, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(up, read); diff != "" {
		t.Errorf("read back (-updated +read):\n%s", diff)
	}
	// The name key follows the name.
	for q, n := range map[string]int{"ibanez": 1, "nunez": 0} {
		page, err := e.store.Search(doctor, clinic, patient.Criteria{Name: q})
		if err != nil || len(page.Items) != n {
			t.Errorf("search %q after rename: %d results, %v; want %d", q, len(page.Items), err, n)
		}
	}

	// Stale version.
	_, err = e.store.Update(doctor, clinic, p.ID, 1, patient.Patch{Phone: patient.To("0999 99999")})
	var stale *patient.VersionConflictError
	if !errors.As(err, &stale) || stale.Expected != 1 || stale.Current != 2 {
		t.Errorf("stale update = %v, want VersionConflictError 1 -> 2", err)
	}
	// Nothing to change, bad values, missing patient.
	if _, err := e.store.Update(doctor, clinic, p.ID, 2, patient.Patch{}); err == nil {
		t.Error("empty patch accepted")
	}
	_, err = e.store.Update(doctor, clinic, p.ID, 2, patient.Patch{Sex: patient.To(patient.Sex("?"))})
	if diff := cmp.Diff([]apierr.FieldError{{Field: "sex", Message: "must be one of female, male, other, unknown"}}, fields(t, err)); diff != "" {
		t.Errorf("bad value (-want +got):\n%s", diff)
	}
	if _, err := e.store.Update(doctor, clinic, "missing", 1, patient.Patch{Phone: patient.To("0123 45678")}); !errors.Is(err, patient.ErrNotFound) {
		t.Errorf("update missing = %v", err)
	}

	var updates []auditKey
	for _, k := range keys(e.audits(t, clinic)) {
		if k.Action == patient.ActionUpdate {
			updates = append(updates, k)
		}
	}
	if diff := cmp.Diff([]auditKey{{patient.ActionUpdate, p.ID, "doc-1", audit.OutcomeSuccess}}, updates); diff != "" {
		t.Errorf("update audit: exactly one record for the one update that happened (-want +got):\n%s", diff)
	}
}

func TestUpdateMovesMRN(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create(t, reg("Ada", "Lovelace", "1985-12-10"))
	b := e.create(t, reg("Grace", "Hopper", "1906-12-09"))

	// Taking another patient's MRN is refused, naming that patient.
	_, err := e.store.Update(reception, clinic, a.ID, 1, patient.Patch{MRN: patient.To(b.MRN)})
	var dup *patient.DuplicateMRNError
	if !errors.As(err, &dup) || dup.PatientID != b.ID {
		t.Fatalf("taking b's MRN = %v, want DuplicateMRNError naming %s", err, b.ID)
	}

	moved, err := e.store.Update(reception, clinic, a.ID, 1, patient.Patch{MRN: patient.To("legacy-42")})
	if err != nil {
		t.Fatal(err)
	}
	if moved.MRN != "legacy-42" || moved.Version != 2 {
		t.Errorf("moved = %q v%d", moved.MRN, moved.Version)
	}
	for mrn, wantID := range map[string]string{"LEGACY-42": a.ID, a.MRN: ""} {
		page, err := e.store.Search(reception, clinic, patient.Criteria{MRN: mrn})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if len(page.Items) == 1 {
			got = page.Items[0].ID
		}
		if got != wantID || len(page.Items) > 1 {
			t.Errorf("MRN %s finds %v, want %q", mrn, page.Items, wantID)
		}
	}
	// The released MRN can be given to someone else; a case change of one's own MRN is no conflict.
	r := reg("Alan", "Turing", "1912-06-23")
	r.MRN = a.MRN
	if _, err := e.store.Create(reception, clinic, r, commitmark.Marker{}); err != nil {
		t.Errorf("reusing the released MRN: %v", err)
	}
	if _, err := e.store.Update(reception, clinic, a.ID, 2, patient.Patch{MRN: patient.To("LEGACY-42")}); err != nil {
		t.Errorf("changing the case of one's own MRN: %v", err)
	}
}

func TestListEncounters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.create(t, reg("Ada", "Lovelace", "1985-12-10"))
	other := e.create(t, reg("Grace", "Hopper", "1906-12-09"))
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	encs := e.fs.Collection("clinics").Doc(clinic).Collection("encounters")
	var want []string // newest first
	for i := range 5 {
		id := fmt.Sprintf("enc-%d", i)
		// Two encounters share an arrival time: the id breaks the tie.
		arrived := base.Add(time.Duration(min(i, 3)) * 24 * time.Hour)
		enc := encounter.Encounter{ClinicID: clinic, PatientID: p.ID, Status: encounter.StatusCompleted,
			ChiefComplaint: "cough", ArrivalMode: encounter.ArrivalWalkIn, ArrivedAt: arrived, Version: 1}
		if _, err := encs.Doc(id).Set(context.Background(), enc); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
	}
	if _, err := encs.Doc("enc-other").Set(context.Background(), encounter.Encounter{ClinicID: clinic, PatientID: other.ID,
		Status: encounter.StatusWaiting, ArrivedAt: base.Add(48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	nurse := as("nurse-1", auth.RoleNurse, clinic)
	var got []string
	var sizes []int
	cursor := ""
	for range 5 {
		page, err := e.store.ListEncounters(nurse, clinic, p.ID, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, enc := range page.Items {
			if enc.PatientID != p.ID || enc.ChiefComplaint != "cough" {
				t.Errorf("encounter %s = %+v", enc.ID, enc)
			}
			got = append(got, enc.ID)
		}
		sizes = append(sizes, len(page.Items))
		if cursor = page.NextPageToken; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("encounters, newest first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}

	first, err := e.store.ListEncounters(nurse, clinic, p.ID, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ListEncounters(nurse, clinic, other.ID, 2, first.NextPageToken); err == nil {
		t.Error("another patient's cursor accepted")
	}
	if _, err := e.store.ListEncounters(nurse, clinic, p.ID, 51, ""); err == nil {
		t.Error("limit 51 accepted")
	}
	empty, err := e.store.ListEncounters(nurse, clinic, e.create(t, reg("New", "Comer", "2001-01-01")).ID, 0, "")
	if err != nil || empty.Items == nil || len(empty.Items) != 0 || empty.NextPageToken != "" {
		t.Errorf("no encounters = %+v, %v; want an empty list", empty, err)
	}

	var lists int
	for _, k := range keys(e.audits(t, clinic)) {
		if k.Action == patient.ActionListEncounters && k.Patient == p.ID && k.Actor == "nurse-1" {
			lists++
		}
	}
	if lists != 4 {
		t.Errorf("%d encounter-list audit records for the patient, want 4 (one per page read)", lists)
	}
}
