package mailer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/functions/mailer"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

func TestMailerDeliversToTheDevOutbox(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	const secret = "mailer-test-secret"
	dir := t.TempDir()
	h, err := mailer.Function.Handler(context.Background(), &mailer.Config{
		Base:        config.Base{ProjectID: testenv.ProjectID(t), Tier: config.Dev, AuthProjectID: testenv.AuthProject()},
		TasksConfig: app.TasksConfig{DevSecret: config.Secret(secret)},
		OutboxDir:   dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	known := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "c"})
	bouncing := "bounce-" + strings.ReplaceAll(testenv.ProjectID(t), "demo-", "") + mail.BounceDomain
	if _, err := testenv.AuthClient(t).CreateUser(context.Background(), (&fbauth.UserToCreate{}).Email(bouncing)); err != nil {
		t.Fatal(err)
	}
	post := func(body string, withSecret bool) (int, string) {
		r := httptest.NewRequest(http.MethodPost, mail.TaskPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if withSecret {
			r.Header.Set(tasks.SecretHeader, secret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var env struct {
			Data struct{ Outcome string }
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &env)
		return rec.Code, env.Data.Outcome
	}
	task := func(kind, to string) string {
		b, _ := json.Marshal(mail.Task{Kind: kind, To: to, DisplayName: "Sam <b>"})
		return string(b)
	}
	for _, tc := range []struct {
		name    string
		body    string
		secret  bool
		status  int
		outcome string
	}{
		{"not a task delivery", task(mail.KindPasswordReset, known.Email), false, 401, ""},
		{"reset for an account", task(mail.KindPasswordReset, known.Email), true, 200, mail.OutcomeSent},
		{"invitation", task(mail.KindInvitation, known.Email), true, 200, mail.OutcomeSent},
		{"verification", task(mail.KindEmailVerification, known.Email), true, 200, mail.OutcomeSent},
		{"reset for nobody", task(mail.KindPasswordReset, "nobody-"+known.Email), true, 200, mail.OutcomeNoAccount},
		{"permanent failure", task(mail.KindPasswordReset, bouncing), true, 200, mail.OutcomeBounced},
		{"suppressed afterwards", task(mail.KindPasswordReset, bouncing), true, 200, mail.OutcomeSuppressed},
		{"undecodable", `{"kind":`, true, 200, "dropped"},
		{"unknown kind", task("spam", known.Email), true, 200, "dropped"},
	} {
		status, outcome := post(tc.body, tc.secret)
		if status != tc.status || outcome != tc.outcome {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, outcome, tc.status, tc.outcome)
		}
	}
	o, err := mail.NewOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := o.List("", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("outbox has %d messages, want 3", len(msgs))
	}
	for _, m := range msgs {
		if m.To != known.Email || !strings.Contains(m.Text, "http") || !strings.Contains(m.HTML, "<a href=") {
			t.Errorf("message %s to %s lacks its link", m.Kind, m.To)
		}
		if strings.Contains(m.HTML, "Sam <b>") {
			t.Errorf("display name not escaped in HTML: %s", m.HTML)
		}
	}
	if !bytes.Contains([]byte(msgs[0].Subject), []byte("Medi OS")) {
		t.Errorf("subject %q", msgs[0].Subject)
	}
}

// TestMailerRefusesTheOutboxWhenDeployed: on Cloud Run (K_SERVICE set) the mailer needs
// the SMTP relay in every tier, dev included, and refuses a dev outbox folder; only the
// local stack writes mail (with its sign-in links) to the outbox.
func TestMailerRefusesTheOutboxWhenDeployed(t *testing.T) {
	t.Parallel()
	base := map[string]string{"GOOGLE_CLOUD_PROJECT": "demo-mailer-config", "MEDI_ENV": "dev", "MEDI_DEV_TASK_SECRET": "s"}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	if err := config.Load(context.Background(), new(mailer.Config), config.WithEnvironment(with(nil)), config.WithoutSecretResolution()); err != nil {
		t.Errorf("local stack: %v", err)
	}
	err := config.Load(context.Background(), new(mailer.Config), config.WithEnvironment(with(map[string]string{
		"K_SERVICE": "mailer", "MEDI_DEV_OUTBOX_DIR": "/tmp/outbox",
	})), config.WithoutSecretResolution())
	for _, name := range []string{"MEDI_SMTP_HOST", "MEDI_SMTP_PASSWORD", "MEDI_DEV_OUTBOX_DIR"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("deployed dev environment: error %v does not name %s", err, name)
		}
	}
}
