package httpx

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestChain_Order(t *testing.T) {
	t.Parallel()
	var order []string
	mw := func(name string) Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name+">")
				next.ServeHTTP(w, r)
				order = append(order, "<"+name)
			})
		}
	}
	h := Chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { order = append(order, "handler") }),
		mw("a"), mw("b"), mw("c"))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	want := []string{"a>", "b>", "c>", "handler", "<c", "<b", "<a"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestRecover(t *testing.T) {
	t.Parallel()
	const secret = "Jane Roe, DOB 1970-01-01"
	h, logs := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(fmt.Sprintf("cannot triage %s", secret))
	}))
	r := httptest.NewRequest(http.MethodPost, "/v1/triage", nil)
	r.Header.Set("traceparent", testTraceparent)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)

	env := wantError(t, rec, http.StatusInternalServerError, CodeInternal)
	wantServerRequestID(t, env.RequestID)
	if got := rec.Header().Get("X-Request-Id"); got != env.RequestID {
		t.Errorf("X-Request-Id = %q, want %q", got, env.RequestID)
	}
	body := rec.Body.String()
	for _, leak := range []string{secret, "panic", "goroutine", ".go:"} {
		if strings.Contains(body, leak) {
			t.Errorf("body contains %q: %s", leak, body)
		}
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("security headers missing on the panic response: X-Content-Type-Options = %q", got)
	}

	line := logs.find(t, "panic serving request")
	if line["severity"] != "ERROR" {
		t.Errorf("severity = %v, want ERROR", line["severity"])
	}
	if line["requestId"] != env.RequestID {
		t.Errorf("log requestId = %v, want %q", line["requestId"], env.RequestID)
	}
	stackTrace, _ := line["stack"].(string)
	if !strings.Contains(stackTrace, "goroutine") || !strings.Contains(stackTrace, "TestRecover") {
		t.Errorf("log stack = %q, want a goroutine stack naming the panicking handler", stackTrace)
	}
	// The access log still records the request, with the 500.
	if got := logs.find(t, "request")["status"]; got != float64(500) {
		t.Errorf("access log status = %v, want 500", got)
	}
}

func TestRecover_AbortHandlerPropagates(t *testing.T) {
	t.Parallel()
	h := Recover()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler re-panicked", v)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	t.Error("ServeHTTP returned; want the abort panic to propagate")
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"Referrer-Policy":              "no-referrer",
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
		"Cache-Control":                "no-store",
		"Cross-Origin-Resource-Policy": "same-site",
	}
	rt := NewRouter()
	rt.Handle(http.MethodGet, "/ok", okHandler("x"))
	h, _ := stack(rt)
	for _, path := range []string{"/ok", "/missing"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const (
		allowed = "https://app.medi.example"
		other   = "https://evil.example"
	)
	tests := []struct {
		name        string
		method      string
		origin      string
		preflight   bool
		wantStatus  int
		wantAllow   string // Access-Control-Allow-Origin
		wantHandler bool
		wantVary    bool
		wantMethods bool // Access-Control-Allow-Methods/Headers present
	}{
		{name: "preflight allowed", method: http.MethodOptions, origin: allowed, preflight: true, wantStatus: 204, wantAllow: allowed, wantVary: true, wantMethods: true},
		{name: "preflight disallowed", method: http.MethodOptions, origin: other, preflight: true, wantStatus: 403, wantVary: true},
		{name: "simple allowed", method: http.MethodGet, origin: allowed, wantStatus: 200, wantAllow: allowed, wantHandler: true, wantVary: true},
		{name: "post allowed", method: http.MethodPost, origin: allowed, wantStatus: 200, wantAllow: allowed, wantHandler: true, wantVary: true},
		{name: "simple disallowed", method: http.MethodGet, origin: other, wantStatus: 200, wantHandler: true, wantVary: true},
		{name: "origin differs by scheme", method: http.MethodGet, origin: "http://app.medi.example", wantStatus: 200, wantHandler: true, wantVary: true},
		{name: "origin differs by port", method: http.MethodOptions, origin: allowed + ":8443", preflight: true, wantStatus: 403, wantVary: true},
		{name: "no origin", method: http.MethodGet, wantStatus: 200, wantHandler: true},
		{name: "plain OPTIONS from allowed origin is not a preflight", method: http.MethodOptions, origin: allowed, wantStatus: 200, wantAllow: allowed, wantHandler: true, wantVary: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			called := false
			h, _ := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				WriteJSON(w, r, http.StatusOK, nil)
			}), " "+allowed+"/ ", "")
			r := httptest.NewRequest(tc.method, "/v1/patients", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.preflight {
				r.Header.Set("Access-Control-Request-Method", http.MethodPost)
				r.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)

			if rec.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			if called != tc.wantHandler {
				t.Errorf("handler called = %v, want %v", called, tc.wantHandler)
			}
			hdr := rec.Header()
			if got := hdr.Get("Access-Control-Allow-Origin"); got != tc.wantAllow {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantAllow)
			}
			if tc.wantAllow != "" {
				if got := hdr.Get("Access-Control-Allow-Credentials"); got != "true" {
					t.Errorf("Access-Control-Allow-Credentials = %q, want true", got)
				}
				expose := hdr.Get("Access-Control-Expose-Headers")
				for _, h := range []string{"X-Request-Id", "Retry-After", "Idempotent-Replayed"} {
					if !strings.Contains(expose, h) {
						t.Errorf("Access-Control-Expose-Headers = %q, want it to expose %s", expose, h)
					}
				}
			} else if got := hdr.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("Access-Control-Allow-Credentials = %q for a disallowed origin", got)
			}
			if got := hasToken(hdr.Values("Vary"), "Origin"); got != tc.wantVary {
				t.Errorf("Vary has Origin = %v (%q), want %v", got, hdr.Values("Vary"), tc.wantVary)
			}
			if tc.wantMethods {
				methods := hdr.Get("Access-Control-Allow-Methods")
				if !strings.Contains(methods, "POST") || !strings.Contains(methods, "PATCH") {
					t.Errorf("Access-Control-Allow-Methods = %q, want POST and PATCH", methods)
				}
				headers := strings.ToLower(hdr.Get("Access-Control-Allow-Headers"))
				for _, h := range []string{"authorization", "content-type", "idempotency-key", "if-match", "traceparent"} {
					if !strings.Contains(headers, h) {
						t.Errorf("Access-Control-Allow-Headers = %q, want %s", headers, h)
					}
				}
				if hdr.Get("Access-Control-Max-Age") == "" {
					t.Error("Access-Control-Max-Age missing")
				}
				if rec.Body.Len() != 0 {
					t.Errorf("204 preflight has a body: %s", rec.Body)
				}
			} else if got := hdr.Get("Access-Control-Allow-Methods"); got != "" {
				t.Errorf("Access-Control-Allow-Methods = %q, want none", got)
			}
			if tc.wantStatus == 403 {
				wantError(t, rec, 403, CodePermissionDenied)
			}
		})
	}
}

