package summarizeworker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/functions/summarizeworker"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

const secret = "worker-test-secret"

// TestTaskDeliveries drives the worker's HTTP surface: only task deliveries are accepted,
// the first delivery writes the summary, a duplicate writes nothing, a job for a patient
// that is not there is acknowledged and dropped.
func TestTaskDeliveries(t *testing.T) {
	t.Parallel()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	ctx := context.Background()
	project := testenv.ProjectID(t)
	h, err := summarizeworker.Function.Handler(ctx, &summarizeworker.Config{
		Base:        config.Base{ProjectID: project, Tier: config.Dev},
		TasksConfig: app.TasksConfig{DevSecret: config.Secret(secret)},
		Engine:      "deterministic",
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	if _, err := fs.Collection("clinics").Doc("c1").Collection("patients").Doc("p1").Set(ctx, map[string]any{
		"clinicId": "c1", "birthDate": "1980-01-02", "sex": "male", "version": 1, "updatedAt": time.Now().UTC(),
		"allergies": []any{map[string]any{"substance": "latex"}}, "medications": []any{}, "problems": []any{},
	}); err != nil {
		t.Fatal(err)
	}

	post := func(secretHeader string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(http.MethodPost, "/tasks/summaries", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if secretHeader != "" {
			req.Header.Set(tasks.SecretHeader, secretHeader)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var env struct {
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &env)
		return rec.Code, env.Data
	}
	job := map[string]any{"clinicId": "c1", "patientId": "p1", "sourceHash": "h"}
	steps := []struct {
		name    string
		secret  string
		body    any
		status  int
		outcome string
	}{
		{"no secret", "", job, http.StatusUnauthorized, ""},
		{"wrong secret", "nope", job, http.StatusUnauthorized, ""},
		{"first delivery", secret, job, http.StatusOK, "written"},
		{"duplicate", secret, job, http.StatusOK, "unchanged"},
		{"other clinic", secret, map[string]any{"clinicId": "c2", "patientId": "p1"}, http.StatusOK, "dropped"},
		{"invalid job", secret, map[string]any{"clinicId": "c1"}, http.StatusOK, "dropped"},
	}
	for _, s := range steps {
		status, data := post(s.secret, s.body)
		if status != s.status || (s.outcome != "" && data["outcome"] != s.outcome) {
			t.Errorf("%s: %d %v, want %d %q", s.name, status, data, s.status, s.outcome)
		}
	}
	snap, err := fs.Collection("clinics").Doc("c1").Collection("summaries").Doc("p1").Get(ctx)
	if err != nil {
		t.Fatalf("summary not stored: %v", err)
	}
	if h, _ := snap.DataAt("sourceHash"); len(h.(string)) != 64 {
		t.Errorf("stored sourceHash %v", h)
	}
}
