package admin_test

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

	"github.com/medi-os/medi/functions/admin"
	"github.com/medi-os/medi/functions/auth/authtest"
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
	f := authtest.New(t)
	other := "other-" + f.Clinic
	_, adminToken := f.Staff(t, "admin", f.Clinic)

	// Two doctors through the API (the profile shape staff management writes); one of
	// them is then disabled through the API.
	invite := func(name, role string) string {
		t.Helper()
		resp := f.Do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{
			"email": fmt.Sprintf("%s-%d-%s", role, time.Now().UnixNano(), authtest.NewEmail(t)), "displayName": name, "role": role})
		if resp.Status != http.StatusCreated {
			t.Fatalf("invite %s: %d %s", role, resp.Status, resp.Env.Data)
		}
		var c staff.Created
		resp.Decode(t, &c)
		return c.UID
	}
	invited := invite("Dr Invited", "doctor")
	leaver := invite("Dr Leaver", "doctor")
	if resp := f.Do(t, http.MethodPatch, "/v1/staff/"+leaver, adminToken, map[string]any{"disabled": true}); resp.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", resp.Status, resp.Env.Data)
	}
	invite("Dr Not A Doctor", "nurse")

	// Names that exercise the order: case-insensitive first, then exact, then uid.
	for _, p := range []staff.Profile{
		{UID: "doc-zed", DisplayName: "Dr Zed", Role: "doctor", ClinicID: f.Clinic},
		{UID: "doc-ada-lower", DisplayName: "dr ada", Role: "doctor", ClinicID: f.Clinic},
		{UID: "doc-ada-upper", DisplayName: "Dr Ada", Role: "doctor", ClinicID: f.Clinic},
		{UID: "doc-bea-2", DisplayName: "Dr Bea", Role: "doctor", ClinicID: f.Clinic},
		{UID: "doc-bea-1", DisplayName: "Dr Bea", Role: "doctor", ClinicID: f.Clinic},
		{UID: "doc-off", DisplayName: "Dr Aaron Off", Role: "doctor", ClinicID: f.Clinic, Disabled: true},
		{UID: "admin-ada", DisplayName: "Dr Aa Admin", Role: "admin", ClinicID: f.Clinic},
		{UID: "recep-ada", DisplayName: "Aa Reception", Role: "receptionist", ClinicID: f.Clinic},
		{UID: "doc-elsewhere", DisplayName: "Dr Elsewhere", Role: "doctor", ClinicID: other},
		{UID: "doc-elsewhere-off", DisplayName: "Dr Elsewhere Off", Role: "doctor", ClinicID: other, Disabled: true},
	} {
		putProfile(t, f.FS, p)
	}
	ownDoctors := []admin.Doctor{
		{UID: "doc-ada-upper", DisplayName: "Dr Ada"},
		{UID: "doc-ada-lower", DisplayName: "dr ada"},
		{UID: "doc-bea-1", DisplayName: "Dr Bea"},
		{UID: "doc-bea-2", DisplayName: "Dr Bea"},
		{UID: invited, DisplayName: "Dr Invited"},
		{UID: "doc-zed", DisplayName: "Dr Zed"},
	}
	otherDoctors := []admin.Doctor{{UID: "doc-elsewhere", DisplayName: "Dr Elsewhere"}}

	type caller struct{ role, clinic string }
	for _, tc := range []struct {
		caller
		want []admin.Doctor
	}{
		{caller{"receptionist", f.Clinic}, ownDoctors},
		{caller{"nurse", f.Clinic}, ownDoctors},
		{caller{"doctor", f.Clinic}, ownDoctors},
		{caller{"admin", f.Clinic}, ownDoctors},
		{caller{"nurse", other}, otherDoctors},
		{caller{"admin", "empty-" + f.Clinic}, []admin.Doctor{}},
	} {
		t.Run(tc.role+"@"+tc.clinic, func(t *testing.T) {
			t.Parallel()
			_, token := f.Staff(t, tc.role, tc.clinic)
			resp := f.Do(t, http.MethodGet, "/v1/staff/doctors", token, nil)
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d %q, want 200: %s", resp.Status, resp.Code(), resp.Env.Data)
			}
			var got admin.DoctorDirectory
			resp.Decode(t, &got)
			if diff := cmp.Diff(admin.DoctorDirectory{Doctors: tc.want}, got); diff != "" {
				t.Errorf("directory (-want +got):\n%s", diff)
			}
			// Only uid and displayName: no e-mail, role, clinic or timestamps.
			var raw struct {
				Doctors []map[string]json.RawMessage `json:"items"`
			}
			resp.Decode(t, &raw)
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
	f := authtest.New(t)
	_, adminToken := f.Staff(t, "admin", f.Clinic)
	_, nurseToken := f.Staff(t, "nurse", f.Clinic)
	putProfile(t, f.FS, staff.Profile{UID: "doc-1", Email: "doc-1@medi.test", DisplayName: "Dr One", Role: "doctor", ClinicID: f.Clinic})
	_, noRoleToken := f.Staff(t, "", "")

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
			resp := f.Do(t, http.MethodGet, tc.path, tc.token, nil)
			if resp.Status != tc.status || resp.Code() != tc.code {
				t.Fatalf("status %d %q, want %d %q: %s", resp.Status, resp.Code(), tc.status, tc.code, resp.Env.Data)
			}
			if tc.status != http.StatusOK {
				return
			}
			var shape struct {
				Doctors *[]admin.Doctor `json:"items"`
				Email   *string         `json:"email"`
			}
			resp.Decode(t, &shape)
			if got := shape.Doctors != nil; got != tc.directory {
				t.Errorf("answer is the directory: %v, want %v: %s", got, tc.directory, resp.Env.Data)
			}
			if !tc.directory && (shape.Email == nil || *shape.Email != "doc-1@medi.test") {
				t.Errorf("admin read of a member: %s", resp.Env.Data)
			}
			if tc.directory && !cmp.Equal(*shape.Doctors, []admin.Doctor{{UID: "doc-1", DisplayName: "Dr One"}}) {
				t.Errorf("directory %s", resp.Env.Data)
			}
		})
	}
}

