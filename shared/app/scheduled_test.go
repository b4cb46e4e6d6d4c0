package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
)

func TestScheduledRunsOnlyTheSchedulersCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		tier       config.Tier
		sa         string
		secret     string // the header the caller sends ("" = none)
		wantStatus int
		wantCode   string
		wantRun    bool
	}{
		{"local stack, the shared secret", config.Dev, "", "s3cret", http.StatusOK, "", true},
		{"local stack, no secret", config.Dev, "", "", http.StatusUnauthorized, "unauthenticated", false},
		{"local stack, a wrong secret", config.Dev, "", "guess", http.StatusUnauthorized, "unauthenticated", false},
		{"deployed without the scheduler's account", config.Prod, "", "s3cret", http.StatusServiceUnavailable, "unavailable", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ran := false
			h := Scheduled(SchedulerVerifier(tc.tier, "audit-seal", tc.sa, config.Secret("s3cret")), func(w http.ResponseWriter, _ *http.Request) {
				ran = true
				w.WriteHeader(http.StatusOK)
			})
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			if tc.secret != "" {
				req.Header.Set(tasks.SecretHeader, tc.secret)
			}
			rec := httptest.NewRecorder()
			h(rec, req)
			if rec.Code != tc.wantStatus || ran != tc.wantRun {
				t.Fatalf("status %d (job ran: %v), want %d (job ran: %v): %s", rec.Code, ran, tc.wantStatus, tc.wantRun, rec.Body)
			}
			if tc.wantCode == "" {
				return
			}
			var env struct{ Error struct{ Code string } }
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code != tc.wantCode {
				t.Errorf("error code %q (%v), want %q: %s", env.Error.Code, err, tc.wantCode, rec.Body)
			}
			if tc.wantStatus == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
}
