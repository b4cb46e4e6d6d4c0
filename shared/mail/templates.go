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

// alertFoot replaces htmlFoot in alerts, which must not be ignored.
const alertFoot = `<p style="color:#666;font-size:small">Medi OS. You receive this because you are an administrator of the clinic.</p></body></html>`

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
	// No patient and no stated reason: the admin reads them in the admin app (audited).
	KindBreakGlassAlert: {
		subject: "Emergency access to a patient of your clinic",
		text: texttemplate.Must(texttemplate.New("t").Parse(`Hello{{if .DisplayName}} {{.DisplayName}}{{end}},

A member of staff used emergency ("break-glass") access to the record of a patient of your clinic.

Clinic:       {{.Alert.Clinic}}
Grant:        {{.Alert.GrantID}}
Requested by: {{.Alert.Requester}}
Granted at:   {{.Alert.Granted}}{{if .Alert.Expires}}
Expires at:   {{.Alert.Expires}}{{end}}

Review the grant, the patient and the stated reason in the admin app, under emergency access
({{.Alert.ReviewPath}}). If the access looks unjustified, revoke it there and follow your
clinic's privacy incident procedure.

You receive this because you are an administrator of the clinic.
`)),
		html: htmltemplate.Must(htmltemplate.New("h").Parse(htmlHead + `<p>Hello{{if .DisplayName}} {{.DisplayName}}{{end}},</p>
<p>A member of staff used emergency ("break-glass") access to the record of a patient of your clinic.</p>
<table>
<tr><td>Clinic</td><td>{{.Alert.Clinic}}</td></tr>
<tr><td>Grant</td><td>{{.Alert.GrantID}}</td></tr>
<tr><td>Requested by</td><td>{{.Alert.Requester}}</td></tr>
<tr><td>Granted at</td><td>{{.Alert.Granted}}</td></tr>{{if .Alert.Expires}}
<tr><td>Expires at</td><td>{{.Alert.Expires}}</td></tr>{{end}}
</table>
<p>Review the grant, the patient and the stated reason in the admin app, under emergency access
(<code>{{.Alert.ReviewPath}}</code>). If the access looks unjustified, revoke it there and follow your
clinic's privacy incident procedure.</p>` + alertFoot)),
	},
}

// Render renders t's subject, text and HTML bodies (HTML escaped by html/template).
func Render(t Task) (Message, error) {
	if err := t.Validate(); err != nil {
		return Message{}, err
	}
	if needsLink(t.Kind) && !strings.HasPrefix(t.Link, "https://") && !strings.HasPrefix(t.Link, "http://") {
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
