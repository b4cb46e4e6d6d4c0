package patients_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/breakglass"
	"github.com/medi-os/medi/shared/testenv"
)

// TestBreakGlassRead checks that an active break-glass grant lets a doctor or nurse of a
// sister clinic read exactly that patient, audited in the patient's clinic with the
// grant's reason, and that nothing else opens the door.
func TestBreakGlassRead(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	p := s.register(registration())
	sister := "sister-" + s.clinic
	nurse := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": sister})
	reception := testenv.NewStaff(t, map[string]any{"role": "receptionist", "clinicId": sister})
	lateNurse := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": sister})
	s.tokens["sister-nurse"] = testenv.SignIn(t, nurse)
	s.tokens["sister-reception"] = testenv.SignIn(t, reception)
	s.tokens["late-nurse"] = testenv.SignIn(t, lateNurse)
	path := "/v1/patients/" + p.ID

	if resp := s.do(request{method: http.MethodGet, path: path, role: "sister-nurse"}); resp.status != http.StatusNotFound {
		t.Fatalf("without a grant: %d, want 404", resp.status)
	}

	ctx := context.Background()
	now := time.Now().UTC()
	const reason = "Unconscious patient transferred from the sister clinic"
	grant := func(id string, uid, role string, expires time.Time) {
		t.Helper()
		if _, err := s.fs.Collection(breakglass.Collection).Doc(id).Set(ctx, map[string]any{
			"granteeUid": uid, "granteeRole": role, "granteeClinicId": sister, "clinicId": s.clinic,
			"patientId": p.ID, "organizationId": "org-1", "reason": reason,
			"createdAt": now.Add(-time.Minute), "expiresAt": expires, "revokedAt": nil,
		}); err != nil {
			t.Fatal(err)
		}
	}
	grant("bg-nurse-"+p.ID, nurse.UID, "nurse", now.Add(time.Hour))
	grant("bg-reception-"+p.ID, reception.UID, "receptionist", now.Add(time.Hour))
	grant("bg-late-"+p.ID, lateNurse.UID, "nurse", now.Add(-time.Second))

	resp := s.do(request{method: http.MethodGet, path: path, role: "sister-nurse"})
	if resp.status != http.StatusOK {
		t.Fatalf("with a grant: %d %s", resp.status, resp.body)
	}
	var got struct{ ID string }
	resp.decode(t, &got)
	if got.ID != p.ID {
		t.Errorf("read patient %q, want %q", got.ID, p.ID)
	}
	page, err := audit.List(ctx, s.fs, audit.Filter{ClinicID: s.clinic, Action: "patient.read_break_glass"})
	if err != nil || len(page.Records) != 1 || page.Records[0].Reason != reason || page.Records[0].ActorUID != nurse.UID ||
		page.Records[0].PatientID != p.ID {
		t.Errorf("break-glass read audit: %+v %v", page.Records, err)
	}

	for _, role := range []string{"sister-reception", "late-nurse", "other-clinic"} {
		if resp := s.do(request{method: http.MethodGet, path: path, role: role}); resp.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", role, resp.status)
		}
	}
}
