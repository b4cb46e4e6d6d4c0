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

// fakeSMTP speaks enough SMTP for net/smtp: it refuses RCPT for addresses starting with
// "gone" with 550 and for "busy" with 451, and records accepted messages.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	data []string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln}
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

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { c.Write([]byte(s + "\r\n")) }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 fake")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:<GONE"):
			say("550 5.1.1 no such mailbox")
		case strings.HasPrefix(cmd, "RCPT TO:<BUSY"):
			say("451 4.3.0 try again later")
		case strings.HasPrefix(cmd, "RCPT TO"):
			say("250 ok")
		case cmd == "DATA":
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
			f.mu.Lock()
			f.data = append(f.data, b.String())
			f.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func TestSMTPClassifiesReplies(t *testing.T) {
	t.Parallel()
	srv := newFakeSMTP(t)
	_, port, _ := net.SplitHostPort(srv.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: p, From: "Medi OS <no-reply@medi.test>"})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(to string) mail.Message {
		return mail.Message{To: to, Subject: "Réinitialisation", Text: "link: https://x/y", HTML: "<p>hi</p>", Kind: mail.KindPasswordReset}
	}
	if err := s.Send(context.Background(), msg("ok@medi.test")); err != nil {
		t.Fatalf("accepted mail: %v", err)
	}
	var perm *mail.PermanentError
	if err := s.Send(context.Background(), msg("gone@medi.test")); !errors.As(err, &perm) || perm.Code != 550 {
		t.Errorf("550: %v, want a permanent error", err)
	}
	if err := s.Send(context.Background(), msg("busy@medi.test")); err == nil || errors.As(err, &perm) {
		t.Errorf("451: %v, want a transient error", err)
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
