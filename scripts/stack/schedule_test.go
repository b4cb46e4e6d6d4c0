package stack

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/medi-os/medi/functions/auditseal"
	"github.com/medi-os/medi/shared/audit"
	"github.com/medi-os/medi/shared/config"
	"github.com/medi-os/medi/shared/tasks"
	"github.com/medi-os/medi/shared/testenv"
)

// syncBuffer is an io.Writer safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCatalogSchedulesEverySchedulerJobOfAScheduledFunction(t *testing.T) {
	t.Parallel()
	triggers := map[string]Trigger{}
	for _, f := range Functions {
		triggers[f.Name] = f.Trigger
	}
	for _, j := range SchedulerJobs(BoardTickInterval) {
		if triggers[j.Function] != TriggerScheduler {
			t.Errorf("job %s: not a scheduler-triggered function of the catalog", j.Function)
		}
		if j.Every <= 0 || !strings.HasPrefix(j.Path, "/") {
			t.Errorf("job %s: every %v, path %q", j.Function, j.Every, j.Path)
		}
	}
}

// Each run is a POST of "{}" with the headers Cloud Scheduler sends and the task secret;
// failures are reported and the job keeps its schedule.
func TestSchedulerPostsWithTheTaskSecret(t *testing.T) {
	t.Parallel()
	type call struct {
		method, path, secret, job, body string
	}
	calls := make(chan call, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		calls <- call{r.Method, r.URL.Path, r.Header.Get(tasks.SecretHeader), r.Header.Get("X-CloudScheduler-JobName"), string(b)}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	out := &syncBuffer{}
	s := StartScheduler([]SchedulerJob{{Function: "audit-seal", Path: "/", Every: 20 * time.Millisecond}},
		func(string) string { return srv.URL }, "s3cret", out)
	for i := 0; i < 2; i++ { // a failed run does not stop the job
		select {
		case c := <-calls:
			if want := (call{http.MethodPost, "/", "s3cret", "audit-seal", "{}"}); c != want {
				t.Errorf("call %d = %+v, want %+v", i, c, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the job did not run")
		}
	}
	s.Stop()
	if !strings.Contains(out.String(), "scheduler: job audit-seal: answered 503") {
		t.Errorf("failure not reported: %q", out.String())
	}
}

// The local job authenticates as the function expects: the real audit-seal handler,
// configured as the stack configures it, seals the records the job finds.
func TestSchedulerRunsAuditSeal(t *testing.T) {
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST")
	t.Parallel()
	ctx := context.Background()
	project := testenv.ProjectID(t)
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	if err := audit.New(ctx, "clinic-1", "patient.read", "patient", "p1").Write(ctx, fs); err != nil {
		t.Fatal(err)
	}
	h, err := auditseal.Function.Handler(ctx, &auditseal.Config{
		Base:      config.Base{ProjectID: project, Tier: config.Dev, Version: "test"},
		DevSecret: "stack-secret", MaxPerClinic: 10, MaxPerRun: 10, TimeBudget: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	out := &syncBuffer{}
	s := StartScheduler([]SchedulerJob{{Function: "audit-seal", Path: "/", Every: 50 * time.Millisecond}},
		func(string) string { return srv.URL }, "stack-secret", out)
	defer s.Stop()
	chain := audit.NewChain(fs)
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, err := chain.Verify(ctx, "clinic-1")
		if err != nil {
			t.Fatal(err)
		}
		if v.Valid && v.HeadSeq == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("record not sealed by the scheduled job: %+v; scheduler said %q", v, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(out.String(), "answered") {
		t.Errorf("audit-seal refused the scheduled call: %q", out.String())
	}
}
