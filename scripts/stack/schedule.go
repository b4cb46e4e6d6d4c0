package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/medi-os/medi/shared/tasks"
)

// SchedulerJob is a Cloud Scheduler HTTP job as the local stack runs it: a POST of "{}"
// to a function's own URL every Every. In production the job presents an OIDC token of
// the function's invoker account (terraform/modules/function); locally it presents the
// shared task secret, which the function's verifier accepts in the dev tier.
type SchedulerJob struct {
	Function string
	Path     string
	Every    time.Duration
	// Timeout bounds one call (Cloud Scheduler's attempt deadline); 0 means
	// DefaultSchedulerTimeout.
	Timeout time.Duration
}

// DefaultSchedulerTimeout bounds a scheduled call when its job sets no Timeout (the
// audit-seal function's Cloud Run timeout, terraform/service_audit_seal.tf).
const DefaultSchedulerTimeout = 4 * time.Minute

// AuditSealInterval is how often the local stack runs audit-seal. Production runs it
// every 5 minutes (terraform/service_audit_seal.tf); locally once a minute, like the
// board tick, so that a developer sees records sealed soon.
const AuditSealInterval = time.Minute

// ScribeSweepInterval is how often the local stack runs scribe-sweeper, as production
// does (terraform/service_scribe_sweeper.tf).
const ScribeSweepInterval = time.Minute

// SchedulerJobs are the scheduler jobs the local stack runs; tick is the board tick's
// interval, which encounter-outbox shares (both run every minute in production, and a
// test that shortens the tick wants the outbox re-sent as often). retention is not among
// them: it runs nightly in production and deletes raw uploads, which a developer would
// rather trigger by hand (POST with the task secret in X-Medi-Task-Secret).
func SchedulerJobs(tick time.Duration) []SchedulerJob {
	return []SchedulerJob{
		{Function: "audit-seal", Path: "/", Every: AuditSealInterval},
		{Function: "encounter-outbox", Path: "/", Every: tick},
		{Function: "scribe-sweeper", Path: "/", Every: ScribeSweepInterval},
	}
}

// Scheduler runs scheduler jobs until stopped.
type Scheduler struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartScheduler runs each job every job.Every against url(job.Function)+job.Path with
// the task secret; failures (network errors, non-2xx answers) are reported on out and the
// job simply runs again at its next time, as Cloud Scheduler's next run would.
func StartScheduler(jobs []SchedulerJob, url func(function string) string, secret string, out io.Writer) *Scheduler {
	if out == nil {
		out = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{cancel: cancel}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, job := range jobs {
		target := strings.TrimRight(url(job.Function), "/") + job.Path
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			tick := time.NewTicker(job.Every)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if err := runJob(ctx, client, job, target, secret); err != nil && ctx.Err() == nil {
						fmt.Fprintf(out, "scheduler: job %s: %v\n", job.Function, err)
					}
				}
			}
		}()
	}
	return s
}

// runJob makes one scheduled call, bounded by the job's timeout. Calls of one job do not
// overlap locally (a tick that falls during a call is skipped); production runs may, and
// the functions are built for it.
func runJob(ctx context.Context, client *http.Client, job SchedulerJob, target, secret string) error {
	timeout := job.Timeout
	if timeout <= 0 {
		timeout = DefaultSchedulerTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Google-Cloud-Scheduler")
	req.Header.Set("X-CloudScheduler", "true")
	req.Header.Set("X-CloudScheduler-JobName", job.Function)
	req.Header.Set(tasks.SecretHeader, secret)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %d", resp.StatusCode)
	}
	return nil
}

// Stop ends the jobs, waiting for calls in flight to end.
func (s *Scheduler) Stop() {
	s.cancel()
	s.wg.Wait()
}
