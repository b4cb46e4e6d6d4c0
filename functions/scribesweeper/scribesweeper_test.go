package scribesweeper_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/functions/scribesweeper"
	"github.com/medi-os/medi/shared/app"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/scribe"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

const secret = "sweep-s3cret"

// The function as the local scheduler calls it: refused without the secret; with it, a
// session stuck in uploaded gets its job delivered to scribe-worker (through the local
// task dispatcher) and the answer counts it; a session uploaded too long ago fails.
func TestScheduledSweep(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	jobs := make(chan scribe.Job, 4)
	worker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var j scribe.Job
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get(tasks.SecretHeader) != secret || json.Unmarshal(b, &j) != nil {
			http.Error(w, "bad task", http.StatusBadRequest)
			return
		}
		jobs <- j
	}))
	defer worker.Close()
	t.Setenv("MEDI_FUNCTION_URL_SCRIBE_WORKER", worker.URL)

	project := testenv.ProjectID(t)
	ctx := context.Background()
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	now := time.Now().UTC()
	put := func(id string, st scribe.Status, changed, uploaded time.Duration) {
		s := scribe.Session{ID: id, ClinicID: "clinic-1", EncounterID: "enc-" + id, Status: st, Bucket: "b",
			Object: scribe.ObjectName("clinic-1", id), Generation: 7, ContentType: "text/plain",
			CreatedAt: now.Add(-uploaded), UpdatedAt: now.Add(-changed), Timings: scribe.Timings{UploadedAt: now.Add(-uploaded)}}
		if _, err := scribe.NewStore(fs).Ref("clinic-1", id).Set(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	put("stuck", scribe.StatusUploaded, 2*time.Minute, 2*time.Minute)
	put("hopeless", scribe.StatusDrafting, 2*time.Minute, 6*time.Minute)

	h, err := scribesweeper.Function.Handler(ctx, &scribesweeper.Config{
		Base:        config.Base{ProjectID: project, Tier: config.Dev, Version: "test"},
		TasksConfig: app.TasksConfig{DevSecret: secret},
		StaleAfter:  time.Minute, GiveUpAfter: 5 * time.Minute, Limit: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	call := func(hdr string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if hdr != "" {
			req.Header.Set(tasks.SecretHeader, hdr)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, _ := call(""); code != http.StatusUnauthorized {
		t.Errorf("without the secret: %d, want 401", code)
	}
	code, body := call(secret)
	if code != http.StatusOK || !strings.Contains(body, `"stale":2`) || !strings.Contains(body, `"requeued":1`) || !strings.Contains(body, `"failed":1`) {
		t.Fatalf("sweep: %d %s", code, body)
	}
	select {
	case j := <-jobs:
		if j.SessionID != "stuck" || j.Generation != 7 || j.ClinicID != "clinic-1" {
			t.Errorf("job %+v, want the stuck session's", j)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no job reached scribe-worker")
	}
	got, err := scribe.NewStore(fs).Get(ctx, "clinic-1", "hopeless")
	if err != nil || got.Status != scribe.StatusFailed || got.Failure.Code != scribe.FailTimedOut {
		t.Errorf("hopeless session: %+v, %v", got, err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := scribesweeper.Config{StaleAfter: 10 * time.Minute, GiveUpAfter: 30 * time.Minute, AbandonAfter: 2 * time.Hour, Limit: 200}
	for _, tc := range []struct {
		name    string
		mutate  func(*scribesweeper.Config)
		wantVar string
	}{
		{"defaults", func(*scribesweeper.Config) {}, ""},
		{"prod without scheduler account", func(c *scribesweeper.Config) { c.Tier = config.Prod }, "MEDI_SCHEDULER_INVOKER_SA"},
		{"give-up not after stale", func(c *scribesweeper.Config) { c.GiveUpAfter = c.StaleAfter }, "MEDI_SCRIBE_GIVE_UP_AFTER"},
		{"no staleness", func(c *scribesweeper.Config) { c.StaleAfter = 0 }, "MEDI_SCRIBE_STALE_AFTER"},
		{"abandoned before the upload link expires", func(c *scribesweeper.Config) { c.AbandonAfter = 15 * time.Minute }, "MEDI_SCRIBE_ABANDON_AFTER"},
		{"no limit", func(c *scribesweeper.Config) { c.Limit = 0 }, "MEDI_SCRIBE_SWEEP_LIMIT"},
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
