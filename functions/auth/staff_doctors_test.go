package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/google/go-cmp/cmp"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/shared/staff"
)

// putProfile writes users/{uid} as staff management does (Profile), for shapes the API
// would take several calls to reach.
func putProfile(t *testing.T, fs *firestore.Client, p staff.Profile) {
	t.Helper()
	now := time.Now().UTC()
	p.CreatedAt, p.UpdatedAt = now, now
	if _, err := fs.Collection(staff.Collection).Doc(p.UID).Set(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorDirectory: every role of a clinic lists the clinic's active doctors (uid and
// display name only, by name then uid); disabled doctors, other roles and other clinics'
// doctors are left out.
func TestDoctorDirectory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := "other-" + f.clinic
	_, adminToken := f.staff(t, "admin", f.clinic)

	// Two doctors through the API (the profile shape staff management writes); one of
	// them is then disabled through the API.
	invite := func(name, role string) string {
		t.Helper()
		resp := f.do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{
			"email": fmt.Sprintf("%s-%d-%s", role, time.Now().UnixNano(), newEmail(t)), "displayName": name, "role": role})
		if resp.Status != http.StatusCreated {
			t.Fatalf("invite %s: %d %s", role, resp.Status, resp.Env.Data)
		}
		var c staff.Created
		resp.decode(t, &c)
		return c.UID
	}
	invited := invite("Dr Invited", "doctor")
	leaver := invite("Dr Leaver", "doctor")
	if resp := f.do(t, http.MethodPatch, "/v1/staff/"+leaver, adminToken, map[string]any{"disabled": true}); resp.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", resp.Status, resp.Env.Data)
	}
	invite("Dr Not A Doctor", "nurse")

	// Names that exercise the order: case-insensitive first, then exact, then uid.
	for _, p := range []staff.Profile{
		{UID: "doc-zed", DisplayName: "Dr Zed", Role: "doctor", ClinicID: f.clinic},
		{UID: "doc-ada-lower", DisplayName: "dr ada", Role: "doctor", ClinicID: f.clinic},
		{UID: "doc-ada-upper", DisplayName: "Dr Ada", Role: "doctor", ClinicID: f.clinic},
		{UID: "doc-bea-2", DisplayName: "Dr Bea", Role: "doctor", ClinicID: f.clinic},
		{UID: "doc-bea-1", DisplayName: "Dr Bea", Role: "doctor", ClinicID: f.clinic},
		{UID: "doc-off", DisplayName: "Dr Aaron Off", Role: "doctor", ClinicID: f.clinic, Disabled: true},
		{UID: "admin-ada", DisplayName: "Dr Aa Admin", Role: "admin", ClinicID: f.clinic},
		{UID: "recep-ada", DisplayName: "Aa Reception", Role: "receptionist", ClinicID: f.clinic},
		{UID: "doc-elsewhere", DisplayName: "Dr Elsewhere", Role: "doctor", ClinicID: other},
		{UID: "doc-elsewhere-off", DisplayName: "Dr Elsewhere Off", Role: "doctor", ClinicID: other, Disabled: true},
	} {
		putProfile(t, f.fs, p)
	}
	ownDoctors := []authfn.Doctor{
		{UID: "doc-ada-upper", DisplayName: "Dr Ada"},
		{UID: "doc-ada-lower", DisplayName: "dr ada"},
		{UID: "doc-bea-1", DisplayName: "Dr Bea"},
		{UID: "doc-bea-2", DisplayName: "Dr Bea"},
		{UID: invited, DisplayName: "Dr Invited"},
		{UID: "doc-zed", DisplayName: "Dr Zed"},
	}
	otherDoctors := []authfn.Doctor{{UID: "doc-elsewhere", DisplayName: "Dr Elsewhere"}}

	type caller struct{ role, clinic string }
	for _, tc := range []struct {
		caller
		want []authfn.Doctor
	}{
		{caller{"receptionist", f.clinic}, ownDoctors},
		{caller{"nurse", f.clinic}, ownDoctors},
		{caller{"doctor", f.clinic}, ownDoctors},
		{caller{"admin", f.clinic}, ownDoctors},
		{caller{"nurse", other}, otherDoctors},
		{caller{"admin", "empty-" + f.clinic}, []authfn.Doctor{}},
	} {
		t.Run(tc.role+"@"+tc.clinic, func(t *testing.T) {
			t.Parallel()
			_, token := f.staff(t, tc.role, tc.clinic)
			resp := f.do(t, http.MethodGet, "/v1/staff/doctors", token, nil)
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d %q, want 200: %s", resp.Status, resp.code(), resp.Env.Data)
			}
			var got authfn.DoctorDirectory
			resp.decode(t, &got)
			if diff := cmp.Diff(authfn.DoctorDirectory{Doctors: tc.want}, got); diff != "" {
				t.Errorf("directory (-want +got):\n%s", diff)
			}
			// Only uid and displayName: no e-mail, role, clinic or timestamps.
			var raw struct {
				Doctors []map[string]json.RawMessage `json:"doctors"`
			}
			resp.decode(t, &raw)
			for _, d := range raw.Doctors {
				keys := make([]string, 0, len(d))
				for k := range d {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if !slices.Equal(keys, []string{"displayName", "uid"}) {
					t.Errorf("entry fields %v, want [displayName uid]", keys)
				}
			}
		})
	}
}

