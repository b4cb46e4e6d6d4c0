package mail_test

import (
	"context"
	"errors"
	"testing"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// countingProvider counts sends and fails the first fail of them.
type countingProvider struct {
	fail  int
	sends int
}

func (p *countingProvider) Send(context.Context, mail.Message) error {
	p.sends++
	if p.sends <= p.fail {
		return errors.New("connection reset")
	}
	return nil
}

func TestDeliverOnceSendsEachTaskOnce(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	p := &countingProvider{fail: 1}
	d := mail.NewDeliverer(p, links{}, fs)
	task := mail.Task{Kind: mail.KindPasswordReset, To: "someone@medi.test"}
	key := mail.DeliveryKey(tasks.Delivery{Queue: tasks.QueueMail, TaskName: "t1"}, task)
	for i, want := range []struct {
		outcome string
		err     bool
		sends   int
	}{
		{"", true, 1},                     // transient failure: the claim is released
		{mail.OutcomeSent, false, 2},      // the retry sends
		{mail.OutcomeDuplicate, false, 2}, // a redelivery does not
		{mail.OutcomeDuplicate, false, 2},
	} {
		got, err := d.DeliverOnce(ctx, key, task)
		if got != want.outcome || (err != nil) != want.err || p.sends != want.sends {
			t.Errorf("delivery %d: %q %v after %d sends, want %q error=%v after %d", i, got, err, p.sends, want.outcome, want.err, want.sends)
		}
	}
	// Another task to the same address is another mail; no key means no de-duplication.
	other := mail.DeliveryKey(tasks.Delivery{Queue: tasks.QueueMail, TaskName: "t2"}, task)
	if got, err := d.DeliverOnce(ctx, other, task); got != mail.OutcomeSent || err != nil || p.sends != 3 {
		t.Errorf("another task: %q %v, %d sends", got, err, p.sends)
	}
	if k := mail.DeliveryKey(tasks.Delivery{}, task); k != "" {
		t.Errorf("key without task name or id = %q, want empty", k)
	}
	if got, err := d.DeliverOnce(ctx, "", task); got != mail.OutcomeSent || err != nil || p.sends != 4 {
		t.Errorf("no key: %q %v, %d sends", got, err, p.sends)
	}
}
