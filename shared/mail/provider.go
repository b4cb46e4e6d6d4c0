package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medi-os/medi/shared/logging"
)

// Provider sends a rendered message. An error wrapping *PermanentError means the address
// will never accept mail; *RejectedError means the relay refused us or the message (the
// operators must act; retried); any other error is transient.
type Provider interface {
	Send(ctx context.Context, m Message) error
}

// PermanentError is a refusal of the recipient that retrying cannot fix (an SMTP 5xx
// at RCPT TO saying the mailbox does not exist; see Classify). It suppresses the address.
type PermanentError struct {
	Code     int
	Enhanced string // RFC 3463 enhanced status code, when the relay sent one
	Err      error
}

// Error names the codes, never the relay's text (which may quote the address).
func (e *PermanentError) Error() string {
	return "permanent delivery failure: the recipient's mailbox refused, reply " + replyCodes(e.Code, e.Enhanced)
}
func (e *PermanentError) Unwrap() error { return e.Err }

// LogMailRejected is the message of the log line (ERROR) written when the relay refuses
// the sender or the message; the log-based alert mail-rejected fires on it.
const LogMailRejected = "mail rejected by the relay"

// SuppressionCollection records addresses that failed permanently, keyed by AddressKey.
const SuppressionCollection = "mailSuppressions"

// Outcomes of Deliver.
const (
	OutcomeSent       = "sent"
	OutcomeSuppressed = "suppressed" // address on the suppression list: not sent
	OutcomeBounced    = "bounced"    // permanent failure: address now suppressed
)

// Links makes Firebase Auth action links (the Admin SDK client satisfies it).
type Links interface {
	PasswordResetLink(ctx context.Context, email string) (string, error)
	EmailVerificationLink(ctx context.Context, email string) (string, error)
}

// OutcomeNoAccount: no account has the address (password reset for an unknown address).
const OutcomeNoAccount = "no_account"

// Deliverer renders and sends mail tasks, honouring the suppression list.
type Deliverer struct {
	provider Provider
	links    Links
	fs       *firestore.Client
	now      func() time.Time
}

// NewDeliverer returns a Deliverer over provider, with links from links and
// suppressions in fs.
func NewDeliverer(provider Provider, links Links, fs *firestore.Client) *Deliverer {
	return &Deliverer{provider: provider, links: links, fs: fs, now: time.Now}
}

func (d *Deliverer) link(ctx context.Context, t Task) (string, error) {
	if t.Kind == KindEmailVerification {
		return d.links.EmailVerificationLink(ctx, t.To)
	}
	return d.links.PasswordResetLink(ctx, t.To)
}

// ErrInvalid wraps errors of tasks that can never be delivered (bad body).
var ErrInvalid = errors.New("mail: invalid task")

// Deliver sends t unless its address is suppressed. It returns an error only when a retry
// may succeed (the caller answers 5xx to the queue); a permanent failure is recorded and
// reported as OutcomeBounced with a nil error.
func (d *Deliverer) Deliver(ctx context.Context, t Task) (string, error) {
	if err := t.Validate(); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	key := AddressKey(t.To)
	ref := d.fs.Collection(SuppressionCollection).Doc(key)
	switch _, err := ref.Get(ctx); {
	case err == nil:
		return OutcomeSuppressed, nil
	case status.Code(err) != codes.NotFound:
		return "", fmt.Errorf("reading suppression list: %w", err)
	}
	if needsLink(t.Kind) {
		link, err := d.link(ctx, t)
		switch {
		case fbauth.IsEmailNotFound(err), fbauth.IsUserNotFound(err):
			return OutcomeNoAccount, nil
		case err != nil:
			return "", fmt.Errorf("making action link: %w", err)
		}
		t.Link = link
	}
	msg, err := Render(t)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	err = d.provider.Send(ctx, msg)
	var perm *PermanentError
	var rejected *RejectedError
	switch {
	case err == nil:
		return OutcomeSent, nil
	case errors.As(err, &rejected):
		// Our sender, the relay's policy or the message was refused: nothing the recipient
		// did. Alert the operators (log-based alert mail-rejected) and let the queue retry.
		logging.FromContext(ctx).Error(LogMailRejected, "kind", t.Kind, "class", string(rejected.Class),
			"phase", string(rejected.Phase), "smtpCode", rejected.Code, "enhancedCode", rejected.Enhanced)
		return "", err
	case errors.As(err, &perm):
		logging.FromContext(ctx).Warn("mail bounced permanently; address suppressed", "address", key,
			"smtpCode", perm.Code, "enhancedCode", perm.Enhanced)
		_, serr := ref.Set(ctx, map[string]any{"code": perm.Code, "enhancedCode": perm.Enhanced, "kind": t.Kind, "createdAt": d.now().UTC()})
		if serr != nil {
			return "", fmt.Errorf("recording suppression: %w", serr)
		}
		return OutcomeBounced, nil
	default:
		return "", err
	}
}
