package encounteroutbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
)

type fakeOutbox struct {
	n     int
	err   error
	limit int
}

func (f *fakeOutbox) RedeliverOutbox(_ context.Context, limit int) (int, error) {
	f.limit = limit
	return f.n, f.err
}

func TestHandleRunAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		secret     string
		n          int
		err        error
		wantStatus int
		wantCalled bool
	}{
		{"nothing to send", "s", 0, nil, http.StatusOK, true},
		{"events re-sent", "s", 3, nil, http.StatusOK, true},
		{"a publish failed", "s", 2, errors.New("outbox e1: rpc error: code = Unavailable"), http.StatusServiceUnavailable, true},
		{"not the scheduler", "wrong", 0, nil, http.StatusUnauthorized, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeOutbox{n: tc.n, err: tc.err}
			s := &server{
				cfg:    &Config{Batch: 25},
				outbox: app.NewLazy(func(context.Context) (Outbox, error) { return f, nil }),
			}
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.Header.Set(tasks.SecretHeader, tc.secret)
			rec := httptest.NewRecorder()
			// As setup routes it: only the scheduler's calls (here the local secret) run.
			app.Scheduled(app.SchedulerVerifier(config.Dev, Name, "", config.Secret("s")), s.handleRun)(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if called := f.limit != 0; called != tc.wantCalled {
				t.Fatalf("outbox read: %v, want %v", called, tc.wantCalled)
			}
			if !tc.wantCalled {
				return
			}
			if f.limit != 25 {
				t.Errorf("limit %d, want the configured batch 25", f.limit)
			}
			var env struct {
				Data  Run
				Error struct{ Details Run }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatal(err)
			}
			got := env.Data
			if tc.wantStatus != http.StatusOK {
				got = env.Error.Details
				if rec.Header().Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				if strings.Contains(rec.Body.String(), "rpc error") {
					t.Error("the cause reached the caller")
				}
			}
			if got.Published != tc.n {
				t.Errorf("published %d, want %d", got.Published, tc.n)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	c := &Config{Batch: 0}
	c.Tier = "prod"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "MEDI_ENCOUNTER_OUTBOX_BATCH") || !strings.Contains(err.Error(), "MEDI_SCHEDULER_INVOKER_SA") {
		t.Errorf("Validate = %v, want both the batch and the scheduler account named", err)
	}
	c = &Config{Batch: 1}
	c.Tier = "dev"
	if err := c.Validate(); err != nil {
		t.Errorf("dev with a batch: %v", err)
	}
}
