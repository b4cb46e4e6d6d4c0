package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	fbauth "firebase.google.com/go/v4/auth"
	"github.com/google/go-cmp/cmp"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/functions/auth/authtest"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/staff"
	"github.com/medi-os/medi/shared/testenv"
)

func TestStaffActionsByRole(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	_, adminToken := f.Staff(t, "admin", f.Clinic)
	// A member to read and patch.
	var member staff.Created
	resp := f.Do(t, http.MethodPost, "/v1/staff", adminToken, staff.NewStaff{Email: authtest.NewEmail(t), DisplayName: "Member", Role: "nurse"})
	if resp.Status != http.StatusCreated {
		t.Fatalf("admin create: %d %s", resp.Status, resp.Env.Data)
	}
	resp.Decode(t, &member)

	for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			_, token := f.Staff(t, role, f.Clinic)
			allowed := role == "admin"
			for i, tc := range []struct {
				method, path string
				body         any
				okStatus     int
			}{
				{http.MethodPost, "/v1/staff", staff.NewStaff{Email: fmt.Sprintf("%s-%d-%s", role, 0, authtest.NewEmail(t)), DisplayName: "X", Role: "doctor"}, http.StatusCreated},
				{http.MethodGet, "/v1/staff", nil, http.StatusOK},
				{http.MethodGet, "/v1/staff/" + member.UID, nil, http.StatusOK},
				{http.MethodPatch, "/v1/staff/" + member.UID, map[string]any{"displayName": "Renamed by " + role}, http.StatusOK},
			} {
				resp := f.Do(t, tc.method, tc.path, token, tc.body)
				want, wantCode := tc.okStatus, ""
				if !allowed {
					want, wantCode = http.StatusForbidden, "permission_denied"
				}
				if resp.Status != want || resp.Code() != wantCode {
					t.Errorf("%d %s %s: %d %q, want %d %q", i, tc.method, tc.path, resp.Status, resp.Code(), want, wantCode)
				}
			}
		})
	}
}

