// Package mail queues and delivers the suite's mail: staff invitations, password reset,
// e-mail verification and break-glass alerts to admins. Producers (the auth and
// access-alerts functions) enqueue a [Task] on the Cloud Tasks queue "mail"; the mailer
// function renders it from text and HTML templates and hands it to a [Provider]: SMTP in
// staging and production, a folder (the dev outbox) in development.
//
// Delivery discipline: a transient failure (network, SMTP 4xx) is an error, answered 5xx
// so that the queue retries with backoff. SMTP failures are classified by the phase of the
// transaction and the reply code (RFC 5321, enhanced status codes RFC 3463; see Classify):
// only a recipient-level permanent failure (a 5xx to RCPT TO saying the mailbox does not
// exist) records the address in mailSuppressions and is acknowledged, and later mail to a
// suppressed address is dropped. A 5xx about our sender, the relay's policy or the message
// (at MAIL FROM, AUTH, a 530, or at the end of DATA) suppresses nobody: it is logged as
// LogMailRejected, which alerts the operators, and retried by the queue until they fix it.
//
// Mail bodies contain sign-in links: they are never logged, and neither are addresses.
package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/medi-os/medi/shared/tasks"
)

// Kinds of mail.
const (
	KindInvitation        = "invitation"
	KindPasswordReset     = "password_reset"
	KindEmailVerification = "email_verification"
)

// Task is the body of a mail task.
type Task struct {
	// ID de-duplicates the task (task name); empty: none.
	ID          string `json:"id,omitempty"`
	Kind        string `json:"kind"`
	To          string `json:"to"`
	DisplayName string `json:"displayName,omitempty"`
	Role        string `json:"role,omitempty"`
	// Alert is the content of a KindBreakGlassAlert mail (nil for other kinds).
	Alert *BreakGlassAlert `json:"alert,omitempty"`
	// Link is filled in by the mailer, which asks Firebase Auth for the action link
	// (password setup or reset, e-mail verification) just before sending: links never
	// wait in the queue, and a request for an unknown address costs the API the same as
	// one for a known address (no account enumeration by timing).
	Link string `json:"-"`
}

// Validate checks what rendering needs.
func (t Task) Validate() error {
	var errs []error
	switch t.Kind {
	case KindInvitation, KindPasswordReset, KindEmailVerification:
	case KindBreakGlassAlert:
		if err := t.Alert.validate(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("unknown kind %q", t.Kind))
	}
	if !strings.Contains(t.To, "@") {
		errs = append(errs, errors.New("to must be an e-mail address"))
	}
	return errors.Join(errs...)
}

// needsLink reports whether a mail of kind carries a Firebase Auth action link.
func needsLink(kind string) bool { return kind != KindBreakGlassAlert }

// TaskPath is the mailer's endpoint for task deliveries.
const TaskPath = "/tasks/mail"

// Queue enqueues mail tasks for the mailer.
type Queue struct {
	enq func(context.Context) (tasks.Enqueuer, error)
	url func() (string, error)
}

// NewQueue returns a Queue; enq returns the task queue client and mailerURL the
// mailer's base URL, both looked up on first use.
func NewQueue(enq func(context.Context) (tasks.Enqueuer, error), mailerURL func() (string, error)) *Queue {
	return &Queue{enq: enq, url: mailerURL}
}

// Enqueue queues t.
func (q *Queue) Enqueue(ctx context.Context, t Task) error {
	if err := t.Validate(); err != nil {
		return err
	}
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	base, err := q.url()
	if err != nil {
		return err
	}
	e, err := q.enq(ctx)
	if err != nil {
		return err
	}
	return e.Enqueue(ctx, tasks.Task{Queue: tasks.QueueMail, Name: t.ID, URL: strings.TrimRight(base, "/") + TaskPath, Body: body})
}

// AddressKey is the key of an address (suppressions, rate limits): a hash of the
// lower-cased address, so that stored keys and logs never hold the address.
func AddressKey(addr string) string {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(addr))))
	return hex.EncodeToString(h[:])
}
