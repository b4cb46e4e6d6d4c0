package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/medi-os/medi/scripts/deadletter"
)

// DeadLetterCheckInterval is how often the local stack looks at its dead-letter hold
// subscriptions (production's alert dead-letter-backlog looks at their backlog metric).
const DeadLetterCheckInterval = 30 * time.Second

// AlertsLog is the file, in the stack's log directory, where the local alerts are written
// (one line each), besides the stack's output.
const AlertsLog = "alerts.log"

// DeadLetterAlert is the local stand-in for production's alert dead-letter-backlog
// (terraform/monitoring.tf): it counts what each hold subscription keeps and, whenever a
// count changes from what it last reported, writes one line naming the subscription, the
// count, the runbook and the replay command. It hands every message it looks at straight
// back (deadletter.Backlog), so the messages stay for the replay.
type DeadLetterAlert struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartDeadLetterAlert watches the hold subscriptions of topics in project every
// interval, writing alerts to out and to logDir/AlertsLog.
func StartDeadLetterAlert(project string, topics []string, interval time.Duration, logDir string, out io.Writer) (*DeadLetterAlert, error) {
	c, err := pubsub.NewClient(context.Background(), project)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(logDir, AlertsLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &DeadLetterAlert{cancel: cancel}
	w := io.MultiWriter(out, f)
	a.wg.Go(func() {
		defer c.Close()
		defer f.Close()
		reported := map[string]int{}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, t := range topics {
				sub := deadletter.HoldName(t)
				held, err := deadletter.Backlog(ctx, c, sub, 1000)
				if err != nil {
					continue // Pub/Sub unreachable: look again next time
				}
				if len(held) == reported[sub] {
					continue
				}
				reported[sub] = len(held)
				if len(held) == 0 {
					fmt.Fprintf(w, "%s RESOLVED dead-letter-backlog: %s is empty\n", time.Now().UTC().Format(time.RFC3339), sub)
					continue
				}
				fmt.Fprintf(w, "%s ALERT dead-letter-backlog: %s holds %d message(s) %s could not deliver; runbook docs/runbooks/dead-letter-backlog.md; "+
					"replay: PUBSUB_EMULATOR_HOST=%s go run ./scripts/cmd/deadletters replay -project %s -subscription %s\n",
					time.Now().UTC().Format(time.RFC3339), sub, len(held), t, os.Getenv("PUBSUB_EMULATOR_HOST"), project, sub)
			}
		}
	})
	return a, nil
}

// Stop ends the watch.
func (a *DeadLetterAlert) Stop() {
	a.cancel()
	a.wg.Wait()
}