func TestStaffLifecycle(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	ctx := context.Background()
	admin, adminToken := f.Staff(t, "admin", f.Clinic)
	_, otherAdminToken := f.Staff(t, "admin", "other-"+f.Clinic)

	email := authtest.NewEmail(t)
	resp := f.Do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{"email": strings.ToUpper(email), "displayName": " Dr Who ", "role": "doctor"})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.Status, resp.Env.Data)
	}
	var created staff.Created
	resp.Decode(t, &created)
	want := staff.Profile{UID: created.UID, Email: email, DisplayName: "Dr Who", Role: "doctor", ClinicID: f.Clinic,
		CreatedBy: admin.UID, UpdatedBy: admin.UID}
	if diff := cmp.Diff(want, created.Profile, cmpIgnoreTimes); diff != "" || !created.InvitationQueued {
		t.Errorf("created (-want +got):\n%s invitationQueued=%v", diff, created.InvitationQueued)
	}
	if got := resp.Header.Get("Location"); got != "/v1/staff/"+created.UID {
		t.Errorf("Location = %q", got)
	}
	inv := f.Mail.WaitFor(t, mail.KindInvitation, email)
	if inv.DisplayName != "Dr Who" || inv.Role != "doctor" {
		t.Errorf("invitation task = %+v", inv)
	}
	u, err := f.Auth.GetUser(ctx, created.UID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"role": "doctor", "clinicId": f.Clinic}, u.CustomClaims); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}

	// Validation, duplicates and tenancy.
	for _, tc := range []struct {
		name, token, method, path string
		body                      any
		status                    int
		code                      string
	}{
		{"invalid fields", adminToken, http.MethodPost, "/v1/staff", map[string]any{"email": "nope", "displayName": "", "role": "chief"}, 400, "invalid_argument"},
		{"duplicate email", adminToken, http.MethodPost, "/v1/staff", map[string]any{"email": email, "displayName": "Again", "role": "nurse"}, 409, "conflict"},
		{"other clinic in body", adminToken, http.MethodPost, "/v1/staff", map[string]any{"email": "x" + email, "displayName": "X", "role": "nurse", "clinicId": "elsewhere"}, 403, "permission_denied"},
		{"other clinic's admin reads", otherAdminToken, http.MethodGet, "/v1/staff/" + created.UID, nil, 404, "not_found"},
		{"other clinic's admin patches", otherAdminToken, http.MethodPatch, "/v1/staff/" + created.UID, map[string]any{"role": "admin"}, 404, "not_found"},
		{"own role", adminToken, http.MethodPatch, "/v1/staff/" + admin.UID, map[string]any{"role": "nurse"}, 404, "not_found"},
		{"empty patch", adminToken, http.MethodPatch, "/v1/staff/" + created.UID, map[string]any{}, 400, "invalid_argument"},
		{"bad page size", adminToken, http.MethodGet, "/v1/staff?pageSize=0", nil, 400, "invalid_argument"},
	} {
		resp := f.Do(t, tc.method, tc.path, tc.token, tc.body)
		if resp.Status != tc.status || resp.Code() != tc.code {
			t.Errorf("%s: %d %q, want %d %q", tc.name, resp.Status, resp.Code(), tc.status, tc.code)
		}
	}

	// The admin's own profile exists once created through the API; self role change is 403.
	resp = f.Do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{"email": "boss-" + email, "displayName": "Boss", "role": "admin"})
	var boss staff.Created
	resp.Decode(t, &boss)
	if err := f.Auth.SetCustomUserClaims(ctx, boss.UID, staff.Claims("admin", f.Clinic)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Auth.UpdateUser(ctx, boss.UID, (&fbauth.UserToUpdate{}).Password("boss-password-1")); err != nil {
		t.Fatal(err)
	}
	bossToken := testenv.SignIn(t, testenv.Staff{UID: boss.UID, Email: "boss-" + email, Password: "boss-password-1"})
	resp = f.Do(t, http.MethodPatch, "/v1/staff/"+boss.UID, bossToken, map[string]any{"role": "nurse"})
	if resp.Status != http.StatusForbidden {
		t.Errorf("own role change: %d, want 403", resp.Status)
	}
	resp = f.Do(t, http.MethodGet, "/v1/me", bossToken, nil)
	var me authfn.Me
	resp.Decode(t, &me)
	if me.UID != boss.UID || me.Role != "admin" || me.Profile == nil || me.Profile.DisplayName != "Boss" {
		t.Errorf("me = %+v", me)
	}

	// Paginated list of the clinic only.
	seen := map[string]bool{}
	token := ""
	for i := 0; i < 5; i++ {
		resp := f.Do(t, http.MethodGet, "/v1/staff?pageSize=1&pageToken="+token, adminToken, nil)
		var page staff.Page
		resp.Decode(t, &page)
		for _, p := range page.Staff {
			if p.ClinicID != f.Clinic {
				t.Errorf("listed a member of %s", p.ClinicID)
			}
			seen[p.UID] = true
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if !seen[created.UID] || !seen[boss.UID] || len(seen) != 2 {
		t.Errorf("listed %v, want the two members", seen)
	}

	// Audit records of the changes.
	page, err := audit.List(ctx, f.FS, audit.Filter{ClinicID: f.Clinic, Action: staff.ActionCreate})
	if err != nil || len(page.Records) != 2 || page.Records[0].ActorUID != admin.UID {
		t.Errorf("staff.create audit records: %+v %v", page.Records, err)
	}
}

var cmpIgnoreTimes = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.String()
	return s == "CreatedAt" || s == "UpdatedAt"
}, cmp.Ignore())

