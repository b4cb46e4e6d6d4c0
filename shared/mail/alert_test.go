package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/testenv"
)

func alertTask() mail.Task {
	return mail.Task{Kind: mail.KindBreakGlassAlert, To: "admin@clinic.test", DisplayName: "Ana Admin",
		Alert: &mail.BreakGlassAlert{
			ClinicID: "clinic-b", ClinicName: "Northside <ED>", TimeZone: "Europe/London",
			GrantID: "bg-0123abcd", RequesterUID: "uid-7", RequesterName: "Dr Who", RequesterRole: "doctor", RequesterClinicID: "clinic-a",
			GrantedAt: time.Date(2026, 7, 1, 13, 5, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 7, 1, 14, 5, 0, 0, time.UTC),
		}}
}

func TestRenderBreakGlassAlert(t *testing.T) {
	t.Parallel()
	m, err := mail.Render(alertTask())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Northside <ED> (clinic-b)", "bg-0123abcd", "Dr Who, doctor, account uid-7, of clinic clinic-a",
		"2026-07-01 14:05 BST (2026-07-01 13:05 UTC)", "2026-07-01 15:05 BST (2026-07-01 14:05 UTC)",
		"/admin/access/break-glass?grant=bg-0123abcd",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "Northside &lt;ED&gt;") || strings.Contains(m.HTML, "<ED>") {
		t.Errorf("html does not escape the clinic name:\n%s", m.HTML)
	}
	if m.Kind != mail.KindBreakGlassAlert || m.To != "admin@clinic.test" || m.Subject == "" {
		t.Errorf("message %q to %q kind %q", m.Subject, m.To, m.Kind)
	}
	if strings.Contains(m.Text, "ignore") {
		t.Error("an alert must not tell the admin to ignore it")
	}
}

func TestBreakGlassAlertTimesFallBackToUTC(t *testing.T) {
	t.Parallel()
	a := *alertTask().Alert
	for _, tz := range []string{"", "Not/AZone", "UTC"} {
		a.TimeZone = tz
		if got, want := a.Granted(), "2026-07-01 13:05 UTC"; got != want {
			t.Errorf("time zone %q: Granted() = %q, want %q", tz, got, want)
		}
	}
}

func TestValidateBreakGlassAlert(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*mail.Task)
	}{
		{"no alert", func(t *mail.Task) { t.Alert = nil }},
		{"no grant", func(t *mail.Task) { t.Alert.GrantID = "" }},
		{"no clinic", func(t *mail.Task) { t.Alert.ClinicID = "" }},
		{"no requester", func(t *mail.Task) { t.Alert.RequesterUID = "" }},
		{"no time", func(t *mail.Task) { t.Alert.GrantedAt = time.Time{} }},
		{"no address", func(t *mail.Task) { t.To = "admin" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task := alertTask()
			tc.mutate(&task)
			if err := task.Validate(); err == nil {
				t.Error("Validate accepted an incomplete alert")
			}
		})
	}
	if err := alertTask().Validate(); err != nil {
		t.Errorf("complete alert: %v", err)
	}
}

type noLinks struct{}

func (noLinks) PasswordResetLink(context.Context, string) (string, error) {
	return "", errors.New("an alert asked for an action link")
}
func (noLinks) EmailVerificationLink(context.Context, string) (string, error) {
	return "", errors.New("an alert asked for an action link")
}

type recorder struct{ sent []mail.Message }

func (r *recorder) Send(_ context.Context, m mail.Message) error {
	r.sent = append(r.sent, m)
	return nil
}

// Alerts go to existing admins: no Firebase Auth action link is made for them.
func TestDeliverBreakGlassAlertWithoutActionLink(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	rec := &recorder{}
	outcome, err := mail.NewDeliverer(rec, noLinks{}, fs).Deliver(ctx, alertTask())
	if err != nil || outcome != mail.OutcomeSent {
		t.Fatalf("Deliver = %q, %v", outcome, err)
	}
	if len(rec.sent) != 1 || rec.sent[0].Kind != mail.KindBreakGlassAlert {
		t.Errorf("sent %+v", rec.sent)
	}
}
