package admin_test

import (
	"context"
	"net/http"
	"testing"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/functions/auth/authtest"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/breakglass"
)

func seedOrg(t *testing.T, f *authtest.Fixture, clinics map[string]string, patients map[string]string) {
	t.Helper()
	ctx := context.Background()
	for c, org := range clinics {
		if _, err := f.FS.Collection("clinics").Doc(c).Set(ctx, map[string]any{"organizationId": org}); err != nil {
			t.Fatal(err)
		}
	}
	for p, c := range patients {
		if _, err := f.FS.Collection("clinics").Doc(c).Collection("patients").Doc(p).Set(ctx, map[string]any{"mrn": "x"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBreakGlass(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	home, sister, foreign := f.Clinic, "sister-"+f.Clinic, "foreign-"+f.Clinic
	seedOrg(t, f, map[string]string{home: "org-1", sister: "org-1", foreign: "org-2"},
		map[string]string{"p-sister": sister, "p-foreign": foreign, "p-home": home})
	nurse, nurseToken := f.Staff(t, "nurse", home)
	_, receptionToken := f.Staff(t, "receptionist", home)
	_, homeAdmin := f.Staff(t, "admin", home)
	_, sisterAdmin := f.Staff(t, "admin", sister)
	reason := "Unconscious patient transferred from the sister clinic"

	for _, tc := range []struct {
		name, token string
		body        any
		status      int
	}{
		{"receptionist", receptionToken, map[string]string{"patientId": "p-sister", "reason": reason}, 403},
		{"admin", homeAdmin, map[string]string{"patientId": "p-sister", "reason": reason}, 403},
		{"no reason", nurseToken, map[string]string{"patientId": "p-sister", "reason": "x"}, 400},
		{"other organisation", nurseToken, map[string]string{"patientId": "p-foreign", "reason": reason}, 404},
		{"own clinic", nurseToken, map[string]string{"patientId": "p-home", "reason": reason}, 404},
		{"unknown patient", nurseToken, map[string]string{"patientId": "p-none", "reason": reason}, 404},
	} {
		if resp := f.Do(t, http.MethodPost, "/v1/access/break-glass", tc.token, tc.body); resp.Status != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.Status, tc.status)
		}
	}

	resp := f.Do(t, http.MethodPost, "/v1/access/break-glass", nurseToken, map[string]string{"patientId": "p-sister", "reason": reason})
	if resp.Status != http.StatusCreated {
		t.Fatalf("grant: %d %s", resp.Status, resp.Env.Data)
	}
	var g breakglass.Grant
	resp.Decode(t, &g)
	if g.ClinicID != sister || g.GranteeUID != nurse.UID || !g.Active || g.ExpiresAt.Sub(g.CreatedAt) != breakglass.Duration || g.Reason != reason {
		t.Errorf("grant = %+v", g)
	}
	// Audited with the reason in both clinics.
	for _, c := range []string{sister, home} {
		page, err := audit.List(context.Background(), f.FS, audit.Filter{ClinicID: c, Action: breakglass.ActionGrant})
		if err != nil || len(page.Records) != 1 || page.Records[0].Reason != reason || page.Records[0].PatientID != "p-sister" ||
			page.Records[0].ActorUID != nurse.UID {
			t.Errorf("audit in %s: %+v %v", c, page.Records, err)
		}
	}
	held, ok, err := breakglass.New(f.FS, nil, "", nil).GrantFor(context.Background(), nurse.UID, "p-sister")
	if err != nil || !ok || held.ClinicID != sister {
		t.Errorf("GrantFor = %+v %v, %v; want the grant on the sister clinic", held, ok, err)
	}

	// The patient's clinic's admins see and revoke it; the grantee's clinic's admins do not.
	var list struct {
		Grants []breakglass.Grant `json:"items"`
	}
	f.Do(t, http.MethodGet, "/v1/access/break-glass", sisterAdmin, nil).Decode(t, &list)
	if len(list.Grants) != 1 || list.Grants[0].ID != g.ID {
		t.Errorf("sister admin list = %+v", list.Grants)
	}
	f.Do(t, http.MethodGet, "/v1/access/break-glass", homeAdmin, nil).Decode(t, &list)
	if len(list.Grants) != 0 {
		t.Errorf("home admin sees %d grants of another clinic", len(list.Grants))
	}
	if resp := f.Do(t, http.MethodDelete, "/v1/access/break-glass/"+g.ID, homeAdmin, nil); resp.Status != http.StatusNotFound {
		t.Errorf("revoke by another clinic's admin: %d, want 404", resp.Status)
	}
	if resp := f.Do(t, http.MethodGet, "/v1/access/break-glass", nurseToken, nil); resp.Status != http.StatusForbidden {
		t.Errorf("nurse lists: %d, want 403", resp.Status)
	}
	resp = f.Do(t, http.MethodDelete, "/v1/access/break-glass/"+g.ID, sisterAdmin, nil)
	var revoked breakglass.Grant
	resp.Decode(t, &revoked)
	if resp.Status != http.StatusOK || revoked.Active || revoked.RevokedAt == nil {
		t.Errorf("revoke: %d %+v", resp.Status, revoked)
	}
	if _, ok, _ := breakglass.New(f.FS, nil, "", nil).GrantFor(context.Background(), nurse.UID, "p-sister"); ok {
		t.Error("revoked grant still active")
	}
	docs, err := f.FS.Collection("clinics").Doc(sister).Collection(audit.Collection).
		Where("action", "==", breakglass.ActionRevoke).Documents(context.Background()).GetAll()
	if err != nil || len(docs) != 1 {
		t.Errorf("revoke audit records: %d %v", len(docs), err)
	}

	// The revocation sticks: the nurse cannot grant themselves access to the patient again
	// (the attempt is audited as denied) until an admin of the patient's clinic lifts it.
	again := map[string]string{"patientId": "p-sister", "reason": reason}
	if resp := f.Do(t, http.MethodPost, "/v1/access/break-glass", nurseToken, again); resp.Status != http.StatusForbidden ||
		resp.Reason() != breakglass.ReasonRevoked {
		t.Errorf("grant after revocation: %d %q, want 403 %s", resp.Status, resp.Reason(), breakglass.ReasonRevoked)
	}
	if _, ok, _ := breakglass.New(f.FS, nil, "", nil).GrantFor(context.Background(), nurse.UID, "p-sister"); ok {
		t.Error("a grant after revocation gives access")
	}
	denied, err := audit.List(context.Background(), f.FS, audit.Filter{ClinicID: sister, Action: breakglass.ActionGrant})
	if n := countOutcome(denied.Records, audit.OutcomeDenied); err != nil || n != 1 {
		t.Errorf("denied grant attempts audited: %d %v, want 1", n, err)
	}
	f.Do(t, http.MethodGet, "/v1/access/break-glass", sisterAdmin, nil).Decode(t, &list)
	if len(list.Grants) != 1 || !list.Grants[0].Blocking {
		t.Errorf("listed grants after revocation = %+v, want one blocking", list.Grants)
	}
	if resp := f.Do(t, http.MethodDelete, "/v1/access/break-glass/"+g.ID+"/block", homeAdmin, nil); resp.Status != http.StatusNotFound {
		t.Errorf("lift by another clinic's admin: %d, want 404", resp.Status)
	}
	if resp := f.Do(t, http.MethodDelete, "/v1/access/break-glass/"+g.ID+"/block", nurseToken, nil); resp.Status != http.StatusForbidden {
		t.Errorf("lift by the grantee: %d, want 403", resp.Status)
	}
	var lifted breakglass.Grant
	resp = f.Do(t, http.MethodDelete, "/v1/access/break-glass/"+g.ID+"/block", sisterAdmin, nil)
	resp.Decode(t, &lifted)
	if resp.Status != http.StatusOK || lifted.Blocking || lifted.BlockLiftedAt == nil || lifted.Active {
		t.Errorf("lift: %d %+v", resp.Status, lifted)
	}
	if resp := f.Do(t, http.MethodPost, "/v1/access/break-glass", nurseToken, again); resp.Status != http.StatusCreated {
		t.Errorf("grant after the block was lifted: %d, want 201", resp.Status)
	}
	unblocks, err := audit.List(context.Background(), f.FS, audit.Filter{ClinicID: sister, Action: breakglass.ActionUnblock})
	if err != nil || len(unblocks.Records) != 1 {
		t.Errorf("lift audit records: %d %v", len(unblocks.Records), err)
	}
}

func countOutcome(recs []audit.Record, outcome string) int {
	n := 0
	for _, r := range recs {
		if r.Outcome == outcome {
			n++
		}
	}
	return n
}

func TestAuditListAndVerify(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	admin, adminToken := f.Staff(t, "admin", f.Clinic)
	_, doctorToken := f.Staff(t, "doctor", f.Clinic)
	for i := 0; i < 3; i++ {
		if resp := f.Do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{"email": string(rune('a'+i)) + authtest.NewEmail(t), "displayName": "S", "role": "nurse"}); resp.Status != 201 {
			t.Fatalf("create: %d", resp.Status)
		}
	}
	if resp := f.Do(t, http.MethodGet, "/v1/audit", doctorToken, nil); resp.Status != http.StatusForbidden {
		t.Errorf("doctor reads the audit trail: %d, want 403", resp.Status)
	}
	var page audit.Page
	resp := f.Do(t, http.MethodGet, "/v1/audit?actor="+admin.UID+"&action=staff.create&pageSize=2", adminToken, nil)
	resp.Decode(t, &page)
	if resp.Status != 200 || len(page.Records) != 2 || page.NextPageToken == "" || page.Records[0].Seq == 0 || page.Records[0].Hash == "" {
		t.Fatalf("list: %d %+v", resp.Status, page)
	}
	if resp := f.Do(t, http.MethodGet, "/v1/audit?from=yesterday", adminToken, nil); resp.Status != 400 {
		t.Errorf("bad time: %d, want 400", resp.Status)
	}

	var v audit.Verification
	f.Do(t, http.MethodGet, "/v1/audit/verify", adminToken, nil).Decode(t, &v)
	if !v.Valid || v.Checked != 3 || v.FirstBreak != nil {
		t.Fatalf("verify untouched chain: %+v", v)
	}
	// Someone edits a record directly in Firestore.
	target := page.Records[1]
	_, err := f.FS.Collection("clinics").Doc(f.Clinic).Collection(audit.Collection).Doc(target.ID).
		Update(context.Background(), []firestore.Update{{Path: "outcome", Value: "denied"}})
	if err != nil {
		t.Fatal(err)
	}
	f.Do(t, http.MethodGet, "/v1/audit/verify", adminToken, nil).Decode(t, &v)
	if v.Valid || v.FirstBreak == nil || v.FirstBreak.RecordID != target.ID || v.FirstBreak.Kind != audit.BreakHashMismatch {
		t.Errorf("verify after edit: %+v (break %+v), want hash_mismatch at %s", v, v.FirstBreak, target.ID)
	}
}