// Role change and disable revoke the old tokens at once.
func TestRoleChangeAndDisableLockOldTokenOut(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	ctx := context.Background()
	_, adminToken := f.Staff(t, "admin", f.Clinic)

	members := map[string]testenv.Staff{}
	tokens := map[string]string{}
	for _, name := range []string{"demoted", "disabled", "renamed"} {
		email := name + "-" + authtest.NewEmail(t)
		resp := f.Do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{"email": email, "displayName": name, "role": "doctor"})
		var c staff.Created
		resp.Decode(t, &c)
		if _, err := f.Auth.UpdateUser(ctx, c.UID, (&fbauth.UserToUpdate{}).Password("pw-"+name+"-123")); err != nil {
			t.Fatal(err)
		}
		members[name] = testenv.Staff{UID: c.UID, Email: email, Password: "pw-" + name + "-123"}
		tokens[name] = testenv.SignIn(t, members[name])
		if resp := f.Do(t, http.MethodGet, "/v1/me", tokens[name], nil); resp.Status != http.StatusOK {
			t.Fatalf("%s before the change: %d", name, resp.Status)
		}
	}
	time.Sleep(1100 * time.Millisecond) // the Auth emulator revokes with one-second granularity

	for name, patch := range map[string]map[string]any{
		"demoted": {"role": "receptionist"}, "disabled": {"disabled": true}, "renamed": {"displayName": "New name"},
	} {
		if resp := f.Do(t, http.MethodPatch, "/v1/staff/"+members[name].UID, adminToken, patch); resp.Status != http.StatusOK {
			t.Fatalf("patch %s: %d %s", name, resp.Status, resp.Env.Data)
		}
	}
	for _, tc := range []struct {
		name   string
		status int
	}{{"demoted", 401}, {"disabled", 401}, {"renamed", 200}} {
		resp := f.Do(t, http.MethodGet, "/v1/me", tokens[tc.name], nil)
		if resp.Status != tc.status {
			t.Errorf("%s: old token answered %d, want %d", tc.name, resp.Status, tc.status)
		}
	}
	// The demoted member signs in again and has the new role.
	resp := f.Do(t, http.MethodGet, "/v1/me", testenv.SignIn(t, members["demoted"]), nil)
	var me authfn.Me
	resp.Decode(t, &me)
	if me.Role != "receptionist" || me.Profile == nil || me.Profile.Role != "receptionist" {
		t.Errorf("after sign-in: %+v", me)
	}
}

func TestStaffChangesNeedFreshSignIn(t *testing.T) {
	t.Parallel()
	f := authtest.New(t, func(c *authfn.Config) { c.Admin.FreshAuthMaxAge = time.Nanosecond })
	_, adminToken := f.Staff(t, "admin", f.Clinic)
	resp := f.Do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{"email": authtest.NewEmail(t), "displayName": "X", "role": "nurse"})
	if resp.Status != http.StatusUnauthorized || resp.Reason() != "reauthentication_required" {
		t.Errorf("stale sign-in: %d reason %q, want 401 reauthentication_required", resp.Status, resp.Reason())
	}
	resp = f.Do(t, http.MethodDelete, "/v1/staff/someone/sessions", adminToken, nil)
	if resp.Status != http.StatusUnauthorized || resp.Reason() != "reauthentication_required" {
		t.Errorf("revoking sessions after a stale sign-in: %d reason %q, want 401 reauthentication_required", resp.Status, resp.Reason())
	}
	if resp := f.Do(t, http.MethodGet, "/v1/staff", adminToken, nil); resp.Status != http.StatusOK {
		t.Errorf("reads need no fresh sign-in: %d", resp.Status)
	}
}

