package scribeworker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medi-os/medi/functions/scribeworker"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// Not parallel: it sets STORAGE_EMULATOR_HOST (never contacted here).
func TestWorkerVerifiesTaskDeliveries(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	t.Setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:1")
	h, err := scribeworker.Function.Handler(context.Background(), &scribeworker.Config{
		Base:        config.Base{ProjectID: testenv.ProjectID(t), Tier: config.Dev, Version: "test"},
		TasksConfig: app.TasksConfig{DevSecret: "s3cret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	job := `{"clinicId":"c1","sessionId":"no-such-session","bucket":"b","object":"uploads/c1/no-such-session","generation":1}`
	for _, tc := range []struct {
		name, secret, body string
		want               int
	}{
		{"no secret", "", job, http.StatusUnauthorized},
		{"wrong secret", "nope", job, http.StatusUnauthorized},
		{"bad job", "s3cret", `{"clinicId":"c1"}`, http.StatusBadRequest},
		{"unknown field", "s3cret", `{"clinicId":"c1","x":1}`, http.StatusBadRequest},
		// A job for a session that does not exist is acknowledged (never retried forever).
		{"unknown session", "s3cret", job, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.secret != "" {
				req.Header.Set(tasks.SecretHeader, tc.secret)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
		})
	}
}