// TestDoctorDirectoryRoutingAndRefusals: /v1/staff/doctors is the directory, not the
// admin's read of a member called "doctors", and /v1/staff/{uid} stays admin-only.
func TestDoctorDirectoryRoutingAndRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, adminToken := f.staff(t, "admin", f.clinic)
	_, nurseToken := f.staff(t, "nurse", f.clinic)
	putProfile(t, f.fs, staff.Profile{UID: "doc-1", Email: "doc-1@medi.test", DisplayName: "Dr One", Role: "doctor", ClinicID: f.clinic})
	_, noRoleToken := f.staff(t, "", "")

	for _, tc := range []struct {
		name, token, path string
		status            int
		code              string
		// directory: the answer is the doctor directory (not a staff profile).
		directory bool
	}{
		{"nurse lists doctors", nurseToken, "/v1/staff/doctors", http.StatusOK, "", true},
		{"admin lists doctors", adminToken, "/v1/staff/doctors", http.StatusOK, "", true},
		{"admin reads a member", adminToken, "/v1/staff/doc-1", http.StatusOK, "", false},
		{"nurse may not read a member", nurseToken, "/v1/staff/doc-1", http.StatusForbidden, "permission_denied", false},
		{"no token", "", "/v1/staff/doctors", http.StatusUnauthorized, "unauthenticated", false},
		{"account without a role", noRoleToken, "/v1/staff/doctors", http.StatusForbidden, "permission_denied", false},
		{"query parameters are refused", nurseToken, "/v1/staff/doctors?pageSize=5", http.StatusBadRequest, "invalid_argument", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := f.do(t, http.MethodGet, tc.path, tc.token, nil)
			if resp.Status != tc.status || resp.code() != tc.code {
				t.Fatalf("status %d %q, want %d %q: %s", resp.Status, resp.code(), tc.status, tc.code, resp.Env.Data)
			}
			if tc.status != http.StatusOK {
				return
			}
			var shape struct {
				Doctors *[]authfn.Doctor `json:"doctors"`
				Email   *string          `json:"email"`
			}
			resp.decode(t, &shape)
			if got := shape.Doctors != nil; got != tc.directory {
				t.Errorf("answer is the directory: %v, want %v: %s", got, tc.directory, resp.Env.Data)
			}
			if !tc.directory && (shape.Email == nil || *shape.Email != "doc-1@medi.test") {
				t.Errorf("admin read of a member: %s", resp.Env.Data)
			}
			if tc.directory && !cmp.Equal(*shape.Doctors, []authfn.Doctor{{UID: "doc-1", DisplayName: "Dr One"}}) {
				t.Errorf("directory %s", resp.Env.Data)
			}
		})
	}
}

// TestDoctorDirectoryIsBounded: a clinic with more than MaxDoctors active doctors gets
// MaxDoctors of them, in order, and is told the list is truncated.
func TestDoctorDirectoryIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	bw := f.fs.BulkWriter(ctx)
	for i := range authfn.MaxDoctors + 1 {
		// Names in the opposite order of the uids, so that the answer's order is the sort's.
		p := staff.Profile{UID: fmt.Sprintf("doc-%04d", i), DisplayName: fmt.Sprintf("Dr %04d", authfn.MaxDoctors-i),
			Role: "doctor", ClinicID: f.clinic}
		if _, err := bw.Set(f.fs.Collection(staff.Collection).Doc(p.UID), p); err != nil {
			t.Fatal(err)
		}
	}
	bw.End()
	_, token := f.staff(t, "nurse", f.clinic)
	resp := f.do(t, http.MethodGet, "/v1/staff/doctors", token, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Env.Data)
	}
	var got authfn.DoctorDirectory
	resp.decode(t, &got)
	if got, want := len(got.Doctors), authfn.MaxDoctors; got != want {
		t.Fatalf("%d doctors, want %d", got, want)
	}
	// The first MaxDoctors by uid (doc-0000 .. doc-0199), by name: Dr 0001 .. Dr 0200.
	want := authfn.DoctorDirectory{Truncated: true}
	for i := authfn.MaxDoctors - 1; i >= 0; i-- {
		want.Doctors = append(want.Doctors, authfn.Doctor{UID: fmt.Sprintf("doc-%04d", i), DisplayName: fmt.Sprintf("Dr %04d", authfn.MaxDoctors-i)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("truncated directory (-want +got):\n%s", diff)
	}

	// At the limit exactly, nothing is left out.
	if _, err := f.fs.Collection(staff.Collection).Doc("doc-0000").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	resp = f.do(t, http.MethodGet, "/v1/staff/doctors", token, nil)
	got = authfn.DoctorDirectory{}
	resp.decode(t, &got)
	if len(got.Doctors) != authfn.MaxDoctors || got.Truncated {
		t.Errorf("at the limit: %d doctors, truncated %v; want %d, false", len(got.Doctors), got.Truncated, authfn.MaxDoctors)
	}
}