// An admin signs a member out of every device: their web session and their ID token are
// refused from then on; they sign in again and work. Only for members of the admin's
// clinic, never oneself, audited.
func TestRevokeStaffSessions(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	ctx := context.Background()
	admin, adminToken := f.Staff(t, "admin", f.Clinic)
	_, otherAdminToken := f.Staff(t, "admin", "other-"+f.Clinic)
	_, nurseToken := f.Staff(t, "nurse", f.Clinic)

	email := authtest.NewEmail(t)
	resp := f.Do(t, http.MethodPost, "/v1/staff", adminToken, map[string]any{"email": email, "displayName": "Lost Phone", "role": "nurse"})
	var c staff.Created
	resp.Decode(t, &c)
	if _, err := f.Auth.UpdateUser(ctx, c.UID, (&fbauth.UserToUpdate{}).Password("pw-lost-phone-1")); err != nil {
		t.Fatal(err)
	}
	member := testenv.Staff{UID: c.UID, Email: email, Password: "pw-lost-phone-1"}
	token := testenv.SignIn(t, member)
	resp = f.Do(t, http.MethodPost, "/v1/sessions", "", map[string]string{"idToken": token})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create session: %d %s", resp.Status, resp.Env.Data)
	}
	cookie := strings.SplitN(resp.Header.Get("Set-Cookie"), ";", 2)[0]
	if resp := f.Do(t, http.MethodGet, "/v1/me", "", nil, "Cookie", cookie); resp.Status != http.StatusOK {
		t.Fatalf("me with the session before: %d", resp.Status)
	}
	time.Sleep(1100 * time.Millisecond) // the Auth emulator revokes with one-second granularity

	path := "/v1/staff/" + c.UID + "/sessions"
	for _, tc := range []struct {
		name, token, path string
		status            int
		code              string
	}{
		{"not an admin", nurseToken, path, 403, "permission_denied"},
		{"other clinic's admin", otherAdminToken, path, 404, "not_found"},
		{"unknown member", adminToken, "/v1/staff/no-such-uid/sessions", 404, "not_found"},
		{"oneself", adminToken, "/v1/staff/" + admin.UID + "/sessions", 403, "permission_denied"},
	} {
		if resp := f.Do(t, http.MethodDelete, tc.path, tc.token, nil); resp.Status != tc.status || resp.Code() != tc.code {
			t.Errorf("%s: %d %q, want %d %q", tc.name, resp.Status, resp.Code(), tc.status, tc.code)
		}
	}
	if resp := f.Do(t, http.MethodGet, "/v1/me", "", nil, "Cookie", cookie); resp.Status != http.StatusOK {
		t.Fatalf("refused revocations ended the session: %d", resp.Status)
	}

	resp = f.Do(t, http.MethodDelete, path, adminToken, nil)
	var out staff.SessionsRevoked
	resp.Decode(t, &out)
	if resp.Status != http.StatusOK || out.UID != c.UID || out.RevokedAt.IsZero() {
		t.Fatalf("revoke: %d %+v", resp.Status, out)
	}
	if resp := f.Do(t, http.MethodGet, "/v1/me", "", nil, "Cookie", cookie); resp.Status != http.StatusUnauthorized {
		t.Errorf("session after revocation: %d, want 401", resp.Status)
	}
	if resp := f.Do(t, http.MethodGet, "/v1/me", token, nil); resp.Status != http.StatusUnauthorized {
		t.Errorf("ID token after revocation: %d, want 401", resp.Status)
	}
	// The account itself still works: a new sign-in is accepted.
	if resp := f.Do(t, http.MethodGet, "/v1/me", testenv.SignIn(t, member), nil); resp.Status != http.StatusOK {
		t.Errorf("new sign-in after revocation: %d, want 200", resp.Status)
	}
	page, err := audit.List(ctx, f.FS, audit.Filter{ClinicID: f.Clinic, Action: staff.ActionRevokeSessions})
	if err != nil || len(page.Records) != 1 || page.Records[0].ActorUID != admin.UID || page.Records[0].ResourceID != c.UID {
		t.Errorf("%s audit records: %+v %v", staff.ActionRevokeSessions, page.Records, err)
	}
}

// A profile stored without its uid field (as the local stack's seed once wrote them) is
// still listed and read with its uid: the document id is the uid, so that the admin's
// screen can act on that member.
func TestProfileWithoutUIDFieldIsAddressable(t *testing.T) {
	t.Parallel()
	f := authtest.New(t)
	ctx := context.Background()
	_, adminToken := f.Staff(t, "admin", f.Clinic)
	member, _ := f.Staff(t, "nurse", f.Clinic)
	if _, err := f.FS.Collection(staff.Collection).Doc(member.UID).Set(ctx, map[string]any{
		"email": member.Email, "displayName": "Seeded", "role": "nurse", "clinicId": f.Clinic, "disabled": false,
	}); err != nil {
		t.Fatal(err)
	}
	var page staff.Page
	f.Do(t, http.MethodGet, "/v1/staff", adminToken, nil).Decode(t, &page)
	if len(page.Staff) != 1 || page.Staff[0].UID != member.UID {
		t.Errorf("listed %+v, want the member with uid %s", page.Staff, member.UID)
	}
	var got staff.Profile
	f.Do(t, http.MethodGet, "/v1/staff/"+member.UID, adminToken, nil).Decode(t, &got)
	if got.UID != member.UID {
		t.Errorf("read uid %q, want %q", got.UID, member.UID)
	}
}
