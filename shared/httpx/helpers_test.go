package httpx

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/logging"
)

// logBuffer is a goroutine-safe log sink for tests.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines parses every JSON log line.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// find returns the first log line whose message is msg.
func (b *logBuffer) find(t *testing.T, msg string) map[string]any {
	t.Helper()
	for _, l := range b.lines(t) {
		if l["message"] == msg {
			return l
		}
	}
	t.Fatalf("no log line with message %q in:\n%s", msg, b.String())
	return nil
}

// newLogger returns a debug-level JSON logger writing to a fresh buffer.
func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return logging.New(b, slog.LevelDebug), b
}

// stack wraps h in the standard Stack with a captured logger.
func stack(h http.Handler, origins ...string) (http.Handler, *logBuffer) {
	log, buf := newLogger()
	return Stack(h, StackOptions{Logger: log, ProjectID: "test-project", CORSOrigins: origins}), buf
}

// apiError is the error object of a decoded envelope.
type apiError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

// envelope is a decoded response body.
type envelope struct {
	Success   bool            `json:"success"`
	Data      json.RawMessage `json:"data"`
	Error     *apiError       `json:"error"`
	RequestID string          `json:"requestId"`
}

// decodeEnvelope checks that the body is exactly one envelope with all four keys.
func decodeEnvelope(t *testing.T, rec *httptest.ResponseRecorder) envelope {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q, want application/json; charset=utf-8", ct)
	}
	body := rec.Body.Bytes()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if diff := cmp.Diff([]string{"data", "error", "requestId", "success"}, keys); diff != "" {
		t.Errorf("envelope keys (-want +got):\n%s", diff)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("decode envelope: %v\n%s", err, body)
	}
	return env
}

// wantError checks an error envelope's status and code and returns it.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) envelope {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	env := decodeEnvelope(t, rec)
	if env.Success {
		t.Error("success = true in an error response")
	}
	if string(env.Data) != "null" {
		t.Errorf("data = %s, want null", env.Data)
	}
	if env.Error == nil {
		t.Fatalf("error = null, want code %q", code)
	}
	if env.Error.Code != code {
		t.Errorf("error.code = %q, want %q", env.Error.Code, code)
	}
	if env.Error.Message == "" {
		t.Error("error.message is empty")
	}
	return env
}

func okHandler(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, map[string]string{"body": body})
	})
}

// wantServerRequestID checks that a request id is the server's: 32 lower-case hex digits,
// not the trace id the test's client sent (testTraceparent).
func wantServerRequestID(t *testing.T, id string) {
	t.Helper()
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" || id == testTraceID {
		t.Errorf("requestId = %q, want 32 lower-case hex digits made by the server (not the client's trace %q)", id, testTraceID)
	}
}
