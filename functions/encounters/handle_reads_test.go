package encounters_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/functions/encounters"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/encounter"
	"github.com/medi-os/medi/shared/httpx"
)

func TestReadEndpoints(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a := s.checkIn()
	b := s.checkIn()
	b = s.transition(b.ID, "nurse", map[string]any{"to": "triaged"})

	t.Run("get by every role", func(t *testing.T) {
		for _, role := range []string{"receptionist", "nurse", "doctor", "admin"} {
			rec, env := s.do(request{method: http.MethodGet, path: "/v1/encounters/" + b.ID, role: role})
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", role, rec.Code, rec.Body)
			}
			if diff := cmp.Diff(b, decode[encounter.Encounter](t, env.Data)); diff != "" {
				t.Errorf("%s: encounter (-want +got):\n%s", role, diff)
			}
			if rec.Header().Get("ETag") != `"2"` {
				t.Errorf("ETag = %q", rec.Header().Get("ETag"))
			}
		}
	})
	t.Run("events", func(t *testing.T) {
		rec, env := s.do(request{method: http.MethodGet, path: "/v1/encounters/" + b.ID + "/events?pageSize=1", role: "doctor"})
		if rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		page := decode[encounter.EventPage](t, env.Data)
		if len(page.Items) != 1 || page.Items[0].Action != encounter.ActionCheckIn || page.NextPageToken == "" {
			t.Fatalf("first page = %+v", page)
		}
		rec, env = s.do(request{method: http.MethodGet, path: "/v1/encounters/" + b.ID + "/events?pageSize=1&pageToken=" + page.NextPageToken, role: "doctor"})
		page = decode[encounter.EventPage](t, env.Data)
		if rec.Code != http.StatusOK || len(page.Items) != 1 || page.Items[0].To != encounter.StatusTriaged || page.NextPageToken != "" {
			t.Fatalf("second page = %d %+v", rec.Code, page)
		}
	})
	t.Run("list by status", func(t *testing.T) {
		rec, env := s.do(request{method: http.MethodGet, path: "/v1/encounters?status=waiting&status=triaged", role: "receptionist"})
		if rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		page := decode[encounter.Page](t, env.Data)
		var ids []string
		for _, e := range page.Items {
			ids = append(ids, e.ID)
		}
		if diff := cmp.Diff([]string{b.ID, a.ID}, ids); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		rec, env = s.do(request{method: http.MethodGet, path: "/v1/encounters?status=triaged", role: "receptionist"})
		if page := decode[encounter.Page](t, env.Data); rec.Code != http.StatusOK || len(page.Items) != 1 || page.Items[0].ID != b.ID {
			t.Errorf("triaged only: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("other clinic", func(t *testing.T) {
		for _, path := range []string{"/v1/encounters/" + a.ID, "/v1/encounters/" + a.ID + "/events"} {
			rec, env := s.do(request{method: http.MethodGet, path: path, role: "other-clinic"})
			if rec.Code != http.StatusNotFound || env.code() != "not_found" {
				t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
			}
		}
		rec, env := s.do(request{method: http.MethodGet, path: "/v1/encounters", role: "other-clinic"})
		if page := decode[encounter.Page](t, env.Data); rec.Code != http.StatusOK || len(page.Items) != 0 {
			t.Errorf("other clinic's list: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("bad queries", func(t *testing.T) {
		for _, path := range []string{
			"/v1/encounters?status=lost",
			"/v1/encounters?name=Ada",
			"/v1/encounters?pageSize=0",
			"/v1/encounters?pageSize=101",
			"/v1/encounters?pageSize=1&pageSize=2",
			"/v1/encounters?pageToken=garbage",
			"/v1/encounters/" + a.ID + "/events?status=waiting",
		} {
			rec, env := s.do(request{method: http.MethodGet, path: path, role: "nurse"})
			if rec.Code != http.StatusBadRequest || env.code() != "invalid_argument" {
				t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
			}
		}
		rec, _ := s.do(request{method: http.MethodGet, path: "/v1/encounters/no-such-id", role: "nurse"})
		if rec.Code != http.StatusNotFound {
			t.Errorf("missing encounter: %d", rec.Code)
		}
		rec, _ = s.do(request{method: http.MethodGet, path: "/v1/encounters/" + a.ID})
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("no token: %d", rec.Code)
		}
	})

	// Every read of patient data is audited.
	got := s.auditActions()
	if got[encounter.AuditRead] != 4 || got[encounter.AuditReadEvents] != 2 || got[encounter.AuditList] != 3 {
		t.Errorf("read audit records = %v, want 4 reads, 2 event reads, 3 listed", got)
	}
}

func TestRoutes(t *testing.T) {
	t.Setenv("GOOGLE_CLOUD_PROJECT", "demo-routes")
	routes, err := encounters.Function.Routes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []httpx.Route{
		{Method: "GET", Pattern: "/v1/health"},
		{Method: "POST", Pattern: "/v1/encounters"},
		{Method: "GET", Pattern: "/v1/encounters"},
		{Method: "GET", Pattern: "/v1/encounters/{id}"},
		{Method: "GET", Pattern: "/v1/encounters/{id}/events"},
		{Method: "POST", Pattern: "/v1/encounters/{id}/transitions"},
	}
	for _, w := range want {
		found := false
		for _, r := range routes {
			found = found || r == w
		}
		if !found {
			t.Errorf("route %s %s missing from %v", w.Method, w.Pattern, routes)
		}
	}
	// Building the routes needs no backend: the default topic comes from the config.
	var cfg encounters.Config
	if err := config.Load(context.Background(), &cfg, config.WithEnvironment(map[string]string{"GOOGLE_CLOUD_PROJECT": "p"})); err != nil {
		t.Fatal(err)
	}
	if cfg.EncounterEventsTopic != "encounter-events" {
		t.Errorf("default topic = %q", cfg.EncounterEventsTopic)
	}
}
