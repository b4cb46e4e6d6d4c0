package mail_test

import (
	"context"
	"errors"
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
