package mailer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/mailer"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Cloud Tasks delivers at least once: every mail task below is delivered three times,
// all deliveries at once, in a shuffled order, to three instances of the mailer sharing
// one provider (the dev outbox). The outbox must hold what a single delivery of each
// task leaves there: one mail per task.

const deliverySecret = "mailer-delivery-secret"

// mailRig is one project with its own outbox and instances of the mailer.
type mailRig struct {
	dir       string
	instances []http.Handler
}

func newMailRig(t *testing.T, instances int) *mailRig {
	t.Helper()
	r := &mailRig{dir: t.TempDir()}
	project := testenv.ProjectID(t)
	for range instances {
		h, err := mailer.Function.Handler(context.Background(), &mailer.Config{
			Base:        config.Base{ProjectID: project, Tier: config.Dev, AuthProjectID: testenv.AuthProject()},
			TasksConfig: app.TasksConfig{DevSecret: config.Secret(deliverySecret)},
			OutboxDir:   r.dir,
		})
		if err != nil {
			t.Fatal(err)
		}
		r.instances = append(r.instances, h)
	}
	return r
}

// deliver POSTs task as Cloud Tasks does (queue, task name and retry count headers).
func (r *mailRig) deliver(instance int, name string, retry int, task mail.Task) error {
	b, err := json.Marshal(task)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodPost, mail.TaskPath, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tasks.SecretHeader, deliverySecret)
	req.Header.Set(tasks.HeaderQueueName, tasks.QueueMail)
	req.Header.Set(tasks.HeaderTaskName, name)
	req.Header.Set(tasks.HeaderRetryCount, strconv.Itoa(retry))
	rec := httptest.NewRecorder()
	r.instances[instance].ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("status %d", rec.Code)
	}
	return nil
}

// sentMail is what the outbox says about a mail: kind, recipient and subject (the
// links and ids differ between any two sends).
type sentMail struct{ Kind, To, Subject string }

func (r *mailRig) outbox(t *testing.T) []sentMail {
	t.Helper()
	o, err := mail.NewOutbox(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := o.List("", 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := []sentMail{}
	for _, m := range msgs {
		out = append(out, sentMail{m.Kind, m.To, m.Subject})
	}
	slices.SortFunc(out, func(a, b sentMail) int {
		return strings.Compare(a.Kind+"\x00"+a.To, b.Kind+"\x00"+b.To)
	})
	return out
}

func TestDeliveryMailerTripleEqualsSingle(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST")
	rng := testenv.DeliveryRand(t)
	a := testenv.NewStaff(t, map[string]any{"role": "nurse", "clinicId": "c"})
	b := testenv.NewStaff(t, map[string]any{"role": "doctor", "clinicId": "c"})
	type namedTask struct {
		name string
		task mail.Task
	}
	// Distinct tasks, two of them to the same address (a reset asked twice is two mails).
	work := []namedTask{
		{"invite-a", mail.Task{Kind: mail.KindInvitation, To: a.Email, DisplayName: "A", Role: "nurse"}},
		{"reset-a-1", mail.Task{Kind: mail.KindPasswordReset, To: a.Email}},
		{"reset-a-2", mail.Task{Kind: mail.KindPasswordReset, To: a.Email}},
		{"verify-b", mail.Task{Kind: mail.KindEmailVerification, To: b.Email}},
		{"reset-nobody", mail.Task{Kind: mail.KindPasswordReset, To: "nobody-" + b.Email}},
	}

	single := newMailRig(t, 1)
	for _, w := range work {
		if err := single.deliver(0, w.name, 0, w.task); err != nil {
			t.Fatalf("single delivery of %s: %v", w.name, err)
		}
	}
	triple := newMailRig(t, testenv.DeliveryCopies)
	testenv.DeliverShuffled(t, rng, len(work), testenv.DeliveryCopies, testenv.Redelivery{Attempts: 8, Backoff: 50 * time.Millisecond}, func(i, copy, attempt int) error {
		return triple.deliver(copy, work[i].name, attempt-1, work[i].task)
	})

	want, got := single.outbox(t), triple.outbox(t)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("outbox after triple delivery differs from single delivery (-single +triple):\n%s", d)
	}
	if len(want) != 4 {
		t.Errorf("single delivery sent %d mails, want 4 (no mail for an unknown address): %+v", len(want), want)
	}
}
