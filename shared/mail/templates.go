package mail

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Message is a rendered mail.
type Message struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
	Kind    string `json:"kind"`
}

type template struct {
	subject string
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

const htmlHead = `<!doctype html><html><body style="font-family:sans-serif">`
const htmlFoot = `<p style="color:#666;font-size:small">Medi OS. If you did not expect this message, ignore it; nothing changes.</p></body></html>`

var templates = map[string]template{
	KindInvitation: {
		subject: "You have been invited to Medi OS",
		text: texttemplate.Must(texttemplate.New("t").Parse(`Hello {{.DisplayName}},

An administrator of your clinic created a Medi OS account for you{{if .Role}} (role: {{.Role}}){{end}}.
Set your password with this link (valid for a limited time):

{{.Link}}

If you did not expect this message, ignore it.
`)),
		html: htmltemplate.Must(htmltemplate.New("h").Parse(htmlHead + `<p>Hello {{.DisplayName}},</p>
<p>An administrator of your clinic created a Medi OS account for you{{if .Role}} (role: {{.Role}}){{end}}.</p>
<p><a href="{{.Link}}">Set your password</a> (the link is valid for a limited time).</p>` + htmlFoot)),
	},
	KindPasswordReset: {
		subject: "Reset your Medi OS password",
		text: texttemplate.Must(texttemplate.New("t").Parse(`Hello,

Someone asked to reset the password of your Medi OS account. To choose a new password, open:

{{.Link}}

If it was not you, ignore this message; your password stays as it is.
`)),
		html: htmltemplate.Must(htmltemplate.New("h").Parse(htmlHead + `<p>Hello,</p>
<p>Someone asked to reset the password of your Medi OS account.</p>
<p><a href="{{.Link}}">Choose a new password</a></p>
<p>If it was not you, ignore this message; your password stays as it is.</p>` + htmlFoot)),
	},
	KindEmailVerification: {
		subject: "Confirm your e-mail address for Medi OS",
		text: texttemplate.Must(texttemplate.New("t").Parse(`Hello,

Confirm the e-mail address of your Medi OS account by opening:

{{.Link}}
`)),
		html: htmltemplate.Must(htmltemplate.New("h").Parse(htmlHead + `<p>Hello,</p>
<p><a href="{{.Link}}">Confirm your e-mail address</a></p>` + htmlFoot)),
	},
}

// Render renders t's subject, text and HTML bodies (HTML escaped by html/template).
func Render(t Task) (Message, error) {
	if err := t.Validate(); err != nil {
		return Message{}, err
	}
	if !strings.HasPrefix(t.Link, "https://") && !strings.HasPrefix(t.Link, "http://") {
		return Message{}, errors.New("mail: link must be an http(s) URL")
	}
	tpl := templates[t.Kind]
	var text, html bytes.Buffer
	if err := tpl.text.Execute(&text, t); err != nil {
		return Message{}, fmt.Errorf("rendering text of %s: %w", t.Kind, err)
	}
	if err := tpl.html.Execute(&html, t); err != nil {
		return Message{}, fmt.Errorf("rendering html of %s: %w", t.Kind, err)
	}
	return Message{To: t.To, Subject: tpl.subject, Text: text.String(), HTML: html.String(), Kind: t.Kind}, nil
}
