package mail

import (
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strconv"
)

// Phase is the step of an SMTP transaction (RFC 5321 section 3.3) at which the relay
// answered. Who a refusal is about depends on the phase as much as on the code: a 550 to
// RCPT TO is about the recipient, a 550 to MAIL FROM about us, a 550 after the message's
// final "." about the message.
type Phase string

// Phases of an SMTP transaction.
const (
	PhaseSession   Phase = "session"     // greeting, EHLO, STARTTLS, AUTH
	PhaseMailFrom  Phase = "mail_from"   // MAIL FROM: the sender
	PhaseRcptTo    Phase = "rcpt_to"     // RCPT TO: the recipient
	PhaseData      Phase = "data"        // the DATA command itself
	PhaseEndOfData Phase = "end_of_data" // the reply to the message's final "."
)

// Class is who an SMTP refusal is about, and so what the mailer does with it.
type Class string

// Classes of SMTP failures.
const (
	// ClassRecipient: the recipient's mailbox does not exist or refuses all mail, for
	// good. The only class that suppresses an address (a [PermanentError]).
	ClassRecipient Class = "recipient"
	// ClassSender: our side was refused (sender address or domain, authentication,
	// relaying, a reputation or policy block). Nothing the recipient did: the operators
	// are alerted and the task is retried until they have fixed it.
	ClassSender Class = "sender"
	// ClassContent: the message was refused (content, size, sender-policy checks such as
	// DMARC at the end of DATA). Alerted and retried like ClassSender.
	ClassContent Class = "content"
	// ClassTransient: try again later (4xx, a mailbox over quota, a connection lost).
	ClassTransient Class = "transient"
)

// RejectedError is a permanent (5xx) refusal that is not about the recipient: the
// sender, the relay's policy or the message. It is not permanent for the task: the
// operators fix the cause (see docs/runbooks/mail-rejected.md) and the queue's retries
// then deliver the mail. The recipient is never suppressed for it.
type RejectedError struct {
	Class    Class
	Phase    Phase
	Code     int
	Enhanced string // RFC 3463 enhanced status code, e.g. "5.7.1"; empty when the relay sent none
	Err      error
}

// Error names the phase and codes, never the relay's text (which may quote the address).
func (e *RejectedError) Error() string {
	return fmt.Sprintf("mail refused by the relay: %s failure at %s, reply %s", e.Class, e.Phase, replyCodes(e.Code, e.Enhanced))
}
func (e *RejectedError) Unwrap() error { return e.Err }

// enhancedCode matches an RFC 3463 status code at the start of a reply's text:
// class "." subject "." detail (subject and detail of 1 to 3 digits).
var enhancedCode = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)`)

// recipientStatus lists the enhanced codes (subject.detail) that say the destination
// mailbox itself is bad for good (RFC 3463 section 3.2 and 3.3; X.1.10 is RFC 7505's
// null MX). X.1.7 and X.1.8 are about the sender; X.2.2 (mailbox full) is transient.
var recipientStatus = map[string]bool{
	"1.1":  true, // bad destination mailbox address
	"1.2":  true, // bad destination system address
	"1.3":  true, // bad destination mailbox address syntax
	"1.6":  true, // destination mailbox has moved, no forwarding address
	"1.10": true, // recipient address has null MX
	"2.1":  true, // mailbox disabled, not accepting messages
}

// Classify says who an SMTP reply code at phase is about. msg is the reply's text, which
// may start with an enhanced status code (RFC 2034). The rules:
//
//   - 2xx/3xx never fail; 4xx is transient in any phase.
//   - 5xx at RCPT TO is the recipient's only when it says the mailbox is bad: 550, 551,
//     553 or 556 (RFC 7505, null MX) with no enhanced code or one of X.1.1, X.1.2, X.1.3,
//     X.1.6, X.1.10, X.2.1.
//     552 at RCPT TO is treated as 452 (RFC 5321 section 4.5.3.1.10): transient. Any
//     other 5xx there (5.7.x policy, 530 authentication, 554 blocks) is about the sender.
//   - 5xx at the end of DATA is the message's (content), unless its enhanced code names
//     the mailbox as above (then the recipient's) or a full mailbox (X.2.2: transient).
//   - 5xx in the session (greeting, EHLO, STARTTLS, AUTH), at MAIL FROM or at the DATA
//     command is about the sender.
func Classify(phase Phase, code int, msg string) (Class, string) {
	enhanced := ""
	subject := ""
	if m := enhancedCode.FindStringSubmatch(msg); m != nil && m[1] == strconv.Itoa(code/100) {
		enhanced = m[1] + "." + m[2] + "." + m[3]
		subject = m[2] + "." + m[3]
	}
	switch {
	case code < 400:
		return "", enhanced
	case code < 500:
		return ClassTransient, enhanced
	}
	switch phase {
	case PhaseRcptTo:
		if code == 552 {
			return ClassTransient, enhanced
		}
		if (code == 550 || code == 551 || code == 553 || code == 556) && (enhanced == "" || recipientStatus[subject]) {
			return ClassRecipient, enhanced
		}
		return ClassSender, enhanced
	case PhaseEndOfData:
		switch {
		case recipientStatus[subject]:
			return ClassRecipient, enhanced
		case subject == "2.2":
			return ClassTransient, enhanced
		}
		return ClassContent, enhanced
	default:
		return ClassSender, enhanced
	}
}

// classifySMTP turns a reply error of phase into the error Send returns: a
// *PermanentError for a recipient-level refusal, a *RejectedError for any other 5xx, and
// a plain (transient) error otherwise.
func classifySMTP(phase Phase, err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return fmt.Errorf("smtp %s: %w", phase, err)
	}
	class, enhanced := Classify(phase, te.Code, te.Msg)
	switch class {
	case ClassRecipient:
		return &PermanentError{Code: te.Code, Enhanced: enhanced, Err: err}
	case ClassSender, ClassContent:
		return &RejectedError{Class: class, Phase: phase, Code: te.Code, Enhanced: enhanced, Err: err}
	}
	return fmt.Errorf("smtp %s: reply %s", phase, replyCodes(te.Code, enhanced))
}

func replyCodes(code int, enhanced string) string {
	if enhanced == "" {
		return strconv.Itoa(code)
	}
	return strconv.Itoa(code) + " " + enhanced
}
