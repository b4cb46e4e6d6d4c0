package retention_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medi-os/medi/functions/retention"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     retention.Config
		wantVar string
	}{
		{"dev", retention.Config{Base: config.Base{Tier: config.Dev}, DefaultDays: 30}, ""},
		{"prod with the scheduler's account", retention.Config{Base: config.Base{Tier: config.Prod}, SchedulerInvokerSA: "inv@p.iam.gserviceaccount.com", DefaultDays: 30}, ""},
		{"prod without it", retention.Config{Base: config.Base{Tier: config.Prod}, DefaultDays: 30}, "MEDI_SCHEDULER_INVOKER_SA"},
		{"staging without it", retention.Config{Base: config.Base{Tier: config.Staging}, DefaultDays: 30}, "MEDI_SCHEDULER_INVOKER_SA"},
		{"no retention period", retention.Config{Base: config.Base{Tier: config.Dev}}, "MEDI_SCRIBE_RETENTION_DAYS"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.wantVar == "" && err != nil:
			t.Errorf("%s: Validate = %v, want nil", tc.name, err)
		case tc.wantVar != "" && (err == nil || !strings.Contains(err.Error(), tc.wantVar)):
			t.Errorf("%s: Validate = %v, want an error naming %s", tc.name, err, tc.wantVar)
		}
	}
}

// schedulerToken is an ID token as Cloud Run hands it on after its invoker IAM check: the
// claims Cloud Scheduler's OIDC token carries, the signature replaced.
func schedulerToken(t *testing.T, change func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{
		"iss": "https://accounts.google.com", "aud": "https://retention-abc-ew.a.run.app",
		"email": "retention-invoker@p.iam.gserviceaccount.com", "email_verified": true,
		"iat": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(time.Hour).Unix(), "sub": "1234567890",
	}
	change(claims)
	part := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return part(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k"}) + "." + part(claims) + ".SIGNATURE_REMOVED_BY_GOOGLE"
}

// TestDeployedRetentionTakesOnlyTheSchedulersToken: in staging and prod the function answers
// only the scheduler's invoker account, for its own URL (the shared secret of the local
// stack counts for nothing there).
// Not parallel: it sets environment variables.
func TestDeployedRetentionTakesOnlyTheSchedulersToken(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:1") // never contacted: nothing is due
	t.Setenv("MEDI_FUNCTION_URL_RETENTION", "https://retention-abc-ew.a.run.app/")
	cfg := &retention.Config{
		Base:               config.Base{ProjectID: testenv.ProjectID(t), Tier: config.Staging, Version: "test"},
		SchedulerInvokerSA: "retention-invoker@p.iam.gserviceaccount.com", DevSecret: "s3cret", DefaultDays: 30,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h, err := retention.Function.Handler(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, auth string
		secret     bool
		want       int
	}{
		{"no token", "", false, http.StatusUnauthorized},
		{"the local stack's secret", "", true, http.StatusUnauthorized},
		{"another account", "Bearer " + schedulerToken(t, func(c map[string]any) { c["email"] = "someone@p.iam.gserviceaccount.com" }), false, http.StatusUnauthorized},
		{"another function's URL", "Bearer " + schedulerToken(t, func(c map[string]any) { c["aud"] = "https://audit-seal-abc-ew.a.run.app" }), false, http.StatusUnauthorized},
		{"expired", "Bearer " + schedulerToken(t, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), false, http.StatusUnauthorized},
		{"the scheduler", "Bearer " + schedulerToken(t, func(map[string]any) {}), false, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		if tc.secret {
			req.Header.Set(tasks.SecretHeader, "s3cret")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d: %s", tc.name, rec.Code, tc.want, rec.Body)
		}
	}
}
