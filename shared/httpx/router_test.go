package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func newTestRouter() *Router {
	rt := NewRouter()
	rt.HandleFunc(http.MethodGet, "/v1/patients/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id"), "route": "get"})
	})
	rt.HandleFunc(http.MethodPatch, "/v1/patients/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id"), "route": "patch"})
	})
	rt.HandleFunc(http.MethodPost, "/v1/encounters/{id}/events/{n}", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, map[string]string{"id": r.PathValue("id"), "n": r.PathValue("n"), "route": "event"})
	})
	rt.HandleFunc(http.MethodPost, "/v1/patients", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusCreated, map[string]string{"route": "create"})
	})
	return rt
}

func TestRouter(t *testing.T) {
	t.Parallel()
	h, _ := stack(newTestRouter())
	tests := []struct {
		name       string
		method     string
		target     string
		wantStatus int
		wantCode   string            // error responses
		wantData   map[string]string // success responses
		wantAllow  string
	}{
		{name: "get with path value", method: http.MethodGet, target: "/v1/patients/p-17", wantStatus: 200, wantData: map[string]string{"id": "p-17", "route": "get"}},
		{name: "patch same pattern", method: http.MethodPatch, target: "/v1/patients/p-17", wantStatus: 200, wantData: map[string]string{"id": "p-17", "route": "patch"}},
		{name: "two path values", method: http.MethodPost, target: "/v1/encounters/e1/events/3", wantStatus: 200, wantData: map[string]string{"id": "e1", "n": "3", "route": "event"}},
		// Ids the suite cannot have issued never reach a handler (nor a store).
		{name: "escaped slash in an id", method: http.MethodGet, target: "/v1/patients/a%2Fb", wantStatus: 404, wantCode: CodeNotFound},
		{name: "reserved id", method: http.MethodGet, target: "/v1/patients/__name__", wantStatus: 404, wantCode: CodeNotFound},
		{name: "2,000-character id", method: http.MethodPatch, target: "/v1/patients/" + strings.Repeat("x", 2000), wantStatus: 404, wantCode: CodeNotFound},
		{name: "dot dot", method: http.MethodGet, target: "/v1/patients/%2e%2e", wantStatus: 404, wantCode: CodeNotFound},
		{name: "second wildcard", method: http.MethodPost, target: "/v1/encounters/e1/events/__x__", wantStatus: 404, wantCode: CodeNotFound},
		{name: "longest id", method: http.MethodGet, target: "/v1/patients/" + strings.Repeat("x", 128), wantStatus: 200, wantData: map[string]string{"id": strings.Repeat("x", 128), "route": "get"}},
		{name: "create", method: http.MethodPost, target: "/v1/patients", wantStatus: 201, wantData: map[string]string{"route": "create"}},
		{name: "head served by get", method: http.MethodHead, target: "/v1/patients/p-17", wantStatus: 200},
		{name: "unknown path", method: http.MethodGet, target: "/v1/nothing", wantStatus: 404, wantCode: CodeNotFound},
		{name: "root", method: http.MethodGet, target: "/", wantStatus: 404, wantCode: CodeNotFound},
		{name: "extra segment", method: http.MethodGet, target: "/v1/patients/p1/extra", wantStatus: 404, wantCode: CodeNotFound},
		{name: "wrong method", method: http.MethodDelete, target: "/v1/patients/p1", wantStatus: 405, wantCode: CodeMethodNotAllowed, wantAllow: "GET, PATCH"},
		{name: "wrong method single", method: http.MethodGet, target: "/v1/patients", wantStatus: 405, wantCode: CodeMethodNotAllowed, wantAllow: "POST"},
		{name: "head without get", method: http.MethodHead, target: "/v1/patients", wantStatus: 405, wantAllow: "POST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tc.wantAllow)
			}
			if tc.method == http.MethodHead {
				if rec.Body.Len() != 0 {
					t.Errorf("HEAD response has a body: %s", rec.Body)
				}
				return
			}
			if tc.wantCode != "" {
				wantError(t, rec, tc.wantStatus, tc.wantCode)
				return
			}
			env := decodeEnvelope(t, rec)
			var got map[string]string
			if err := json.Unmarshal(env.Data, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantData, got); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRouter_Routes(t *testing.T) {
	t.Parallel()
	rt := newTestRouter()
	want := []Route{
		{Method: "GET", Pattern: "/v1/patients/{id}"},
		{Method: "PATCH", Pattern: "/v1/patients/{id}"},
		{Method: "POST", Pattern: "/v1/encounters/{id}/events/{n}"},
		{Method: "POST", Pattern: "/v1/patients"},
	}
	got := rt.Routes()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	got[0].Pattern = "/mutated"
	if rt.Routes()[0].Pattern != "/v1/patients/{id}" {
		t.Error("Routes returned the router's own slice; a caller changed it")
	}
}

func TestRouter_DuplicatePanics(t *testing.T) {
	t.Parallel()
	rt := newTestRouter()
	defer func() {
		v := recover()
		if v == nil {
			t.Fatal("duplicate registration did not panic")
		}
		if got, want := v, "httpx: duplicate route GET /v1/patients/{id}"; got != want {
			t.Errorf("panic = %v, want %q", got, want)
		}
	}()
	rt.HandleFunc(http.MethodGet, "/v1/patients/{id}", func(http.ResponseWriter, *http.Request) {})
}
