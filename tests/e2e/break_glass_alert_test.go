package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/testenv"
	"github.com/medi-os/medi/tests/apitest"
)

// A break-glass grant reaches every active admin of the patient's clinic as a mail
// (auth -> access-events -> access-alerts -> mail queue -> mailer -> dev outbox) that
// names the clinic, the grant and the requester, and neither the patient nor the reason.
func TestBreakGlassAlertMailsTheClinicsAdmins(t *testing.T) {
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
	for cl, name := range map[string]string{home: "Home Clinic", sister: "Sister Clinic"} {
		if _, err := fs.Collection("clinics").Doc(cl).Set(ctx, map[string]any{"organizationId": org, "name": name, "timezone": "Europe/Brussels"}, firestore.MergeAll); err != nil {
			t.Fatal(err)
		}
	}
	const patientID, mrn = "bg-alert-patient", "BG-ALERT-MRN-77"
	if _, err := fs.Collection("clinics").Doc(sister).Collection("patients").Doc(patientID).Set(ctx, map[string]any{"mrn": mrn, "givenName": "Zebulon"}); err != nil {
		t.Fatal(err)
	}
	// Staff with their profiles (users/{uid}), as staff management writes them.
	profile := func(role, clinic, name string, disabled bool) testenv.Staff {
		t.Helper()
		s := testenv.NewStaff(t, map[string]any{"role": role, "clinicId": clinic})
		if _, err := fs.Collection("users").Doc(s.UID).Set(ctx, map[string]any{
			"uid": s.UID, "email": s.Email, "displayName": name, "role": role, "clinicId": clinic, "disabled": disabled,
		}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	doctor := profile("doctor", home, "Dr Alert Requester", false)
	admins := []testenv.Staff{profile("admin", sister, "Sister Admin One", false), profile("admin", sister, "Sister Admin Two", false)}
	homeAdmin := profile("admin", home, "Home Admin", false)

	const reason = "Unconscious on arrival; marker-reason-7f3a"
	resp := c.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/access/break-glass", Token: testenv.SignIn(t, doctor),
		Body: map[string]string{"patientId": patientID, "reason": reason, "clinicId": sister}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("grant: %d %s", resp.Status, resp.Body)
	}
	var g struct{ ID string }
	resp.Decode(t, &g)

	for _, a := range admins {
		m := outboxFor(t, c, a.Email, "break_glass_alert")
		text, _ := m["text"].(string)
		html, _ := m["html"].(string)
		for _, want := range []string{g.ID, sister, "Sister Clinic", "Dr Alert Requester", "/admin/access/break-glass?grant=" + url.QueryEscape(g.ID)} {
			if !strings.Contains(text, want) {
				t.Errorf("alert to %s lacks %q:\n%s", a.Email, want, text)
			}
		}
		for _, secret := range []string{patientID, mrn, "Zebulon", "marker-reason-7f3a"} {
			if strings.Contains(text+html, secret) {
				t.Errorf("alert to %s contains patient data or the reason (%q)", a.Email, secret)
			}
		}
		if n := countAlerts(t, c, a.Email, g.ID); n != 1 {
			t.Errorf("%s received %d alerts for grant %s, want 1", a.Email, n, g.ID)
		}
	}
	// The grantee's own clinic is not the patient's: its admin is not alerted.
	if n := countAlerts(t, c, homeAdmin.Email, g.ID); n != 0 {
		t.Errorf("the requester's clinic admin received %d alerts", n)
	}
}

// countAlerts counts the break-glass alerts about grant in addr's outbox.
func countAlerts(t *testing.T, c *apitest.Client, addr, grant string) int {
	t.Helper()
	resp := c.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/dev/outbox?to=" + url.QueryEscape(addr)})
	var out struct {
		Messages []map[string]any `json:"items"`
	}
	resp.Decode(t, &out)
	n := 0
	for _, m := range out.Messages {
		if text, _ := m["text"].(string); m["kind"] == "break_glass_alert" && strings.Contains(text, grant) {
			n++
		}
	}
	return n
}
