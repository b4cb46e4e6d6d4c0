package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// uniqueClinic returns a clinic id of its own for one test.
func uniqueClinic(t *testing.T) string { return "clinic-" + testenv.ProjectID(t) }

func uniqueEmail(t *testing.T, prefix string) string {
	return prefix + "-" + strings.TrimPrefix(testenv.ProjectID(t), "demo-") + "@medi.test"
}

// outboxFor polls the dev outbox until a message of kind to addr arrives (the mail goes
// auth -> task queue -> mailer -> outbox).
func outboxFor(t *testing.T, c *apitest.Client, addr, kind string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/dev/outbox?to=" + url.QueryEscape(addr)})
		var out struct {
			Messages []map[string]any `json:"items"`
		}
		resp.Decode(t, &out)
		for _, m := range out.Messages {
			if m["kind"] == kind {
				return m
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no %s mail in the dev outbox", kind)
	return nil
}

func TestStaffManagementThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	ctx := context.Background()
	clinic := uniqueClinic(t)
	adminToken := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "admin", "clinicId": clinic}))
	nurseToken := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": clinic}))
	email := uniqueEmail(t, "invitee")

	if resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/staff", Token: nurseToken,
		Body: map[string]any{"email": email, "displayName": "N", "role": "doctor"}}); resp.Status != http.StatusForbidden {
		t.Fatalf("nurse creates staff: %d", resp.Status)
	}
	resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/staff", Token: adminToken,
		Body: map[string]any{"email": email, "displayName": "Dr Invitee", "role": "doctor"}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.Status, resp.Body)
	}
	var created struct {
		UID              string
		InvitationQueued bool
	}
	resp.Decode(t, &created)
	if !created.InvitationQueued {
		t.Error("invitation not queued")
	}
	inv := outboxFor(t, c, email, "invitation")
	if text, _ := inv["text"].(string); !strings.Contains(text, "http") {
		t.Error("invitation without its password-setup link")
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/staff?pageSize=10", Token: adminToken}); resp.Status != http.StatusOK {
		t.Errorf("list: %d", resp.Status)
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/staff/" + created.UID, Token: adminToken}); resp.Status != http.StatusOK {
		t.Errorf("get: %d", resp.Status)
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/staff/no-such-uid", Token: adminToken}); resp.Status != http.StatusNotFound {
		t.Errorf("get unknown: %d", resp.Status)
	}

	// The invitee sets a password (as the link would), signs in, and is then demoted: the
	// old token is refused at once.
	ac := testenv.AuthClient(t)
	if _, err := ac.UpdateUser(ctx, created.UID, (&fbauth.UserToUpdate{}).Password("invitee-pw-1")); err != nil {
		t.Fatal(err)
	}
	invitee := testenv.Staff{UID: created.UID, Email: email, Password: "invitee-pw-1"}
	oldToken := testenv.SignIn(t, invitee)
	resp = c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: oldToken})
	var me struct {
		Role    string
		Profile *struct{ DisplayName string }
	}
	resp.Decode(t, &me)
	if me.Role != "doctor" || me.Profile == nil || me.Profile.DisplayName != "Dr Invitee" {
		t.Errorf("me = %+v", me)
	}
	time.Sleep(1100 * time.Millisecond) // revocation has one-second granularity
	if resp := c.Do(t, apitest.Request{Method: http.MethodPatch, Path: "/v1/staff/" + created.UID, Token: adminToken,
		Body: map[string]any{"role": "nurse"}}); resp.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", resp.Status, resp.Body)
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: oldToken}); resp.Status != http.StatusUnauthorized {
		t.Errorf("old token after role change: %d, want 401", resp.Status)
	}

	// The audit trail has both changes and its chain verifies.
	resp = auditRead(t, c, "/v1/audit?pageSize=10", adminToken)
	var page struct {
		Records []struct{ Action string } `json:"items"`
	}
	resp.Decode(t, &page)
	if len(page.Records) != 2 {
		t.Errorf("audit records: %+v", page.Records)
	}
	resp = auditRead(t, c, "/v1/audit/verify", adminToken)
	var v struct {
		Valid   bool
		Checked int
	}
	resp.Decode(t, &v)
	if !v.Valid || v.Checked != 2 {
		t.Errorf("verify: %+v", v)
	}
}

func TestPasswordResetThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	known := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": uniqueClinic(t)})
	unknown := uniqueEmail(t, "nobody")
	var bodies []string
	for _, addr := range []string{known.Email, unknown} {
		resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/auth/password-reset", Body: map[string]string{"email": addr}})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("reset: %d %s", resp.Status, resp.Body)
		}
		bodies = append(bodies, string(resp.Envelope.Data))
	}
	if bodies[0] != bodies[1] {
		t.Errorf("answers differ for known and unknown addresses: %s / %s", bodies[0], bodies[1])
	}
	outboxFor(t, c, known.Email, "password_reset")

	// The per-account limit (5 per hour by default) answers 429 with Retry-After.
	var last *apitest.Response
	for i := 0; i < 6; i++ {
		last = c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/auth/password-reset", Body: map[string]string{"email": unknown}})
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	if last.Status != http.StatusTooManyRequests || last.Envelope.Code() != "rate_limited" || last.Header.Get("Retry-After") == "" {
		t.Errorf("after the limit: %d %q Retry-After %q", last.Status, last.Envelope.Code(), last.Header.Get("Retry-After"))
	}
}

func TestSessionCookieThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	s := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": uniqueClinic(t)})
	resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/sessions", Body: map[string]string{"idToken": testenv.SignIn(t, s)}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("session: %d %s", resp.Status, resp.Body)
	}
	cookie := strings.SplitN(resp.Header.Get("Set-Cookie"), ";", 2)[0]
	hdr := map[string]string{"Cookie": cookie}
	resp = c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Header: hdr})
	var me struct{ UID string }
	resp.Decode(t, &me)
	if resp.Status != http.StatusOK || me.UID != s.UID {
		t.Fatalf("me with cookie: %d %+v", resp.Status, me)
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/v1/sessions", Header: hdr}); resp.Status != http.StatusOK {
		t.Fatalf("logout: %d", resp.Status)
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Header: hdr}); resp.Status != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", resp.Status)
	}
}

func TestBreakGlassThroughGateway(t *testing.T) {
	t.Parallel()
	c := apitest.StackClient(t)
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.AuthProject())
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	home, sister := uniqueClinic(t), "sister-"+uniqueClinic(t)
	org := "org-" + home
	for _, cl := range []string{home, sister} {
		if _, err := fs.Collection("clinics").Doc(cl).Set(ctx, map[string]any{"organizationId": org}, firestore.MergeAll); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Collection("clinics").Doc(sister).Collection("patients").Doc("bg-patient").Set(ctx, map[string]any{"mrn": "BG1"}); err != nil {
		t.Fatal(err)
	}
	doctorToken := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": home}))
	adminToken := testenv.SignIn(t, testenv.NewStaff(t, map[string]any{"role": "admin", "clinicId": sister}))

	resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/access/break-glass", Token: doctorToken,
		Body: map[string]string{"patientId": "bg-patient", "reason": "Arrived unconscious, history needed"}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("grant: %d %s", resp.Status, resp.Body)
	}
	var g struct {
		ID     string
		Active bool
	}
	resp.Decode(t, &g)
	resp = c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/access/break-glass?active=true", Token: adminToken})
	var list struct {
		Grants []struct{ ID string } `json:"items"`
	}
	resp.Decode(t, &list)
	if len(list.Grants) != 1 || list.Grants[0].ID != g.ID {
		t.Errorf("admin list: %+v", list.Grants)
	}
	if resp := c.Do(t, apitest.Request{Method: http.MethodDelete, Path: "/v1/access/break-glass/" + g.ID, Token: adminToken}); resp.Status != http.StatusOK {
		t.Errorf("revoke: %d", resp.Status)
	}
	resp = auditRead(t, c, "/v1/audit?action=access.break_glass", adminToken)
	var page struct {
		Records []struct{ Reason string } `json:"items"`
	}
	resp.Decode(t, &page)
	if len(page.Records) != 1 || page.Records[0].Reason == "" {
		t.Errorf("audit of the grant: %+v", page.Records)
	}
}

// The document must stay valid while several people edit it; this needs no stack.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := apitest.Spec(t)
	for _, p := range []string{"/v1/staff", "/v1/staff/{uid}", "/v1/sessions", "/v1/auth/password-reset", "/v1/audit/verify", "/v1/access/break-glass/{id}", "/v1/dev/outbox"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("%s is not documented", p)
		}
	}
}

// auditRead GETs an audit endpoint as a client should: the list and the verification seal
// the clinic's pending records first, and while another sealer (the scheduled audit-seal run)
// holds the clinic's chain the answer is 503 with Retry-After; the client waits and asks
// again. It gives up after two minutes (a ceiling, not a timing assertion) and fails on any
// other status than 200.
func auditRead(t *testing.T, c *apitest.Client, path, token string) *apitest.Response {
	t.Helper()
	give := time.Now().Add(2 * time.Minute)
	for {
		resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: path, Token: token})
		if resp.Status != http.StatusServiceUnavailable || time.Now().After(give) {
			if resp.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, resp.Status, resp.Body)
			}
			return resp
		}
		wait := time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 && s <= 10 {
			wait = time.Duration(s) * time.Second
		}
		time.Sleep(wait)
	}
}
