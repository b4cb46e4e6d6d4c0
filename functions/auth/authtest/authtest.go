// Package authtest runs the deployed "auth" function (authentication and the
// administrative routes it mounts) against the emulators for the tests of functions/auth
// and functions/admin: a fixture with its own project, a mail sink standing in for the
// mailer, and helpers to call the function as a client does.
package authtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"

	"github.com/medi-os/medi/functions/admin"
	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// MailSink stands in for the mailer: it records the mail tasks delivered to it.
type MailSink struct {
	mu    sync.Mutex
	tasks []mail.Task
	srv   *httptest.Server
}

// NewMailSink serves a mail sink accepting tasks signed with secret.
func NewMailSink(t *testing.T, secret string) *MailSink {
	m := &MailSink{}
	v, err := tasks.NewSecretVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Verify(r); err != nil || r.URL.Path != mail.TaskPath {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var task mail.Task
		if err := json.NewDecoder(r.Body).Decode(&task); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		m.mu.Lock()
		m.tasks = append(m.tasks, task)
		m.mu.Unlock()
	}))
	t.Cleanup(m.srv.Close)
	return m
}

// WaitFor polls until a task to addr of kind arrives (the dispatcher is asynchronous).
func (m *MailSink) WaitFor(t *testing.T, kind, addr string) mail.Task {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		for _, task := range m.tasks {
			if task.Kind == kind && task.To == addr {
				m.mu.Unlock()
				return task
			}
		}
		m.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s mail task for the address", kind)
	return mail.Task{}
}

// Fixture is the auth function served over HTTP for one test, with its own project.
type Fixture struct {
	URL    string
	FS     *firestore.Client
	Auth   *fbauth.Client
	Clinic string
	Mail   *MailSink
	Cfg    *authfn.Config
}

// Option changes the function's configuration before it is built.
type Option func(*authfn.Config)

// New serves the auth function for t in a project of its own.
func New(t *testing.T, opts ...Option) *Fixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	project := testenv.ProjectID(t)
	secret := "test-secret-" + project
	sink := NewMailSink(t, secret)
	cfg := &authfn.Config{
		Base:                    config.Base{ProjectID: project, Tier: config.Dev, AuthProjectID: testenv.AuthProject()},
		TasksConfig:             app.TasksConfig{DevSecret: config.Secret(secret)},
		ResetPerAccountPerHour:  5,
		ResetPerIPPer10Min:      100,
		SessionPerAccountPer5Mn: 10,
		SessionPerIPPerMinute:   100,
		MailerURL:               sink.srv.URL,
		Admin:                   admin.Config{FreshAuthMaxAge: 10 * time.Minute, OutboxDir: t.TempDir(), AccessEventsTopic: "access-events"},
	}
	for _, o := range opts {
		o(cfg)
	}
	ctx := context.Background()
	h, err := authfn.Function.Handler(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	return &Fixture{URL: srv.URL, FS: fs, Auth: testenv.AuthClient(t), Clinic: "clinic-" + project, Mail: sink, Cfg: cfg}
}

// Response is a decoded answer of the function.
type Response struct {
	Status int
	Header http.Header
	Env    struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   *struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
}

// Code is the error code ("" on success).
func (r *Response) Code() string {
	if r.Env.Error == nil {
		return ""
	}
	return r.Env.Error.Code
}

// Reason is the error's details.reason ("" when none).
func (r *Response) Reason() string {
	if r.Env.Error == nil {
		return ""
	}
	s, _ := r.Env.Error.Details["reason"].(string)
	return s
}

// Decode decodes the data of a successful answer into v.
func (r *Response) Decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Env.Data, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Env.Data, err)
	}
}

// Do calls the function. body nil: no body.
func (f *Fixture) Do(t *testing.T, method, path, token string, body any, header ...string) *Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out.Env); err != nil {
		t.Fatalf("%s %s: body %q: %v", method, path, b, err)
	}
	return out
}

// Staff creates a signed-in user with role in clinic and returns it with its token.
func (f *Fixture) Staff(t *testing.T, role, clinic string) (testenv.Staff, string) {
	t.Helper()
	s := testenv.NewStaff(t, map[string]any{"role": role, "clinicId": clinic})
	return s, testenv.SignIn(t, s)
}

// NewEmail is an address no other test uses (from the test's project id).
func NewEmail(t *testing.T) string {
	return strings.ToLower(strings.ReplaceAll(testenv.ProjectID(t), "demo-", "new-")) + "@medi.test"
}
