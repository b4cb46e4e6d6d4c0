package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/testenv"
)

type links struct{}

func (links) PasswordResetLink(context.Context, string) (string, error) {
	return "https://l/reset", nil
}
func (links) EmailVerificationLink(context.Context, string) (string, error) {
	return "https://l/verify", nil
}

type provider struct{ errs []error }

func (p *provider) Send(context.Context, mail.Message) error {
	err := p.errs[0]
	p.errs = p.errs[1:]
	return err
}

func TestDeliverRetriesTransientAndSuppressesPermanent(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	p := &provider{errs: []error{errors.New("connection reset"), nil, &mail.PermanentError{Code: 550, Err: errors.New("gone")}}}
	d := mail.NewDeliverer(p, links{}, fs)
	task := mail.Task{Kind: mail.KindPasswordReset, To: "Someone@Medi.test"}
	for i, want := range []struct {
		outcome string
		err     bool
	}{{"", true}, {mail.OutcomeSent, false}, {mail.OutcomeBounced, false}, {mail.OutcomeSuppressed, false}} {
		got, err := d.Deliver(ctx, task)
		if got != want.outcome || (err != nil) != want.err {
			t.Errorf("attempt %d: %q %v, want %q error=%v", i, got, err, want.outcome, want.err)
		}
	}
	// The suppression is keyed by the address's hash, case-insensitively.
	if _, err := fs.Collection(mail.SuppressionCollection).Doc(mail.AddressKey("someone@medi.test")).Get(ctx); err != nil {
		t.Errorf("suppression not recorded: %v", err)
	}
}

// TestDeliverSuppressesOnlyForRecipientFailures drives the Deliverer through the SMTP
// provider against an in-test SMTP server: a refusal of our sender (MAIL FROM), an
// authentication demand (530) and a refusal of the message at the end of DATA must not
// suppress the recipient (before the fix each suppressed the address for good); the
// delivery fails (the queue retries) and succeeds once the relay accepts again. A
// refusal of the mailbox at RCPT TO suppresses it.
func TestDeliverSuppressesOnlyForRecipientFailures(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, testenv.ProjectID(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	suppressed := func(addr string) bool {
		_, err := fs.Collection(mail.SuppressionCollection).Doc(mail.AddressKey(addr)).Get(ctx)
		return err == nil
	}
	for _, tc := range []struct {
		name, phase, reply string
		suppress           bool
	}{
		{"sender policy at MAIL FROM", "mail_from", "550 5.7.1 sender rejected by policy", false},
		{"authentication required", "mail_from", "530 5.7.0 authentication required", false},
		{"content rejected at the end of DATA", "end_of_data", "554 5.7.1 message content rejected", false},
		{"DMARC at the end of DATA", "end_of_data", "550 5.7.26 DMARC policy", false},
		{"relaying denied at RCPT TO", "rcpt_to", "550 5.7.1 relaying denied", false},
		{"no such mailbox", "rcpt_to", "550 5.1.1 no such mailbox", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeSMTP(t, map[string]map[string]string{"*": {tc.phase: tc.reply}})
			d := mail.NewDeliverer(srv.provider(t), links{}, fs)
			to := strings.ReplaceAll(tc.name, " ", "-") + "@medi.test"
			task := mail.Task{Kind: mail.KindPasswordReset, To: to}
			outcome, err := d.Deliver(ctx, task)
			if tc.suppress {
				if err != nil || outcome != mail.OutcomeBounced || !suppressed(to) {
					t.Fatalf("%s: %q %v suppressed=%v, want bounced and suppressed", tc.reply, outcome, err, suppressed(to))
				}
				return
			}
			if err == nil {
				t.Fatalf("%s: outcome %q with no error: the queue would not retry", tc.reply, outcome)
			}
			if suppressed(to) {
				t.Fatalf("%s suppressed the recipient", tc.reply)
			}
			// The operators fix the relay; the queue's retry delivers.
			srv.mu.Lock()
			srv.replies = nil
			srv.mu.Unlock()
			if outcome, err := d.Deliver(ctx, task); err != nil || outcome != mail.OutcomeSent {
				t.Fatalf("retry after the fix: %q %v, want sent", outcome, err)
			}
		})
	}
}