func hasToken(values []string, token string) bool {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), token) {
				return true
			}
		}
	}
	return false
}

func TestAccessLog_RoutePatternNotRawPath(t *testing.T) {
	t.Parallel()
	const secret = "JaneRoe1970"
	rt := NewRouter()
	rt.HandleFunc(http.MethodGet, "/v1/patients/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id")})
	})
	rt.HandleFunc(http.MethodPost, "/v1/patients", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusCreated, nil)
	})
	tests := []struct {
		name       string
		method     string
		target     string
		wantRoute  string
		wantStatus float64
	}{
		{name: "query string", method: http.MethodGet, target: "/v1/patients/p1?name=" + secret, wantRoute: "/v1/patients/{id}", wantStatus: 200},
		{name: "path value", method: http.MethodGet, target: "/v1/patients/" + secret, wantRoute: "/v1/patients/{id}", wantStatus: 200},
		{name: "status from WriteHeader", method: http.MethodPost, target: "/v1/patients?q=" + secret, wantRoute: "/v1/patients", wantStatus: 201},
		{name: "unknown path", method: http.MethodGet, target: "/v1/unknown/" + secret + "?dob=" + secret, wantRoute: "/", wantStatus: 404},
		{name: "wrong method", method: http.MethodDelete, target: "/v1/patients/" + secret, wantRoute: "/v1/patients/{id}", wantStatus: 405},
	}
	// As deployed: the functions framework's mux serves everything at "/" and the
	// middlewares hand copies of the request on (the request deadline does), so the
	// pattern must come from the router, not from the outer request.
	deployed := func() (http.Handler, *logBuffer) {
		log, buf := newLogger()
		outer := http.NewServeMux()
		outer.Handle("/", Stack(rt, StackOptions{Logger: log, ProjectID: "test-project", RequestTimeout: 10 * time.Second}))
		return outer, buf
	}
	for _, tc := range tests {
		for setup, build := range map[string]func() (http.Handler, *logBuffer){
			"bare":     func() (http.Handler, *logBuffer) { return stack(rt) },
			"deployed": deployed,
		} {
			t.Run(tc.name+"/"+setup, func(t *testing.T) {
				t.Parallel()
				h, logs := build()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
				line := logs.find(t, "request")
				want := map[string]any{"method": tc.method, "route": tc.wantRoute, "status": tc.wantStatus, "severity": "INFO"}
				for k, v := range want {
					if diff := cmp.Diff(v, line[k]); diff != "" {
						t.Errorf("access log %s (-want +got):\n%s", k, diff)
					}
				}
				if _, ok := line["latencyMs"].(float64); !ok {
					t.Errorf("latencyMs = %v, want a number", line["latencyMs"])
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log output contains a value from the URL:\n%s", logs)
				}
			})
		}
	}
}

func TestAccessLog_ImplicitStatusAndFlush(t *testing.T) {
	t.Parallel()
	h, logs := stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("data: x\n\n"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the middleware: %v", err)
		}
		w.WriteHeader(http.StatusTeapot) // superfluous: the status is already 200
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events", nil))
	if !rec.Flushed {
		t.Error("recorder not flushed")
	}
	if got := logs.find(t, "request")["status"]; got != float64(200) {
		t.Errorf("logged status = %v, want 200", got)
	}
	if got := logs.find(t, "request")["route"]; got != "unmatched" {
		t.Errorf("logged route = %v, want unmatched (no router)", got)
	}
}
