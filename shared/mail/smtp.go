package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// SMTPConfig configures the SMTP provider (staging and production).
type SMTPConfig struct {
	Host     string // e.g. smtp.sendgrid.net
	Port     int    // 587 (STARTTLS) or 465 (implicit TLS)
	Username string
	Password string // from Secret Manager
	From     string // envelope and header sender, e.g. "Medi OS <no-reply@example.org>"
	Timeout  time.Duration
}

// SMTP sends through an SMTP relay with STARTTLS (or implicit TLS on port 465) and
// PLAIN authentication. Failures are classified by the phase of the transaction and the
// reply's code (see Classify): only a recipient-level refusal is a *PermanentError.
type SMTP struct{ cfg SMTPConfig }

// NewSMTP returns an SMTP provider.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || cfg.Port == 0 || cfg.From == "" {
		return nil, errors.New("mail: SMTP host, port and from are required")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &SMTP{cfg: cfg}, nil
}

// Send implements Provider.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	from, err := parseFrom(s.cfg.From)
	if err != nil {
		return err
	}
	body, err := buildMIME(s.cfg.From, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, fmt.Sprint(s.cfg.Port))
	d := &net.Dialer{}
	var conn net.Conn
	if s.cfg.Port == 465 {
		conn, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return classifySMTP(PhaseSession, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && s.cfg.Port != 465 {
		if err := c.StartTLS(&tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return classifySMTP(PhaseSession, err)
		}
	}
	if s.cfg.Username != "" {
		// A refused login is our configuration, not the recipient: alert and retry.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return classifySMTP(PhaseSession, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return classifySMTP(PhaseMailFrom, err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return classifySMTP(PhaseRcptTo, err)
	}
	w, err := c.Data()
	if err != nil {
		return classifySMTP(PhaseData, err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return classifySMTP(PhaseEndOfData, err)
	}
	return c.Quit()
}

func parseFrom(from string) (string, error) {
	if i := strings.LastIndex(from, "<"); i >= 0 && strings.HasSuffix(from, ">") {
		return from[i+1 : len(from)-1], nil
	}
	if strings.Contains(from, "@") {
		return from, nil
	}
	return "", errors.New("mail: invalid from address")
}

// buildMIME renders a multipart/alternative message with text and HTML parts.
func buildMIME(from string, m Message) ([]byte, error) {
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(from, "\r\n") {
		return nil, errors.New("mail: header injection")
	}
	var rb [12]byte
	_, _ = rand.Read(rb[:])
	boundary := "medi-" + hex.EncodeToString(rb[:])
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		from, m.To, mime.QEncoding.Encode("utf-8", m.Subject), time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", boundary)
	for _, part := range []struct{ ct, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.ct)
		qp := quotedprintable.NewWriter(&b)
		if _, err := qp.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		qp.Close()
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes(), nil
}
