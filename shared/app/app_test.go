package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/httpx"
)

func TestLazyRetriesAfterFailure(t *testing.T) {
	t.Parallel()
	calls := 0
	l := NewLazy(func(context.Context) (int, error) {
		calls++
		if calls == 1 {
			return 0, errors.New("backend blinked")
		}
		return 42, nil
	})
	if _, err := l.Get(context.Background()); err == nil {
		t.Fatal("first Get: want the creation error")
	}
	if _, ok := l.Peek(); ok {
		t.Fatal("a failed creation was remembered")
	}
	for i := 0; i < 3; i++ {
		v, err := l.Get(context.Background())
		if err != nil || v != 42 {
			t.Fatalf("Get = %d, %v", v, err)
		}
	}
	if calls != 2 {
		t.Errorf("create called %d times, want 2 (once failed, once succeeded)", calls)
	}
}

type testConfig struct {
	config.Base
	Greeting string `env:"TEST_GREETING, required"`
}

func newTestFunction(setupCalls *int) *HTTPFunction[*testConfig] {
	return NewHTTP("greeter", func() *testConfig { return new(testConfig) },
		func(_ context.Context, cfg *testConfig, _ *Env, rt *httpx.Router) error {
			*setupCalls++
			rt.HandleFunc(http.MethodGet, "/v1/greeting", func(w http.ResponseWriter, r *http.Request) {
				httpx.WriteJSON(w, r, http.StatusOK, cfg.Greeting)
			})
			return nil
		})
}

// Not parallel: it sets process environment variables.
func TestHTTPFunctionConfigAndRetry(t *testing.T) {
	calls := 0
	f := newTestFunction(&calls)
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-app-test")
	t.Setenv("MEDI_ENV", "dev")
	t.Setenv("TEST_GREETING", "")
	os.Unsetenv("TEST_GREETING") // t.Setenv restores the original value afterwards

	err := f.CheckConfig()
	var cerr *config.Error
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "TEST_GREETING") {
		t.Fatalf("CheckConfig = %v, want an error naming TEST_GREETING", err)
	}

	// Misconfigured: every request is 503 with Retry-After, and the build is retried.
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/health", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("misconfigured: status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	var env httpx.Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Success || env.Error.Code != httpx.CodeUnavailable {
		t.Fatalf("misconfigured body: %s", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "TEST_GREETING") {
		t.Error("configuration details leaked to the client")
	}

	// Fixed: the next request builds the handler (once) and serves.
	t.Setenv("TEST_GREETING", "hello")
	for i := 0; i < 2; i++ {
		rec = httptest.NewRecorder()
		f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/greeting", nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"data":"hello"`) {
			t.Fatalf("configured: %d %s", rec.Code, rec.Body)
		}
	}
	if calls != 1 {
		t.Errorf("setup ran %d times, want 1", calls)
	}
	rec = httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/health", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"function":"greeter"`) {
		t.Errorf("health: %d %s", rec.Code, rec.Body)
	}
}

func TestRoutesListsEndpoints(t *testing.T) {
	calls := 0
	f := newTestFunction(&calls)
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-app-test")
	t.Setenv("TEST_GREETING", "hi")
	routes, err := f.Routes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[httpx.Route]bool{{Method: "GET", Pattern: "/v1/health"}: true, {Method: "GET", Pattern: "/v1/greeting"}: true}
	if len(routes) != len(want) {
		t.Fatalf("routes = %v", routes)
	}
	for _, r := range routes {
		if !want[r] {
			t.Errorf("unexpected route %v", r)
		}
	}
}
