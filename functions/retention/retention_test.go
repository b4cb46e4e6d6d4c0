package retention_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/medi-os/medi/functions/retention"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Not parallel: it sets STORAGE_EMULATOR_HOST.
func TestRetentionRequiresSchedulerCredentials(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:1") // never contacted: nothing is due
	h, err := retention.Function.Handler(context.Background(), &retention.Config{
		Base: config.Base{ProjectID: testenv.ProjectID(t), Tier: config.Dev, Version: "test"}, DevSecret: "s3cret", DefaultDays: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		secret string
		want   int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"s3cret", http.StatusOK}} {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		if tc.secret != "" {
			req.Header.Set(tasks.SecretHeader, tc.secret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("secret %q: status %d, want %d: %s", tc.secret, rec.Code, tc.want, rec.Body)
		}
		if tc.want == http.StatusOK {
			var env struct {
				Data struct{ Examined, Purged int }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Data.Examined != 0 {
				t.Errorf("report: %s", rec.Body)
			}
		}
	}
}
