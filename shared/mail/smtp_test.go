package mail_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/medi-os/medi/shared/mail"
)

// fakeSMTP speaks enough SMTP for net/smtp. By default it accepts everything and records
// the messages; replies maps a phase to the reply it gives instead, for recipients whose
// address starts with a key of the map ("gone@..." gets replies["gone"]).
type fakeSMTP struct {
	ln      net.Listener
	mu      sync.Mutex
	data    []string
	replies map[string]map[string]string
}

func newFakeSMTP(t *testing.T, replies map[string]map[string]string) *fakeSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln, replies: replies}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSMTP) provider(t *testing.T) *mail.SMTP {
	t.Helper()
	_, port, _ := net.SplitHostPort(f.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: p, From: "Medi OS <no-reply@medi.test>"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 fake ESMTP")
	// The sender's replies are chosen by the recipient, which net/smtp sends after MAIL
	// FROM: the session remembers the script once RCPT TO names it, and MAIL FROM
	// refusals are keyed by "*" (every transaction).
	f.mu.Lock()
	replies := f.replies
	f.mu.Unlock()
	script := replies["*"]
	reply := func(p string, ok string) {
		if r, found := script[p]; found {
			say(r)
			return
		}
		say(ok)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimSpace(line)
		upper := strings.ToUpper(cmd)
		switch {
		case strings.HasPrefix(upper, "EHLO"), strings.HasPrefix(upper, "HELO"):
			say("250 fake")
		case strings.HasPrefix(upper, "MAIL FROM"):
			reply("mail_from", "250 ok")
		case strings.HasPrefix(upper, "RCPT TO:<"):
			local, _, _ := strings.Cut(strings.TrimPrefix(cmd[len("RCPT TO:<"):], ""), "@")
			if s, ok := replies[strings.ToLower(local)]; ok {
				script = s
			}
			reply("rcpt_to", "250 ok")
		case upper == "DATA":
			if r, found := script["data"]; found {
				say(r)
				continue
			}
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			if r, found := script["end_of_data"]; found {
				say(r)
				continue
			}
			f.mu.Lock()
			f.data = append(f.data, b.String())
			f.mu.Unlock()
			say("250 queued")
		case upper == "RSET":
			say("250 ok")
		case upper == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func testMessage(to string) mail.Message {
	return mail.Message{To: to, Subject: "Réinitialisation", Text: "link: https://x/y", HTML: "<p>hi</p>", Kind: mail.KindPasswordReset}
}

func TestSMTPSendsTheMessage(t *testing.T) {
	t.Parallel()
	srv := newFakeSMTP(t, nil)
	if err := srv.provider(t).Send(context.Background(), testMessage("ok@medi.test")); err != nil {
		t.Fatalf("accepted mail: %v", err)
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.data) != 1 {
		t.Fatalf("server got %d messages, want 1", len(srv.data))
	}
	for _, want := range []string{"To: ok@medi.test", "multipart/alternative", "text/plain", "text/html", "=?utf-8?q?R=C3=A9initialisation?="} {
		if !strings.Contains(srv.data[0], want) {
			t.Errorf("message lacks %q:\n%s", want, srv.data[0])
		}
	}
}

// TestSMTPClassifiesByPhaseAndCode sends to an in-test SMTP server that refuses at each
// phase of the transaction, and checks what Send reports: only a refusal of the
// recipient's mailbox is permanent (and would suppress the address); the sender's and
// the message's refusals are RejectedErrors (alert, retry); 4xx are transient.
func TestSMTPClassifiesByPhaseAndCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		phase mail.Phase
		reply string
		want  mail.Class
	}{
		{"no such mailbox", mail.PhaseRcptTo, "550 5.1.1 <x@medi.test>: no such mailbox", mail.ClassRecipient},
		{"no such mailbox, no enhanced code", mail.PhaseRcptTo, "550 mailbox unavailable", mail.ClassRecipient},
		{"user not local", mail.PhaseRcptTo, "551 5.1.6 user has moved", mail.ClassRecipient},
		{"mailbox name not allowed", mail.PhaseRcptTo, "553 5.1.3 bad address syntax", mail.ClassRecipient},
		{"mailbox disabled", mail.PhaseRcptTo, "550 5.2.1 mailbox disabled", mail.ClassRecipient},
		{"null MX", mail.PhaseRcptTo, "556 5.1.10 domain does not accept mail", mail.ClassRecipient},
		{"relaying denied", mail.PhaseRcptTo, "550 5.7.1 relaying denied", mail.ClassSender},
		{"authentication required at RCPT", mail.PhaseRcptTo, "530 5.7.0 authentication required", mail.ClassSender},
		{"blocked by policy", mail.PhaseRcptTo, "554 service unavailable; client host blocked", mail.ClassSender},
		{"too many recipients (552 is 452)", mail.PhaseRcptTo, "552 5.5.3 too many recipients", mail.ClassTransient},
		{"greylisted", mail.PhaseRcptTo, "451 4.7.1 greylisted, try later", mail.ClassTransient},
		{"sender refused", mail.PhaseMailFrom, "550 5.7.1 sender policy (SPF) failure", mail.ClassSender},
		{"sender address bad", mail.PhaseMailFrom, "553 5.1.7 bad sender address", mail.ClassSender},
		{"authentication required at MAIL FROM", mail.PhaseMailFrom, "530 5.7.0 authentication required", mail.ClassSender},
		{"sender busy", mail.PhaseMailFrom, "421 4.3.2 shutting down", mail.ClassTransient},
		{"DATA refused", mail.PhaseData, "554 5.5.1 no valid recipients", mail.ClassSender},
		{"content rejected", mail.PhaseEndOfData, "550 5.7.1 message rejected as spam", mail.ClassContent},
		{"DMARC", mail.PhaseEndOfData, "550 5.7.26 unauthenticated mail is prohibited", mail.ClassContent},
		{"message too big", mail.PhaseEndOfData, "552 5.3.4 message too big", mail.ClassContent},
		{"mailbox full", mail.PhaseEndOfData, "552 5.2.2 mailbox full", mail.ClassTransient},
		{"mailbox gone, said after DATA", mail.PhaseEndOfData, "550 5.1.1 no such user", mail.ClassRecipient},
		{"content deferred", mail.PhaseEndOfData, "451 4.3.0 try again", mail.ClassTransient},
	}
	replies := map[string]map[string]string{}
	for i, tc := range cases {
		replies["c"+strconv.Itoa(i)] = map[string]string{string(tc.phase): tc.reply}
	}
	// MAIL FROM comes before the recipient is known: a second server refuses it for all.
	srv := newFakeSMTP(t, replies)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := srv
			if tc.phase == mail.PhaseMailFrom {
				s = newFakeSMTP(t, map[string]map[string]string{"*": {string(tc.phase): tc.reply}})
			}
			err := s.provider(t).Send(context.Background(), testMessage("c"+strconv.Itoa(i)+"@medi.test"))
			var perm *mail.PermanentError
			var rej *mail.RejectedError
			got := mail.ClassTransient
			switch {
			case err == nil:
				t.Fatalf("%s: sent, want a failure", tc.reply)
			case errors.As(err, &perm):
				got = mail.ClassRecipient
			case errors.As(err, &rej):
				got = rej.Class
				if rej.Phase != tc.phase {
					t.Errorf("phase %s, want %s", rej.Phase, tc.phase)
				}
			}
			if got != tc.want {
				t.Errorf("%s at %s: %s (%v), want %s", tc.reply, tc.phase, got, err, tc.want)
			}
			if strings.Contains(err.Error(), "@") {
				t.Errorf("error %q quotes the relay's text (it may name the address)", err)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		phase        mail.Phase
		code         int
		msg          string
		want         mail.Class
		wantEnhanced string
	}{
		{mail.PhaseRcptTo, 550, "5.1.1 gone", mail.ClassRecipient, "5.1.1"},
		{mail.PhaseRcptTo, 550, "4.1.1 mismatched class is ignored", mail.ClassRecipient, ""},
		{mail.PhaseRcptTo, 550, "5.1.0 other address status", mail.ClassSender, "5.1.0"},
		{mail.PhaseRcptTo, 550, "5.1.8 bad sender's system address", mail.ClassSender, "5.1.8"},
		{mail.PhaseSession, 535, "5.7.8 authentication credentials invalid", mail.ClassSender, "5.7.8"},
		{mail.PhaseSession, 554, "no SMTP service here", mail.ClassSender, ""},
		{mail.PhaseEndOfData, 554, "transaction failed", mail.ClassContent, ""},
		{mail.PhaseEndOfData, 250, "2.0.0 queued", "", "2.0.0"},
	} {
		got, enh := mail.Classify(tc.phase, tc.code, tc.msg)
		if got != tc.want || enh != tc.wantEnhanced {
			t.Errorf("Classify(%s, %d, %q) = %q %q, want %q %q", tc.phase, tc.code, tc.msg, got, enh, tc.want, tc.wantEnhanced)
		}
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{mail.KindInvitation, mail.KindPasswordReset, mail.KindEmailVerification} {
		m, err := mail.Render(mail.Task{Kind: kind, To: "a@b.test", DisplayName: `<script>x</script>`, Link: "https://auth.example/act?oobCode=1&x=2"})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if m.Subject == "" || !strings.Contains(m.Text, "https://auth.example/act?oobCode=1&x=2") || !strings.Contains(m.HTML, "oobCode=1&amp;x=2") {
			t.Errorf("%s: link missing:\n%s\n%s", kind, m.Text, m.HTML)
		}
		if strings.Contains(m.HTML, "<script>") {
			t.Errorf("%s: HTML not escaped", kind)
		}
	}
	if _, err := mail.Render(mail.Task{Kind: mail.KindInvitation, To: "a@b.test", Link: "javascript:alert(1)"}); err == nil {
		t.Error("non-http link rendered")
	}
	if _, err := mail.Render(mail.Task{Kind: "other", To: "a@b.test", Link: "https://x"}); err == nil {
		t.Error("unknown kind rendered")
	}
}