// TestDoctorDirectoryIsBounded: a clinic with more than MaxDoctors active doctors gets
// MaxDoctors of them, in order, and is told the list is truncated.
func TestDoctorDirectoryIsBounded(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	ctx := context.Background()
	bw := f.FS.BulkWriter(ctx)
	for i := range admin.MaxDoctors + 1 {
		// Names in the opposite order of the uids, so that the answer's order is the sort's.
		p := staff.Profile{UID: fmt.Sprintf("doc-%04d", i), DisplayName: fmt.Sprintf("Dr %04d", admin.MaxDoctors-i),
			Role: "doctor", ClinicID: f.Clinic}
		if _, err := bw.Set(f.FS.Collection(staff.Collection).Doc(p.UID), p); err != nil {
			t.Fatal(err)
		}
	}
	bw.End()
	_, token := f.Staff(t, "nurse", f.Clinic)
	resp := f.Do(t, http.MethodGet, "/v1/staff/doctors", token, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.Status, resp.Env.Data)
	}
	var got admin.DoctorDirectory
	resp.Decode(t, &got)
	if got, want := len(got.Doctors), admin.MaxDoctors; got != want {
		t.Fatalf("%d doctors, want %d", got, want)
	}
	// The first MaxDoctors by uid (doc-0000 .. doc-0199), by name: Dr 0001 .. Dr 0200.
	want := admin.DoctorDirectory{Truncated: true}
	for i := admin.MaxDoctors - 1; i >= 0; i-- {
		want.Doctors = append(want.Doctors, admin.Doctor{UID: fmt.Sprintf("doc-%04d", i), DisplayName: fmt.Sprintf("Dr %04d", admin.MaxDoctors-i)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("truncated directory (-want +got):\n%s", diff)
	}

	// At the limit exactly, nothing is left out.
	if _, err := f.FS.Collection(staff.Collection).Doc("doc-0000").Delete(ctx); err != nil {
		t.Fatal(err)
	}
	resp = f.Do(t, http.MethodGet, "/v1/staff/doctors", token, nil)
	got = admin.DoctorDirectory{}
	resp.Decode(t, &got)
	if len(got.Doctors) != admin.MaxDoctors || got.Truncated {
		t.Errorf("at the limit: %d doctors, truncated %v; want %d, false", len(got.Doctors), got.Truncated, admin.MaxDoctors)
	}
}
