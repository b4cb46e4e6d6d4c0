package auditseal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
)

type fakeSealer struct {
	rep  audit.SweepReport
	err  error
	opts audit.SweepOptions
}

func (f *fakeSealer) SealAll(_ context.Context, opts audit.SweepOptions) (audit.SweepReport, error) {
	f.opts = opts
	return f.rep, f.err
}

func TestHandleRunAnswers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		rep        audit.SweepReport
		err        error
		wantStatus int
	}{
		{"all sealed", audit.SweepReport{Clinics: 3, ClinicsSealed: 1, Sealed: 7}, nil, http.StatusOK},
		{"a clinic failed", audit.SweepReport{Clinics: 3, Sealed: 2, Failed: 1}, errors.New("audit: sealing failed for 1 of 3 clinics"), http.StatusServiceUnavailable},
		{"clinics not listed", audit.SweepReport{}, errors.New("audit: listing clinics: unavailable"), http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSealer{rep: tc.rep, err: tc.err}
			cfg := &Config{MaxPerClinic: 10, MaxPerRun: 50, TimeBudget: time.Minute}
			s := &server{
				cfg: cfg, now: func() time.Time { return now },
				sealer: app.NewLazy(func(context.Context) (Sealer, error) { return f, nil }),
			}
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.Header.Set(tasks.SecretHeader, "s")
			rec := httptest.NewRecorder()
			s.handleRun(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if diff := cmp.Diff(audit.SweepOptions{MaxPerClinic: 10, MaxRecords: 50, Deadline: now.Add(time.Minute)}, f.opts); diff != "" {
				t.Errorf("sweep options (-want +got):\n%s", diff)
			}
			var env struct {
				Data  audit.SweepReport
				Error struct{ Details audit.SweepReport }
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
				if strings.Contains(rec.Body.String(), "listing clinics") {
					t.Error("the cause reached the caller")
				}
			}
			if diff := cmp.Diff(tc.rep, got); diff != "" {
				t.Errorf("reported counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{MaxPerClinic: 1, MaxPerRun: 1, TimeBudget: time.Second}
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		wantVar string
	}{
		{"dev", func(*Config) {}, ""},
		{"prod with scheduler account and anchors", func(c *Config) {
			c.Tier, c.SchedulerInvokerSA, c.AnchorBucket = config.Prod, "inv@p.iam.gserviceaccount.com", "p-audit-anchors"
		}, ""},
		{"prod without scheduler account", func(c *Config) { c.Tier, c.AnchorBucket = config.Prod, "p-audit-anchors" }, "MEDI_SCHEDULER_INVOKER_SA"},
		{"prod without anchors", func(c *Config) { c.Tier, c.SchedulerInvokerSA = config.Prod, "inv@p.iam.gserviceaccount.com" }, "MEDI_AUDIT_ANCHOR_BUCKET"},
		{"no per-clinic bound", func(c *Config) { c.MaxPerClinic = 0 }, "MEDI_AUDIT_SEAL_MAX_PER_CLINIC"},
		{"no per-run bound", func(c *Config) { c.MaxPerRun = -1 }, "MEDI_AUDIT_SEAL_MAX_PER_RUN"},
		{"no time budget", func(c *Config) { c.TimeBudget = 0 }, "MEDI_AUDIT_SEAL_TIME_BUDGET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.wantVar == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.wantVar != "" && (err == nil || !strings.Contains(err.Error(), tc.wantVar)):
				t.Errorf("Validate = %v, want an error naming %s", err, tc.wantVar)
			}
		})
	}
}
