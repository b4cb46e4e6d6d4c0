package e2e

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// e2eDoctor is an entry of GET /v1/staff/doctors.
type e2eDoctor struct {
	UID         string `json:"uid"`
	DisplayName string `json:"displayName"`
}

type e2eDoctorDirectory struct {
	Doctors   []e2eDoctor `json:"items"`
	Truncated bool        `json:"truncated"`
}

// doctors is GET /v1/staff/doctors with token (contract-checked).
func doctors(t *testing.T, c *apitest.Client, token string) e2eDoctorDirectory {
	t.Helper()
	resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/staff/doctors", Token: token})
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /v1/staff/doctors: %d %s", resp.Status, resp.Body)
	}
	var d e2eDoctorDirectory
	resp.Decode(t, &d)
	return d
}

// TestNurseAssignsADoctorFromTheDirectory: the nurse app lists the clinic's doctors and
// starts a consultation with one of the returned uids; a disabled doctor is neither
// listed nor accepted, and another clinic's nurse does not see the clinic's doctors.
func TestNurseAssignsADoctorFromTheDirectory(t *testing.T) {
	t.Parallel()
	q := newQueueClinic(t)

	// The admin invites two doctors and a third who then leaves (disabled).
	invite := func(name string) string {
		t.Helper()
		resp := q.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/staff", Token: q.tokens["admin"],
			Body: map[string]any{"email": uniqueEmail(t, "doctor-"+randomSuffix()), "displayName": name, "role": "doctor"}})
		if resp.Status != http.StatusCreated {
			t.Fatalf("invite %s: %d %s", name, resp.Status, resp.Body)
		}
		var created struct{ UID string }
		resp.Decode(t, &created)
		return created.UID
	}
	quill, abel, gone := invite("Dr Quill"), invite("Dr Abel"), invite("Dr Gone")
	if resp := q.c.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/v1/staff/" + gone, Token: q.tokens["admin"],
		Body: map[string]any{"disabled": true}}); resp.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", resp.Status, resp.Body)
	}

	dir := doctors(t, q.c, q.tokens["nurse"])
	// newQueueClinic's own doctor has a profile without a display name: it sorts first.
	if len(dir.Doctors) != 3 || dir.Doctors[0].DisplayName != "" || dir.Doctors[0].UID == "" || dir.Truncated {
		t.Fatalf("directory = %+v, want the clinic's doctor, Dr Abel and Dr Quill", dir)
	}
	want := []e2eDoctor{{UID: abel, DisplayName: "Dr Abel"}, {UID: quill, DisplayName: "Dr Quill"}}
	if diff := cmp.Diff(want, dir.Doctors[1:]); diff != "" {
		t.Errorf("invited doctors (-want +got):\n%s", diff)
	}
	// Every role of the clinic gets the same directory.
	for _, role := range []string{"receptionist", "doctor", "admin"} {
		if diff := cmp.Diff(dir, doctors(t, q.c, q.tokens[role])); diff != "" {
			t.Errorf("directory as %s differs from the nurse's (-nurse +%s):\n%s", role, role, diff)
		}
	}
	// Another clinic's nurse gets their own clinic's directory (none of these doctors).
	otherNurse := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": q.id + "-other"}))
	if other := doctors(t, q.c, otherNurse); len(other.Doctors) != 0 {
		t.Errorf("another clinic's nurse sees %+v", other.Doctors)
	}

	// The nurse starts the consultation with a doctor the directory returned.
	enc, _ := q.checkIn(t)
	q.move(t, "nurse", enc, "triaged")
	start := func(doctorUID string) *apitest.Response {
		t.Helper()
		return q.c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/encounters/" + enc + "/transitions",
			Token: q.tokens["nurse"], Body: map[string]any{"to": "in_consultation", "doctorUid": doctorUID}})
	}
	if resp := start(gone); resp.Status != http.StatusBadRequest || resp.Envelope.Code() != "invalid_argument" {
		t.Errorf("start with the disabled doctor: %d %s, want 400", resp.Status, resp.Body)
	}
	resp := start(dir.Doctors[1].UID)
	if resp.Status != http.StatusOK {
		t.Fatalf("start with %s from the directory: %d %s", dir.Doctors[1].DisplayName, resp.Status, resp.Body)
	}
	var moved struct{ Encounter e2eEncounter }
	resp.Decode(t, &moved)
	if moved.Encounter.Status != "in_consultation" || moved.Encounter.DoctorUID != abel {
		t.Errorf("started encounter %+v, want in_consultation with doctor %s", moved.Encounter, abel)
	}
}
