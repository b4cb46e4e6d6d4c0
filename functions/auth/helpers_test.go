package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	fbauth "firebase.google.com/go/v4/auth"

	authfn "github.com/medi-os/medi/functions/auth"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/mail"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// mailSink stands in for the mailer: it records the mail tasks delivered to it.
type mailSink struct {
	mu    sync.Mutex
	tasks []mail.Task
	srv   *httptest.Server
}

func newMailSink(t *testing.T, secret string) *mailSink {
	m := &mailSink{}
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

// waitFor polls until a task to addr of kind arrives (the dispatcher is asynchronous).
func (m *mailSink) waitFor(t *testing.T, kind, addr string) mail.Task {
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

type fixture struct {
	t      *testing.T
	url    string
	fs     *firestore.Client
	ac     *fbauth.Client
	clinic string
	mail   *mailSink
	cfg    *authfn.Config
}

type option func(*authfn.Config)

func newFixture(t *testing.T, opts ...option) *fixture {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	project := testenv.ProjectID(t)
	secret := "test-secret-" + project
	sink := newMailSink(t, secret)
	cfg := &authfn.Config{
		Base:                    config.Base{ProjectID: project, Tier: config.Dev, AuthProjectID: testenv.AuthProject()},
		TasksConfig:             app.TasksConfig{DevSecret: config.Secret(secret)},
		FreshAuthMaxAge:         10 * time.Minute,
		ResetPerAccountPerHour:  5,
		ResetPerIPPer10Min:      100,
		SessionPerAccountPer5Mn: 10,
		SessionPerIPPerMinute:   100,
		MailerURL:               sink.srv.URL,
		OutboxDir:               t.TempDir(),
		AccessEventsTopic:       "access-events",
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
	return &fixture{t: t, url: srv.URL, fs: fs, ac: testenv.AuthClient(t), clinic: "clinic-" + project, mail: sink, cfg: cfg}
}

type response struct {
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

func (r *response) code() string {
	if r.Env.Error == nil {
		return ""
	}
	return r.Env.Error.Code
}

func (r *response) reason() string {
	if r.Env.Error == nil {
		return ""
	}
	s, _ := r.Env.Error.Details["reason"].(string)
	return s
}

func (r *response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Env.Data, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Env.Data, err)
	}
}

// do calls the function. body nil: no body.
func (f *fixture) do(t *testing.T, method, path, token string, body any, header ...string) *response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.url+path, rd)
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
	out := &response{Status: resp.StatusCode, Header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out.Env); err != nil {
		t.Fatalf("%s %s: body %q: %v", method, path, b, err)
	}
	return out
}

// staff creates a signed-in user with role in clinic and returns it with its token.
func (f *fixture) staff(t *testing.T, role, clinic string) (testenv.Staff, string) {
	t.Helper()
	s := testenv.NewStaff(t, map[string]any{"role": role, "clinicId": clinic})
	return s, testenv.SignIn(t, s)
}
